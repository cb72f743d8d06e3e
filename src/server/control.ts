// The fault control plane of one process, as toxiproxy's API sees it: a "proxy" is a listener
// (proxy_collection.go, proxy.go), its toxics a ToxicSet. Every change is logged with who asked.
import { badBody, describeToxic, FaultError, notFound, parseToxic, type Toxic } from "../faults/index.ts";
import { hostPort, parseIpv4, parseIpv6, SyscallError } from "../net/index.ts";
import type { Logger } from "../log/index.ts";
import type { ListenerConfig, ListenerProfileBase } from "./config.ts";
import type { ConnectionInfo } from "./echo.ts";
import type { Listener } from "./listener.ts";
import type { ListenerReport } from "./startup-report.ts";

/** A proxy as the API shows it: toxiproxy's fields, plus `accepting` (the accept pause). */
export interface ProxyView {
  readonly name: string;
  readonly listen: string;
  readonly upstream: string;
  readonly enabled: boolean;
  readonly accepting: boolean;
  readonly toxics: readonly Toxic[];
}

/** What the server lends the control plane. */
export interface ControlHost {
  readonly listeners: readonly Listener[];
  readonly log: Logger;
  /** The command line's profile, for listeners opened at run time. */
  readonly profile: ListenerProfileBase;
  /** How long a closed listener's connections get to finish (--shutdown-timeout). */
  readonly graceMs: number;
  /** false once a stop began: no new listeners. */
  accepting(): boolean;
  /** Opens a listener (throws SyscallError when it cannot bind). */
  open(config: ListenerConfig): Listener;
  /** Takes a listener out: stops listening, ends its connections as a graceful stop, retires its counters. */
  close(l: Listener): void;
}

const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;
const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);
const show = (v: unknown) => (v === undefined ? "undefined" : JSON.stringify(v));

/** "HOST:PORT" as toxiproxy's listen field takes it: 127.0.0.1:8080, [::1]:8080, localhost:8080, :8080 (every address). */
export function parseListen(text: string, field = "listen"): { host: string; port: number } {
  const m = /^(?:\[([^\]]*)\]|([^:[\]]*)):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw badBody(`${field}: ${show(text)} is not HOST:PORT (like 127.0.0.1:8080, [::1]:8080, localhost:8080, :8080)`);
  const [, v6, v4] = m;
  if (v6 !== undefined) {
    if (!parseIpv6(v6)) throw badBody(`${field}: ${show(v6)} is not an IPv6 address`);
    return { host: v6, port };
  }
  if (v4 === "") return { host: "::", port };
  if (v4 === "localhost") return { host: "127.0.0.1", port };
  if (!parseIpv4(v4!)) throw badBody(`${field}: ${show(v4)} is not an IP address (tcp-echo listens on addresses, not names; IPv6 goes in brackets)`);
  return { host: v4!, port };
}

/** tcp-echo answers; it forwards nowhere. */
function upstream(v: unknown, field = "upstream"): string {
  if (v === undefined || v === null || v === "" || v === "echo") return v === "echo" ? "echo" : "";
  throw badBody(`${field}: ${show(v)}: tcp-echo is the endpoint, not a proxy; upstream must be "echo" (or empty)`);
}

function bool(v: unknown, field: string): boolean {
  if (typeof v !== "boolean") throw badBody(`${field}: ${show(v)} is not true or false`);
  return v;
}

export class ServerControl {
  constructor(private readonly host: ControlHost) {}

  proxies(): ProxyView[] {
    return this.host.listeners.map((l) => this.view(l));
  }

  proxy(name: string): ProxyView {
    return this.view(this.find(name));
  }

  /** POST /proxies: a new listener with the command line's profile, listening unless enabled is false. */
  create(body: unknown, by: string): ProxyView {
    if (!isObject(body)) throw badBody(`a proxy is a JSON object {name, listen, upstream, enabled}, not ${show(body)}`);
    const spec = this.spec(body, "");
    if (this.host.listeners.some((l) => l.config.name === spec.name)) throw new FaultError(409, "proxy already exists");
    return this.view(this.openListener(spec, by));
  }

