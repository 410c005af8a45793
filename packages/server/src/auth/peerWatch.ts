/**
 * Which peers are connected, so that protected mode need not ask the kernel
 * on every request.
 *
 * Protected mode answers only loopback clients. Asking for a request's peer
 * (uWS `getRemoteAddress()`) is a getpeername() system call; on the request
 * path it costs about a seventh of the server's GET throughput (wrk on a 2-core
 * VM, uWS 20.30: medians 35.5k req/s against 41.5k without the check). The peer of
 * a connection never changes, so the check belongs at connect time, as redis
 * does it. uWS reports every HTTP socket's open and close to `app.filter()`;
 * at open the peer is read once.
 *
 * uWS cannot tell which socket is closing (its file descriptor is already
 * closed), so the watch does not track remote sockets one by one: one remote
 * connect marks the thread *mixed*, and it stays mixed until every connection
 * of the thread has closed. While mixed, the gate checks each request's peer
 * as before; while only loopback peers have connected, it skips the check. A
 * request always follows the open of its own connection on the same thread,
 * so a remote request can never find the thread unmarked.
 *
 * uWS 20.57 has `filter()`; 20.30 (Node 20 on glibc < 2.38) does not, and
 * there the gate reads every request's peer (app.ts `watchPeers`).
 */

import { isLoopbackPeer } from './loopback.js';

/** The part of a uWS HttpResponse the watch reads at open. */
export interface PeerSocket {
  getRemoteAddress(): ArrayBuffer;
}

export class PeerWatch {
  #open = 0;
  #mixed = false;

  /** uWS's filter callback: `count` is 1 when a socket opens, -1 when it closes. */
  readonly onSocket = (socket: PeerSocket, count: number): void => {
    if (count > 0) {
      this.#open++;
      if (!this.#mixed && !isLoopbackPeer(socket.getRemoteAddress())) this.#mixed = true;
      return;
    }
    if (this.#open > 0) this.#open--;
    if (this.#open === 0) this.#mixed = false;
  };

  /** True while every connection opened since this thread was last idle came from loopback. */
  get onlyLoopback(): boolean {
    return !this.#mixed;
  }
}
