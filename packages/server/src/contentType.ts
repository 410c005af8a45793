/**
 * The Content-Type a value is served with, kept in the engine entry's
 * metadata (`set(key, value, { meta })`), beside the value and never inside it.
 *
 * So the cache holds exactly the bytes a client sent: a value written over
 * HTTP reads back byte-identical through `server.cache`, and a value an
 * embedding program sets reads back over HTTP (`/get` as its UTF-8 text,
 * `/kv` as its bytes).
 *
 *   PUT /kv/<key> with Content-Type T    stored with metadata T
 *   PUT /kv/<key> without one, /put      no metadata (nothing is spent on it)
 *   GET/HEAD /kv/<key>                   served as the metadata if it is a storable
 *                                        content type, else application/octet-stream
 *
 * The serving check matters for entries an embedding program wrote: their
 * metadata can be anything, and must never reach a response header unless it
 * is printable ASCII (no CR/LF, so no header injection).
 */

/** Longest Content-Type kept with a value: the engine's limit for an entry's metadata. */
export const MAX_CONTENT_TYPE_BYTES = 255;
export const DEFAULT_CONTENT_TYPE = 'application/octet-stream';

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/** Printable ASCII within MAX_CONTENT_TYPE_BYTES: what PUT /kv accepts and what is served as is. */
export function isStorableContentType(contentType: string): boolean {
  return contentType.length <= MAX_CONTENT_TYPE_BYTES && PRINTABLE_ASCII.test(contentType);
}

/** The Content-Type to serve an entry with, from its metadata. */
export function servedContentType(meta: string | undefined): string {
  return meta !== undefined && meta !== '' && isStorableContentType(meta) ? meta : DEFAULT_CONTENT_TYPE;
}
