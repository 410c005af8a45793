import { DEFAULT_OPTIONS, SlabLruCache } from '@slabcache/engine';

describe('options', () => {
  it('defaults to 5M keys, 1.5 GiB, 1 KiB keys and 1 MiB values', () => {
    expect(DEFAULT_OPTIONS).toMatchObject({
      maxKeys: 5_000_000,
      maxBytes: 1_610_612_736,
      maxKeyBytes: 1024,
      maxValueBytes: 1_048_576,
      ttl: 0,
    });
  });

  it('raises the page size so one page holds the largest allowed entry', () => {
    const cache = new SlabLruCache({ maxKeys: 10, maxBytes: 8 * 1024 * 1024 });
    expect(cache.options.pageBytes).toBeGreaterThanOrEqual(8 + 1024 + 1_048_576);
    expect(cache.options.pageBytes % 4096).toBe(0);
    const small = new SlabLruCache({ maxKeys: 10, maxBytes: 65536, pageBytes: 4096, maxValueBytes: 1000 });
    expect(small.options.pageBytes).toBe(4096);
  });

  it.each([
    [{ maxKeys: 0 }, /maxKeys/],
    [{ maxKeys: 1.5 }, /maxKeys/],
    [{ maxKeys: '10' }, /maxKeys/],
    [{ maxKeys: 2 ** 28 }, /maxKeys/],
    [{ maxBytes: -1 }, /maxBytes/],
    [{ maxBytes: 4096 }, /maxBytes.*at least one slab page/],
    [{ maxKeyBytes: 0 }, /maxKeyBytes/],
    [{ maxKeyBytes: 70000 }, /maxKeyBytes/],
    [{ maxValueBytes: -5 }, /maxValueBytes/],
    [{ ttl: -1 }, /ttl/],
    [{ ttl: Infinity }, /ttl/],
    [{ growthFactor: 1.01 }, /growthFactor/],
    [{ growthFactor: NaN }, /growthFactor/],
    [{ pageBytes: 100 }, /pageBytes/],
    [{ maxkeys: 10 }, /unknown option "maxkeys"/],
  ])('rejects %j with a TypeError naming the option', (options, message) => {
    expect(() => new SlabLruCache(options as never)).toThrow(TypeError);
    expect(() => new SlabLruCache(options as never)).toThrow(message);
  });
});
