// The deployment files under deploy/, checked without docker, systemd or a cluster: each file is
// parsed, the values that must agree across it (ports, probes, timings, labels, paths) are compared,
// and every argument list handed to tcp-echo goes through the CLI's own parsing and validation.
import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs, type ArgsDef } from "citty";
import pkg from "../package.json" with { type: "json" };
import { EXIT } from "../src/cli/errors.ts";
import { normalizeArgv } from "../src/cli/flags.ts";
import { manyOptions } from "../src/cli/options/option.ts";
import serveCommand, * as serveModule from "../src/cli/commands/serve.ts";
import { resolveServe } from "../src/cli/serve-settings.ts";
import { DEFAULTS } from "../src/server/index.ts";
import { ROOT } from "./helpers/process.ts";

const DEPLOY = join(ROOT, "deploy");
const read = (path: string) => readFileSync(join(DEPLOY, path), "utf8");
const BINARY = "/usr/local/bin/tcp-echo";
type Env = Record<string, string | undefined>;

// ---- the CLI, as src/cli/main.ts runs `tcp-echo serve ...` up to starting the server ----

async function serveArgsDef(): Promise<ArgsDef> {
  const args = serveCommand.args;
  return ((typeof args === "function" ? await args() : await args) ?? {}) as ArgsDef;
}

/** Throws the CLI's UsageError for anything `tcp-echo <argv>` would reject. */
async function resolveCli(argv: readonly string[], env: Env = {}) {
  if (argv[0] !== "serve") throw new Error(`expected the explicit command "serve" first, got ${JSON.stringify(argv[0])}`);
  const defs = await serveArgsDef();
  return resolveServe(parseArgs(normalizeArgv(argv.slice(1), defs, manyOptions(serveModule.options)), defs), env).settings;
}

/** The value of `--name V` or `--name=V` in argv (the last one wins, as in the CLI). */
function flagValue(argv: readonly string[], name: string): string | undefined {
  let value: string | undefined;
  argv.forEach((tok, i) => {
    if (tok === `--${name}`) value = argv[i + 1];
    else if (tok.startsWith(`--${name}=`)) value = tok.slice(name.length + 3);
  });
  return value;
}

function hostPort(text: string): { host: string; port: number } {
  const m = /^(?:(\d{1,3}(?:\.\d{1,3}){3})|\[([0-9a-f:]+)\]):(\d+)$/i.exec(text);
  if (!m) throw new Error(`not HOST:PORT: ${JSON.stringify(text)}`);
  return { host: m[1] ?? m[2]!, port: Number(m[3]) };
}

/** The --listen values of an argument list: [name, host, port]. */
function listens(argv: readonly string[]): [string | null, string, number][] {
  const out: [string | null, string, number][] = [];
  argv.forEach((tok, i) => {
    const v = tok === "--listen" ? argv[i + 1] : tok.startsWith("--listen=") ? tok.slice(9) : undefined;
    if (v === undefined) return;
    const m = /^(?:([\w.-]+)=)?(.*)$/.exec(v)!;
    const hp = hostPort(m[2]!);
    out.push([m[1] ?? null, hp.host, hp.port]);
  });
  return out;
}

const shutdownTimeout = (argv: readonly string[]) => Number(flagValue(argv, "shutdown-timeout") ?? DEFAULTS.shutdownTimeout);
const metricsAddress = (argv: readonly string[]) => hostPort(flagValue(argv, "metrics") ?? "");

// ---- systemd units: [Section] and Key=value lines; comments only on lines of their own ----

type Unit = Map<string, Map<string, string[]>>;

function parseUnit(text: string): Unit {
  const unit: Unit = new Map();
  let section: Map<string, string[]> | undefined;
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    while (line.endsWith("\\") && i + 1 < lines.length) line = `${line.slice(0, -1)} ${lines[++i]!.trim()}`;
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header) {
      section = unit.get(header[1]!) ?? new Map();
      unit.set(header[1]!, section);
      continue;
    }
    const eq = line.indexOf("=");
    if (!section || eq < 0) throw new Error(`line ${i + 1}: neither [Section] nor Key=value: ${line}`);
    const key = line.slice(0, eq).trim();
    section.set(key, [...(section.get(key) ?? []), line.slice(eq + 1).trim()]);
  }
  return unit;
}

