// Reads a Server-Sent Events stream as a browser would (HTML standard 9.2.6), for the tests.
export interface SseMessage {
  readonly event: string;
  readonly data: string;
  /** performance.now() when its blank line arrived. */
  readonly at: number;
}

export interface SseReader {
  readonly messages: SseMessage[];
  /** The first message (seen or to come) after `index` that matches; rejects after `ms`. */
  next(pred: (m: SseMessage) => boolean, ms?: number, from?: number): Promise<SseMessage>;
  close(): void;
}

export async function openEvents(url: string, headers: Record<string, string> = {}): Promise<{ status: number; reader: SseReader }> {
  const ac = new AbortController();
  const res = await fetch(url, { headers, signal: ac.signal });
  const messages: SseMessage[] = [];
  if (res.status === 200 && res.body) {
    void (async () => {
      const dec = new TextDecoder();
      let buf = "";
      let event = "message";
      let data: string[] = [];
      try {
        for await (const chunk of res.body!) {
          buf += dec.decode(chunk, { stream: true });
          let nl: number;
          while ((nl = buf.indexOf("\n")) >= 0) {
            const line = buf.slice(0, nl).replace(/\r$/, "");
            buf = buf.slice(nl + 1);
            if (line === "") {
              if (data.length > 0) messages.push({ event, data: data.join("\n"), at: performance.now() });
              event = "message";
              data = [];
            } else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
            else if (line.startsWith("event:")) event = line.slice(6).trim();
          }
        }
      } catch {}
    })();
  } else await res.body?.cancel();
  return {
    status: res.status,
    reader: {
      messages,
      async next(pred, ms = 5000, from = 0) {
        const deadline = performance.now() + ms;
        for (;;) {
          const m = messages.slice(from).find(pred);
          if (m) return m;
          if (performance.now() > deadline) throw new Error(`no matching event within ${ms} ms`);
          await Bun.sleep(20);
        }
      },
      close: () => ac.abort(),
    },
  };
}
