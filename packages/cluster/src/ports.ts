/**
 * Checks that a TCP port is free before a node or the router is started on it.
 *
 * The nodes (uWebSockets) bind with SO_REUSEPORT, so a second node on a taken
 * port would start without an error and the kernel would split connections
 * between the two: reads would then find the keys only some of the time. A
 * plain bind (without SO_REUSEPORT) fails on a port that any socket holds, so
 * binding and closing one first turns that into a clear error.
 */

import { createServer } from 'node:net';

export async function assertPortFree(host: string, port: number, what: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (error: NodeJS.ErrnoException) => {
      const reason = error.code === 'EADDRINUSE' ? 'is already in use' : `cannot be bound (${error.code ?? error.message})`;
      reject(new Error(`port ${port} for ${what} ${reason} on ${host}: choose another --port, or stop what listens there`));
    });
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve()));
  });
}