/** The effective (last) value of a key; undefined when the key is absent. */
const last = (unit: Unit, section: string, key: string) => unit.get(section)?.get(key)?.at(-1);

/** systemd's booleans (yes/true/on/1, no/false/off/0) as booleans; other values unchanged. */
function sdValue(v: string | undefined): string | boolean | undefined {
  if (v === undefined) return v;
  if (/^(yes|true|on|1)$/i.test(v)) return true;
  if (/^(no|false|off|0)$/i.test(v)) return false;
  return v;
}

/** A systemd time span in seconds: "15", "15s", "1min 30s", "500ms". */
function timeSpan(text: string): number {
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  const units: Record<string, number> = { ms: 0.001, s: 1, sec: 1, m: 60, min: 60, h: 3600, hr: 3600 };
  let total = 0;
  const rest = text.replace(/(\d+(?:\.\d+)?)\s*(ms|sec|s|min|m|hr|h)\b/g, (_, n: string, u: string) => ((total += Number(n) * units[u]!), ""));
  if (rest.trim() !== "") throw new Error(`not a time span this test understands: ${JSON.stringify(text)}`);
  return total;
}

/** ExecStart= split into words (quotes honoured); variables and specifiers are refused, not expanded. */
function execWords(line: string): string[] {
  const cmd = line.replace(/^[-@:+!]+/, "");
  if (/[$%]/.test(cmd)) throw new Error(`ExecStart uses $VARIABLES or %specifiers, which this test does not expand: ${cmd}`);
  return [...cmd.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]!);
}

// ---- Dockerfile: instructions with `\` continuations; exec forms are JSON ----

interface Instruction {
  readonly op: string;
  readonly args: string;
}
interface Stage {
  readonly image: string;
  readonly name: string | undefined;
  readonly body: Instruction[];
}

function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  const joined = text.replace(/\\\n/g, " ");
  for (const raw of joined.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const [, op, args] = /^(\S+)\s*(.*)$/.exec(line)!;
    const upper = op!.toUpperCase();
    if (upper === "FROM") {
      const words = args!.split(/\s+/).filter((w) => !w.startsWith("--"));
      stages.push({ image: words[0]!, name: words[1]?.toUpperCase() === "AS" ? words[2] : undefined, body: [] });
    } else {
      if (!stages.length) throw new Error(`${upper} before FROM`);
      stages.at(-1)!.body.push({ op: upper, args: args! });
    }
  }
  return stages;
}

const all = (stage: Stage, op: string) => stage.body.filter((i) => i.op === op);
const one = (stage: Stage, op: string) => {
  const found = all(stage, op);
  expect(found.map((i) => i.op)).toEqual([op]);
  return found[0]!;
};

/** COPY's flags, sources and destination (shell form only). */
function copyParts(args: string) {
  const words = args.split(/\s+/);
  const flags = words.filter((w) => w.startsWith("--"));
  const rest = words.filter((w) => !w.startsWith("--"));
  return { from: flags.find((f) => f.startsWith("--from="))?.slice(7), sources: rest.slice(0, -1), dest: rest.at(-1)! };
}

/** Whether a .dockerignore lets `path` into the build context (the last matching pattern wins). */
function contextKeeps(ignoreFile: string, path: string): boolean {
  const patterns = ignoreFile.split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
  const prefixes = path.split("/").map((_, i, parts) => parts.slice(0, i + 1).join("/"));
  let kept = true;
  for (const p of patterns) {
    const negated = p.startsWith("!");
    const glob = new Bun.Glob(negated ? p.slice(1) : p);
    if (prefixes.some((prefix) => glob.match(prefix))) kept = negated;
  }
  return kept;
}