  /**
   * POST|PATCH /proxies/{name}: a new listen address re-opens the listener there (its connections
   * end as in a graceful stop, as toxiproxy's restart closes them); enabled toggles listening;
   * accepting toggles the accept pause.
   */
  update(name: string, body: unknown, by: string): ProxyView {
    const l = this.find(name);
    if (!isObject(body)) throw badBody(`must be a JSON object {listen, upstream, enabled, accepting}, not ${show(body)}`);
    if (body.upstream !== undefined) upstream(body.upstream);
    const listen = body.listen === undefined || body.listen === "" ? null : parseListen(String(body.listen));
    if (body.listen !== undefined && typeof body.listen !== "string") throw badBody(`listen: ${show(body.listen)} is not a string`);
    const enabled = body.enabled === undefined ? l.enabled : bool(body.enabled, "enabled");
    const accepting = body.accepting === undefined ? !l.acceptPaused : bool(body.accepting, "accepting");
    if (listen && (listen.host !== l.address.host || listen.port !== l.address.port)) {
      this.checkFree(listen, l);
      l.moveTo(listen.host, listen.port, this.host.graceMs);
      this.log(by, "proxy-moved", `proxy ${JSON.stringify(name)} now listens on ${hostPort(l.address.host, l.address.port)}`, { proxy: name, listen: hostPort(l.address.host, l.address.port) });
    }
    if (enabled !== l.enabled) {
      if (enabled) this.bind(() => l.enable());
      else void l.disable(this.host.graceMs);
      this.log(by, enabled ? "proxy-enabled" : "proxy-disabled", `proxy ${JSON.stringify(name)} ${enabled ? `listening again on ${hostPort(l.address.host, l.address.port)}` : "disabled: connections refused, open ones ending"}`, { proxy: name });
    }
    if (accepting === l.acceptPaused) {
      l.holdAccept(!accepting);
      this.log(by, accepting ? "accept-resumed" : "accept-paused", `proxy ${JSON.stringify(name)}: ${accepting ? "accepting again" : "accepting paused (the kernel queues connections up to the backlog)"}`, { proxy: name });
    }
    return this.view(l);
  }

  /** DELETE /proxies/{name}: stops listening; its connections end as in a graceful stop. */
  remove(name: string, by: string): void {
    const l = this.find(name);
    this.host.close(l);
    this.log(by, "proxy-deleted", `proxy ${JSON.stringify(name)} deleted: its ${l.open} open connections end as in a graceful stop`, { proxy: name, open: l.open });
  }

  /**
   * POST /populate (PopulateJson): every entry checked first; then each is created, kept when one
   * of that name has the same listen address, or replaced when it differs. On a failure the
   * proxies handled so far are returned with the error.
   */
  populate(body: unknown, by: string): { proxies: ProxyView[]; error: FaultError | null } {
    if (!Array.isArray(body)) throw badBody(`populate takes a JSON list of proxies, not ${show(body)}`);
    const specs = body.map((p, i) => {
      if (!isObject(p)) throw badBody(`proxy ${i + 1}: must be an object {name, listen, upstream, enabled}`);
      if (typeof p.name !== "string" || p.name === "") throw new FaultError(400, `missing required field: name at proxy ${i + 1}`);
      return this.spec(p, `proxy ${i + 1}: `);
    });
    const out: ProxyView[] = [];
    try {
      for (const spec of specs) {
        const existing = this.host.listeners.find((l) => l.config.name === spec.name);
        if (existing) {
          const same = spec.host === existing.address.host && spec.port === existing.address.port;
          if (same) {
            out.push(this.view(existing));
            continue;
          }
          this.host.close(existing);
        }
        out.push(this.view(this.openListener(spec, by)));
      }
    } catch (e) {
      if (e instanceof FaultError) return { proxies: out, error: e };
      throw e;
    }
    return { proxies: out, error: null };
  }

  /** POST /reset: every proxy listening and accepting, every toxic removed. */
  reset(by: string): void {
    for (const l of this.host.listeners) {
      if (!l.enabled) this.bind(() => l.enable());
      if (l.acceptPaused) l.holdAccept(false);
      for (const t of l.toxics.clear()) this.logToxic(by, "removed", l, t);
    }
    this.log(by, "reset", "reset: every proxy enabled, every toxic removed", {});
  }

  toxics(name: string): Toxic[] {
    return this.find(name).toxics.list();
  }

  toxic(name: string, toxic: string): Toxic {
    const t = this.find(name).toxics.get(toxic);
    if (!t) throw notFound("toxic");
    return t;
  }

  addToxic(name: string, body: unknown, by: string): Toxic {
    const l = this.find(name);
    const t = l.toxics.add(parseToxic(body));
    this.logToxic(by, "added", l, t);
    return t;
  }

  updateToxic(name: string, toxic: string, body: unknown, by: string): Toxic {
    const l = this.find(name);
    const { after } = l.toxics.update(toxic, body);
    this.logToxic(by, "changed", l, after);
    return after;
  }

  removeToxic(name: string, toxic: string, by: string): void {
    const l = this.find(name);
    this.logToxic(by, "removed", l, l.toxics.remove(toxic));
  }

  /** Each listener's options as the kernel holds them (read when it last started listening). */
  reports(): ListenerReport[] {
    return this.host.listeners.map((l) => l.report);
  }

