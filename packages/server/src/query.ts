/**
 * Query strings of the routes other than /get and /put (whose `key` parameter
 * keys.ts reads): each route names the parameters it takes, and anything else
 * is refused (400 `unknown_parameter`), never ignored — `PUT /kv/k?tll=5`
 * must not store a value that never expires without a word.
 */

import { parse as parseQuery } from 'node:querystring';

import { badRequest, type HttpError } from './errors.js';

/**
 * The parameters of `query` (without the `?`), each given at most once and
 * named in `allowed`; '' gives an empty object. `route` is used in messages.
 */
export function queryParameters(query: string, allowed: readonly string[], route: string): Record<string, string> {
  if (query === '') return NO_PARAMETERS;
  const parsed = parseQuery(query);
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const name of Object.keys(parsed)) {
    if (!allowed.includes(name)) throw unknownParameter(name, allowed, route);
    const value = parsed[name];
    if (Array.isArray(value)) throw badRequest('repeated_key', `query parameter ${JSON.stringify(name)} must be given once`);
    out[name] = value as string;
  }
  return out;
}

const NO_PARAMETERS: Record<string, string> = Object.freeze(Object.create(null) as Record<string, string>);

export function unknownParameter(name: string, allowed: readonly string[], route: string): HttpError {
  const takes = allowed.length === 0 ? 'takes no query parameters' : `takes only ${allowed.map((a) => `?${a}=`).join(', ')}`;
  const hint = route === '/put' ? ' (ttl and ifVersion go in the JSON body)' : '';
  return badRequest('unknown_parameter', `unknown query parameter ${JSON.stringify(name)}: ${route} ${takes}${hint}`);
}
