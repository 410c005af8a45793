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
 * MAX_TOKEN_LENGTH bytes; the presented one is copied into a slot of the same
 * size and compared with every stored slot by `crypto.timingSafeEqual` (no
 * early exit, not between bytes and not between tokens). Equal slots mean
 * equal tokens: neither can contain a zero byte, so the padding cannot make
 * "abc" equal "abc\0". What the time can depend on is only what the client
 * already knows: the length of its own header, and whether it has the
 * b64token syntax (checked first, on the presented value alone). Padding
 * costs less than hashing: about 0.4 µs per token here, against 2.5-5 µs for
 * a SHA-256 of the presented value.
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
  /** One MAX_TOKEN_LENGTH slot per token, zero-padded. */
  readonly #slots: Buffer[];
  readonly #access: TokenAccess[];
  /** Where a presented token is copied (one per thread: this runs synchronously). */
  readonly #scratch = Buffer.alloc(MAX_TOKEN_LENGTH);

  constructor(tokens: ReadonlyArray<{ readonly token: string; readonly access: TokenAccess }>) {
    this.size = tokens.length;
    this.#slots = tokens.map(({ token }) => {
      const slot = Buffer.alloc(MAX_TOKEN_LENGTH);
      slot.write(token, 'latin1');
      return slot;
    });
    this.#access = tokens.map(({ access }) => access);
  }

  /**
   * What `presented` may do, or undefined if it is no token of this set.
   * Constant time in the stored tokens (see the file comment).
   */
  match(presented: string): TokenAccess | undefined {
    if (presented.length > MAX_TOKEN_LENGTH || !B64TOKEN.test(presented)) return undefined;
    const scratch = this.#scratch;
    scratch.fill(0);
    // ASCII only (checked above), so latin1 writes one byte per character.
    scratch.write(presented, 'latin1');
    let found = -1;
    for (let i = 0; i < this.size; i++) {
      // Every slot is compared in full, whether or not an earlier one matched.
      if (timingSafeEqual(scratch, this.#slots[i] as Buffer)) found = i;
    }
    return found === -1 ? undefined : this.#access[found];
  }
}