// ---- Kubernetes objects, as far as these checks read them ----

interface Probe {
  httpGet?: { path?: string; port?: number | string };
}
interface Container {
  name: string;
  image: string;
  command?: unknown[];
  args?: unknown[];
  ports?: { name?: string; containerPort: number; protocol?: string }[];
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  lifecycle?: { preStop?: { sleep?: { seconds: number }; exec?: unknown } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: { allowPrivilegeEscalation?: boolean; readOnlyRootFilesystem?: boolean; capabilities?: { drop?: string[]; add?: string[] } };
}
interface Labels {
  [k: string]: string;
}
interface Deployment {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec: {
    replicas: number;
    selector: { matchLabels: Labels };
    template: {
      metadata: { labels: Labels; annotations?: Record<string, unknown> };
      spec: {
        containers: Container[];
        terminationGracePeriodSeconds?: number;
        enableServiceLinks?: boolean;
        securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
      };
    };
  };
}
interface Service {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec: { type?: string; selector: Labels; ports: { name?: string; port: number; targetPort?: number | string; protocol?: string }[] };
}
interface Pdb {
  apiVersion: string;
  kind: string;
  spec: { selector: { matchLabels: Labels }; maxUnavailable?: number | string; minAvailable?: number | string };
}

const yaml = <T>(path: string) => Bun.YAML.parse(read(path)) as T;
const selects = (selector: Labels, labels: Labels) => Object.entries(selector).every(([k, v]) => labels[k] === v);

/** The containerPort a probe or Service targetPort names (by number or by port name). */
function containerPort(c: Container, port: number | string | undefined): number {
  const found = c.ports?.find((p) => (typeof port === "number" ? p.containerPort === port : p.name === port));
  if (!found) throw new Error(`container ${c.name} has no port ${JSON.stringify(port)}`);
  return found.containerPort;
}

/** A Kubernetes quantity ("100m", "1", "128Mi") as a number. */
function quantity(q: string | number): number {
  const m = /^(\d+(?:\.\d+)?)(m|k|M|G|Ki|Mi|Gi)?$/.exec(String(q));
  if (!m) throw new Error(`not a quantity: ${q}`);
  const scale: Record<string, number> = { "": 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30 };
  return Number(m[1]) * scale[m[2] ?? ""]!;
}

/** The docker-link variables the kubelet injects for a Service unless enableServiceLinks is false. */
function serviceLinkEnv(svc: Service, clusterIp = "10.96.0.10"): Env {
  const name = svc.metadata.name.toUpperCase().replace(/-/g, "_");
  const first = svc.spec.ports[0]!;
  const env: Env = {
    [`${name}_SERVICE_HOST`]: clusterIp,
    [`${name}_SERVICE_PORT`]: String(first.port),
    [`${name}_PORT`]: `tcp://${clusterIp}:${first.port}`,
  };
  for (const p of svc.spec.ports) {
    const proto = (p.protocol ?? "TCP").toUpperCase();
    const base = `${name}_PORT_${p.port}_${proto}`;
    if (p.name) env[`${name}_SERVICE_PORT_${p.name.toUpperCase().replace(/-/g, "_")}`] = String(p.port);
    Object.assign(env, { [base]: `${proto.toLowerCase()}://${clusterIp}:${p.port}`, [`${base}_PROTO`]: proto.toLowerCase(), [`${base}_PORT`]: String(p.port), [`${base}_ADDR`]: clusterIp });
  }
  return env;
}

// ---- the files ----

const socketUnit = parseUnit(read("systemd/tcp-echo.socket"));
const adminSocketUnit = parseUnit(read("systemd/tcp-echo-admin.socket"));
const serviceUnit = parseUnit(read("systemd/tcp-echo.service"));
const execStart = execWords(last(serviceUnit, "Service", "ExecStart") ?? "");
const stages = parseDockerfile(read("Dockerfile"));
const build = stages[0]!;
const runtime = stages.at(-1)!;
const dockerignore = read("Dockerfile.dockerignore");
const entrypoint = JSON.parse(one(runtime, "ENTRYPOINT").args) as string[];
const cmd = JSON.parse(one(runtime, "CMD").args) as string[];
const deployment = yaml<Deployment>("k8s/deployment.yaml");
const service = yaml<Service>("k8s/service.yaml");
const pdb = yaml<Pdb>("k8s/pdb.yaml");
const pod = deployment.spec.template;
const container = pod.spec.containers[0]!;
const containerArgs = (container.args ?? []) as string[];

/**
 * What systemd hands the service: the sockets of Sockets=, in that order, one fd per Listen*= line
 * of each, named by its FileDescriptorName=, meant for this process.
 */
const socketUnits = (last(serviceUnitEarly(), "Service", "Sockets") ?? "").split(/\s+/).map((n) => parseUnit(read(`systemd/${n}`)));
function serviceUnitEarly(): Unit {
  return parseUnit(read("systemd/tcp-echo.service"));
}
const fdNames = socketUnits.flatMap((u) => [...(u.get("Socket") ?? [])].filter(([k]) => k.startsWith("Listen")).flatMap(([, v]) => v).map(() => last(u, "Socket", "FileDescriptorName") ?? ""));
const activationEnv: Env = {
  LISTEN_FDS: String(fdNames.length),
  LISTEN_FDNAMES: fdNames.join(":"),
  LISTEN_PID: String(process.pid),
};

describe("every argument list handed to tcp-echo is accepted by its CLI", () => {
  // With the environment each one runs in: the kubelet's (service links unless turned off),
  // systemd's socket activation, none in Docker.
  const lists: [string, readonly string[], Env][] = [
    ["deploy/k8s/deployment.yaml: container args", containerArgs, pod.spec.enableServiceLinks === false ? {} : serviceLinkEnv(service)],
    ["deploy/systemd/tcp-echo.service: ExecStart after the binary, socket-activated", execStart.slice(1), activationEnv],
    ["deploy/Dockerfile: CMD", cmd, {}],
  ];
  for (const [where, argv, env] of lists) {
    test(where, async () => {
      expect(argv.every((a) => typeof a === "string")).toBe(true);
      await resolveCli(argv, env);
    });
  }

  test("the service adopts each of systemd's sockets for the listener of its name (fds 3 and 4)", async () => {
    const ls = (await resolveCli(execStart.slice(1), activationEnv)).listeners;
    expect(ls.map((l) => [l.name, l.listenFd])).toEqual([
      ["main", 3],
      ["admin", 4],
    ]);
  });

  test("Kubernetes service links stay off: they would hand tcp-echo TCP_ECHO_PORT=tcp://...", async () => {
    expect(pod.spec.enableServiceLinks).toBe(false);
    expect(serviceLinkEnv(service).TCP_ECHO_PORT).toMatch(/^tcp:\/\//);
    await expect(resolveCli(["serve"], serviceLinkEnv(service))).rejects.toThrow(/TCP_ECHO_PORT: "tcp:\/\/10\.96\.0\.10:9999" is a Kubernetes service link/);
  });
});

describe("deploy/systemd", () => {
  test("the sockets: dual-stack on tcp-echo's port and a second one, named for the listeners ExecStart defines at the same addresses", () => {
    const listen = hostPort(last(socketUnit, "Socket", "ListenStream") ?? "");
    expect(listen).toEqual({ host: "::", port: DEFAULTS.port });
    expect(last(socketUnit, "Socket", "BindIPv6Only")).toBe("both");
    const sockets = [socketUnit, adminSocketUnit].map((u) => [last(u, "Socket", "FileDescriptorName"), ...Object.values(hostPort(last(u, "Socket", "ListenStream") ?? ""))]);
    expect(listens(execStart)).toEqual(sockets as [string, string, number][]);
    expect(last(adminSocketUnit, "Socket", "Service")).toBe("tcp-echo.service");
    expect(sdValue(last(adminSocketUnit, "Socket", "Accept"))).toBe(false);
    expect(sdValue(last(socketUnit, "Socket", "Accept"))).toBe(false);
    expect(sdValue(last(socketUnit, "Socket", "NoDelay"))).toBe(true);
    expect(sdValue(last(socketUnit, "Socket", "ReusePort"))).toBe(true);
    expect(last(socketUnit, "Socket", "Backlog")).toMatch(/^[1-9]\d*$/);
    expect(last(socketUnit, "Install", "WantedBy")).toBe("sockets.target");
  });

  test("the service needs the socket and runs the installed binary, which takes its address from it", () => {
    expect(last(serviceUnit, "Unit", "Requires")).toBe("tcp-echo.socket");
    expect(last(serviceUnit, "Unit", "After")).toBe("tcp-echo.socket tcp-echo-admin.socket");
    expect(last(serviceUnit, "Unit", "Wants")).toBe("tcp-echo-admin.socket");
    expect(last(serviceUnit, "Service", "Type")).toBe("simple");
    expect(serviceUnit.get("Service")?.get("ExecStart")).toHaveLength(1);
    expect(execStart[0]).toBe(BINARY);
    expect(flagValue(execStart, "host")).toBeUndefined();
    expect(flagValue(execStart, "port")).toBeUndefined();
    expect(last(serviceUnit, "Service", "Sockets")).toBe("tcp-echo.socket tcp-echo-admin.socket");
    expect(metricsAddress(execStart).host).toBe("127.0.0.1");
  });

  test("systemd waits longer than tcp-echo's graceful stop before SIGKILL", () => {
    // Explicit in ExecStart: a flag wins over TCP_ECHO_SHUTDOWN_TIMEOUT in the EnvironmentFile.
    expect(flagValue(execStart, "shutdown-timeout")).toBeDefined();
    expect(last(serviceUnit, "Service", "KillSignal")).toBe("SIGTERM");
    expect(last(serviceUnit, "Service", "KillMode")).toBe("mixed");
    expect(timeSpan(last(serviceUnit, "Service", "TimeoutStopSec") ?? "")).toBeGreaterThan(shutdownTimeout(execStart));
  });

  test("restarts on failure, but not after a usage error (exit 2), which would only loop", () => {
    expect(last(serviceUnit, "Service", "Restart")).toBe("on-failure");
    expect((last(serviceUnit, "Service", "RestartPreventExitStatus") ?? "").split(/\s+/)).toContain(String(EXIT.usage));
  });

  test("hardened, with the JIT's W+X memory allowed and no capabilities", () => {
    const keys = ["DynamicUser", "NoNewPrivileges", "ProtectSystem", "ProtectHome", "PrivateTmp", "PrivateDevices", "ProtectKernelTunables", "ProtectKernelModules", "ProtectControlGroups", "RestrictNamespaces", "LockPersonality", "MemoryDenyWriteExecute", "SystemCallArchitectures", "CapabilityBoundingSet", "LimitNOFILE"];
    const got = Object.fromEntries(keys.map((k) => [k, sdValue(last(serviceUnit, "Service", k))]));
    expect(got).toEqual({
      DynamicUser: true,
      NoNewPrivileges: true,
      ProtectSystem: "strict",
      ProtectHome: true,
      PrivateTmp: true,
      PrivateDevices: true,
      ProtectKernelTunables: true,
      ProtectKernelModules: true,
      ProtectControlGroups: true,
      RestrictNamespaces: true,
      LockPersonality: true,
      MemoryDenyWriteExecute: false,
      SystemCallArchitectures: "native",
      CapabilityBoundingSet: "",
      LimitNOFILE: "65536",
    });
    const families = (last(serviceUnit, "Service", "RestrictAddressFamilies") ?? "").split(/\s+/).sort();
    expect(families).toEqual(["AF_INET", "AF_NETLINK", "AF_UNIX"]);
    // ProcSubset=pid would hide /proc/sys, where the start-up report reads the kernel limits.
    expect(last(serviceUnit, "Service", "ProcSubset")).toBeUndefined();
  });

  test("--max-connections stays below LimitNOFILE", () => {
    const max = Number(flagValue(execStart, "max-connections") ?? DEFAULTS.maxConnections);
    expect(max).toBeGreaterThan(0);
    expect(max).toBeLessThan(Number(last(serviceUnit, "Service", "LimitNOFILE")));
  });
});

describe("deploy/Dockerfile", () => {
  test("builds with the Bun version package.json pins, from the lockfile", () => {
    expect(stages).toHaveLength(2);
    expect(build.image).toBe(`oven/bun:${pkg.packageManager.replace(/^bun@/, "")}`);
    expect(build.name).toBe("build");
    const runs = all(build, "RUN").map((i) => i.args);
    expect(runs).toContain("bun install --frozen-lockfile");
    expect(runs).toContain("bun run build");
  });

  test("the build stage copies files that exist, and the ignore file lets each of them through", () => {
    const sources = all(build, "COPY").flatMap((i) => copyParts(i.args).sources);
    expect(sources).toContain("src");
    for (const src of sources) {
      expect(existsSync(join(ROOT, src))).toBe(true);
      expect(contextKeeps(dockerignore, src)).toBe(true);
    }
    expect(contextKeeps(dockerignore, "src/cli/main.ts")).toBe(true);
    for (const bulky of ["node_modules/citty/package.json", "dist/tcp-echo", ".git/HEAD"]) expect(contextKeeps(dockerignore, bulky)).toBe(false);
  });

  test("the runtime stage: the built executable on a glibc base, non-root", () => {
    expect(runtime.image).not.toMatch(/alpine|musl|^scratch$|busybox/);
    const workdir = one(build, "WORKDIR").args;
    expect(copyParts(one(runtime, "COPY").args)).toEqual({ from: "build", sources: [`${workdir}/dist/tcp-echo`], dest: BINARY });
    const user = one(runtime, "USER").args.split(":")[0]!;
    expect(user === "nonroot" || Number(user) > 0).toBe(true);
  });

  test("ports, stop signal and entry point match what CMD starts", () => {
    const exposed = all(runtime, "EXPOSE").flatMap((i) => i.args.split(/\s+/)).map((p) => p.replace(/\/tcp$/, ""));
    const port = Number(flagValue(cmd, "port") ?? DEFAULTS.port);
    expect(exposed.sort()).toEqual([String(metricsAddress(cmd).port), String(port)].sort());
    expect(one(runtime, "STOPSIGNAL").args).toBe("SIGTERM");
    expect(entrypoint).toEqual([BINARY]);
    // Reachable from outside the container.
    expect(flagValue(cmd, "host")).toBe("0.0.0.0");
    expect(metricsAddress(cmd).host).toBe("0.0.0.0");
    // `docker stop` sends SIGKILL after 10 s by default.
    expect(shutdownTimeout(cmd)).toBeLessThan(10);
  });
});

describe("deploy/k8s", () => {
  test("kinds, and a kustomization listing every manifest", () => {
    expect([deployment.apiVersion, deployment.kind]).toEqual(["apps/v1", "Deployment"]);
    expect([service.apiVersion, service.kind]).toEqual(["v1", "Service"]);
    expect([pdb.apiVersion, pdb.kind]).toEqual(["policy/v1", "PodDisruptionBudget"]);
    const manifests = readdirSync(join(DEPLOY, "k8s")).filter((f) => f.endsWith(".yaml") && f !== "kustomization.yaml");
    expect(yaml<{ resources: string[] }>("k8s/kustomization.yaml").resources.sort()).toEqual(manifests.sort());
  });

  test("the container runs the image's entry point with ports that match its args", () => {
    expect(pod.spec.containers).toHaveLength(1);
    expect(container.command).toBeUndefined();
    // One dual-stack listener on every address, at the echo port.
    expect(listens(containerArgs)).toEqual([[null, "::", containerPort(container, "echo")]]);
    expect(containerPort(container, "metrics")).toBe(metricsAddress(containerArgs).port);
    const exposed = all(runtime, "EXPOSE").flatMap((i) => i.args.split(/\s+/)).map((p) => Number(p.replace(/\/tcp$/, "")));
    for (const p of container.ports ?? []) expect(exposed).toContain(p.containerPort);
  });

  test("probes and Prometheus annotations point at the metrics port", () => {
    const metrics = metricsAddress(containerArgs).port;
    expect(container.readinessProbe?.httpGet?.path).toBe("/readyz");
    expect(container.livenessProbe?.httpGet?.path).toBe("/healthz");
    expect(containerPort(container, container.readinessProbe?.httpGet?.port)).toBe(metrics);
    expect(containerPort(container, container.livenessProbe?.httpGet?.port)).toBe(metrics);
    expect(pod.metadata.annotations).toMatchObject({ "prometheus.io/scrape": "true", "prometheus.io/port": String(metrics), "prometheus.io/path": "/metrics" });
  });

  test("the grace period covers the preStop sleep plus tcp-echo's graceful stop", () => {
    // The image has no shell, so no exec hook: the kubelet's own sleep action.
    expect(container.lifecycle?.preStop?.exec).toBeUndefined();
    const preStop = container.lifecycle?.preStop?.sleep?.seconds ?? 0;
    expect(preStop).toBeGreaterThan(0);
    expect(flagValue(containerArgs, "shutdown-timeout")).toBeDefined();
    expect(pod.spec.terminationGracePeriodSeconds ?? 30).toBeGreaterThan(preStop + shutdownTimeout(containerArgs));
  });

  test("runs as the image's non-root user, read-only, without privileges", () => {
    expect(pod.spec.securityContext?.runAsNonRoot).toBe(true);
    expect(String(pod.spec.securityContext?.runAsUser)).toBe(one(runtime, "USER").args.split(":")[0]!);
    expect(container.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } });
    expect(container.securityContext?.capabilities?.add).toBeUndefined();
  });

  test("resource requests within limits", () => {
    const { requests = {}, limits = {} } = container.resources ?? {};
    for (const r of ["cpu", "memory"]) {
      expect(requests[r]).toBeDefined();
      expect(limits[r]).toBeDefined();
      expect(quantity(requests[r]!)).toBeLessThanOrEqual(quantity(limits[r]!));
    }
  });

  test("the Deployment, the PodDisruptionBudget and the Service select the same pods", () => {
    const labels = pod.metadata.labels;
    expect(selects(deployment.spec.selector.matchLabels, labels)).toBe(true);
    expect(pdb.spec.selector.matchLabels).toEqual(deployment.spec.selector.matchLabels);
    expect(selects(service.spec.selector, labels)).toBe(true);
  });

  test("the PodDisruptionBudget lets drains proceed and keeps a majority serving", () => {
    const replicas = deployment.spec.replicas;
    expect(replicas).toBeGreaterThanOrEqual(3);
    const unavailable = pdb.spec.maxUnavailable ?? replicas - Number(pdb.spec.minAvailable);
    expect(Number(unavailable)).toBeGreaterThanOrEqual(1);
    expect(Number(unavailable)).toBeLessThan(replicas / 2);
  });

  test("every Service port targets a container port with the same protocol", () => {
    for (const p of service.spec.ports) {
      const target = containerPort(container, p.targetPort ?? p.port);
      const cp = container.ports!.find((c) => c.containerPort === target)!;
      expect(cp.protocol ?? "TCP").toBe(p.protocol ?? "TCP");
    }
    expect(service.spec.ports.map((p) => containerPort(container, p.targetPort ?? p.port))).toContain(Number(flagValue(containerArgs, "port") ?? DEFAULTS.port));
  });
});
