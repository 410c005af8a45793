/**
 * Key and value naming shared by every driver in this package.
 *
 * Keys are `key-<i>` for i in [0, pool): the wrk scripts (wrk/kv-common.lua),
 * the Locust file and the preload tool all use this scheme, so a pool filled by
 * one driver can be read by any other. Values are printable ASCII strings of an
 * exact byte length (100 bytes by default, the value size the seed's numbers in
 * the field notes were measured with).
 */

export const KEY_PREFIX = 'key-';
export const DEFAULT_VALUE_BYTES = 100;

const VALUE_ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

export function keyName(index: number, prefix: string = KEY_PREFIX): string {
  return `${prefix}${index}`;
}

/**
 * A JSON-safe value of exactly `bytes` bytes; `seed` varies the content (the
 * same formula as make_value() in wrk/kv-common.lua).
 */
export function makeValue(bytes: number, seed = 0): string {
  let out = '';
  for (let i = 1; i <= bytes; i++) {
    out += VALUE_ALPHABET[(i * 7 + seed * 13) % VALUE_ALPHABET.length];
  }
  return out;
}
