// The control API: toxiproxy's routes and JSON on tcp-echo's own HTTP server, with live
// connections, metrics and health on the same port.
export { startApiServer, type ApiServer, type ApiServerOptions } from "./server.ts";
export { isLoopback } from "../net/index.ts";
