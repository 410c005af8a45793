// Worker entry for benchmarks: registers tsx's ES module hooks in this thread, then imports the
// TypeScript module named in workerData as an ES module. Unlike boot.cjs (tsx's require hook, which
// compiles to CommonJS and turns every imported constant into a getter call), the engine then runs
// with real ES module bindings, as the built package does.
import { workerData } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { register } from 'tsx/esm/api';

register();
await import(pathToFileURL(workerData.__module).href);
