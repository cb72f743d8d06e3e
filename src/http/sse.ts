/** Server-Sent Events framing (HTML Living Standard, "Server-sent events", section 9.2.5). */

export interface SseEvent {
  /** The `data` field; each of its lines becomes a `data:` line, so a client gets it back whole. */
  readonly data: string;
  /** The event type (`event:`); a client's default is "message". */
  readonly event?: string;
  readonly id?: string;
  /** Reconnection time the client should use, in milliseconds. */
  readonly retry?: number;
}

/** Headers for an event stream: no caching, and no buffering by nginx-style proxies in between. */
export const SSE_HEADERS = { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", "x-accel-buffering": "no" } as const;

const LINE_BREAK = /\r\n|\r|\n/;

/** One event, ending with its blank line. A line break in `event` or `id` would forge fields, so they are refused. */
export function sseEvent(e: SseEvent): string {
  let out = "";
  if (e.event !== undefined) {
    if (LINE_BREAK.test(e.event)) throw new RangeError("an SSE event type cannot hold a line break");
    out += `event: ${e.event}\n`;
  }
  if (e.id !== undefined) {
    // The standard ignores an id with NUL in it, so the client would keep its previous one.
    if (LINE_BREAK.test(e.id) || e.id.includes("\0")) throw new RangeError("an SSE id cannot hold a line break or NUL");
    out += `id: ${e.id}\n`;
  }
  if (e.retry !== undefined) out += `retry: ${Math.max(0, Math.floor(e.retry))}\n`;
  for (const line of e.data.split(LINE_BREAK)) out += `data: ${line}\n`;
  return `${out}\n`;
}

/** A comment line: clients ignore it; it keeps proxies from timing out an idle stream. */
export function sseComment(text: string): string {
  return `: ${text.replace(/\r\n|\r|\n/g, " ")}\n\n`;
}
