// armQuickAck passes setsockopt a pointer taken once at start-up. These tests read the socket's
// ack mode back from the kernel (getsockopt TCP_QUICKACK: 1 = quick, 0 = delayed, tcp(7)) after
// garbage collections, which is when a pointer to memory nobody holds goes bad.
import { describe, expect, test } from "bun:test";
import { IPPROTO_TCP, TCP_QUICKACK } from "../src/net/constants.ts";
import { armQuickAck, readQuickAck, socketFd } from "../src/net/index.ts";
import { setIntOption } from "../src/net/sockopt.ts";

async function connectedFd(): Promise<{ fd: number; close: () => void }> {
  const { promise: accepted, resolve } = Promise.withResolvers<number>();
  const server = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: { open: (s) => resolve(socketFd(s)), data() {} },
  });
  const client = await Bun.connect({ hostname: "127.0.0.1", port: server.port, socket: { data() {} } });
  const fd = await accepted;
  return {
    fd,
    close: () => {
      client.end();
      server.stop(true);
    },
  };
}

describe("quick-ack re-arming", () => {
  test("armQuickAck turns quick-ack back on after garbage collections, every time", async () => {
    const { fd, close } = await connectedFd();
    try {
      for (let round = 0; round < 20; round++) {
        // Garbage that reuses freed memory, then a full collection.
        const junk: ArrayBuffer[] = [];
        for (let i = 0; i < 20_000; i++) junk.push(new ArrayBuffer(4));
        Bun.gc(true);
        setIntOption(fd, IPPROTO_TCP, TCP_QUICKACK, 0, "TCP_QUICKACK");
        expect(readQuickAck(fd)).toBe(false);
        expect(armQuickAck(fd)).toBe(true);
        expect({ round, quick: readQuickAck(fd) }).toEqual({ round, quick: true });
      }
    } finally {
      close();
    }
  });
});
