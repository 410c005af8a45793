/**
 * Long engine fuzzing run: new seeds until time runs out, each a sequence of
 * random operations replayed in each setup (policy; one instance or two
 * sharing the cache) with the invariant checker after every step. A
 * failure prints the seed and the shortest reproduction, and exits non-zero.
 *
 *   pnpm --filter @slabcache/engine fuzz -- --seconds 600 [--length 5000] [--first-seed 1000]
 */
import { parseArgs } from 'node:util';
import { FUZZ_SETUPS, describeSetup, fuzzSeed } from '../test/support/fuzz.js';
import { cliArgs } from './cli-args.js';

const { values } = parseArgs({
  args: cliArgs(),
  options: {
    seconds: { type: 'string', default: '60' },
    length: { type: 'string', default: '5000' },
    'first-seed': { type: 'string', default: String(Date.now() % 1_000_000) },
  },
});
const deadline = Date.now() + Number(values.seconds) * 1000;
let seed = Number(values['first-seed']);
let runs = 0;
while (Date.now() < deadline) {
  try {
    fuzzSeed(seed, Number(values.length));
  } catch (error) {
    console.error((error as Error).message);
    process.exit(1);
  }
  runs++;
  seed++;
}
console.log(`fuzz: ${runs} sequences of ${values.length} operations passed in each setup (${FUZZ_SETUPS.map(describeSetup).join('; ')}) (seeds ${values['first-seed']}..${seed - 1})`);
