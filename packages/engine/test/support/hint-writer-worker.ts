/**
 * The reader's side of the hint-write handshake (seqlock.ts), one step at a
 * time, with a pause between validating its read and writing its bit: the
 * moment a writer could free the chunk and carve the page. It waits there
 * for the main thread's "go" — which a correct writer cannot give, since it
 * waits for this announced write first — for at most `pauseMs`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { StripedSeqlock } from '../../src/seqlock.js';

const { stripes, pauseMs } = workerData as { stripes: number; pauseMs: number };
const seqlock = new StripedSeqlock(workerData.buffer as SharedArrayBuffer, stripes, 5000);
const page = new Uint8Array(workerData.page as SharedArrayBuffer);
/** [0] validated, [1] go */
const events = new Int32Array(workerData.events as SharedArrayBuffer);

seqlock.claimHintSlot();
const epoch = seqlock.beginEpoch();
const seq = seqlock.begin(0);
seqlock.enterHintWrite();
const valid = seqlock.stillValid(0, seq, 0, seq, epoch);
Atomics.store(events, 0, 1);
Atomics.notify(events, 0);
Atomics.wait(events, 1, 0, pauseMs);
if (valid) Atomics.or(page, 8, 32);
seqlock.leaveHintWrite();
parentPort!.postMessage({ valid });
