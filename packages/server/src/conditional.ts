/**
 * Entry versions as HTTP entity tags, and the conditional requests they allow
 * (RFC 9110 §8.8.3, §13).
 *
 * Every entry has a version (the engine's, `versions: true`): a number that
 * grows with every write of any key and is kept off-heap with the entry and in
 * snapshots. Over HTTP it is the strong ETag `"<version>"` on reads and
 * writes, so that
 *
 *   If-None-Match: "<v>" | *   on GET/HEAD: 304 Not Modified while the entry is still <v>
 *   If-Match: "<v>" | *        on PUT/DELETE: 412 unless the entry is still <v> (compare-and-set);
 *                              `*`: unless the entry exists
 *   If-None-Match: *           on PUT: 412 if the entry exists (create only)
 *
 * A list (`"3", "7"`) matches if any of its tags does. If-Match compares
 * strongly (a weak tag `W/"3"` never matches); If-None-Match weakly. A header
 * that is not `*` or a list of quoted tags is refused (400
 * `invalid_precondition`) rather than taken as "no condition". Tags that are
 * well-formed but not ours (`"abc"`) simply never match.
 *
 * The write itself is the engine's compare-and-set (`setIf`/`deleteIf`), so a
 * condition that held when it was checked cannot be overtaken by another
 * write, from another connection or another server thread, before the store.
 */

import { badRequest, HttpError } from './errors.js';

/** The ETag of an entry version: a strong entity tag, `"42"`. */
export function etagOf(version: number): string {
  return `"${version}"`;
}

/** One entity tag of a condition header; `version` is NaN for a tag that is not a version of ours. */
interface EntityTag {
  readonly weak: boolean;
  readonly version: number;
}

/** A parsed If-Match or If-None-Match header: `*`, or a list of tags. */
export type Condition = { readonly any: true } | { readonly any: false; readonly tags: readonly EntityTag[] };

const ANY: Condition = { any: true };
/** `W/"…"` or `"…"`: the tag is printable ASCII without `"` (RFC 9110 etagc), then `,` or the end. */
const ENTITY_TAG = /\s*(W\/)?"([\x21\x23-\x7e\x80-\xff]*)"\s*(,|$)/y;
const VERSION_DIGITS = /^[1-9][0-9]{0,15}$/;

/** Parses the header `name` (lowercase); undefined when absent. 400 `invalid_precondition` when malformed. */
export function conditionOf(headers: Readonly<Record<string, string>>, name: 'if-match' | 'if-none-match'): Condition | undefined {
  const text = headers[name];
  if (text === undefined) return undefined;
  if (text.trim() === '*') return ANY;
  const tags: EntityTag[] = [];
  ENTITY_TAG.lastIndex = 0;
  while (ENTITY_TAG.lastIndex < text.length) {
    const match = ENTITY_TAG.exec(text);
    if (match === null) throw malformed(name);
    const opaque = match[2] as string;
    const version = VERSION_DIGITS.test(opaque) ? Number(opaque) : NaN;
    tags.push({ weak: match[1] !== undefined, version: Number.isSafeInteger(version) ? version : NaN });
    if (match[3] === '') break;
  }
  if (tags.length === 0) throw malformed(name);
  return { any: false, tags };
}

function malformed(name: string): HttpError {
  const header = name === 'if-match' ? 'If-Match' : 'If-None-Match';
  return badRequest(
    'invalid_precondition',
    `${header} must be * or a comma-separated list of quoted entity tags, e.g. ${header}: "42" (the ETag a read or write answered with)`,
  );
}

/** If-Match: true when the entry (`version`, 0 = absent) satisfies it. Strong comparison. */
export function matchHolds(condition: Condition, version: number): boolean {
  if (version === 0) return false;
  if (condition.any) return true;
  return condition.tags.some((tag) => !tag.weak && tag.version === version);
}

/** If-None-Match: true when the entry (`version`, 0 = absent) does NOT match it, i.e. the request may go on. Weak comparison. */
export function noneMatchHolds(condition: Condition, version: number): boolean {
  if (version === 0) return true;
  if (condition.any) return false;
  return !condition.tags.some((tag) => tag.version === version);
}

/** The two condition headers of a request, parsed. */
export interface Preconditions {
  readonly ifMatch: Condition | undefined;
  readonly ifNoneMatch: Condition | undefined;
}

export function preconditionsOf(headers: Readonly<Record<string, string>>): Preconditions {
  return { ifMatch: conditionOf(headers, 'if-match'), ifNoneMatch: conditionOf(headers, 'if-none-match') };
}

export const hasPreconditions = (p: Preconditions): boolean => p.ifMatch !== undefined || p.ifNoneMatch !== undefined;

/**
 * The only version a write may replace for the conditions to hold, when it
 * can be known without reading the entry: 0 for `If-None-Match: *` alone (only
 * if absent), N for `If-Match: "N"` alone. Undefined when the current version
 * must be read first (lists, `If-Match: *`, both headers).
 */
export function expectedVersionOf(p: Preconditions): number | undefined {
  if (p.ifMatch === undefined && p.ifNoneMatch?.any === true) return 0;
  if (p.ifNoneMatch === undefined && p.ifMatch !== undefined && !p.ifMatch.any && p.ifMatch.tags.length === 1) {
    const tag = p.ifMatch.tags[0] as EntityTag;
    // A weak or foreign tag can never match: no version is expected (the write fails).
    return tag.weak || Number.isNaN(tag.version) ? -1 : tag.version;
  }
  return undefined;
}

/** Whether a request with these conditions may change the entry now at `version` (0 = absent). RFC 9110 §13.2.2 order. */
export function writeAllowed(p: Preconditions, version: number): boolean {
  if (p.ifMatch !== undefined && !matchHolds(p.ifMatch, version)) return false;
  if (p.ifNoneMatch !== undefined && !noneMatchHolds(p.ifNoneMatch, version)) return false;
  return true;
}

/** What a read with these conditions gets for the entry now at `version` (> 0). */
export function readOutcome(p: Preconditions, version: number): 'read' | 'not_modified' | 'failed' {
  if (p.ifMatch !== undefined && !matchHolds(p.ifMatch, version)) return 'failed';
  if (p.ifNoneMatch !== undefined && !noneMatchHolds(p.ifNoneMatch, version)) return 'not_modified';
  return 'read';
}

/** 412 for a write or read whose condition did not hold; `version` is the entry's (0 = absent). */
export function preconditionFailed(key: string, version: number): HttpError {
  const now = version === 0 ? 'is absent' : `is at version ${version} (ETag "${version}")`;
  return new HttpError(412, 'precondition_failed', `the precondition failed: the entry ${JSON.stringify(key)} ${now}`);
}
