// A Bun.connect client that collects everything it receives, for byte-exact comparisons.
import type { Socket } from "bun";

export interface Collector {
  readonly socket: Socket<undefined>;
  /** Everything received so far, in order. */
  received(): Uint8Array;
  readonly receivedBytes: number;
  /** performance.now() in the data callback of the last bytes received (0: none yet). */
  readonly lastDataAt: number;
  /** Resolves when at least n bytes have arrived. */
  waitBytes(n: number, ms?: number): Promise<void>;
  /** Resolves when the server's FIN (or close) arrives, with the time it did. */
  readonly ended: Promise<number>;
  readonly closed: Promise<Error | undefined>;
  /** Writes all of `data`, waiting on drain when the kernel takes only part. */
  writeAll(data: Uint8Array): Promise<void>;
}

export async function connect(port: number, opts: { host?: string; noDelay?: boolean } = {}): Promise<Collector> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  let lastDataAt = 0;
  let waiters: { n: number; resolve: () => void }[] = [];
  let drainWaiter: (() => void) | null = null;
  const ended = Promise.withResolvers<number>();
  const closed = Promise.withResolvers<Error | undefined>();
  const socket = await Bun.connect({
    hostname: opts.host ?? "127.0.0.1",
    port,
    allowHalfOpen: true,
    socket: {
      binaryType: "uint8array",
      data(_s, d) {
        lastDataAt = performance.now();
        chunks.push(d);
        total += d.length;
        waiters = waiters.filter((w) => (total >= w.n ? (w.resolve(), false) : true));
      },
      drain() {
        drainWaiter?.();
      },
      end() {
        ended.resolve(performance.now());
      },
      close(_s, err) {
        ended.resolve(performance.now());
        closed.resolve(err);
        drainWaiter?.();
      },
      error() {},
    },
  });
  if (opts.noDelay === false) socket.setNoDelay(false);
  return {
    socket,
    received() {
      return Buffer.concat(chunks);
    },
    get receivedBytes() {
      return total;
    },
    get lastDataAt() {
      return lastDataAt;
    },
    waitBytes(n, ms = 15_000) {
      if (total >= n) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`only ${total} of ${n} bytes within ${ms} ms`)), ms);
        waiters.push({ n, resolve: () => (clearTimeout(timer), resolve()) });
      });
    },
    ended: ended.promise,
    closed: closed.promise,
    async writeAll(data) {
      let off = 0;
      while (off < data.length) {
        const n = socket.write(data, off, data.length - off);
        if (n < 0) throw new Error("socket closed while writing");
        off += n;
        if (off < data.length) await new Promise<void>((r) => (drainWaiter = r));
      }
    },
  };
}

/** Deterministic pseudo-random bytes (xorshift32), so a failure reproduces. */
export function randomBytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}
