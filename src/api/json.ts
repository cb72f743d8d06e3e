// toxiproxy's JSON shapes (api.go: proxyWithToxics, ApiError; toxics/toxic.go: ToxicWrapper),
// and the extensions' own.
import { jsonReply, type CompleteReply, type HttpRequest } from "../http/index.ts";
import { badBody, toxicJson, type FaultError } from "../faults/index.ts";
import type { ConnectionInfo, ProxyView } from "../server/index.ts";
import type { TcpInfo } from "../net/index.ts";

/** A proxy with its toxics, in toxiproxy's field order; `accepting` is tcp-echo's accept pause. */
export function proxyJson(p: ProxyView) {
  return { name: p.name, listen: p.listen, upstream: p.upstream, enabled: p.enabled, accepting: p.accepting, toxics: p.toxics.map(toxicJson) };
}

/** toxiproxy's error body: {"error": message, "status": code}. */
export function errorReply(e: FaultError): CompleteReply {
  return jsonReply(e.status, { error: e.message, status: e.status });
}

export const apiError = (status: number, message: string): CompleteReply => jsonReply(status, { error: message, status });

/** The request body as JSON; a 400 in toxiproxy's words when it is not. */
export function body(req: HttpRequest): unknown {
  if (req.body.length === 0) throw badBody("EOF (the body is empty)");
  const text = new TextDecoder("utf-8", { fatal: false }).decode(req.body);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw badBody(`not JSON: ${(e as Error).message}`);
  }
}

export function tcpJson(t: TcpInfo | null) {
  return (
    t && {
      state: t.state,
      rtt_us: t.rttUs,
      rttvar_us: t.rttvarUs,
      cwnd: t.cwnd,
      retransmits: t.retransmits,
      total_retrans: t.totalRetrans,
      unacked: t.unacked,
      send_queue: t.sendQueue,
      recv_queue: t.recvQueue,
      peer_window: t.peerWindow,
      probes: t.probes,
    }
  );
}

export function connectionJson(c: ConnectionInfo) {
  return {
    id: c.id,
    listener: c.listener,
    peer: c.peer,
    proxied_source: c.proxiedSource,
    phase: c.phase,
    age_ms: c.ageMs,
    bytes_in: c.bytesIn,
    bytes_out: c.bytesOut,
    queued_bytes: c.queued,
    held_by_toxics: c.heldByToxics,
    timeout_in_ms: c.timeoutInMs,
    reading_paused: c.readingPaused,
    toxics: c.toxics,
    tcp: tcpJson(c.tcp),
    // TLS listeners: handshake phase, the client's offer, and once done the open line's tls field
    // (version, cipher, SNI, ALPN, the client certificate's subject, SANs and SHA-256).
    tls: c.tls,
  };
}

/** A row of GET /connections. */
export type ConnectionRow = ReturnType<typeof connectionJson>;
