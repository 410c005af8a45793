/**
 * The corruption matrix: a snapshot cut short anywhere, with any single byte
 * changed, with blocks dropped or swapped, from another format version, or not
 * a snapshot at all, is refused with a SnapshotError naming what is wrong, and
 * never half-loaded: `restoreSnapshot` leaves its target empty.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { crc32 } from 'node:zlib';

import { SlabLruCache, SnapshotError, inspectSnapshot, loadSnapshot, restoreSnapshot, saveSnapshot, type SnapshotErrorCode } from '@slabcache/engine';

let dir: string;
let good: Buffer;
/** Offsets where each block starts, then where the trailer starts. */
let boundaries: number[];
let headerBytes: number;

const TRAILER_BYTES = 56;
const BLOCK_HEAD_BYTES = 16;

const options = { maxKeys: 1000, maxBytes: 1 << 20, pageBytes: 16384, maxValueBytes: 1000 };

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'snapshot-corruption-'));
  const cache = new SlabLruCache(options);
  for (let i = 0; i < 60; i++) cache.set(`key${i}`, `value ${i}`.repeat(1 + (i % 3)), i % 4 === 0 ? { ttl: 3_600_000 } : undefined);
  cache.set('bin', Buffer.from([0, 1, 2, 255]));
  await saveSnapshot(cache, path.join(dir, 'good.snap'), { chunkEntries: 16 });
  good = readFileSync(path.join(dir, 'good.snap'));
  headerBytes = good.readUInt32LE(12);
  boundaries = [];
  let offset = headerBytes;
  while (offset < good.length - TRAILER_BYTES) {
    boundaries.push(offset);
    offset += BLOCK_HEAD_BYTES + good.readUInt32LE(offset + 4);
  }
  boundaries.push(offset);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let counter = 0;
function write(bytes: Buffer): string {
  const file = path.join(dir, `case-${counter++}.snap`);
  writeFileSync(file, bytes);
  return file;
}

/** Refused with one of `codes`, by inspect, load and restore alike; restore leaves its target empty. */
async function expectRefused(bytes: Buffer, codes: SnapshotErrorCode[]): Promise<SnapshotError> {
  const file = write(bytes);
  const error = await inspectSnapshot(file).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof SnapshotError)) throw new Error(`not refused as expected: ${String(error)}`);
  expect(codes).toContain(error.code);
  expect(error.message).toContain(file);
  await expect(loadSnapshot(file)).rejects.toMatchObject({ code: error.code });
  const target = new SlabLruCache(options);
  await expect(restoreSnapshot(target, file)).rejects.toMatchObject({ code: error.code });
  expect(target.size).toBe(0);
  return error;
}

