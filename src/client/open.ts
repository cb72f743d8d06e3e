// The client's connection: the host resolved, its addresses tried in order, the fd adopted by Bun
// with our TCP_NODELAY choice, and the lines saying which address answered and with which options.
import { closeFd, formatAddress, readClientSocketOptions, setClientNoDelay, type ClientSocketOptions, type Connected } from "../net/index.ts";
import { dialInOrder } from "../net/dial.ts";
import { resolveHost, type ResolvedHost } from "../net/resolve.ts";
import { clientTlsPlan, sessionLine, type ServerSession } from "../tls/index.ts";
import type { ClientOptions } from "./options.ts";
import * as line from "./output.ts";
import { EchoStream } from "./stream.ts";

export type Print = (line: string) => void;

export interface Opened {
  readonly resolved: ResolvedHost;
  readonly conn: Connected;
  readonly stream: EchoStream;
  /** The socket's options read back (getsockopt) once Bun had adopted it. */
  readonly socket: ClientSocketOptions;
  /** The address connected to, as printed: 127.0.0.1:9999, [::1]:9999. */
  readonly peer: string;
  /** With --tls: what the handshake negotiated. */
  readonly tls: ServerSession | null;
}

/** The TLS handshake failed, or the server's certificate did not verify: one line, exit 1. */
export class TlsHandshakeError extends Error {
  override readonly name = "TlsHandshakeError";
  constructor(
    message: string,
    readonly session: ServerSession | null,
  ) {
    super(message);
  }
}

/**
 * Resolves `o.host` (ResolveError when a name has no address), connects to its addresses in turn
 * (the last one's SyscallError or ConnectTimeoutError when none answers) and hands the socket to
 * Bun. Prints the name's addresses, each failure before the one that worked, and the connection.
 */
export async function openConnection(o: ClientOptions, print: Print): Promise<Opened> {
  const started = performance.now();
  const resolved = await resolveHost(o.host, { lookup: o.lookup, timeoutS: o.connectTimeout });
  if (resolved.isName) print(line.resolved(resolved, performance.now() - started));
  const conn = await dialInOrder(resolved.addresses, { ...o, timeout: o.connectTimeout }, (failed, next) => print(line.retry(failed, next)));
  // The name is what a certificate is for (and what SNI sends), not the address it resolved to.
  const plan = o.tls ? clientTlsPlan(o.tls, o.host) : null;
  let stream: EchoStream;
  try {
    stream = await EchoStream.adopt(conn.fd, plan);
  } catch (e) {
    closeFd(conn.fd);
    throw e;
  }
  try {
    // Bun turns TCP_NODELAY on when it adopts a socket; ours goes back on before the first byte.
    setClientNoDelay(conn.fd, o.nodelay);
    const socket = readClientSocketOptions(conn.fd);
    const peer = formatAddress(conn.peer);
    print(line.connected(peer, conn));
    print(line.options(socket, o));
    let tls: ServerSession | null = null;
    if (plan) {
      const hs = await stream.handshake(o.connectTimeout * 1000);
      if (!hs.ok) {
        const s = hs.session;
        const why = hs.timedOut ? `no handshake within ${o.connectTimeout} s (--connect-timeout)` : s?.verifyError ?? (stream.error ? String(stream.error.message) : "the server closed the connection");
        const cert = s?.server ? `; server certificate ${s.server.subject} (SHA-256 ${s.server.fingerprint256})` : "";
        throw new TlsHandshakeError(`TLS handshake with ${peer}${plan.sni ? ` (SNI ${plan.sni})` : ""} failed: ${why}${cert}`, s);
      }
      tls = hs.session;
      print(`${sessionLine(tls!, plan, o.tls!.caFile)} (handshake ${hs.ms.toFixed(2)} ms)`);
    }
    return { resolved, conn, stream, socket, peer, tls };
  } catch (e) {
    stream.close();
    throw e;
  }
}
