// node-echo.mjs — Node.js `net` echo server (benchmark baseline).
// Usage: node bench/baseline/node-echo.mjs [--host 127.0.0.1] [--port 0]
// Prints "LISTENING <port>" once listening; exits 0 on SIGTERM/SIGINT.
import net from "node:net";

let host = "127.0.0.1";
let port = 0;
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  const v = args[i + 1];
  if (a === "--host" && v !== undefined) {
    host = v;
    i++;
  } else if (a === "--port" && v !== undefined && /^\d+$/.test(v) && Number(v) <= 65535) {
    port = Number(v);
    i++;
  } else {
    console.error("usage: node-echo.mjs [--host 127.0.0.1] [--port 0]");
    process.exit(2);
  }
}

const server = net.createServer({ noDelay: true }, (sock) => {
  sock.on("error", () => sock.destroy());
  sock.pipe(sock);
});

server.listen({ host, port, backlog: 4096 }, () => {
  process.stdout.write(`LISTENING ${server.address().port}\n`);
});

const stop = () => {
  server.close();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
