/**
 * The uWebSockets.js API. The types are those of the 20.57 build; the 20.30
 * build lacks a few newer calls (see docs/runtimes.md), which the server does not use.
 */
export * from '@btc-vision/uwebsockets.js';
