// One parser per kind of value an option takes. Each turns the text a user gave (a flag, a
// TCP_ECHO_* variable, a config-file value) into a typed value, or throws a UsageError whose message
// names where the value came from (`from`: "--timeout", "TCP_ECHO_TIMEOUT", "tcp-echo.toml: timeout")
// and the value, and says what would have been accepted, bounds included.
import { parseIp, parseIpv4, parseIpv6 } from "../../net/index.ts";
import { parseCidr, type Cidr } from "../../server/index.ts";
import { AlpnListError, parseAlpnList } from "../../tls/index.ts";
import { FaultError, parseToxic, parseToxicText, TOXIC_TEXT_HINT, type Toxic } from "../../faults/index.ts";
import { UsageError } from "../errors.ts";

/** How to read one kind of value; `T` is what the program gets. */
export interface ValueKind<T> {
  /** Shown in help after the flag: SECONDS, BYTES, N, ... */
  readonly hint: string;
  /** Text from a flag or a variable. */
  parse(text: string, from: string): T;
  /** A value from a config file: text goes through parse(); numbers and booleans where they fit. */
  fromFile(value: unknown, from: string): T;
  /** A value as a user would write it back (help defaults, --print-config). */
  show(value: T): string;
}

const bad = (from: string, text: string, want: string) => new UsageError(`${from}: ${JSON.stringify(text)} is not ${want}`);

/** A config-file value that is not text: only numbers (and booleans for switches) are accepted. */
function fileText(value: unknown, from: string, numbersOk: boolean): string {
  if (typeof value === "string") return value;
  if (numbersOk && typeof value === "number" && Number.isFinite(value)) return String(value);
  throw new UsageError(`${from}: ${JSON.stringify(value)} is a ${Array.isArray(value) ? "list" : typeof value}, not ${numbersOk ? "a number or a string" : "a string"}`);
}

/** JavaScript timers hold at most 2^31 - 1 ms (setTimeout clamps larger delays to 1 ms). */
export const MAX_TIMER_S = (2 ** 31 - 1) / 1000;

const UNIT_S: Record<string, number> = { "": 1, s: 1, ms: 0.001, m: 60, h: 3600 };

/**
 * Seconds, with an optional unit: `5.5`, `5.5s`, `500ms`, `2m`, `1h` (a bare number is seconds).
 * `whole`: the kernel takes whole seconds (TCP_KEEPIDLE and friends).
 */
export function duration(min: number, max: number, opts: { whole?: boolean; zero?: string } = {}): ValueKind<number> {
  const want = `a duration (like 5.5, 5.5s, 500ms, 2m, 1h) in ${min}..${max} s${opts.whole ? ", whole seconds" : ""}`;
  const parse = (text: string, from: string): number => {
    const m = /^\s*\+?(\d+(?:\.\d*)?|\.\d+)\s*(ms|s|m|h)?\s*$/i.exec(text);
    if (!m) throw bad(from, text, want);
    const n = Number(m[1]) * UNIT_S[(m[2] ?? "").toLowerCase()]!;
    // Rounded to the millisecond: "0.1m" is 6 s, not 6.000000000000001 s.
    const s = Math.round(n * 1000) / 1000;
    if (!Number.isFinite(s) || s < min || s > max || (opts.whole && !Number.isInteger(s))) throw bad(from, text, want);
    return s;
  };
  return { hint: "SECONDS", parse, fromFile: (v, from) => parse(fileText(v, from, true), from), show: (v) => (v === 0 && opts.zero ? `0 (${opts.zero})` : `${v}`) };
}