  /** withTcp false: `tcp` is null (three syscalls a connection saved); read it for the rows shown. */
  connections(withTcp = true): ConnectionInfo[] {
    return this.host.listeners.flatMap((l) => l.connections(withTcp));
  }

  /** DELETE /connections/{id}: id is "12@main" (connection 12 of listener main), as in log tags. */
  closeConnection(id: string, how: "fin" | "rst", by: string): void {
    const m = /^(\d+)@(.+)$/.exec(id);
    const l = m ? this.host.listeners.find((x) => x.config.name === m[2]) : undefined;
    if (!m || !l || !l.closeConnection(Number(m[1]), how)) throw notFound("connection");
    this.log(by, "connection-closed", `connection ${id} ${how === "rst" ? "reset" : "closed (FIN after its echo)"} by the API`, { id, how });
  }

  private find(name: string): Listener {
    const l = this.host.listeners.find((x) => x.config.name === name);
    if (!l) throw notFound("proxy");
    return l;
  }

  private view(l: Listener): ProxyView {
    return {
      name: l.config.name,
      listen: hostPort(l.address.host, l.address.port),
      upstream: l.config.upstream,
      enabled: l.enabled,
      accepting: !l.acceptPaused,
      toxics: l.toxics.list(),
    };
  }

  private spec(body: Record<string, unknown>, where: string): { name: string; host: string; port: number; upstream: string; enabled: boolean } {
    if (typeof body.name !== "string" || body.name === "") throw new FaultError(400, "missing required field: name");
    if (!NAME.test(body.name)) throw badBody(`${where}name: ${show(body.name)} is not a proxy name (letters, digits, _ . -; at most 64)`);
    if (body.listen !== undefined && typeof body.listen !== "string") throw badBody(`${where}listen: ${show(body.listen)} is not a string`);
    // An empty listen is a free port on loopback (toxiproxy's ":0" would be every address).
    const at = body.listen === undefined || body.listen === "" ? { host: "127.0.0.1", port: 0 } : parseListen(body.listen, `${where}listen`);
    return {
      name: body.name,
      ...at,
      upstream: upstream(body.upstream, `${where}upstream`),
      enabled: body.enabled === undefined || body.enabled === null ? true : bool(body.enabled, `${where}enabled`),
    };
  }

  private openListener(spec: { name: string; host: string; port: number; upstream: string; enabled: boolean }, by: string): Listener {
    if (!this.host.accepting()) throw new FaultError(503, "the server is stopping");
    this.checkFree(spec, null);
    const config: ListenerConfig = { ...this.host.profile, name: spec.name, host: spec.host, port: spec.port, listenFd: null, toxics: [], enabled: spec.enabled, upstream: spec.upstream || "echo" };
    if (config.ipv6Only && !spec.host.includes(":")) (config as { ipv6Only: boolean }).ipv6Only = false;
    const l = this.bind(() => this.host.open(config));
    this.log(by, "proxy-created", `proxy ${JSON.stringify(spec.name)} created: ${spec.enabled ? `listening on ${hostPort(l.address.host, l.address.port)}` : "disabled"}`, {
      proxy: spec.name,
      listen: hostPort(l.address.host, l.address.port),
      enabled: spec.enabled,
    });
    return l;
  }

  /** Two of our listeners on one address would share it through SO_REUSEPORT: refused instead. */
  private checkFree(at: { host: string; port: number }, self: Listener | null): void {
    if (at.port === 0) return;
    const other = this.host.listeners.find((l) => l !== self && l.address.port === at.port && (l.address.host === at.host || l.address.host === "::" || at.host === "::" || l.address.host === "0.0.0.0" || at.host === "0.0.0.0"));
    if (other) throw new FaultError(409, `listen address ${hostPort(at.host, at.port)} is in use by proxy ${JSON.stringify(other.config.name)}`);
  }

  /** A bind that fails is the caller's answer, as toxiproxy's (500 with the system's message). */
  private bind<T>(f: () => T): T {
    try {
      return f();
    } catch (e) {
      if (e instanceof SyscallError) throw new FaultError(500, e.message);
      throw e;
    }
  }

  private logToxic(by: string, what: "added" | "removed" | "changed", l: Listener, t: Toxic): void {
    this.log(by, "toxic", `toxic ${what} on ${JSON.stringify(l.config.name)}: ${describeToxic(t)}`, {
      op: what,
      proxy: l.config.name,
      toxic: t.name,
      type: t.type,
      stream: t.stream,
      toxicity: t.toxicity,
      attributes: t.attributes,
    });
  }

  private log(by: string, event: string, text: string, fields: Record<string, unknown>): void {
    const log = this.host.log;
    if (log.infoOn) log.info(event, `${text} (by ${by})`, { ...fields, by });
  }
}
