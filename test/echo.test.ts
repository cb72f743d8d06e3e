import { describe, expect, test } from "bun:test";
import { serve } from "./helpers/server.ts";
import { connect, randomBytes } from "./helpers/client.ts";
import { python, pythonCmd } from "./helpers/python.ts";

describe("echo", () => {
  test("echoes several MB sent in random write sizes, byte for byte and in order", async () => {
    await using s = serve();
    const c = await connect(s.port);
    const data = randomBytes(6 * 1024 * 1024, 7);
    // Random write sizes from 1 B to 256 KiB, while the echo is read concurrently.
    let rnd = 12345;
    let off = 0;
    while (off < data.length) {
      rnd = (rnd * 1103515245 + 12345) >>> 0;
      const size = Math.min(1 + (rnd % (256 * 1024)), data.length - off);
      await c.writeAll(data.subarray(off, off + size));
      off += size;
    }
    await c.waitBytes(data.length);
    expect(Buffer.compare(c.received(), data)).toBe(0);
    c.socket.end();
    const close = await s.log.waitFor((e) => e.event === "close");
    expect(close).toMatchObject({ reason: "peer-closed", bytes_in: data.length, bytes_out: data.length, not_echoed: 0 });
  });

  test("python3 peer: every byte value comes back, and FIN is answered with FIN after the echo", async () => {
    await using s = serve();
    const out = await python(
      `
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
payload = bytes(range(256)) * 4096  # 1 MiB, every byte value
s.sendall(payload)
s.shutdown(socket.SHUT_WR)           # half-close with the whole MiB still in flight
got = bytearray()
while True:
    d = s.recv(65536)
    if not d:
        break
    got += d
print(len(got), got == payload)
`,
      [s.port],
    );
    expect(out.trim()).toBe("1048576 True");
    const close = await s.log.waitFor((e) => e.event === "close");
    expect(close).toMatchObject({ reason: "peer-closed", bytes_in: 1048576, bytes_out: 1048576 });
  });

  test("a peer that half-closes and reads its echo only later gets all of it, then our FIN", async () => {
    await using s = serve();
    const out = await python(
      `
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)   # the echo cannot all be in flight
s.connect(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"z" * 262144)
s.shutdown(socket.SHUT_WR)
time.sleep(1)
got = 0
try:
    while True:
        d = s.recv(65536)
        if not d:
            print("eof", got); break
        got += len(d)
except ConnectionResetError:
    print("reset", got)
`,
      [s.port],
    );
    expect(out.trim()).toBe("eof 262144");
    expect(await s.log.waitFor((e) => e.event === "close")).toMatchObject({ reason: "peer-closed", bytes_in: 262144, bytes_out: 262144 });
  });

  test("serves many connections at once, each getting only its own bytes", async () => {
    await using s = serve();
    const clients = await Promise.all(Array.from({ length: 50 }, () => connect(s.port)));
    const payloads = clients.map((_, i) => randomBytes(64 * 1024 + i, i + 1));
    await Promise.all(clients.map((c, i) => c.writeAll(payloads[i]!)));
    await Promise.all(clients.map((c, i) => c.waitBytes(payloads[i]!.length)));
    clients.forEach((c, i) => expect(Buffer.compare(c.received(), payloads[i]!)).toBe(0));
    for (const c of clients) c.socket.end();
    await Promise.all(clients.map((c) => c.closed));
    expect(s.handle.stats()).toMatchObject({ accepted: 50 });
  });

  test("a client that never reads costs about --max-buffer, and the server still serves others", async () => {
    const maxBuffer = 256 * 1024;
    await using s = serve({ maxBuffer, recvBuf: 64 * 1024, sendBuf: 64 * 1024 }, "debug");
    // python sends without ever reading until its own send buffer is full.
    const hog = Bun.spawn(
      [
        ...pythonCmd(),
        "-c",
        `
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
s.setblocking(False)
sent = 0
deadline = time.time() + 1.5
while time.time() < deadline:
    try:
        sent += s.send(b"x" * 65536)
    except BlockingIOError:
        time.sleep(0.01)
print(sent, flush=True)
time.sleep(30)
`,
        String(s.port),
      ],
      { stdout: "pipe" },
    );
    try {
      await s.log.waitFor((e) => e.event === "pause");
      const reader = hog.stdout.getReader();
      const { value } = await reader.read();
      const clientSent = Number(new TextDecoder().decode(value).trim());
      const st = s.handle.stats();
      const held = st.bytesIn - st.bytesOut;
      // Held by the server: max-buffer, plus the read that crossed it and one more that Bun had
      // already taken from the kernel when reading paused.
      const biggestRead = Math.max(...s.log.of("recv").map((e) => e.size as number));
      expect(held).toBeGreaterThanOrEqual(maxBuffer);
      expect(held).toBeLessThanOrEqual(maxBuffer + 2 * biggestRead);
      expect(held).toBeLessThan(maxBuffer + 1024 * 1024);
      expect(st.pauses).toBe(1);
      // The rest of what the client sent sits in kernel buffers, not in the server.
      expect(clientSent).toBeGreaterThan(st.bytesIn);
      // Another client is served normally meanwhile.
      const c = await connect(s.port);
      await c.writeAll(new TextEncoder().encode("still here\n"));
      await c.waitBytes(11);
      expect(new TextDecoder().decode(c.received())).toBe("still here\n");
      c.socket.end();
    } finally {
      hog.kill();
      await hog.exited;
    }
  });
});
