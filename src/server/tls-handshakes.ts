// TLS on a listening socket that stays ours. Bun's TLS listener could serve our fd, but it can
// neither choose a certificate by SNI (tls arrays are Bun.serve's alone) nor read a PROXY header
// before the handshake. So a TLS listener is a plain Bun.listen({ fd }), and each connection:
//   1. (--proxy-protocol) its PROXY header, read by the echo handlers as on any listener;
//   2. its ClientHello, gathered here until complete (parseClientHello: bounded, and bounded in
//      time by the handshake deadline), which tells the SNI, ALPN list and versions it offers;
//   3. socket.upgradeTLS({ isServer, initialData }) with the certificate chosen by that SNI;
//   4. the handshake handler reports, and the echo handlers take over on the TLS socket.
// Measured facts behind each step: experiments/tls/FINDINGS.md (sections b, c, i, k).
import type { Socket, SocketHandler } from "bun";
import { errorText } from "../log/error-text.ts";
import type { LogGate, Logger } from "../log/logger.ts";
import { upgradeServerTls } from "../net/index.ts";
import { formatProxyDetails, formatProxyEndpoints, proxyHeaderJson } from "../proxy/index.ts";
import { ClientHelloError, describePeerCertificate, parseClientHello } from "../tls/index.ts";
import type { Clock } from "../time/index.ts";
import { Phase, type Connection } from "./connection.ts";
import type { ServerStats } from "./stats.ts";
import { offerText, sessionJson, sessionText } from "./tls-log.ts";
import { TlsState, type TlsResult, type TlsSession } from "./tls-state.ts";
import type { TlsCertificates } from "./tls-store.ts";

type Sock = Socket<Connection>;
type Handlers = SocketHandler<Connection, "uint8array">;

/** What the echo handlers call on a TLS listener. */
export interface TlsHooks {
  /** The connection's preamble is over (accepted, or its PROXY header read): the ClientHello is next. */
  begin(c: Connection): void;
  /** Bytes of the ClientHello; returns true when the TLS engine has taken the socket over (c.socket is the TLS socket). */
  hello(socket: Sock, c: Connection, chunk: Uint8Array): boolean;
  /** The handshake deadline (one --timeout from the start) passed. */
  timedOut(c: Connection): void;
}

export interface TlsContext {
  readonly log: Logger;
  readonly listener: string;
  readonly stats: ServerStats;
  readonly clock: Clock;
  readonly certificates: TlsCertificates;
  /** --timeout, for messages. */
  readonly timeout: number;
  /** Failed-handshake lines per second (a peer can fail handshakes as fast as it connects). */
  readonly linesPerSecond: number;
}

/** Bun's message when the peer goes away mid-handshake (FINDINGS.md §b): not a TLS failure. */
const DISCONNECTED = /disconnected before secure TLS connection/i;
/** BoringSSL's reason when client auth is required and the client sent no certificate. */
const NO_CLIENT_CERT = /PEER_DID_NOT_RETURN_A_CERTIFICATE/;

export class TlsHandshakes implements TlsHooks {
  private tlsHandlers: Handlers | null = null;
  private readonly gate: LogGate;

  constructor(private readonly ctx: TlsContext) {
    this.gate = ctx.log.gate("tls-error", ctx.linesPerSecond, "info");
  }

  /**
   * The handlers of the listening socket (plain) and of each upgraded socket, from the echo
   * handlers. After the upgrade the plain socket still sees every ciphertext chunk (`data`) and
   * its own `close`: its events other than `close` count only while it is the connection's socket.
   * Both `close` handlers run, plain first; the echo handlers count a connection once.
   */
  wrap(echo: Handlers): Handlers {
    const mine = (s: Sock) => s.data !== undefined && s.data.socket === s;
    this.tlsHandlers = {
      ...echo,
      // Runs inside upgradeTLS, before any event of the new socket: from here on it is the connection's.
      open: (s) => {
        s.data.socket = s;
      },
      handshake: (s, ok, err) => this.handshake(s, ok, err),
      close: (s, e) => {
        this.closing(s.data);
        echo.close!(s, e);
      },
    };
    return {
      ...echo,
      data: (s, d) => {
        if (mine(s)) echo.data!(s, d);
      },
      drain: (s) => {
        if (mine(s)) echo.drain!(s);
      },
      end: (s) => {
        if (mine(s)) echo.end!(s);
      },
      timeout: (s) => {
        if (mine(s)) echo.timeout!(s);
      },
      close: (s, e) => {
        this.closing(s.data);
        echo.close!(s, e);
      },
    };
  }

