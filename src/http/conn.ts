import type { Socket } from "bun";
import type { WheelEntry } from "../time/index.ts";
import type { ParseFailure, RequestHead } from "./head.ts";
import { Outbox } from "./outbox.ts";
import { RequestParser, type ParserLimits } from "./parser.ts";
import type { HttpRequest } from "./request.ts";
import type { StreamSinkImpl } from "./stream.ts";

/** Per-connection state (the socket's `data`); the server's handlers move it along. */
export class HttpConn implements WheelEntry {
  wheelDue = 0;
  wheelNext: WheelEntry | null = null;
  wheelPrev: WheelEntry | null = null;
  wheelSlot = -1;

  readonly parser: RequestParser;
  readonly outbox = new Outbox();
  /** Complete requests waiting for the one being answered; a parse failure can only be last. */
  readonly queue: (HttpRequest | ParseFailure)[] = [];
  /** The head whose body is being read. */
  head: RequestHead | null = null;
  /** The request being answered: its handler runs, or its stream is open. */
  active: HttpRequest | null = null;
  /** When `active` was dispatched (only measured for debug logs). */
  activeSince = 0;
  stream: StreamSinkImpl | null = null;
  /** Final replies sent. */
  served = 0;
  /** A head asked for 100 Continue and it is not sent yet. */
  continuePending = false;
  /** The peer sent FIN: nothing more will come. */
  peerEnded = false;
  /** The reply being written is the last: later input is discarded, the connection closes once it is out. */
  closing = false;
  /** Our FIN is out; input is read and discarded until the peer's FIN or the linger bound. */
  lingering = false;
  closed = false;
  /** Reading paused: the pipeline queue is full or unsent output passed its bound. */
  paused = false;
  /** Start of the current wait on the peer: the clock of the header, body, idle and linger timeouts. */
  waitStart: number;
  /** Last time unsent output moved. */
  lastProgress: number;
  // Re-entrancy guard: a handler that answers synchronously must not recurse into advance().
  advancing = false;
  again = false;

  private peerText: string | null = null;
  private tagText: string | null = null;

  constructor(
    readonly id: number,
    readonly socket: Socket<HttpConn | undefined>,
    readonly remoteAddress: string,
    readonly remotePort: number,
    private readonly name: string,
    limits: ParserLimits,
    now: number,
  ) {
    this.parser = new RequestParser(limits);
    this.waitStart = now;
    this.lastProgress = now;
  }

  /** Nothing is being answered and nothing waits: the next move is the peer's. */
  get waiting(): boolean {
    return this.active === null && this.queue.length === 0;
  }

  /** "127.0.0.1:5555", "[::1]:5555" */
  get peer(): string {
    return (this.peerText ??= this.remoteAddress.includes(":") ? `[${this.remoteAddress}]:${this.remotePort}` : `${this.remoteAddress}:${this.remotePort}`);
  }

  /** "[metrics#3 127.0.0.1:5555]": starts every log line about this connection. */
  get tag(): string {
    return (this.tagText ??= `[${this.name}#${this.id} ${this.peer}]`);
  }
}
