/**
 * The S3-FIFO reference model (test/support/s3fifoModel.ts), step by step on
 * sequences small enough to follow by hand. trace-replay.test.ts checks the
 * same model against libCacheSim's published miss counts.
 */
import { S3FifoModel } from './support/s3fifoModel';

/** Requests `keys` in order, a miss admitting the key as a replay does; returns the keys that missed. */
function request(model: S3FifoModel, keys: readonly string[], size = 1): string[] {
  const missed: string[] = [];
  for (const key of keys) {
    if (!model.get(key)) {
      missed.push(key);
      model.set(key, size);
    }
  }
  return missed;
}

/** k0…k19: fills a cache of 20 entries, whose small queue holds 2, main 18 and the ghost 18. */
const FILL = Array.from({ length: 20 }, (_, i) => `k${i}`);

it('sends a key seen once from the small queue to the ghost, and a ghost hit into main', () => {
  const model = new S3FifoModel(20);
  // k0 and k1 fill the small queue; before any eviction, k2…k19 go to main (libCacheSim's S3FIFO.c).
  expect(request(model, FILL)).toEqual(FILL);
  expect(model.size).toBe(20);
  // x: small's oldest (k0, unused) is evicted first, to the ghost.
  request(model, ['x']);
  expect(model.evicted).toEqual(['k0']);
  // k0 again: a miss that hits the ghost, so k0 goes to main; small's k1 leaves for the ghost to make room.
  expect(request(model, ['k0'])).toEqual(['k0']);
  expect(model.evicted).toEqual(['k0', 'k1']);
  // Main now holds 19 of its 18: the next eviction is main's oldest unused entry, k2.
  request(model, ['y']);
  expect(model.evicted).toEqual(['k0', 'k1', 'k2']);
  expect(request(model, ['k0', 'x', 'y'])).toEqual([]);
});

it('moves a small-queue entry used twice to main, and gives a used main entry a second pass', () => {
  const model = new S3FifoModel(20);
  request(model, FILL);
  expect(request(model, ['k0', 'k0', 'k1'])).toEqual([]); // in small: k0 used twice, k1 once
  // x: k0 moves to main instead of leaving; k1, used only once, leaves.
  request(model, ['x']);
  expect(model.evicted).toEqual(['k1']);
  expect(request(model, ['k2'])).toEqual([]); // k2, main's oldest: freq 1
  // y: main is over its share; k2 goes back to main's head with freq 0, and k3 leaves instead.
  request(model, ['y']);
  expect(model.evicted).toEqual(['k1', 'k3']);
  expect(request(model, ['k0', 'k2', 'x', 'y'])).toEqual([]);
});

it('counts a main entry\'s uses up to 3: each buys one more pass at the tail, a fourth buys nothing', () => {
  /** The position in the eviction order at which k2 (main's oldest) leaves after `hits` hits, under the same later requests. */
  const turnOfK2 = (hits: number): number => {
    const model = new S3FifoModel(20);
    request(model, FILL);
    request(model, Array.from({ length: hits }, () => 'k2'));
    // Each new key is used three times, so small passes it on to main, and main keeps evicting.
    for (let i = 0; i < 200 && !model.evicted.includes('k2'); i++) request(model, [`new${i}`, `new${i}`, `new${i}`]);
    return model.evicted.indexOf('k2');
  };
  const turns = [0, 1, 2, 3, 4].map(turnOfK2);
  expect(turns.every((turn) => turn >= 0)).toBe(true);
  expect(turns[0]).toBeLessThan(turns[1]!);
  expect(turns[1]).toBeLessThan(turns[2]!);
  expect(turns[2]).toBeLessThan(turns[3]!);
  expect(turns[4]).toBe(turns[3]);
});

it('without filling main first (the paper\'s original, S3FIFOv0), new keys always go to the small queue', () => {
  const model = new S3FifoModel(20, 'entries', { fillMainFirst: false });
  request(model, FILL);
  request(model, ['x', 'y', 'z']);
  // Main is empty, so every eviction comes from small, oldest first.
  expect(model.evicted).toEqual(['k0', 'k1', 'k2']);
});

it('bounded by bytes, never admits an object as large as the small queue (10 % of the capacity)', () => {
  const model = new S3FifoModel(100, 'bytes');
  model.set('big', 10);
  expect(model.get('big')).toBe(false);
  expect(model.size).toBe(0);
  model.set('fits', 9);
  expect(model.get('fits')).toBe(true);
});