  begin(c: Connection): void {
    c.phase = Phase.Header;
    c.tls = new TlsState();
    const log = this.ctx.log;
    if (log.debugOn) log.debug("tls-wait", `${c.tag} waiting for a TLS ClientHello`, { conn: c.id, peer: c.peer });
  }

  hello(socket: Sock, c: Connection, chunk: Uint8Array): boolean {
    const st = c.tls!;
    if (st.upgraded) return false;
    if (st.firstByteAt === 0) st.firstByteAt = this.ctx.clock.now();
    const buf = st.pending ? concat(st.pending, chunk) : chunk;
    try {
      const r = parseClientHello(buf);
      if (r.kind === "incomplete") {
        // A copy: Bun hands each read in a buffer of its own, but a view must not outlive it.
        st.pending = st.pending ? buf : chunk.slice();
        return false;
      }
      if (r.kind === "hello") st.hello = r.hello;
      else st.helloProblem = `not a TLS handshake record (first byte 0x${buf[0]!.toString(16).padStart(2, "0")})`;
    } catch (e) {
      if (!(e instanceof ClientHelloError)) throw e;
      st.helloProblem = e.message;
    }
    st.pending = null;
    // What we could not read goes to the TLS engine all the same: it answers as a TLS server does
    // (an alert, or a FIN for an HTTP request) and its message says why in the close line.
    const served = this.ctx.certificates.choose(st.hello?.serverName ?? null);
    st.served = served.pair.summary.subject;
    try {
      upgradeServerTls(socket, served.options, this.tlsHandlers!, c, buf);
    } catch (e) {
      this.settle(c, "failed");
      c.reason ??= "tls-error";
      c.errorText = `TLS upgrade failed: ${errorText(e)}`;
      this.logFailure(c, c.errorText, null);
      socket.terminate();
      return false;
    }
    st.upgraded = true;
    return c.phase !== Phase.Closed;
  }

  timedOut(c: Connection): void {
    const st = c.tls!;
    c.phase = Phase.FinSent;
    // A handshake that failed (or a rejected certificate) is closed by Bun; should it still be
    // open at the deadline, it is reset here, counted once, under its own reason.
    if (st.result !== null) return void c.socket.terminate();
    this.settle(c, "timeout");
    c.reason = "tls-timeout";
    const log = this.ctx.log;
    if (log.infoOn && this.gate.allow()) {
      const where = st.upgraded ? `ClientHello read (${offerText(st.offer())}), handshake unfinished` : st.pending ? `${st.pending.length} B of a ClientHello` : "no ClientHello byte";
      log.info("tls-timeout", `${c.tag} no TLS handshake within ${this.ctx.timeout} s (--timeout): ${where}; resetting`, {
        conn: c.id,
        peer: c.peer,
        listener: this.ctx.listener,
        received: st.upgraded ? null : (st.pending?.length ?? 0),
        offered: st.offer(),
      });
    }
    c.socket.terminate();
  }

