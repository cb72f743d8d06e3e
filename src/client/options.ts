import type { Lookup } from "../net/resolve.ts";
import type { ProxyVersion } from "../proxy/index.ts";
import type { ClientTls } from "../tls/index.ts";
import type { PackedRecord } from "./record.ts";

/** Everything runClient needs, already validated: the CLI and tests build it, the client trusts it. */
export interface ClientOptions {
  /** An IPv4 or IPv6 address, or a name: each address it resolves to is tried in turn. */
  readonly host: string;
  readonly port: number;
  /** runFileClient: the file whose bytes are sent once and must come back; "-" is standard input. */
  readonly file: string | null;
  /** The bytes sent each time, newline included (see messageBytes). */
  readonly message: Uint8Array;
  /** Sent after each echoed message; null sends none. */
  readonly record: PackedRecord | null;
  /** Seconds the name lookup may take, and each address's connect, SYN retries included. */
  readonly connectTimeout: number;
  /** TCP_SYNCNT, 1..127; null keeps the kernel's tcp_syn_retries. */
  readonly synRetries: number | null;
  /** Seconds to wait for each echo (--file: for the echo to progress), and for the server's FIN after ours. */
  readonly timeout: number;
  /** TCP_NODELAY. Off by default: Nagle's algorithm on, as in many real clients. */
  readonly nodelay: boolean;
  readonly recvBuf: number | null;
  readonly sendBuf: number | null;
  /** Messages to send, one per round trip. */
  readonly count: number;
  /** Seconds between one echo and the next message. */
  readonly interval: number;
  /** Send a PROXY protocol header first; null sends none. */
  readonly proxy: ClientProxy | null;
  /** Aborting stops after the current round trip; the half-close and the summary still happen. */
  readonly signal?: AbortSignal;
  /** The resolver for a name (tests inject one); the system's getaddrinfo by default. */
  readonly lookup?: Lookup;
  /** --tls: a TLS handshake on the connection before any message; absent or null: plain TCP. */
  readonly tls?: ClientTls | null;
}

/** An address and port a PROXY header names. */
export interface ProxyEndpointOption {
  readonly host: string;
  readonly port: number;
}

/** The PROXY header the client sends before anything else. */
export interface ClientProxy {
  readonly version: ProxyVersion;
  /** The client the header names; null: the connection's local address and port. */
  readonly source: ProxyEndpointOption | null;
  /** The destination it names; null: the address and port connected to. */
  readonly destination: ProxyEndpointOption | null;
}

export const CLIENT_DEFAULTS = {
  host: "127.0.0.1",
  port: 9999,
  file: null,
  message: "hello",
  record: null,
  connectTimeout: 10,
  synRetries: null,
  timeout: 5,
  nodelay: false,
  recvBuf: null,
  sendBuf: null,
  count: 1,
  interval: 1,
  proxy: null,
} as const;

/**
 * A message as sent: UTF-8, ending in exactly the newline the user gave or one added, because a
 * message is one line to tcp-echo's record framing (a line, then a binary record).
 */
export function messageBytes(text: string): Uint8Array {
  return new TextEncoder().encode(text.endsWith("\n") ? text : `${text}\n`);
}
