// bun-min-echo.ts — the least a Bun.listen echo can hold per connection: no `open` handler, no
// per-connection data, no back-pressure queue (a short write loses bytes: for the idle memory
// floor only, `bun run bench:idle`, never for throughput).
// Usage: bun bench/baseline/bun-min-echo.ts [--port 0]. Prints "LISTENING <port>".
const i = process.argv.indexOf("--port");
const port = i > 0 ? Number(process.argv[i + 1]) : 0;
const listener = Bun.listen({ hostname: "127.0.0.1", port, socket: { data: (s, d) => void s.write(d) } });
process.stdout.write(`LISTENING ${listener.port}\n`);
process.on("SIGTERM", () => process.exit(0));
