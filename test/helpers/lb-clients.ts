// Clients of a load balancer under test: python3 opens `n` connections one after another to
// HOST:PORT, each sends a message naming its own address, half-closes and reads the echo to EOF.
// The output (JSON) says, per connection, the address the backend should report and whether every
// byte came back: the PROXY tests match it against tcp-echo's open lines.
import { python } from "./python.ts";

const SCRIPT = String.raw`
import json, socket, sys
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
out = []
for i in range(n):
    s = socket.create_connection((host, port), timeout=5)
    a = s.getsockname()
    me = ("[%s]:%d" if ":" in a[0] else "%s:%d") % a[:2]
    msg = ("hello from %s #%d\n" % (me, i)).encode() * 20
    s.sendall(msg); s.shutdown(socket.SHUT_WR)
    got = b""
    while True:
        d = s.recv(65536)
        if not d: break
        got += d
    out.append({"me": me, "ok": got == msg})
    s.close()
print(json.dumps(out))
`;

export async function lbClients(host: string, port: number, n: number): Promise<{ me: string; ok: boolean }[]> {
  return JSON.parse(await python(SCRIPT, [host, port, n], 60_000)) as { me: string; ok: boolean }[];
}