const SIZE_UNITS: Record<string, number> = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** Bytes, with an optional k/m/g suffix in powers of 1024 ("64k", "1m", "65536"). */
export function size(min = 1, max = 2 ** 31 - 1): ValueKind<number> {
  const parse = (text: string, from: string): number => {
    const m = /^\s*(\d+)\s*([kmg]?)i?b?\s*$/i.exec(text);
    if (!m) throw bad(from, text, "a size in bytes (like 65536, 64k, 1m)");
    const n = Number(m[1]) * SIZE_UNITS[m[2]!.toLowerCase()]!;
    if (n < min || n > max) throw bad(from, text, `a size in ${min}..${max} bytes`);
    return n;
  };
  const show = (n: number) => (n % 1024 ** 3 === 0 ? `${n / 1024 ** 3}g` : n % 1024 ** 2 === 0 ? `${n / 1024 ** 2}m` : n % 1024 === 0 ? `${n / 1024}k` : `${n}`);
  return { hint: "BYTES", parse, fromFile: (v, from) => parse(fileText(v, from, true), from), show };
}

/** A whole number in min..max. */
export function integer(min: number, max: number, what = "a whole number", hint = "N"): ValueKind<number> {
  const parse = (text: string, from: string): number => {
    const t = text.trim();
    if (!/^[+]?\d+$/.test(t)) throw bad(from, text, `${what} (${min}..${max})`);
    const n = Number(t);
    if (n < min || n > max) throw bad(from, text, `${what} in ${min}..${max}`);
    return n;
  };
  return { hint, parse, fromFile: (v, from) => parse(fileText(v, from, true), from), show: String };
}

/** A decimal number > 0 ("5000", "2.5", "1e4"). */
export function positive(what: string, hint: string): ValueKind<number> {
  const parse = (text: string, from: string): number => {
    const t = text.trim();
    const n = /^[+]?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?$/i.test(t) ? Number(t) : NaN;
    if (!(n > 0) || !Number.isFinite(n)) throw bad(from, text, what);
    return n;
  };
  return { hint, parse, fromFile: (v, from) => parse(fileText(v, from, true), from), show: String };
}

export const port: ValueKind<number> = integer(0, 65535, "a port", "PORT");

/** An IP address to listen on: IPv4 or IPv6 (brackets optional); `localhost` is 127.0.0.1. */
export const host: ValueKind<string> = {
  hint: "ADDR",
  parse(text, from) {
    const t = text.trim().replace(/^\[(.*)\]$/, "$1");
    if (t === "localhost") return "127.0.0.1";
    if (!parseIp(t)) throw bad(from, text, "an IP address (like 127.0.0.1, 0.0.0.0, ::1 or ::)");
    return t;
  },
  fromFile(v, from) {
    return this.parse(fileText(v, from, false), from);
  },
  show: (v) => v,
};

/** HOST:PORT (the metrics and API endpoints); a bare PORT is on 127.0.0.1, loopback. */
export const endpoint: ValueKind<{ readonly host: string; readonly port: number }> = {
  hint: "HOST:PORT",
  parse(text, from) {
    if (/^\s*\d+\s*$/.test(text)) return { host: "127.0.0.1", port: port.parse(text, from) };
    const i = text.lastIndexOf(":");
    if (i < 0) throw bad(from, text, "HOST:PORT (like 127.0.0.1:9464)");
    return { host: host.parse(text.slice(0, i), from), port: port.parse(text.slice(i + 1), from) };
  },
  fromFile(v, from) {
    return this.parse(fileText(v, from, false), from);
  },
  show: (v) => `${v.host}:${v.port}`,
};

/** An IP address and port, as a PROXY header carries them. */
export interface AddressPort {
  readonly host: string;
  readonly port: number;
}

const ADDRESS_PORT_WANT = "ADDR:PORT, an IP address and a port (like 203.0.113.7:51234 or [2001:db8::7]:51234)";

/**
 * `203.0.113.7:51234` or `[2001:db8::7]:443`: an address and port as a PROXY header carries them.
 * No names (a header holds addresses) and IPv6 only in brackets (RFC 3986 3.2.2).
 */
