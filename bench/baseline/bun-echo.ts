// bun-echo.ts — bare Bun.listen echo server (benchmark baseline, no features).
// Usage: bun bench/baseline/bun-echo.ts [--host 127.0.0.1] [--port 0] [--load MODULE]...
// Prints "LISTENING <port>" once listening; exits 0 on SIGTERM/SIGINT.
// --load imports a module first (repeatable) and uses nothing of it: the same echo, in a process
// that holds another program's code (the side-by-side group measures what that alone costs).
// Back-pressure: socket.write() returns the number of bytes taken; the rest is
// queued (copied) and flushed from `drain`, in order.

type Pending = { queue: Uint8Array[] };

let hostname = "127.0.0.1";
let port = 0;
const load: string[] = [];
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  const v = args[i + 1];
  if (a === "--host" && v !== undefined) {
    hostname = v;
    i++;
  } else if (a === "--port" && v !== undefined && /^\d+$/.test(v) && Number(v) <= 65535) {
    port = Number(v);
    i++;
  } else if (a === "--load" && v !== undefined) {
    load.push(v);
    i++;
  } else {
    console.error("usage: bun-echo.ts [--host 127.0.0.1] [--port 0] [--load MODULE]...");
    process.exit(2);
  }
}

// A module (not a script): --load needs top-level await.
export {};
for (const m of load) await import(m);

function flush(s: Bun.Socket<Pending>): void {
  const q = s.data.queue;
  while (q.length > 0) {
    const chunk = q[0]!;
    const n = s.write(chunk);
    if (n < chunk.length) {
      q[0] = chunk.subarray(Math.max(n, 0));
      return;
    }
    q.shift();
  }
}

const listener = Bun.listen<Pending>({
  hostname,
  port,
  socket: {
    open(s) {
      s.data = { queue: [] };
      s.setNoDelay(true);
    },
    data(s, d) {
      const q = s.data.queue;
      if (q.length > 0) {
        q.push(new Uint8Array(d)); // keep order behind unsent bytes
        return;
      }
      const n = s.write(d);
      if (n < d.length) q.push(new Uint8Array(d.subarray(Math.max(n, 0))));
    },
    drain(s) {
      flush(s);
    },
  },
});

process.stdout.write(`LISTENING ${listener.port}\n`);

const stop = () => {
  listener.stop(true);
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
