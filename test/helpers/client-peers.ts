// python3 peers for the client's tests, each a separate process that binds 127.0.0.1:0 and prints
// `PORT <n>` first: an honest echo server, broken ones (one flips the byte at a given offset), a
// recorder that checks records with CPython's struct.unpack, a port that refuses, and a listener
// whose full accept queue drops SYNs, and one that never accepts. All but the last three serve one
// connection.
// Each is stopped by its own pid on dispose.

import { pythonCmd } from "./python.ts";

const PEER = String.raw`
import json, socket, struct, sys, time
mode = sys.argv[1]
ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", 0))

def announce():
    print("PORT", ls.getsockname()[1], flush=True)

if mode == "refuse":
    # Bound but never listening: a SYN to it is answered with RST (ECONNREFUSED).
    announce()
    time.sleep(3600)

if mode == "blackhole":
    # Accept queue of one, filled and never accepted: Linux drops further SYNs
    # (tcp_conn_request: sk_acceptq_is_full), so a connect keeps retrying its SYN.
    ls.listen(0)
    fillers = []
    for _ in range(2):
        f = socket.socket()
        f.setblocking(False)
        f.connect_ex(ls.getsockname())
        fillers.append(f)
    time.sleep(0.2)
    announce()
    time.sleep(3600)

if mode == "mute":
    # Listening, never accepting: the kernel completes the handshake and buffers what we send,
    # and nothing ever comes back, not even a FIN.
    ls.listen(16)
    announce()
    time.sleep(3600)

ls.listen(16)
announce()
conn, _ = ls.accept()

def recv_exact(n):
    buf = b""
    while len(buf) < n:
        d = conn.recv(n - len(buf))
        if not d:
            return buf
        buf += d
    return buf

if mode == "recorder":
    # tcp-echo's interleaved framing: a line is echoed, the calcsize(fmt) bytes after it are kept.
    fmt = sys.argv[2]
    size = struct.calcsize(fmt)
    records = []
    f = conn.makefile("rb")
    while True:
        line = f.readline(1024)
        if not line:
            break
        conn.sendall(line)
        raw = f.read(size)
        if len(raw) < size:
            break
        records.append({"hex": raw.hex(), "repr": repr(struct.unpack(fmt, raw))})
    print(json.dumps(records), flush=True)
    conn.close()
    sys.exit(0)

if mode == "reset":
    # SO_LINGER {on, 0}: close() sends RST instead of FIN (socket(7)).
    conn.recv(65536)
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()
    time.sleep(3600)

if mode == "flip":
    # An echo that changes one byte, at stream offset argv[2] (XOR 0x20: a letter's case).
    k = int(sys.argv[2])
    pos = 0
    while True:
        d = conn.recv(65536)
        if not d:
            break
        if pos <= k < pos + len(d):
            b = bytearray(d)
            b[k - pos] ^= 0x20
            d = bytes(b)
        pos += len(d)
        conn.sendall(d)
    conn.close()
    sys.exit(0)

first = True
while True:
    d = conn.recv(65536)
    if not d:
        if mode == "hold":
            time.sleep(3600)  # echoes, but never answers our FIN with its own
        break
    if mode == "silent":
        continue
    if mode == "close":
        break
    if mode == "corrupt" and first:
        d = bytes([d[0] ^ 0x20]) + d[1:]
    if mode == "extra":
        d = d + b"!"
    first = False
    conn.sendall(d)
conn.close()
`;

export type PeerMode = "echo" | "flip" | "corrupt" | "extra" | "silent" | "close" | "reset" | "hold" | "recorder" | "refuse" | "blackhole" | "mute";

export interface PythonPeer extends AsyncDisposable {
  readonly port: number;
  /** Everything the peer printed after its port line (the recorder's JSON), once it exited. */
  output(): Promise<string>;
}

type Reader = { read(): Promise<{ done: boolean; value?: Uint8Array }> };

async function readLine(reader: Reader, buffered: { text: string }): Promise<string | null> {
  const decoder = new TextDecoder();
  for (;;) {
    const nl = buffered.text.indexOf("\n");
    if (nl >= 0) {
      const line = buffered.text.slice(0, nl);
      buffered.text = buffered.text.slice(nl + 1);
      return line;
    }
    const { value, done } = await reader.read();
    if (done) return null;
    buffered.text += decoder.decode(value, { stream: true });
  }
}

/** Starts a python3 peer (serving one connection unless refuse/blackhole/mute) and waits for its port. */
export async function pythonPeer(mode: PeerMode, ...args: string[]): Promise<PythonPeer> {
  const proc = Bun.spawn([...pythonCmd(), "-c", PEER, mode, ...args], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const reader = proc.stdout.getReader();
  const buffered = { text: "" };
  const timer = setTimeout(() => proc.kill("SIGKILL"), 10_000);
  const first = await readLine(reader, buffered);
  clearTimeout(timer);
  const m = first === null ? null : /^PORT (\d+)$/.exec(first);
  if (!m) {
    proc.kill("SIGKILL");
    throw new Error(`python3 peer ${mode} did not start: ${await new Response(proc.stderr).text()}`);
  }
  return {
    port: Number(m[1]),
    async output() {
      const killer = setTimeout(() => proc.kill("SIGKILL"), 10_000);
      let rest = buffered.text;
      const decoder = new TextDecoder();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        rest += decoder.decode(value, { stream: true });
      }
      await proc.exited;
      clearTimeout(killer);
      return rest;
    },
    async [Symbol.asyncDispose]() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
      await proc.exited;
    },
  };
}
