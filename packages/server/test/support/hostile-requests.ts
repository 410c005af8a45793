/**
 * A seeded generator of hostile HTTP requests for the adversarial suite, each
 * with the reply the README documents for it, and a model of what the cache
 * must hold afterwards.
 *
 * Every case is raw bytes (test/support/raw-http.ts), so it can carry what real
 * clients refuse to send: truncated or invalid JSON, invalid UTF-8, deep
 * nesting, wrong types, huge numbers, control characters and lone surrogates
 * in keys, empty and oversized keys and values, 10 MB bodies with or without
 * chunking, repeated query parameters, unknown routes and methods, broken
 * framing (negative or non-numeric Content-Length, bad chunk sizes, both
 * Content-Length and Transfer-Encoding), and requests split into pieces.
 *
 * Expected replies for /put bodies come from `expectedPut`, which restates the
 * README's rules in their documented order (size, UTF-8, JSON, shape, key,
 * value, limits); other cases name their expectation directly. Writes that
 * succeed go to keys of the generating lane only ("atk<lane>-..."), so the
 * lane's model is exact even when lanes run concurrently; protected keys
 * (stored before the attack) are only ever the target of writes that must fail.
 */

import { chunked, rawRequest } from './raw-http';
import { UWS_ANSWERS_PARSER_ERRORS } from './uws';

/** Limits of the server under attack (small, so that over-limit cases stay cheap). */
export const ATTACK_LIMITS = { maxKeyBytes: 256, maxValueBytes: 64 * 1024 } as const;
export const PUT_BODY_LIMIT = 2 * (ATTACK_LIMITS.maxKeyBytes + ATTACK_LIMITS.maxValueBytes) + 4096;

/**
 * A status (and error code) in our JSON error shape; 'closed': the connection
 * closed with no reply; 'refused by uWS': uWS's parser refuses the request
 * before any handler (20.57 answers 400 with its own HTML body and closes,
 * 20.30 closes without a reply).
 */
export type Expected = { readonly status: number; readonly code?: string } | 'closed' | 'refused by uWS';

export interface HostileCase {
  readonly name: string;
  readonly bytes: Buffer;
  /** Sent in this many pieces (1 = one write). */
  readonly pieces: number;
  readonly expected: Expected;
  /** HEAD: the reply has a Content-Length but no body. */
  readonly head?: boolean;
  /** For a 200 read: the exact body that must come back (and its content type). */
  readonly expectBody?: { readonly bytes: Buffer; readonly contentType: string };
  /** For a 200 /get: the exact value in the JSON reply. */
  readonly expectValue?: string;
  /** Applied to the model when the reply is what was expected. */
  readonly apply?: (model: Model) => void;
}

/** What each key must hold: UTF-8 key bytes (hex) → stored bytes and content type. */
export type Model = Map<string, { readonly bytes: Buffer; readonly contentType: string }>;

export const modelKey = (key: string): string => Buffer.from(key, 'utf8').toString('hex');

// ---------------------------------------------------------------- randomness

/** mulberry32: a small, fast, seeded PRNG (the same seed gives the same cases). */
export function makeRng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rng = () => number;
const int = (rng: Rng, n: number): number => Math.floor(rng() * n);
const pick = <T>(rng: Rng, items: readonly T[]): T => items[int(rng, items.length)] as T;

/** Key suffixes that have broken servers: control characters, separators, prototype names, odd Unicode. */
const NASTY = [
  'plain',
  '__proto__',
  'constructor',
  'hasOwnProperty',
  'a b',
  'a+b',
  'a/b',
  'a?b=c&d',
  '#frag',
  '%41',
  '\u0000',
  '\u0001\u001f\u007f',
  '\r\nX-Injected: 1',
  '"quoted"\\',
  'é',
  '日本',
  '😀',
  '\ud800', // a lone surrogate: stored as U+FFFD's bytes
  '\u202e',
  '\ufeff',
  '../..',
  '.',
];

function randomText(rng: Rng, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) {
    const r = rng();
    if (r < 0.6) out += String.fromCharCode(0x20 + int(rng, 95));
    else if (r < 0.7) out += String.fromCharCode(int(rng, 0x20));
    else if (r < 0.85) out += String.fromCharCode(0xa0 + int(rng, 0x700));
    else if (r < 0.95) out += String.fromCodePoint(0x1f300 + int(rng, 0x300));
    else out += pick(rng, NASTY);
  }
  return out;
}

function randomBytes(rng: Rng, length: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) out[i] = int(rng, 256);
  return out;
}

