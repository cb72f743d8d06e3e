/** Building replies: the helpers handlers use, and the status line and header block the server writes. */
import type { CompleteReply, HttpReply, ReplyHeaders, StreamReply } from "./types.ts";

const TEXT_TYPE = "text/plain; charset=utf-8";
const JSON_TYPE = "application/json";

/** A text/plain reply of one line: `text` and a newline. */
export function textReply(status: number, text: string, headers?: ReplyHeaders): CompleteReply {
  return { status, headers: headers ? { "content-type": TEXT_TYPE, ...headers } : { "content-type": TEXT_TYPE }, body: `${text}\n` };
}

/** `value` as JSON (no trailing newline, as toxiproxy answers). */
export function jsonReply(status: number, value: unknown, headers?: ReplyHeaders): CompleteReply {
  return { status, headers: headers ? { "content-type": JSON_TYPE, ...headers } : { "content-type": JSON_TYPE }, body: JSON.stringify(value) };
}

export const isStream = (r: HttpReply): r is StreamReply => typeof (r as StreamReply).stream === "function";

/** Reason phrases (RFC 9110 section 15); clients ignore them, people reading a capture do not. */
const REASONS: Record<number, string> = {
  100: "Continue",
  200: "OK",
  201: "Created",
  202: "Accepted",
  204: "No Content",
  206: "Partial Content",
  301: "Moved Permanently",
  302: "Found",
  303: "See Other",
  304: "Not Modified",
  307: "Temporary Redirect",
  308: "Permanent Redirect",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  406: "Not Acceptable",
  408: "Request Timeout",
  409: "Conflict",
  410: "Gone",
  411: "Length Required",
  412: "Precondition Failed",
  413: "Content Too Large",
  414: "URI Too Long",
  415: "Unsupported Media Type",
  417: "Expectation Failed",
  422: "Unprocessable Content",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  501: "Not Implemented",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
  505: "HTTP Version Not Supported",
};

/** The status lines, built once: most replies are one of a handful of statuses. */
const STATUS_LINES = new Map<number, string>();
function statusLine(status: number): string {
  let line = STATUS_LINES.get(status);
  if (line === undefined) {
    line = `HTTP/1.1 ${status} ${REASONS[status] ?? ""}\r\n`;
    if (STATUS_LINES.size < 512) STATUS_LINES.set(status, line);
  }
  return line;
}

export const CONTINUE = Buffer.from("HTTP/1.1 100 Continue\r\n\r\n", "latin1");

/** RFC 9110 section 6.6.1: an origin server with a clock sends Date. Formatted at most once a second. */
let dateSecond = -1;
let dateText = "";
function httpDate(): string {
  const s = Math.floor(Date.now() / 1000);
  if (s !== dateSecond) {
    dateSecond = s;
    dateText = new Date(s * 1000).toUTCString();
  }
  return dateText;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** ASCII only, no controls but HTAB: a CR or LF here would split the response (RFC 9110 section 5.5). */
const VALUE = /^[\t\x20-\x7e]*$/;
/** The server's own framing fields; a handler's copy would contradict the bytes actually sent. */
const OWNED = new Set(["content-length", "transfer-encoding", "connection", "date"]);

/** A reply a handler returned that cannot be sent; answered 500. */
export class InvalidReplyError extends Error {
  override readonly name = "InvalidReplyError";
}

/** No content in these (RFC 9110 sections 15.3.5, 15.4.5), so no Content-Length (section 8.6) either. */
export const bodiless = (status: number) => status === 204 || status === 304;

/**
 * "HTTP/1.1 <status> <reason>" and the fields, ending with the empty line. `framing` is the
 * server's Content-Length / Transfer-Encoding / Connection lines, each ending in CRLF.
 * Throws InvalidReplyError for a status outside 200..599 or a field that is not a token / clean value.
 */
export function serializeHead(status: number, headers: ReplyHeaders | undefined, framing: string): string {
  if (!Number.isInteger(status) || status < 200 || status > 599) throw new InvalidReplyError(`invalid status ${String(status)}`);
  let head = statusLine(status);
  if (headers) {
    for (const name in headers) {
      const value = headers[name]!;
      if (!TOKEN.test(name)) throw new InvalidReplyError(`invalid header name ${JSON.stringify(name)}`);
      if (typeof value !== "string" || !VALUE.test(value)) throw new InvalidReplyError(`invalid value for header ${name}`);
      if (OWNED.has(name.toLowerCase())) continue;
      head += `${name}: ${value}\r\n`;
    }
  }
  return `${head}date: ${httpDate()}\r\n${framing}\r\n`;
}

/** The error replies the server sends itself: one short text/plain line, and the connection closes. */
export function errorHead(status: number, reason: string): string {
  return serializeHead(status, { "content-type": TEXT_TYPE }, `content-length: ${Buffer.byteLength(reason) + 1}\r\nconnection: close\r\n`) + `${reason}\n`;
}