describe('snapshot corruption matrix', () => {
  it('the sample snapshot is sound and has several blocks', async () => {
    expect(boundaries.length).toBeGreaterThanOrEqual(4);
    const info = await inspectSnapshot(write(good));
    expect(info.records).toBe(61);
  });

  it('refuses the file cut short at any offset', async () => {
    const cuts = new Set<number>();
    for (let at = 0; at < good.length; at += 7) cuts.add(at);
    for (const b of [headerBytes, ...boundaries]) for (const d of [-1, 0, 1, 4, 15, 16, 17]) cuts.add(b + d);
    for (let d = 1; d <= TRAILER_BYTES; d++) cuts.add(good.length - d);
    for (const at of [...cuts].filter((n) => n >= 0 && n < good.length).sort((a, b) => a - b)) {
      const error = await expectRefused(good.subarray(0, at), ['ERR_SNAPSHOT_TRUNCATED']);
      if (at === boundaries[boundaries.length - 1]) expect(error.message).toMatch(/without its trailer/);
    }
  }, 120_000);

  it('refuses the file with any single byte changed', async () => {
    for (let at = 0; at < good.length; at++) {
      const bad = Buffer.from(good);
      bad[at] = bad[at]! ^ (1 << (at % 8));
      const expected: SnapshotErrorCode[] =
        at < 8 ? ['ERR_SNAPSHOT_FOREIGN'] : at < 12 ? ['ERR_SNAPSHOT_VERSION'] : ['ERR_SNAPSHOT_CORRUPT', 'ERR_SNAPSHOT_TRUNCATED'];
      await expectRefused(bad, expected);
    }
  }, 120_000);

  it('names the part that is damaged: header, block, trailer', async () => {
    const header = Buffer.from(good);
    header[20] ^= 0x10; // inside createdAt
    expect((await expectRefused(header, ['ERR_SNAPSHOT_CORRUPT'])).message).toMatch(/header checksum mismatch/);

    const block = Buffer.from(good);
    block[boundaries[1]! + BLOCK_HEAD_BYTES + 3] ^= 0x01; // inside block 1's payload
    expect((await expectRefused(block, ['ERR_SNAPSHOT_CORRUPT'])).message).toMatch(/block 1 checksum mismatch/);

    const trailer = Buffer.from(good);
    trailer[good.length - 20] ^= 0x01;
    expect((await expectRefused(trailer, ['ERR_SNAPSHOT_CORRUPT'])).message).toMatch(/trailer checksum mismatch/);
  });

  it('refuses blocks dropped, repeated or swapped, and bytes after the trailer', async () => {
    const [b0, b1, b2] = boundaries as [number, number, number];
    const head = good.subarray(0, b0);
    const first = good.subarray(b0, b1);
    const second = good.subarray(b1, b2);
    const rest = good.subarray(b2);
    const swapped = await expectRefused(Buffer.concat([head, second, first, rest]), ['ERR_SNAPSHOT_CORRUPT']);
    expect(swapped.message).toMatch(/chained checksum/);
    await expectRefused(Buffer.concat([head, second, rest]), ['ERR_SNAPSHOT_CORRUPT']);
    await expectRefused(Buffer.concat([head, first, first, second, rest]), ['ERR_SNAPSHOT_CORRUPT']);
    const extra = await expectRefused(Buffer.concat([good, Buffer.from('x')]), ['ERR_SNAPSHOT_CORRUPT']);
    expect(extra.message).toMatch(/1 unexpected bytes after the trailer/);
  });

  it('refuses another format version, even with a valid header checksum', async () => {
    const future = Buffer.from(good);
    future.writeUInt32LE(3, 8);
    future.writeUInt32LE(crc32(future.subarray(0, headerBytes - 4)), headerBytes - 4);
    const error = await expectRefused(future, ['ERR_SNAPSHOT_VERSION']);
    expect(error.message).toMatch(/format version 3; this build reads versions 1 and 2/);
    expect(error.offset).toBe(8);
  });

  it('refuses a header whose options are not JSON, even with a valid checksum', async () => {
    const forged = Buffer.from(good);
    forged[28] = 0x7b + 1; // '{' → '|'
    forged.writeUInt32LE(crc32(forged.subarray(0, headerBytes - 4)), headerBytes - 4);
    expect((await expectRefused(forged, ['ERR_SNAPSHOT_CORRUPT'])).message).toMatch(/options are not JSON/);
  });

  it('refuses foreign files: empty, JSON, text, random bytes, a directory, and reports a missing one', async () => {
    await expectRefused(Buffer.alloc(0), ['ERR_SNAPSHOT_TRUNCATED']);
    await expectRefused(Buffer.from(JSON.stringify([['k', { value: 'v' }]])), ['ERR_SNAPSHOT_FOREIGN']);
    await expectRefused(Buffer.from('SLAB'), ['ERR_SNAPSHOT_TRUNCATED']); // a prefix of the magic: a cut-short snapshot
    await expectRefused(Buffer.from('hello, this is not a snapshot at all'), ['ERR_SNAPSHOT_FOREIGN']);
    const random = Buffer.alloc(4096);
    for (let i = 0; i < random.length; i++) random[i] = (i * 2654435761) >>> 24;
    await expectRefused(random, ['ERR_SNAPSHOT_FOREIGN']);
    const folder = path.join(dir, 'a-directory');
    mkdirSync(folder);
    await expect(inspectSnapshot(folder)).rejects.toMatchObject({ code: 'ERR_SNAPSHOT_FOREIGN' });
    await expect(loadSnapshot(path.join(dir, 'nothing-here.snap'))).rejects.toMatchObject({
      code: 'ERR_SNAPSHOT_MISSING',
      message: expect.stringMatching(/nothing-here\.snap: no such file/),
    });
  });
});
