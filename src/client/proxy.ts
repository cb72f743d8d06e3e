// --proxy-protocol: the PROXY header the client sends before anything else, built from the options
// and the connection's own addresses, and its echo told apart from the echo proper. A server that
// reads the PROXY protocol consumes the header; a plain echo server sends it back ahead of
// everything else, which says that the server (or whatever is in front of it) does not read PROXY:
// the client says so and fails.
import type { Connected, SockAddress } from "../net/index.ts";
import { encodeProxyV1, encodeProxyV2, formatProxyEndpoints, parseProxyHeader, type ProxyEndpoint } from "../proxy/index.ts";
import { previewRepr } from "../protocol/repr.ts";
import type { ClientProxy, ProxyEndpointOption } from "./options.ts";
import type { EchoStream } from "./stream.ts";

export interface SentHeader {
  readonly bytes: Uint8Array;
  readonly version: ClientProxy["version"];
}

const endpoint = (e: ProxyEndpointOption | SockAddress): ProxyEndpoint => ({ address: e.host, port: e.port });

/** The header's bytes: the given endpoints, or the connection's local address and the one connected to. */
export function buildProxyHeader(p: ClientProxy, conn: Connected): Uint8Array {
  const init = { source: endpoint(p.source ?? conn.local), destination: endpoint(p.destination ?? conn.peer) };
  return p.version === "v1" ? encodeProxyV1(init) : encodeProxyV2(init);
}

/**
 * "PROXY v2 header sent: INET 127.0.0.1:40312 -> 127.0.0.1:9999, 28 B (the connection's own
 * addresses)": what the header says, read back from its bytes, as a receiver reads it.
 */
export function sentLine(p: ClientProxy, bytes: Uint8Array): string {
  const r = parseProxyHeader(bytes, p.version);
  if (r.kind !== "ok") throw new Error(`our own PROXY header does not parse: ${JSON.stringify(r)}`);
  const h = r.header;
  const family = p.version === "v1" ? (h.family === "inet6" ? "TCP6" : "TCP4") : h.family === "inet6" ? "INET6" : "INET";
  const whose =
    p.source && p.destination
      ? "source and destination as given"
      : p.source
        ? "source as given, destination the address connected to"
        : p.destination
          ? "source the connection's local address, destination as given"
          : "the connection's own addresses";
  // One given IPv4 address and the other the connection's IPv6 one (or the reverse): one family per header.
  const given = [p.source, p.destination].filter((e) => e !== null);
  const mapped = h.family === "inet6" && given.some((e) => !e.host.includes(":")) ? "; the IPv4 address is written IPv4-mapped, a header holds one family" : "";
  return `PROXY ${p.version} header sent: ${family} ${formatProxyEndpoints(h)}, ${bytes.length} B (${whose}${mapped})`;
}

/** What came back so far against the header: all of it, a beginning of it (more needed), or other bytes. */
export function againstHeader(back: Uint8Array, header: Uint8Array): "whole" | "partial" | "other" {
  const n = Math.min(back.length, header.length);
  for (let i = 0; i < n; i++) if (back[i] !== header[i]) return "other";
  return back.length >= header.length ? "whole" : "partial";
}

/**
 * Message mode, before the first echo is judged: waits until what came back either holds the whole
 * header or departs from it. The header, when it came back, is taken off the stream and true
 * returned; anything else stays for the echo check. A timeout or close here is left to that check.
 */
export async function takeEchoedHeader(stream: EchoStream, header: Uint8Array, ms: number): Promise<boolean> {
  await stream.waitUntil(() => againstHeader(stream.peek(), header) !== "partial", ms);
  if (againstHeader(stream.peek(), header) !== "whole") return false;
  stream.take(header.length);
  return true;
}

/**
 * --file: the bytes back pass through here first. Held while they are a beginning of the header;
 * once the header is complete it is dropped (and `echoed` set), once they depart from it they all
 * go on to the echo check, held ones first.
 */
export class HeaderEchoFilter {
  echoed = false;
  private decided = false;
  private held: Uint8Array[] = [];
  private matched = 0;

  constructor(private readonly header: Uint8Array) {}

  /** The bytes of `d` (and any held before) that belong to the echo proper, in order. */
  feed(d: Uint8Array): Uint8Array[] {
    if (this.decided) return [d];
    const h = this.header;
    const m = Math.min(d.length, h.length - this.matched);
    for (let i = 0; i < m; i++) {
      if (d[i] !== h[this.matched + i]) return this.release(d);
    }
    this.matched += m;
    if (this.matched < h.length) {
      this.held.push(d.slice());
      return [];
    }
    this.decided = true;
    this.echoed = true;
    this.held = [];
    return m < d.length ? [d.subarray(m)] : [];
  }

  /** The connection ended while the bytes back were still a beginning of the header: they are echo. */
  end(): Uint8Array[] {
    return this.decided ? [] : this.release(null);
  }

  private release(d: Uint8Array | null): Uint8Array[] {
    this.decided = true;
    const out = d ? [...this.held, d] : this.held;
    this.held = [];
    return out;
  }
}

/** Said once, when the header came back. */
export function echoedLine(header: SentHeader): string {
  return (
    `the PROXY header came back (${header.bytes.length} B ${previewRepr(header.bytes)}): the server echoes it, so it does not ` +
    `read the PROXY protocol (tcp-echo serve reads it with --proxy-protocol ${header.version} or any)`
  );
}

/** A connection that ended before any byte came back, after a header: how a PROXY server refuses one. */
export const REFUSED_HINT = " (before any byte came back: a server that reads the PROXY protocol closes a connection whose header it refuses, such as one of another version)";