  private handshake(s: Sock, ok: boolean, err: Error | null): void {
    const c = s.data;
    const st = c?.tls;
    if (!st || c.phase === Phase.Closed || st.result !== null) return;
    if (!ok) {
      if (err && DISCONNECTED.test(err.message)) return this.settle(c, "aborted");
      // No certificate where one is required is client authentication refusing, as a bad one is.
      this.settle(c, err && NO_CLIENT_CERT.test(err.message) ? "rejected" : "failed");
      c.reason ??= "tls-error";
      c.errorText = err ? errorText(err) : "TLS handshake failed";
      this.logFailure(c, c.errorText, err);
      return;
    }
    const t = this.ctx.clock.now();
    const session = this.session(s, st, err, t);
    st.session = session;
    // require: Bun lets a certificate that does not verify through the handshake, then closes the
    // connection itself before any data (FINDINGS.md §b); the client sees EOF, not an alert.
    if (!s.authorized && this.ctx.certificates.clientAuth === "require") {
      this.settle(c, "rejected");
      c.reason ??= "tls-error";
      c.errorText = session.client ? `client certificate rejected: ${session.client.verifyError}` : `no client certificate: ${err ? errorText(err) : "none sent"}`;
      this.logFailure(c, c.errorText, err);
      return;
    }
    this.settle(c, "ok");
    if (c.phase === Phase.Header) {
      c.phase = Phase.Open;
      c.lastActive = t;
    }
    this.logOpen(c, session);
  }

  /** A connection closing before its handshake's fate was known: the peer left (or we stopped). */
  private closing(c: Connection | undefined): void {
    const st = c?.tls;
    if (!st || st.result !== null || c!.phase === Phase.Closed) return;
    this.settle(c!, "aborted");
  }

  private settle(c: Connection, result: TlsResult): void {
    const st = c.tls!;
    st.result = result;
    const key = `${st.versionLabel()} ${result}`;
    const counts = this.ctx.stats.tlsHandshakes;
    counts[key] = (counts[key] ?? 0) + 1;
  }

  private session(s: Sock, st: TlsState, authError: Error | null, t: number): TlsSession {
    const cipher = s.getCipher() as { name?: string | null } | null;
    const peer = describePeerCertificate(s);
    const alpn = s.alpnProtocol;
    return {
      version: s.getTLSVersion() ?? "unknown",
      cipher: cipher?.name ?? null,
      sni: s.getServername() || null,
      alpn: typeof alpn === "string" && alpn !== "" ? alpn : null,
      resumed: s.isSessionReused(),
      served: st.served,
      offered: st.offer(),
      client: peer && { ...peer, verified: s.authorized, verifyError: s.authorized ? null : authError ? errorText(authError) : "not verified" },
      handshakeMs: st.firstByteAt > 0 ? t - st.firstByteAt : 0,
    };
  }

  private logOpen(c: Connection, session: TlsSession): void {
    const log = this.ctx.log;
    if (!log.infoOn) return;
    const h = c.proxy?.header ?? null;
    const tls = sessionText(session);
    if (h) {
      const endpoints = formatProxyEndpoints(h);
      log.info("open", `${c.tag} open ${endpoints ?? ""}${endpoints ? " " : ""}via ${c.proxy!.via} (${formatProxyDetails(h)}), ${tls}`, {
        conn: c.id,
        peer: c.peer,
        listener: this.ctx.listener,
        via: c.proxy!.via,
        proxy: proxyHeaderJson(h),
        tls: sessionJson(session),
      });
    } else log.info("open", `${c.tag} open ${tls}`, { conn: c.id, peer: c.peer, listener: this.ctx.listener, tls: sessionJson(session) });
  }

  private logFailure(c: Connection, message: string, err: Error | null): void {
    const log = this.ctx.log;
    if (!log.infoOn || !this.gate.allow()) return;
    const st = c.tls!;
    const offer = st.offer();
    const problem = st.helloProblem ? `; the first bytes were not a ClientHello we could read: ${st.helloProblem}` : "";
    log.info("tls-error", `${c.tag} TLS handshake failed: ${message} (${offerText(offer)})${problem}`, {
      conn: c.id,
      peer: c.peer,
      listener: this.ctx.listener,
      error: message,
      code: (err as { code?: string } | null)?.code ?? null,
      offered: offer,
      hello_problem: st.helloProblem,
      client: st.session?.client ? sessionJson(st.session).client : null,
    });
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
