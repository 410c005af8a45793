/**
 * Errors the cache throws on bad input. They are thrown before anything is
 * changed: a refused `set` leaves the cache exactly as it was.
 *
 * - `TypeError`            a key or value of the wrong type, a bad option.
 * - `CacheLimitError`      a key or value over its configured byte limit; it
 *                          names the limit (`limitName`), its value and the size
 *                          that was refused, so a server can map it to 413.
 */

export type LimitName = 'maxKeyBytes' | 'maxValueBytes';

export type CacheErrorCode = 'ERR_KEY_TOO_LARGE' | 'ERR_VALUE_TOO_LARGE';

export class CacheLimitError extends RangeError {
  override readonly name = 'CacheLimitError';
  readonly code: CacheErrorCode;

  constructor(
    readonly limitName: LimitName,
    readonly limit: number,
    readonly actual: number,
  ) {
    const what = limitName === 'maxKeyBytes' ? 'key' : 'value';
    super(`${what} is ${actual} bytes, over the ${limitName} limit of ${limit} bytes`);
    this.code = limitName === 'maxKeyBytes' ? 'ERR_KEY_TOO_LARGE' : 'ERR_VALUE_TOO_LARGE';
  }
}

export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return value.constructor?.name ?? 'object';
  return typeof value;
}

/**
 * `setMany` applies its entries in order and is not a transaction: when one
 * throws, the entries before it stay set. The error (whatever its class) then
 * also carries `entriesStored`, how many of the call's entries were set, so a
 * caller can report or resume from the right place.
 */
export interface SetManyProgress {
  entriesStored: number;
}

/** Notes on `error` that `stored` entries of a setMany were set before it (if it is an object that can take a property). */
export function withEntriesStored(error: unknown, stored: number): unknown {
  if (typeof error === 'object' && error !== null && Object.isExtensible(error)) (error as SetManyProgress).entriesStored = stored;
  return error;
}

/** How many entries of a `setMany` call were set before it threw `error`; undefined when the error says nothing of that. */
export function entriesStoredBefore(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const stored = (error as Partial<SetManyProgress>).entriesStored;
  return typeof stored === 'number' ? stored : undefined;
}
