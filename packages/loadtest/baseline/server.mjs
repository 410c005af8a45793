/**
 * Starts the baseline peer (see app.mjs) the way the seed starts: `node
 * baseline/server.mjs`, port from env PORT (default 7171, the seed's).
 *
 * Extra environment, all optional: HOST (default all interfaces, as the seed),
 * MAX_KEYS and MAX_BYTES (lower limits for smokes). PORT=0 asks the OS for a
 * free port. Once listening it prints one line `baseline listening on
 * http://HOST:PORT`, which drivers and tests wait for. SIGTERM and SIGINT close
 * the listener and exit 0.
 */

import { createBaselineApp, SEED_MAX_BYTES, SEED_MAX_KEYS } from './app.mjs';

function positiveIntFromEnv(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new TypeError(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  }
  return value;
}

const port = Number(process.env.PORT ?? 7171);
const host = process.env.HOST || undefined;
const { app } = createBaselineApp({
  maxKeys: positiveIntFromEnv('MAX_KEYS', SEED_MAX_KEYS),
  maxBytes: positiveIntFromEnv('MAX_BYTES', SEED_MAX_BYTES),
});

const onListening = () => {
  const address = server.address();
  const shownHost = typeof address === 'object' && address ? address.address : host;
  const shownPort = typeof address === 'object' && address ? address.port : port;
  console.log(`baseline listening on http://${shownHost}:${shownPort}`);
};
const server = host === undefined ? app.listen(port, onListening) : app.listen(port, host, onListening);

function shutdown() {
  server.close(() => process.exit(0));
  // Idle keep-alive sockets would hold close() open; drop them (Node >= 18.2).
  server.closeIdleConnections();
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
