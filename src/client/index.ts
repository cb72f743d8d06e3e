// The echo client: connect with options set before the SYN, round trips, half-close, summary.
//   options.ts  ClientOptions, defaults, the message as sent
//   open.ts     the host resolved, its addresses tried in turn, the socket adopted, the first lines
//   record.ts   --record/--values packed like CPython's struct.pack
//   stream.ts   the connected fd adopted by Bun: buffered reads with deadlines, writes with drain
//   match.ts    an echo told apart from echoed records and stray bytes
//   rtt.ts      min/avg/max/p99
//   output.ts   the ping-like output lines
//   run.ts      runClient: the whole exchange, returning counts and round-trip times
//   source.ts   --file's input: a regular file (read again to check), or a stream kept in a window
//   transfer.ts runFileClient: the input sent once and its echo checked as it arrives
//   file-output.ts  --file's lines: the first difference in context, the half-close, the summary
//   proxy.ts    --proxy-protocol: the header built from the connection, sent first; its echo told apart

export { runClient, type ClientResult, type Print } from "./run.ts";
export { runFileClient, type FileResult } from "./transfer.ts";
export { STREAM_WINDOW } from "./source.ts";
export { CLIENT_DEFAULTS, messageBytes, type ClientOptions, type ClientProxy, type ProxyEndpointOption } from "./options.ts";
export { packRecord, recordRepr, type PackedRecord } from "./record.ts";
export type { RecordsOutcome } from "./match.ts";
export { summarizeRtts, type RttStats } from "./rtt.ts";
