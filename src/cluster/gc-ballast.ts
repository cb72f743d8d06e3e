// A GC ballast: memory a serving process holds, the JavaScript heap counts, and nothing touches.
//
// Bun gives every read to JavaScript in a new ArrayBuffer, so a streaming echo allocates what it
// carries (1-2 GB/s on loopback), and JavaScriptCore collects whenever what was allocated since the
// last collection passes a budget it sizes from the heap it last found live, ArrayBuffer memory
// included. An echo server's live heap is a few MB, so that budget is small: a bare Bun.listen echo
// streaming 4 x 64 KiB collected 105-118 times per 10,000 messages (BUN_JSC_logGC=1), and side by
// side with a second echo those collections were about a fifth of its CPU. A buffer held for the
// life of the process counts as live heap, so each budget is larger and collections are fewer
// (8 MiB: 2.6x fewer; README, Performance). It is an untouched mapping (src/net/mapping.ts), so it
// adds no RSS; what it costs is that buffers already echoed wait longer to be freed between
// collections: more RSS under streaming load, measured in the README.
import { errorMessage, type Logger } from "../log/index.ts";
import { untouchedBuffer } from "../net/index.ts";

let held: ArrayBuffer | null = null;

/**
 * Holds a ballast of `bytes` for the rest of the process (0: none). Once per process: the mapping
 * is never given back. Throws when the kernel refuses the mapping.
 */
export function holdGcBallast(bytes: number): void {
  if (held !== null || bytes === 0) return;
  held = untouchedBuffer(bytes);
}

/** The ballast held now, in bytes. */
export function gcBallastBytes(): number {
  return held?.byteLength ?? 0;
}

/** --gc-ballast at a serving process's start: a mapping refused (RLIMIT_AS) is a warning, not a failure to serve. */
export function startGcBallast(bytes: number, logger: Logger): void {
  try {
    holdGcBallast(bytes);
    if (bytes > 0) logger.debug("gc-ballast", `holding a ${bytes} B GC ballast (address space only; see --gc-ballast)`, { bytes });
  } catch (e) {
    logger.warn("gc-ballast", `--gc-ballast ${bytes}: ${errorMessage(e)}; serving without it (the runtime collects garbage more often)`, { bytes, error: errorMessage(e) });
  }
}
