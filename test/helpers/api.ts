// The control API (src/api) in front of a test server from helpers/server.ts, as serve wires it:
// the server's control, its metrics view, and its log capture for the API's own lines.
import { startApiServer, type ApiServer } from "../../src/api/index.ts";
import { createLogger } from "../../src/log/index.ts";
import { readProcessMetrics } from "../../src/ops/index.ts";
import type { StatusHub } from "../../src/status/index.ts";
import type { TestServer } from "./server.ts";

export interface TestApiOptions {
  readonly token?: string | null;
  /** The --metrics form: reads only. */
  readOnly?: boolean;
  /** The status page's hub (GET /, /events, /status). */
  readonly status?: StatusHub;
}

export function startTestApi(s: TestServer, o: TestApiOptions = {}): ApiServer {
  return startApiServer({
    host: "127.0.0.1",
    port: 0,
    logger: createLogger({ level: "warn", format: "json", write: s.log.write }),
    control: s.handle.control,
    metrics: { view: async () => ({ stats: s.handle.stats(), processes: [readProcessMetrics()], workers: null }), accepting: s.handle.accepting },
    readOnly: o.readOnly ?? false,
    token: o.token ?? null,
    version: "0.1.0",
    ...(o.status ? { status: o.status } : {}),
  });
}
