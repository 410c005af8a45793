/**
 * Child process for snapshot-crash.test.ts: fills a cache with "generation 2"
 * entries and saves it to the file named on the command line in small steps,
 * so that the parent can SIGKILL it in the middle of the save. Prints
 * "saving" when the save starts and "saved" when it has finished.
 *
 *   node --import tsx test/snapshot-crash.child.ts FILE ENTRIES CHUNK_ENTRIES
 */
import { SlabLruCache, saveSnapshot } from '../src/index.js';

const [file, entries = '300000', chunkEntries = '16'] = process.argv.slice(2);
if (file === undefined) throw new Error('usage: snapshot-crash.child.ts FILE [ENTRIES] [CHUNK_ENTRIES]');
const cache = new SlabLruCache({ maxKeys: 400_000, maxBytes: 128 << 20 });
for (let i = 0; i < Number(entries); i++) cache.set(`k${i}`, `generation 2 value of entry ${i}`);
cache.set('generation', '2');
process.stdout.write('saving\n');
await saveSnapshot(cache, file, { chunkEntries: Number(chunkEntries) });
process.stdout.write('saved\n');
