/**
 * The client's list of server error codes is the server's: both ways, read
 * from packages/server/src/errors.ts (the `ErrorCode` union), so a code added
 * to the server without the client knowing it fails here.
 */

import { readFileSync } from 'node:fs';
import path from 'node:path';

import { SERVER_ERROR_CODES } from '../src/index';

it('SERVER_ERROR_CODES lists exactly the codes of the server', () => {
  const source = readFileSync(path.resolve(__dirname, '../../server/src/errors.ts'), 'utf8');
  const union = /export type ErrorCode =([^;]+);/.exec(source)?.[1];
  expect(union).toBeDefined();
  const serverCodes = [...union!.matchAll(/'([a-z0-9_]+)'/g)].map((m) => m[1]);
  expect([...SERVER_ERROR_CODES].sort()).toEqual(serverCodes.sort());
});
