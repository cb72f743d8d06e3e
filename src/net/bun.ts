// Bun's untyped corners, typed once: the fd of a socket or listener (present at run time, absent
// from bun-types), Bun.listen({ fd }) adopting our own listening socket, and Bun.connect({ fd })
// adopting a connected one. Everything else in the code base calls these instead of casting.
import type { Socket, SocketHandler, TCPSocketListener } from "bun";

/** The descriptor behind a Bun socket (the FFI module reaches the socket by it). */
export function socketFd(socket: Socket<any>): number {
  return (socket as unknown as { fd: number }).fd;
}

/**
 * close(2) on a plain socket, gracefully (no SO_LINGER 0: the kernel still sends what it holds,
 * then FIN). Bun's socket.close(), absent from bun-types. For a socket whose peer has already
 * ended it does what end() does less one setsockopt(TCP_CORK) (strace: epoll MOD, DEL, close).
 */
export function closeSocket(socket: Socket<any>): void {
  (socket as unknown as { close(): void }).close();
}

/**
 * Serves a listening socket we made (or systemd passed) with Bun's handlers. Bun calls listen()
 * on it again with its own backlog (511): callers put theirs back with relisten().
 */
export function listenOnFd<T>(fd: number, handlers: SocketHandler<T, "uint8array">): TCPSocketListener<T> {
  return (Bun.listen as unknown as (o: object) => TCPSocketListener<T>)({ fd, allowHalfOpen: true, socket: handlers });
}

/**
 * Hands a connected fd to Bun (FdSocketOptions in bun-types, absent from connect's overloads). It
 * must already be connected: Bun calls `open` and `drain` at once on an fd whose connect is still
 * in progress, and a refused connect then ends with a close carrying no errno.
 */
export function connectOnFd<T>(fd: number, handlers: SocketHandler<T, "uint8array">, tls?: object): Promise<Socket<T>> {
  // With `tls` Bun runs a client handshake on the fd (measured: our fd, options read back, work
  // unchanged); `open` comes at once and the `handshake` handler when it is done.
  return (Bun.connect as unknown as (o: object) => Promise<Socket<T>>)({ fd, allowHalfOpen: true, socket: handlers, ...(tls ? { tls } : {}) });
}

/**
 * Turns an accepted plain socket into a server TLS socket, the bytes already read (`initialData`:
 * a ClientHello we looked at first) fed to the TLS engine before anything new from the kernel.
 * Bun's own node:net does this (`adoptServerTLS`); `isServer` and `initialData` are absent from
 * bun-types. Returns the new TLS socket; the plain one stays alive underneath and still receives
 * every ciphertext chunk in its `data` handler, and both sockets' `close` handlers run (plain
 * first): measured in experiments/tls/i-upgrade-server-socket.ts and i2-upgrade-details.ts.
 */
export function upgradeServerTls<T>(
  socket: Socket<T>,
  tls: object,
  handlers: SocketHandler<T, "uint8array">,
  data: T,
  initialData: Uint8Array,
): Socket<T> {
  const up = (socket as unknown as { upgradeTLS(o: object): [Socket<T>, Socket<T>] }).upgradeTLS({ isServer: true, tls, socket: handlers, data, initialData });
  return up[1];
}
