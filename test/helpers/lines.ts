// A child's output read line by line. A pipe read returns whatever has arrived: on a loaded machine
// one line can come in two reads (measured: "2097152" and then "\n"), so a read is not a line.

export interface LineReader {
  /** The next whole line, without its newline; null at the end of the stream. */
  next(): Promise<string | null>;
  /** Everything after the lines already taken, once the stream has ended. */
  rest(): Promise<string>;
}

export function lineReader(stream: ReadableStream<Uint8Array>): LineReader {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let buf = "";
  let done = false;
  const more = async () => {
    const r = await reader.read();
    if (r.done) done = true;
    else buf += decoder.decode(r.value, { stream: true });
  };
  return {
    async next() {
      for (;;) {
        const nl = buf.indexOf("\n");
        if (nl >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          return line;
        }
        if (done) return null;
        await more();
      }
    },
    async rest() {
      while (!done) await more();
      const out = buf;
      buf = "";
      return out;
    },
  };
}
