/**
 * The uWebSockets.js API, typed from the 20.57 build. The 20.30 build lacks
 * some of its newer calls: code that must run on both builds should call only
 * what hyper-express 6.18 calls (it runs on both; docs/runtimes.md).
 */
export * from '@btc-vision/uwebsockets.js';