/** Every byte percent-encoded from the key's UTF-8: works for any key, lone surrogates included. */
export function percentEncode(key: string): string {
  const bytes = Buffer.from(key, 'utf8');
  let out = '';
  for (const byte of bytes) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9_.~-]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

// ---------------------------------------------------------------- the /put oracle

const PUT_FIELDS: ReadonlySet<string> = new Set(['key', 'value', 'ttl', 'ifVersion']);

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** The README's /put rules, in order: size, UTF-8, JSON, shape, fields, limits. */
export function expectedPut(body: Buffer): { readonly status: number; readonly code: string } {
  if (body.byteLength > PUT_BODY_LIMIT) return { status: 413, code: 'body_too_large' };
  let text: string;
  try {
    text = strictUtf8.decode(body);
  } catch {
    return { status: 400, code: 'invalid_utf8' };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { status: 400, code: 'invalid_json' };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return { status: 400, code: 'invalid_body' };
  const { key, value } = parsed as { key?: unknown; value?: unknown };
  if (key === undefined) return { status: 400, code: 'missing_key' };
  if (value === undefined) return { status: 400, code: 'invalid_body' };
  // Issue 17: a field the body may not have is refused (after the required ones, before types).
  if (Object.keys(parsed).some((field) => !PUT_FIELDS.has(field))) return { status: 400, code: 'unknown_field' };
  if (typeof key !== 'string') return { status: 400, code: 'invalid_body' };
  if (key === '') return { status: 400, code: 'empty_key' };
  if (typeof value !== 'string') return { status: 400, code: 'invalid_body' };
  if (Buffer.byteLength(key, 'utf8') > ATTACK_LIMITS.maxKeyBytes) return { status: 413, code: 'key_too_large' };
  if (Buffer.byteLength(value, 'utf8') > ATTACK_LIMITS.maxValueBytes) return { status: 413, code: 'value_too_large' };
  return { status: 200, code: '' };
}

// ---------------------------------------------------------------- generators

const HOST: readonly [string, string] = ['Host', '127.0.0.1'];
const BIG_BODY = Buffer.alloc(10 * 1024 * 1024 + 12345, 'x');

/** The keys stored before the attack, with the text /get must return for each. */
export interface ProtectedKeys {
  readonly keys: readonly string[];
  textOf(key: string): string;
}

export interface Generator {
  /** The next case; protected keys are read, and targeted by writes that must fail, never by writes that succeed. */
  next(protectedKeys: ProtectedKeys): HostileCase;
  /** What this lane's keys must hold now. */
  readonly model: Model;
  /** Keys that only ever saw requests with broken framing: none may exist afterwards. */
  readonly neverStored: readonly string[];
}

export function hostileRequests(seed: number, lane: number): Generator {
  const rng = makeRng(seed * 7919 + lane);
  const model: Model = new Map();
  const neverStored: string[] = [];
  const laneKey = (): string => `atk${lane}-${pick(rng, NASTY)}${int(rng, 8)}`;

  const putCase = (name: string, body: Buffer, target: 'lane' | 'protected', key: string | undefined, extraHeaders: Array<[string, string]> = []): HostileCase => {
    const expected = expectedPut(body);
    const useChunked = rng() < 0.15;
    const headers: Array<readonly [string, string]> = [HOST, ...extraHeaders];
    headers.push(useChunked ? ['Transfer-Encoding', 'chunked'] : ['Content-Length', String(body.byteLength)]);
    const bytes = rawRequest(pick(rng, ['PUT', 'POST']), '/put', headers, useChunked ? chunked(body, 1 + int(rng, 20_000)) : body);
    const stored = expected.status === 200 && target === 'lane' && key !== undefined;
    return {
      name: `${name}${useChunked ? ' (chunked)' : ''} → ${expected.status} ${expected.code}`,
      bytes,
      pieces: piecesFor(bytes),
      expected: expected.status === 200 ? { status: 200 } : expected,
      ...(stored
        ? {
            apply: (m: Model) => {
              const parsed = JSON.parse(body.toString('utf8')) as { key: string; value: string };
              m.set(modelKey(parsed.key), { bytes: Buffer.from(parsed.value, 'utf8'), contentType: 'application/octet-stream' });
            },
          }
        : {}),
    };
  };

  const piecesFor = (bytes: Buffer): number => (bytes.byteLength < 100_000 && rng() < 0.2 ? 2 + int(rng, 7) : 1);

  /** A /put body that the oracle must refuse (for protected keys): mutate until it is refused. */
  const mutatedBody = (key: string, value: string): { body: Buffer; what: string } => {
    const base = JSON.stringify({ key, value });
    const r = int(rng, 14);
    switch (r) {
      case 0:
        return { body: Buffer.from(base.slice(0, int(rng, base.length))), what: 'truncated JSON' };
      case 1: {
        const b = Buffer.from(base);
        b[int(rng, b.length)] = int(rng, 256);
        return { body: b, what: 'one byte flipped' };
      }
      case 2: {
        const bad = pick(rng, [[0xff], [0xc3, 0x28], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82]]);
        const b = Buffer.from(base);
        const at = 1 + int(rng, b.length - 2);
        return { body: Buffer.concat([b.subarray(0, at), Buffer.from(bad), b.subarray(at)]), what: 'invalid UTF-8 inside' };
      }
      case 3: {
        const wrong = pick(rng, ['123', 'true', 'null', '[]', '{}', '["a"]', '1e999999', '-0', '123456789012345678901234567890', '{"a":"b"}']);
        return rng() < 0.5
          ? { body: Buffer.from(`{"key":${JSON.stringify(key)},"value":${wrong}}`), what: `value is ${wrong}` }
          : { body: Buffer.from(`{"key":${wrong},"value":${JSON.stringify(value)}}`), what: `key is ${wrong}` };
      }
      case 4:
        return { body: Buffer.from(`{"value":${JSON.stringify(value)}}`), what: 'no key' };
      case 5:
        return { body: Buffer.from(`{"key":${JSON.stringify(key)}}`), what: 'no value' };
      case 6:
        return { body: Buffer.from(`{"key":"","value":${JSON.stringify(value)}}`), what: 'empty key' };
      case 7:
        return { body: Buffer.from(JSON.stringify({ key: key + 'k'.repeat(ATTACK_LIMITS.maxKeyBytes), value })), what: 'key over MAX_KEY_BYTES' };
      case 8:
        return {
          body: Buffer.from(JSON.stringify({ key, value: 'v'.repeat(ATTACK_LIMITS.maxValueBytes + 1 + int(rng, 1000)) })),
          what: 'value over MAX_VALUE_BYTES',
        };
      case 9: {
        const depth = 1 + int(rng, rng() < 0.5 ? 100 : 70_000);
        const open = rng() < 0.5 ? '[' : '{"a":';
        const close = open === '[' ? ']' : '}';
        const balanced = rng() < 0.7;
        const nest = open.repeat(depth) + '1' + (balanced ? close.repeat(depth) : '');
        return rng() < 0.5
          ? { body: Buffer.from(nest), what: `nesting ${depth} deep${balanced ? '' : ', unclosed'}` }
          : { body: Buffer.from(`{"key":${JSON.stringify(key)},"value":${nest}}`), what: `value nested ${depth} deep` };
      }
      case 10:
        return { body: Buffer.from(`[${base}]`), what: 'body is an array' };
      case 11:
        return { body: Buffer.alloc(0), what: 'empty body' };
      case 12:
        return { body: Buffer.from(`${base} trailing`), what: 'trailing garbage' };
      default:
        return { body: randomBytes(rng, int(rng, 300)), what: 'random bytes' };
    }
  };

  const generators: Array<[number, (protected_: ProtectedKeys) => HostileCase]> = [
    // A write to a lane key: odd keys and values, odd headers; valid, or with extra and prototype
    // fields (refused since issue 17: an unknown field is never ignored).
    [
      14,
      () => {
        const key = laneKey();
        const value = rng() < 0.05 ? 'x'.repeat(int(rng, ATTACK_LIMITS.maxValueBytes)) : randomText(rng, int(rng, 400));
        const extra = pick(rng, ['', ',"__proto__":{"polluted":true}', ',"constructor":{"prototype":{"polluted":true}}', ',"extra":[1,2,3]']);
        const body = Buffer.from(`{"key":${JSON.stringify(key)},"value":${JSON.stringify(value)}${extra}}`);
        const contentType: Array<[string, string]> = pick(rng, [[], [['Content-Type', 'application/json']], [['Content-Type', 'text/plain']], [['Content-Type', 'x/y; q="\\\u007f"']]]);
        return putCase(extra === '' ? 'valid put' : `put with ${extra.slice(2, extra.indexOf(':') - 1)}`, body, 'lane', key, contentType);
      },
    ],
    // A hostile /put body, against a lane key or a protected key.
    [
      26,
      ({ keys: protectedKeys }) => {
        const toProtected = protectedKeys.length > 0 && rng() < 0.4;
        for (;;) {
          const key = toProtected ? pick(rng, protectedKeys) : laneKey();
          const { body, what } = mutatedBody(key, randomText(rng, int(rng, 200)));
          if (toProtected && expectedPut(body).status === 200) continue; // a mutation that stayed valid: try another
          return putCase(`put ${what}${toProtected ? ' (protected key)' : ''}`, body, toProtected ? 'protected' : 'lane', key);
        }
      },
    ],
    // GET /get in every query shape.
    [
      14,
      ({ keys: protectedKeys, textOf }) => {
        const r = int(rng, 8);
        if (r === 0) return plain(`/get?key=${percentEncode(laneKey())}&key=b`, { status: 400, code: 'repeated_key' }, 'repeated key parameter');
        if (r === 1) return plain(`/get?other=${int(rng, 9)}`, { status: 400, code: 'unknown_parameter' }, 'an unknown parameter');
        if (r === 2) return plain('/get?key=', { status: 400, code: 'empty_key' }, 'empty key parameter');
        if (r === 3) return plain(`/get?key=${'k'.repeat(ATTACK_LIMITS.maxKeyBytes + 1 + int(rng, 500))}`, { status: 413, code: 'key_too_large' }, 'key over the limit');
        if (r === 4) return plain(`/get?key=nx-${pick(rng, ['%zz', '%C3%28', '%', '%E2%82', '%00'])}`, { status: 404, code: 'not_found' }, 'bad escapes in a missing key');
        const key = r === 5 && protectedKeys.length > 0 ? pick(rng, protectedKeys) : laneKey();
        const query = `key=${percentEncode(key)}`;
        if (rng() < 0.2) return plain(`/get?${query}&x=1&y=2`, { status: 400, code: 'unknown_parameter' }, 'a key with unknown parameters');
        const held = model.get(modelKey(key));
        if (r === 5 && protectedKeys.length > 0) return { ...plain(`/get?${query}`, { status: 200 }, 'read a protected key'), expectValue: textOf(key) };
        return held
          ? { ...plain(`/get?${query}`, { status: 200 }, 'read a lane key'), expectValue: held.bytes.toString('utf8') }
          : plain(`/get?${query}`, { status: 404, code: 'not_found' }, 'read a lane key never stored');
      },
    ],
    // /kv: raw bytes with and without content types, chunked, over the limit, odd keys and escapes.
    [
      20,
      () => {
        const r = int(rng, 10);
        const key = laneKey();
        const path = `/kv/${percentEncode(key)}`;
        if (r <= 3) {
          const over = rng() < 0.08;
          const body = randomBytes(rng, over ? ATTACK_LIMITS.maxValueBytes + 1 + int(rng, 100_000) : int(rng, 8000));
          const contentType = pick(rng, [undefined, 'image/png', 'text/plain; charset=utf-8', 'x'.repeat(128), 'x'.repeat(256), 'a\tb', 'a\u007fb', '']);
          const badType = contentType !== undefined && contentType !== '' && !/^[\x20-\x7e]{1,255}$/.test(contentType);
          const useChunked = rng() < 0.3;
          const headers: Array<readonly [string, string]> = [HOST];
          if (contentType !== undefined) headers.push(['Content-Type', contentType]);
          headers.push(useChunked ? ['Transfer-Encoding', 'chunked'] : ['Content-Length', String(body.byteLength)]);
          const bytes = rawRequest('PUT', path, headers, useChunked ? chunked(body, 1 + int(rng, 30_000)) : body);
          const expected = badType ? { status: 400, code: 'invalid_content_type' } : over ? { status: 413, code: 'value_too_large' } : { status: 200 };
          return {
            name: `PUT /kv ${body.byteLength} bytes, type ${JSON.stringify(contentType)}${useChunked ? ', chunked' : ''}`,
            bytes,
            pieces: piecesFor(bytes),
            expected,
            ...(expected.status === 200
              ? { apply: (m: Model) => m.set(modelKey(key), { bytes: body, contentType: contentType || 'application/octet-stream' }) }
              : {}),
          };
        }
        if (r <= 5) {
          const held = model.get(modelKey(key));
          const head = r === 5;
          return {
            ...plain(path, held ? { status: 200 } : { status: 404, code: 'not_found' }, `${head ? 'HEAD' : 'GET'} /kv lane key`, head ? 'HEAD' : 'GET'),
            ...(head ? { head: true } : {}),
            ...(held && !head ? { expectBody: held } : {}),
          };
        }
        if (r === 6) {
          const held = model.get(modelKey(key));
          return { ...plain(path, held ? { status: 200 } : { status: 404, code: 'not_found' }, 'DELETE /kv lane key', 'DELETE'), apply: (m: Model) => m.delete(modelKey(key)) };
        }
        if (r === 7) return plain(`/kv/${pick(rng, ['%zz', '%C3%28', '%E2%82', 'a%', '%ED%A0%80'])}`, { status: 400, code: 'invalid_key' }, 'bad escape in /kv key');
        if (r === 8) return plain(`/kv/${'k'.repeat(ATTACK_LIMITS.maxKeyBytes + 1 + int(rng, 300))}`, { status: 413, code: 'key_too_large' }, '/kv key over the limit');
        return plain('/kv/', { status: 404, code: 'route_not_found' }, '/kv with no key');
      },
    ],
    // Unknown routes, wrong methods, unknown method tokens.
    [
      10,
      () => {
        const r = int(rng, 4);
        if (r === 0) return plain(pick(rng, ['/', '/nope', '/put/extra', '/GET', '/kv', '/health/', '/../../etc/passwd', '/%00', '/get/x']), { status: 404, code: 'route_not_found' }, 'unknown route', pick(rng, ['GET', 'POST']));
        if (r === 1) {
          const [path, method] = pick(rng, [['/put', 'GET'], ['/put', 'DELETE'], ['/get', 'POST'], ['/health', 'PUT'], ['/kv/a', 'POST'], ['/kv/a', 'PATCH'], ['/stats', 'DELETE'], ['/metrics', 'OPTIONS']] as const);
          return plain(path, { status: 405, code: 'method_not_allowed' }, `${method} ${path}`, method);
        }
        // uWS 20.57 routes a method token it does not know to the app (405); 20.30 closes the connection at once.
        const unknownMethod: Expected = UWS_ANSWERS_PARSER_ERRORS ? { status: 405, code: 'method_not_allowed' } : 'closed';
        return plain('/health', unknownMethod, 'unknown method token', pick(rng, ['BREW', 'get', 'PROPFIND-X', 'X'.repeat(40)]));
      },
    ],
    // Broken framing: refused by uWS's parser (20.57: 400 and close; 20.30: close without a reply).
    [
      4,
      () => {
        const framing = pick(rng, [
          ['Content-Length: -5', ''],
          ['Content-Length: abc', 'abc'],
          ['Content-Length: 3\r\nTransfer-Encoding: chunked', '3\r\nabc\r\n0\r\n\r\n'],
          ['Transfer-Encoding: chunked', 'zz\r\nabc\r\n0\r\n\r\n'],
          ['Transfer-Encoding: chunked', '-1\r\nabc\r\n0\r\n\r\n'],
        ] as const);
        const key = `framing-${lane}-${neverStored.length}`;
        neverStored.push(key);
        const bytes = Buffer.from(`PUT /kv/${key} HTTP/1.1\r\nHost: x\r\n${framing[0]}\r\n\r\n${framing[1]}`, 'latin1');
        return { name: `broken framing: ${JSON.stringify(framing[0])}`, bytes, pieces: 1, expected: 'refused by uWS' };
      },
    ],
    // 10 MB+ bodies, declared or chunked: refused, drained, never stored.
    [
      1,
      ({ keys: protectedKeys }) => {
        const toKv = rng() < 0.5;
        const useChunked = rng() < 0.5;
        const key = protectedKeys.length > 0 ? pick(rng, protectedKeys) : laneKey();
        const headers: Array<readonly [string, string]> = [HOST, useChunked ? ['Transfer-Encoding', 'chunked'] : ['Content-Length', String(BIG_BODY.byteLength)]];
        const body = useChunked ? chunked(BIG_BODY, 64 * 1024) : BIG_BODY;
        const bytes = toKv ? rawRequest('PUT', `/kv/${percentEncode(key)}`, headers, body) : rawRequest('POST', '/put', headers, body);
        return {
          name: `10 MB body to ${toKv ? '/kv' : '/put'}${useChunked ? ', chunked' : ''}`,
          bytes,
          pieces: 1,
          expected: toKv ? { status: 413, code: 'value_too_large' } : { status: 413, code: 'body_too_large' },
        };
      },
    ],
  ];
  const totalWeight = generators.reduce((sum, [weight]) => sum + weight, 0);

  function plain(target: string, expected: Expected, what: string, method = 'GET'): HostileCase {
    const bytes = rawRequest(method, target, [HOST]);
    return { name: `${what}: ${method} ${JSON.stringify(target.slice(0, 80))}`, bytes, pieces: piecesFor(bytes), expected, ...(method === 'HEAD' ? { head: true } : {}) };
  }

  return {
    next(protectedKeys) {
      let roll = rng() * totalWeight;
      for (const [weight, generate] of generators) {
        roll -= weight;
        if (roll < 0) return generate(protectedKeys);
      }
      return (generators[0] as [number, (p: ProtectedKeys) => HostileCase])[1](protectedKeys);
    },
    model,
    neverStored,
  };
}
