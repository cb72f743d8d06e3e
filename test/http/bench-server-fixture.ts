// One server for bench-keepalive.ts, in its own process: `ours` (startHttpServer) or `bun`
// (Bun.serve), both answering "ok\n" as text/plain. Prints `LISTENING <port>`; stops on SIGTERM.
import { startHttpServer, textReply } from "../../src/http/index.ts";
import { createLogger } from "../../src/log/logger.ts";

const which = process.argv[2];
let stop: () => unknown;
let port: number;
if (which === "ours") {
  const s = startHttpServer({
    host: "127.0.0.1",
    port: 0,
    name: "bench",
    logger: createLogger({ level: "warn", format: "json" }),
    limits: { maxConnections: 1024 },
    handler: () => textReply(200, "ok"),
  });
  port = s.port;
  stop = () => s.stop();
} else if (which === "bun") {
  const s = Bun.serve({ hostname: "127.0.0.1", port: 0, development: false, fetch: () => new Response("ok\n", { headers: { "content-type": "text/plain; charset=utf-8" } }) });
  port = s.port!;
  stop = () => s.stop(true);
} else throw new Error(`usage: bench-server-fixture.ts ours|bun, not ${which}`);
process.on("SIGTERM", async () => {
  await stop();
  process.exit(0);
});
console.log(`LISTENING ${port}`);
