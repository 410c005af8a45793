/**
 * How the server lays out a value inside the engine's bytes, so that a /kv
 * value keeps its Content-Type without any per-entry JS object.
 *
 *   byte 0          n = length of the content type, 0..MAX_CONTENT_TYPE_BYTES
 *   bytes 1..n      the content type, printable ASCII (absent when n = 0)
 *   bytes n+1..     the value itself
 *
 * Values from /put (JSON strings) are stored with n = 0: one extra byte per
 * entry. n = 0 is served by /kv as application/octet-stream. The engine is
 * configured with `maxValueBytes = MAX_VALUE_BYTES + VALUE_HEADER_MAX_BYTES`
 * so this header never eats into the user's value limit; the server checks
 * the user's limit itself before storing. Every value must go through this
 * module: the engine does not know about the header.
 */

/** Longest content type kept with a value; a longer Content-Type header is refused (400). */
export const MAX_CONTENT_TYPE_BYTES = 127;
/** Most bytes the header adds to a value. */
export const VALUE_HEADER_MAX_BYTES = 1 + MAX_CONTENT_TYPE_BYTES;
export const DEFAULT_CONTENT_TYPE = 'application/octet-stream';

/** The stored form of a /put string value: a NUL length byte, then the text. */
export function encodeText(value: string): string {
  return '\u0000' + value;
}

/** The stored form of raw bytes with their content type (already validated by `isStorableContentType`). */
export function encodeBytes(body: Uint8Array, contentType: string | undefined): Buffer {
  const typeLength = contentType === undefined ? 0 : contentType.length;
  const stored = Buffer.allocUnsafe(1 + typeLength + body.byteLength);
  stored[0] = typeLength;
  if (contentType !== undefined) stored.write(contentType, 1, typeLength, 'latin1');
  stored.set(body, 1 + typeLength);
  return stored;
}

/** Printable ASCII, short enough for the header's length byte. */
export function isStorableContentType(contentType: string): boolean {
  return contentType.length <= MAX_CONTENT_TYPE_BYTES && /^[\x20-\x7e]*$/.test(contentType);
}

/**
 * The value part of a stored string (from `cache.get`). The header is ASCII,
 * so its UTF-16 length equals its byte length.
 */
export function textOf(stored: string): string {
  return stored.slice(1 + stored.charCodeAt(0));
}

/** The content type kept with stored bytes (from `cache.getBytes`). */
export function contentTypeOf(stored: Buffer): string {
  const typeLength = stored[0] ?? 0;
  return typeLength === 0 ? DEFAULT_CONTENT_TYPE : stored.toString('latin1', 1, 1 + typeLength);
}

/** The value part of stored bytes, as a view (no copy). */
export function bytesOf(stored: Buffer): Buffer {
  return stored.subarray(1 + (stored[0] ?? 0));
}
