/**
 * Runs a TypeScript module in a real worker thread, straight from source: the
 * worker (boot.cjs) registers tsx's require hook and loads the module, so tests
 * need no build step. The module receives `workerData` and replies with postMessage.
 */
import path from 'node:path';
import { Worker } from 'node:worker_threads';

/** `bootFile` defaults to boot.cjs beside this file; ESM callers (benchmarks) pass it, having no __dirname. */
export function startTsWorker(
  modulePath: string,
  data: Record<string, unknown>,
  bootFile: string = path.join(__dirname, 'boot.cjs'),
): Worker {
  return new Worker(bootFile, { workerData: { ...data, __module: path.resolve(modulePath) } });
}

/** Resolves with the worker's first message; rejects on error or a non-zero exit. */
export function firstMessage<T>(worker: Worker): Promise<T> {
  return new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`worker exited with code ${code} before replying`)));
  });
}
