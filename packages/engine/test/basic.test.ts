import { CacheLimitError, SlabLruCache, checkInvariants } from '@slabcache/engine';

const small = (extra: object = {}): SlabLruCache =>
  new SlabLruCache({ maxKeys: 100, maxBytes: 1 << 20, pageBytes: 16384, maxValueBytes: 8000, maxKeyBytes: 64, ...extra });

describe('basic operations', () => {
  it('stores and reads strings and bytes', () => {
    const cache = small();
    cache.set('a', 'alpha').set('b', Buffer.from([0, 1, 2, 255]));
    expect(cache.get('a')).toBe('alpha');
    expect(cache.getBytes('a')).toEqual(Buffer.from('alpha'));
    expect(cache.getBytes('b')).toEqual(Buffer.from([0, 1, 2, 255]));
    expect(cache.size).toBe(2);
    checkInvariants(cache);
  });

  it('treats a string key and its UTF-8 bytes as the same key', () => {
    const cache = small();
    cache.set('ключ🔑', 'значение ✓');
    expect(cache.get(Buffer.from('ключ🔑', 'utf8'))).toBe('значение ✓');
    expect(cache.getBytes(new Uint8Array(Buffer.from('ключ🔑')))).toEqual(Buffer.from('значение ✓'));
  });

  it('stores empty keys and empty values', () => {
    const cache = small();
    cache.set('', '');
    cache.set('e', new Uint8Array(0));
    expect(cache.get('')).toBe('');
    expect(cache.getBytes('e')).toEqual(Buffer.alloc(0));
    expect(cache.has('')).toBe(true);
  });

  it('overwrites in place and across size classes', () => {
    const cache = small();
    cache.set('k', 'x');
    cache.set('k', 'y');
    expect(cache.get('k')).toBe('y');
    cache.set('k', 'z'.repeat(5000));
    expect(cache.get('k')).toBe('z'.repeat(5000));
    cache.set('k', 'short');
    expect(cache.get('k')).toBe('short');
    expect(cache.size).toBe(1);
    expect(cache.stats().bytes).toBe(12 + 1 + 5); // compact header + key + value
    checkInvariants(cache);
  });

  it('getBytes returns a copy that later writes do not change', () => {
    const cache = small();
    cache.set('k', 'before');
    const copy = cache.getBytes('k');
    cache.set('k', 'AFTER!');
    expect(copy?.toString()).toBe('before');
  });

  it('delete, has, peek and clear', () => {
    const cache = small();
    cache.set('a', '1').set('b', '2');
    expect(cache.has('a')).toBe(true);
    expect(cache.peek('b')).toBe('2');
    expect(cache.peekBytes('b')).toEqual(Buffer.from('2'));
    expect(cache.delete('a')).toBe(true);
    expect(cache.delete('a')).toBe(false);
    expect(cache.has('a')).toBe(false);
    expect(cache.get('a')).toBeUndefined();
    cache.clear();
    expect(cache.size).toBe(0);
    expect(cache.get('b')).toBeUndefined();
    checkInvariants(cache);
    cache.set('c', '3');
    expect(cache.get('c')).toBe('3');
    checkInvariants(cache);
  });

  it('refuses over-limit keys and values with a CacheLimitError and changes nothing', () => {
    const cache = small();
    cache.set('keep', 'me');
    const before = cache.stats();
    const tooLongKey = 'k'.repeat(65);
    let error: unknown;
    try {
      cache.set(tooLongKey, 'v');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CacheLimitError);
    expect(error).toMatchObject({ code: 'ERR_KEY_TOO_LARGE', limitName: 'maxKeyBytes', limit: 64, actual: 65 });
    expect((error as Error).message).toMatch(/maxKeyBytes limit of 64 bytes/);
    // 22 UTF-16 units but 66 bytes of UTF-8: the limit is in bytes
    expect(() => cache.set('€'.repeat(22), 'v')).toThrow(/66 bytes, over the maxKeyBytes limit of 64/);
    expect(() => cache.set('v', 'x'.repeat(8001))).toThrow(
      expect.objectContaining({ code: 'ERR_VALUE_TOO_LARGE', limit: 8000, actual: 8001 }),
    );
    expect(() => cache.set('v', 'é'.repeat(4001))).toThrow(CacheLimitError);
    const after = cache.stats();
    expect(after.curr_items).toBe(before.curr_items);
    expect(after.bytes).toBe(before.bytes);
    expect(after.set_refused).toBe(before.set_refused + 4);
    expect(cache.get('keep')).toBe('me');
    // a key too long to store is simply absent on reads
    expect(cache.get(tooLongKey)).toBeUndefined();
    expect(cache.has(tooLongKey)).toBe(false);
    checkInvariants(cache);
  });

  it('refuses values and keys of the wrong type with a TypeError', () => {
    const cache = small();
    expect(() => cache.set(42 as never, 'v')).toThrow(/key must be a string or a Uint8Array, got number/);
    expect(() => cache.set('k', { a: 1 } as never)).toThrow(/value must be a string or a Uint8Array, got Object/);
    expect(() => cache.set('k', 'v', { ttl: -1 })).toThrow(TypeError);
    expect(() => cache.get(null as never)).toThrow(TypeError);
    expect(cache.size).toBe(0);
  });

  it('keeps __proto__ and constructor as ordinary keys', () => {
    const cache = small();
    cache.set('__proto__', 'p').set('constructor', 'c');
    expect(cache.get('__proto__')).toBe('p');
    expect(cache.get('constructor')).toBe('c');
    expect(cache.get('toString')).toBeUndefined();
  });

  it('counts hits, misses and sets with memcached names', () => {
    const cache = small();
    cache.set('a', '1');
    cache.get('a');
    cache.get('nope');
    cache.getBytes('a');
    const stats = cache.stats();
    expect(stats).toMatchObject({ get_hits: 2, get_misses: 1, cmd_get: 3, cmd_set: 1, total_items: 1, curr_items: 1 });
    expect(stats.classes.length).toBe(1);
    expect(stats.classes[0]).toMatchObject({ used_chunks: 1, mem_requested: 14 }); // 12-byte header + "a" + "1"
    expect(stats.wasted_bytes).toBe(stats.classes[0]!.chunk_size - 14);
  });
});
