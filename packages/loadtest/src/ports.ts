/**
 * Port ranges for the servers this package starts, and a picker for a free port
 * inside a range.
 *
 * Each kind of server has its own range (ours 18200-18299, the baseline
 * 18300-18399, redis 18400-18499), away from 7171 (the seed's port, reserved for
 * the Docker test). The picker binds the port itself to see that it is free:
 * a plain connect test is not enough, because uWebSockets listens with
 * SO_REUSEPORT and a second server on the same port would silently share its
 * connections. Starting from a random offset keeps two concurrent runs apart.
 */

import { createServer } from 'node:net';

export type PortRange = readonly [first: number, last: number];

export const PORT_RANGES = {
  ours: [18200, 18299],
  baseline: [18300, 18399],
  redis: [18400, 18499],
} as const satisfies Record<string, PortRange>;

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen({ port, host: '127.0.0.1', exclusive: true }, () => probe.close(() => resolve(true)));
  });
}

export async function findFreePort([first, last]: PortRange): Promise<number> {
  const span = last - first + 1;
  const start = Math.floor(Math.random() * span);
  for (let i = 0; i < span; i++) {
    const port = first + ((start + i) % span);
    if (await canBind(port)) return port;
  }
  throw new Error(`no free port in ${first}-${last}`);
}