export const addressPort: ValueKind<AddressPort> = {
  hint: "ADDR:PORT",
  parse(text, from) {
    const m = /^\s*(?:\[([^\]]*)\]|([^:[\]\s]*)):(\d{1,5})\s*$/.exec(text);
    if (!m) throw bad(from, text, ADDRESS_PORT_WANT);
    const [, v6, v4, portText] = m;
    if (v6 !== undefined && !parseIpv6(v6)) throw bad(from, text, `${ADDRESS_PORT_WANT}: ${JSON.stringify(v6)} is not an IPv6 address`);
    if (v4 !== undefined && !parseIpv4(v4)) throw bad(from, text, `${ADDRESS_PORT_WANT}: ${JSON.stringify(v4)} is not an IPv4 address (IPv6 goes in brackets)`);
    return { host: (v6 ?? v4)!, port: port.parse(portText!, from) };
  },
  fromFile(v, from) {
    return this.parse(fileText(v, from, false), from);
  },
  show: (v) => (v.host.includes(":") ? `[${v.host}]:${v.port}` : `${v.host}:${v.port}`),
};

export function choice<T extends string>(choices: readonly T[], hint = "MODE"): ValueKind<T> {
  const parse = (text: string, from: string): T => {
    const t = text.trim().toLowerCase();
    if (!(choices as readonly string[]).includes(t)) throw bad(from, text, `one of ${choices.join(", ")}`);
    return t as T;
  };
  return { hint, parse, fromFile: (v, from) => parse(fileText(v, from, false), from), show: (v) => v };
}

/** A switch: `--x` / `--no-x` on the command line; 1/0, true/false, yes/no, on/off in a variable. */
export const boolean: ValueKind<boolean> = {
  hint: "",
  parse(text, from) {
    const t = text.trim().toLowerCase();
    if (["1", "true", "yes", "on"].includes(t)) return true;
    if (["0", "false", "no", "off"].includes(t)) return false;
    throw bad(from, text, "a boolean (1/0, true/false, yes/no, on/off)");
  },
  fromFile(v, from) {
    if (typeof v === "boolean") return v;
    return this.parse(fileText(v, from, false), from);
  },
  show: (v) => (v ? "on" : "off"),
};

/** Free text (a message, a struct format, a path); checked by the option's own rules if any. */
export function text(hint: string): ValueKind<string> {
  return { hint, parse: (t) => t, fromFile: (v, from) => fileText(v, from, false), show: (v) => v };
}

/** A secret (the API token): taken as given, never shown back (--print-config, help). */
export const secret: ValueKind<string> = { hint: "TOKEN", parse: (t) => t, fromFile: (v, from) => fileText(v, from, false), show: () => "(hidden)" };

/** Comma-separated IPv4 or IPv6 networks (10.0.0.0/8,127.0.0.1,2001:db8::/32); host bits must be zero. */
export const cidrList: ValueKind<readonly Cidr[]> = {
  hint: "CIDR,...",
  parse(text, from) {
    const parts = text.split(",").map((p) => p.trim()).filter((p) => p !== "");
    if (parts.length === 0) throw bad(from, text, "a list of networks (like 10.0.0.0/8,127.0.0.1,2001:db8::/32)");
    return parts.map((p) => {
      const c = parseCidr(p);
      if (!c) throw bad(from, p, "an IPv4 or IPv6 network (like 10.0.0.0/8, 127.0.0.1, 2001:db8::/32 or ::1; host bits must be zero)");
      return c;
    });
  },
  fromFile(v, from) {
    if (Array.isArray(v)) return this.parse(v.map((x) => fileText(x, from, false)).join(","), from);
    return this.parse(fileText(v, from, false), from);
  },
  show: (v) => v.map((c) => c.text).join(","),
};

/** One --listen entry: an optional name, an address (null: every address) and a port. */
export interface ListenSpec {
  readonly name: string | null;
  readonly host: string;
  readonly port: number;
}

const LISTEN_WANT = "[NAME=]ADDR:PORT (like 127.0.0.1:9999, [::1]:9999, :9999, admin=0.0.0.0:9000)";

