/**
 * Where the compiled worker entry is, for a server running from dist/. Kept
 * in its own module and loaded only from dist: `import.meta` is a syntax error
 * in the CommonJS that jest and tsx's require hook run the sources as.
 */

export const distWorkerFile = new URL('./worker.js', import.meta.url);
