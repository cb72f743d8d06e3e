// (g) Replacing the certificate of a running TLS listener without dropping open connections.
// Tries: listener.reload({ socket, tls }), and a second Bun.listen on the same fd; and checks that an
// open TLS connection keeps echoing across each. Also: does Bun.listen take tls.createSecureContext's
// native context ({ secureContext }), and minVersion as a number (0x0304)?
// Run: bun experiments/tls/g-reload.ts
import { readFileSync } from "node:fs";
import { createSecureContext } from "node:tls";
import { listenFd, makePki, ourListenFd, python, show } from "./lib.ts";
import { dupFd } from "../../src/net/index.ts";

const pki = makePki();
const pem = (f: string) => readFileSync(f, "utf8");
const foo = { cert: pem(pki.fooCert), key: pem(pki.fooKey) };
const bar = { cert: pem(pki.barCert), key: pem(pki.barKey) };

const handlers = {
  data(s: any, d: Uint8Array) {
    s.write(d);
  },
  end(s: any) {
    s.shutdown();
  },
};

/** Subject CN of the certificate a fresh python client sees. */
async function certSeen(port: number): Promise<string> {
  const r = await python(`
import socket, ssl
ctx = ssl.create_default_context(cafile=${JSON.stringify(pki.caCert)})
ctx.check_hostname = False
with ctx.wrap_socket(socket.create_connection(("127.0.0.1", ${port}), timeout=3)) as t:
    print(dict(x[0] for x in t.getpeercert()["subject"])["commonName"], t.version())
`);
  return (r.out + r.err).trim();
}

/** A long-lived python TLS client: echoes a line each time the parent writes to its stdin. */
function longLived(port: number) {
  const p = Bun.spawn(["python3", "-u", "-c", `
import socket, ssl, sys
ctx = ssl.create_default_context(cafile=${JSON.stringify(pki.caCert)})
ctx.check_hostname = False
t = ctx.wrap_socket(socket.create_connection(("127.0.0.1", ${port}), timeout=5))
print("connected", dict(x[0] for x in t.getpeercert()["subject"])["commonName"], flush=True)
for line in sys.stdin:
    try:
        t.sendall(line.encode())
        print("echo", t.recv(100).decode().strip() or "<eof>", flush=True)
    except Exception as e:
        print("client error", type(e).__name__, e, flush=True)
        break
`], { stdin: "pipe", stdout: "pipe", stderr: "inherit", timeout: 20_000 });
  const reader = p.stdout.getReader();
  let buf = "";
  const line = async () => {
    while (!buf.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) return "<exited>";
      buf += new TextDecoder().decode(value);
    }
    const i = buf.indexOf("\n");
    const l = buf.slice(0, i);
    buf = buf.slice(i + 1);
    return l;
  };
  return {
    line,
    async ask(s: string) {
      p.stdin.write(s + "\n");
      await p.stdin.flush();
      return line();
    },
    stop() {
      p.stdin.end();
      p.kill();
    },
  };
}

{
  console.log("=== listener.reload({ socket, tls: bar }) on a listener serving foo");
  const { fd, port } = ourListenFd();
  const l: any = listenFd({ fd, tls: foo, socket: handlers });
  const c = longLived(port);
  console.log("  long-lived:", await c.line());
  console.log("  new client before:", await certSeen(port));
  try {
    l.reload({ socket: handlers, tls: bar });
    console.log("  reload returned");
  } catch (e) {
    console.log("  reload throws:", (e as Error).message);
  }
  console.log("  new client after:", await certSeen(port));
  console.log("  long-lived after:", await c.ask("still-there"));
  c.stop();
  l.stop(true);
}

{
  console.log("\n=== second Bun.listen({ fd, tls: bar }) on the same fd while the first (foo) is open");
  const { fd, port } = ourListenFd();
  const l1: any = listenFd({ fd, tls: foo, socket: handlers });
  const c = longLived(port);
  console.log("  long-lived:", await c.line());
  let l2: any;
  try {
    l2 = listenFd({ fd, tls: bar, socket: handlers });
    console.log("  second listen ok");
  } catch (e) {
    console.log("  second listen throws:", (e as Error).message);
  }
  const seen: string[] = [];
  for (let i = 0; i < 6; i++) seen.push(await certSeen(port));
  console.log("  6 new clients (both listening):", seen.join(", "));
  l1.stop(false); // stop accepting on the first; keep its connections
  console.log("  after l1.stop(false), new client:", await certSeen(port));
  console.log("  long-lived after l1.stop(false):", await c.ask("still-there"));
  c.stop();
  l1.stop(true);
  l2?.stop(true);
}

{
  console.log("\n=== swap: Bun.listen({ fd: dupFd(fd), tls: bar }), then old.stop(false); a client connects in a loop meanwhile");
  const { fd, port } = ourListenFd();
  const l1: any = listenFd({ fd, tls: foo, socket: handlers });
  const c = longLived(port);
  console.log("  long-lived:", await c.line());
  // A hammering client: connects+handshakes in a loop for ~1.5 s and counts refusals/failures.
  const hammer = python(`
import socket, ssl, time, collections
ctx = ssl.create_default_context(cafile=${JSON.stringify(pki.caCert)}); ctx.check_hostname = False
seen = collections.Counter(); end = time.time() + 1.5
while time.time() < end:
    try:
        with ctx.wrap_socket(socket.create_connection(("127.0.0.1", ${port}), timeout=3)) as t:
            seen[dict(x[0] for x in t.getpeercert()["subject"])["commonName"]] += 1
    except Exception as e:
        seen[type(e).__name__] += 1
print(dict(seen))
`);
  await Bun.sleep(500);
  const fd2 = dupFd(fd);
  const l2: any = listenFd({ fd: fd2, tls: bar, socket: handlers });
  l1.stop(false);
  console.log("  swapped: fd", fd, "-> fd", fd2);
  console.log("  hammer (certificate CN -> handshakes, or error -> count):", (await hammer).out.trim());
  console.log("  long-lived after the swap:", await c.ask("still-there"));
  c.stop();
  l2.stop(true);
}

{
  console.log("\n=== Bun.listen({ tls: { secureContext: createSecureContext(...).context } })");
  const { fd, port } = ourListenFd();
  try {
    const ctx = createSecureContext({ ...bar, minVersion: "TLSv1.3" }) as any;
    show("  createSecureContext().context", Object.prototype.toString.call(ctx.context));
    const l: any = listenFd({ fd, tls: { secureContext: ctx.context }, socket: handlers });
    console.log("  client:", await certSeen(port));
    l.stop(true);
  } catch (e) {
    console.log("  throws:", (e as Error).message);
  }
}

{
  console.log("\n=== Bun.listen({ tls: { minVersion: 0x0304 } })");
  const { fd, port } = ourListenFd();
  const l: any = listenFd({ fd, tls: { ...foo, minVersion: 0x0304 }, socket: handlers });
  const r12 = await python(`
import socket, ssl
ctx = ssl.create_default_context(cafile=${JSON.stringify(pki.caCert)}); ctx.check_hostname = False
ctx.maximum_version = ssl.TLSVersion.TLSv1_2
try:
    ctx.wrap_socket(socket.create_connection(("127.0.0.1", ${port}), timeout=3)); print("1.2 accepted")
except Exception as e: print("1.2 refused:", e)
`);
  console.log(" ", r12.out.trim(), "| 1.3:", await certSeen(port));
  l.stop(true);
}