/**
 * `[NAME=]ADDR:PORT`, comma-separated when several: `127.0.0.1:9999`, `[::1]:9999`, `[::]:9999`,
 * `:9999` (every address: `::`, dual-stack), `admin=0.0.0.0:9000`.
 */
export const listenList: ValueKind<readonly ListenSpec[]> = {
  hint: "[NAME=]ADDR:PORT",
  parse(text, from) {
    const parts = text.split(",").map((p) => p.trim()).filter((p) => p !== "");
    if (parts.length === 0) throw bad(from, text, LISTEN_WANT);
    return parts.map((p) => {
      const m = /^(?:([A-Za-z0-9_][A-Za-z0-9_.-]{0,31})=)?(?:\[([^\]]*)\]|([^:[\]]*)):(\d{1,5})$/.exec(p);
      if (!m) throw bad(from, p, LISTEN_WANT);
      const [, name, v6, v4, portText] = m;
      let addr: string;
      if (v6 !== undefined) {
        if (!parseIpv6(v6)) throw bad(from, p, `${LISTEN_WANT}: ${JSON.stringify(v6)} is not an IPv6 address`);
        addr = v6;
      } else if (v4 === "") addr = "::";
      else if (v4 === "localhost") addr = "127.0.0.1";
      else {
        if (!parseIpv4(v4!)) throw bad(from, p, `${LISTEN_WANT}: ${JSON.stringify(v4)} is not an IPv4 address (IPv6 goes in brackets)`);
        addr = v4!;
      }
      return { name: name ?? null, host: addr, port: port.parse(portText!, from) };
    });
  },
  fromFile(v, from) {
    if (Array.isArray(v)) return this.parse(v.map((x) => fileText(x, from, false)).join(","), from);
    return this.parse(fileText(v, from, false), from);
  },
  show: (v) => v.map((l) => `${l.name ? `${l.name}=` : ""}${l.host.includes(":") ? `[${l.host}]` : l.host}:${l.port}`).join(","),
};

/** An ALPN protocol list, comma-separated, in order of preference: `h2,http/1.1`. */
export const alpnList: ValueKind<readonly string[]> = {
  hint: "PROTO,...",
  parse(text, from) {
    try {
      return parseAlpnList(text);
    } catch (e) {
      if (e instanceof AlpnListError) throw new UsageError(`${from}: ${JSON.stringify(text)} is not a protocol list (like h2,http/1.1): ${e.message}`);
      throw e;
    }
  },
  fromFile(v, from) {
    if (Array.isArray(v)) return this.parse(v.map((x) => fileText(x, from, false)).join(","), from);
    return this.parse(fileText(v, from, false), from);
  },
  show: (v) => v.join(","),
};

/** A FaultError (a bad toxic) as the one-line usage error of the option that held it. */
function toxicUsage<T>(from: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof FaultError) throw new UsageError(`${from}: ${e.message.replace(/^bad request body: /, "")}`);
    throw e;
  }
}

/**
 * Toxics: `TYPE[@STREAM]:k=v,...` on the command line and in variables (several joined with
 * commas); in a file also toxiproxy's JSON shape, as tables ([[toxic]], [[listener.toxic]]).
 */
export const toxicList: ValueKind<readonly Toxic[]> = {
  hint: TOXIC_TEXT_HINT,
  parse: (text, from) => toxicUsage(from, () => parseToxicText(text)),
  fromFile(v, from) {
    const items = Array.isArray(v) ? v : [v];
    return toxicUsage(from, () => items.flatMap((x, i) => (typeof x === "string" ? parseToxicText(x) : [parseToxic(x, items.length > 1 ? `toxic ${i + 1}: ` : "")])));
  },
  show: (v) =>
    v
      .map((t) => `${t.type}@${t.stream}:${Object.entries(t.attributes).map(([k, n]) => `${k}=${n}`).concat(t.name === `${t.type}_${t.stream}` ? [] : [`name=${t.name}`], t.toxicity === 1 ? [] : [`toxicity=${t.toxicity}`]).join(",")}`)
      .join(","),
};
