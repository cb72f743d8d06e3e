import { startHttpServer, type HttpServer } from "../http/index.ts";
import type { Logger } from "../log/index.ts";
import { hostPort, isLoopback } from "../net/index.ts";
import type { MetricsSource } from "../ops/index.ts";
import type { ServerControl } from "../server/index.ts";
import { apiHandler } from "./routes.ts";
import type { StatusHub } from "../status/index.ts";

export interface ApiServerOptions {
  readonly host: string;
  readonly port: number;
  readonly logger: Logger;
  readonly control: ServerControl | null;
  readonly metrics: MetricsSource;
  /** --metrics: a read-only alias of the API (metrics, health, and GETs). */
  readonly readOnly: boolean;
  readonly token: string | null;
  readonly version: string;
  /** The status page (GET /, /events, /status) and paged /connections; none when absent. */
  readonly status?: StatusHub | null;
}

export interface ApiServer {
  readonly port: number;
  stop(): Promise<void>;
}

/**
 * The control API on tcp-echo's own HTTP server (src/http: connection cap, head and body limits
 * of 64 KiB, timeouts), so a flood, a slow client or a huge body on this port costs bounded
 * memory and never the echo listeners' loop. `--api` serves everything; `--metrics` the read-only
 * part (its old routes, and every GET).
 */
export function startApiServer(o: ApiServerOptions): ApiServer {
  let server: HttpServer | null = null;
  server = startHttpServer({
    host: o.host,
    port: o.port,
    logger: o.logger,
    name: o.readOnly ? "metrics" : "api",
    limits: { maxBodyBytes: 64 * 1024 },
    handler: apiHandler({
      control: o.control,
      metrics: o.metrics,
      readOnly: o.readOnly,
      token: o.readOnly ? null : o.token,
      loopback: isLoopback(o.host),
      version: o.version,
      counters: () => server?.counters ?? null,
      status: o.status ?? null,
    }),
  });
  const at = hostPort(o.host.replace(/^\[(.*)\]$/, "$1"), server.port);
  if (o.readOnly) o.logger.info("metrics", `metrics on http://${at}/metrics (also /healthz, /readyz, the API's GET routes${o.status ? ", and the read-only status page at /" : ""})`, { address: o.host, port: server.port });
  else o.logger.info("api", `API on http://${at} (toxiproxy's routes, /connections, /metrics, /healthz, /readyz${o.status ? `; status page at http://${at}/` : ""})${o.token ? "; requests need the bearer token" : ""}`, { address: o.host, port: server.port, token: o.token !== null });
  const s = server;
  return { port: s.port, stop: () => s.stop() };
}
