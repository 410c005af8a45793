/** Worker entry for tests: registers tsx's require hook in this thread, then runs the TypeScript module named in workerData. */
const { workerData } = require('node:worker_threads');

require('tsx/cjs/api').register();
require(workerData.__module);
