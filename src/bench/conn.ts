import type { Socket } from "bun";
import type { Timed } from "./timers.ts";

export enum ConnState {
  None,
  Connecting,
  Active,
  /** Idle mode: exchange done, held open until the end. */
  Hold,
  /** Idle mode: the server closed it during the hold. */
  Closed,
  /** Idle mode: opening or the exchange failed; not retried. */
  Failed,
}

/**
 * One connection slot: it outlives its sockets (a failed one is replaced by a fresh socket with a
 * new stream), and is the `data` of each, so the shared handlers find it without a closure.
 */
export class Conn implements Timed {
  /** The current socket; events from any other (an abandoned or closed one) are ignored. */
  socket: Socket<Conn> | null = null;
  state = ConnState.None;
  timerSeq = 0;
  /** Sockets this slot has had; with the index it picks the stream's start in the pattern. */
  cycle = 0;
  /** Counted among the initial openings (at most MAX_OPENING at once). */
  initial = false;
  /** Pattern offsets of the next byte to send and the next byte expected back. */
  txOff = 0;
  rxOff = 0;
  /** Message modes: a message is out; bytes of it written and echoed; when it started (ns). */
  msgActive = false;
  sent = 0;
  got = 0;
  tStart = 0;
  /** Stream mode: bytes written and verified on this socket. */
  txTotal = 0;
  rxTotal = 0;
  /** With --rate: when this slot's next message is meant to start (ns). */
  nextIntended = 0;
  /**
   * --proxy-protocol: the lead, what goes first on a new socket: the header (`leadHeader` bytes),
   * with the first payload bytes copied behind it when the first write comes at once, so both go in
   * one write. Allocated once per slot; `leadEnd` > 0 while some of it (from `leadOff`) is unsent.
   */
  lead: Buffer | null = null;
  leadHeader = 0;
  leadEnd = 0;
  leadOff = 0;

  constructor(readonly index: number) {}
}
