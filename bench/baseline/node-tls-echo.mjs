// node-tls-echo.mjs — Node.js `tls` echo server (benchmark baseline for the TLS group).
// Usage: node bench/baseline/node-tls-echo.mjs --cert FILE --key FILE [--host 127.0.0.1] [--port 0]
// Prints "LISTENING <port>" once listening; exits 0 on SIGTERM/SIGINT.
import { readFileSync } from "node:fs";
import tls from "node:tls";

let host = "127.0.0.1";
let port = 0;
let cert = null;
let key = null;
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  const v = args[i + 1];
  if (a === "--host" && v !== undefined) host = v;
  else if (a === "--port" && v !== undefined && /^\d+$/.test(v) && Number(v) <= 65535) port = Number(v);
  else if (a === "--cert" && v !== undefined) cert = readFileSync(v);
  else if (a === "--key" && v !== undefined) key = readFileSync(v);
  else {
    console.error("usage: node-tls-echo.mjs --cert FILE --key FILE [--host 127.0.0.1] [--port 0]");
    process.exit(2);
  }
  i++;
}
if (!cert || !key) {
  console.error("node-tls-echo.mjs: --cert and --key are required");
  process.exit(2);
}

// allowHalfOpen: the peer's close_notify/FIN is answered after the last echoed byte, as tcp-echo does.
const server = tls.createServer({ cert, key, allowHalfOpen: true }, (sock) => {
  sock.setNoDelay(true);
  sock.on("error", () => sock.destroy());
  sock.pipe(sock);
});
server.on("tlsClientError", () => {});

server.listen({ host, port, backlog: 4096 }, () => {
  process.stdout.write(`LISTENING ${server.address().port}\n`);
});

const stop = () => {
  server.close();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
