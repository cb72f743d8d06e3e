import type { RequestHead, TargetForm } from "./head.ts";

/** The body is not what the handler asked for (bad UTF-8, bad JSON). Thrown out of a handler, it is answered 400. */
export class RequestBodyError extends Error {
  override readonly name = "RequestBodyError";
}

const utf8 = new TextDecoder("utf-8");
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** One request, complete with its body. */
export class HttpRequest {
  readonly method: string;
  /** The request-target as sent. */
  readonly target: string;
  readonly form: TargetForm;
  /**
   * The path as sent, percent-encoded like WHATWG URL.pathname: "/a%2Fb". Route on this: decoding
   * first would make "/a%2Fb" and "/a/b" the same. "" for authority-form, "*" for asterisk-form.
   */
  readonly path: string;
  /** "1.0" or "1.1". */
  readonly version: "1.0" | "1.1";
  /** Lowercase names; repeated fields joined with ", ". */
  readonly headers: ReadonlyMap<string, string>;
  readonly body: Uint8Array;
  /** The client allows the connection to stay open after the reply (Connection header and version). */
  readonly keepAlive: boolean;
  readonly peer: { readonly address: string; readonly port: number };
  private readonly rawQuery: string;
  private decoded: string | null = null;
  private params: URLSearchParams | null = null;

  constructor(head: RequestHead, body: Uint8Array, address: string, port: number) {
    this.method = head.method;
    this.target = head.target;
    this.form = head.form;
    this.path = head.path;
    this.rawQuery = head.query;
    this.version = head.minor === 0 ? "1.0" : "1.1";
    this.headers = head.headers;
    this.body = body;
    this.keepAlive = head.keepAlive;
    this.peer = { address, port };
  }

  /** The path percent-decoded as UTF-8 ("/a%20b" is "/a b"); invalid UTF-8 becomes U+FFFD. */
  get decodedPath(): string {
    return (this.decoded ??= this.path.includes("%") ? percentDecode(this.path) : this.path);
  }

  get query(): URLSearchParams {
    return (this.params ??= new URLSearchParams(this.rawQuery));
  }

  /** The body as UTF-8; invalid sequences become U+FFFD. */
  text(): string {
    return utf8.decode(this.body);
  }

  /** The body parsed as JSON; RequestBodyError when it is not UTF-8 or not JSON. */
  json(): unknown {
    let text: string;
    try {
      text = strictUtf8.decode(this.body);
    } catch {
      throw new RequestBodyError("request body is not valid UTF-8");
    }
    try {
      return JSON.parse(text);
    } catch (e) {
      throw new RequestBodyError(`request body is not JSON: ${(e as Error).message}`);
    }
  }
}

/** The parser already checked that every "%" has two hex digits after it. */
function percentDecode(s: string): string {
  const bytes = new Uint8Array(s.length);
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25) {
      bytes[n++] = parseInt(s.slice(i + 1, i + 3), 16);
      i += 2;
    } else bytes[n++] = c;
  }
  return utf8.decode(bytes.subarray(0, n));
}
