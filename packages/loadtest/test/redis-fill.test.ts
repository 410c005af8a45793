/**
 * fillRedis streams SETs through a real `redis-cli --pipe` into a real
 * redis-server on 127.0.0.1. A redis-cli that dies mid-fill must fail the fill
 * with its own words, not crash the benchmark with an unhandled EPIPE.
 */

import { fillRedis, redisBenchKey, startRedis, type RunningRedis } from '../src/redis';

const MAX_BYTES = 64 * 1024 * 1024;

describe('fillRedis', () => {
  let redis: RunningRedis | undefined;
  afterEach(async () => {
    await redis?.stop();
    redis = undefined;
  });

  it('stores every key it was given', async () => {
    redis = await startRedis(MAX_BYTES);
    await fillRedis(redis, 0, 20_000, 100);
    expect(redis.cli(['dbsize']).trim()).toBe('20000');
    expect(redis.cli(['strlen', redisBenchKey(19_999)]).trim()).toBe('100');
  });

  it('fails with redis-cli\'s own message when redis-cli cannot reach the server', async () => {
    redis = await startRedis(MAX_BYTES);
    await redis.stop(); // redis-cli now exits at once, without reading what is written to it
    // 200,000 SETs are ~30 MB, far more than a pipe holds: the writes fail with EPIPE every time.
    const fill = fillRedis(redis, 0, 200_000, 100);
    await expect(fill).rejects.toThrow(/redis fill 0\.\.200000 failed \(exit 1\) \(writing to redis-cli failed: .*EPIPE.*\):\n.*Could not connect/s);
  });
});
