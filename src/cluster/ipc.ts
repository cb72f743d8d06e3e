// What the supervisor and its workers say to each other over the IPC channel Bun.spawn opens
// (JSON serialization). Workers get their settings and identity here, never through argv or a
// variable a user could set by hand.
import { compileStruct } from "../protocol/struct/index.ts";
import type { ListenerConfig, StartupReport, StatsSnapshot } from "../server/index.ts";
import type { ProcessMetrics } from "../ops/index.ts";
import type { ServiceOptions } from "./types.ts";
import type { CloseJson, ConnectionPage, ConnectionQuery, ListenerStatus } from "../status/index.ts";

/** A listener as JSON can carry it: the record codec travels as its format text. */
type WireListener = Omit<ListenerConfig, "record"> & { readonly record: { readonly format: string; readonly mode: "interleaved" | "stream" } | null };

/** ServiceOptions as JSON can carry them. */
export type WireSettings = Omit<ServiceOptions, "listeners" | "profile"> & { readonly listeners: readonly WireListener[] };

export type ToWorker =
  | { readonly type: "start"; readonly worker: number; readonly settings: WireSettings }
  | { readonly type: "stats"; readonly id: number }
  /** Liveness: a worker that does not answer within HUNG_MS is replaced. */
  | { readonly type: "ping"; readonly id: number }
  /** The status page: listeners and the closes since the last question. */
  | { readonly type: "status"; readonly id: number }
  /** The status page: a page of this worker's connections. */
  | { readonly type: "connections"; readonly id: number; readonly query: ConnectionQuery };

export type FromWorker =
  | { readonly type: "listening"; readonly port: number; readonly report: StartupReport }
  | { readonly type: "stats"; readonly id: number; readonly stats: StatsSnapshot; readonly process: ProcessMetrics }
  /** The answer to a ping carries the counters, so a worker that dies leaves its totals behind. */
  | { readonly type: "pong"; readonly id: number; readonly stats: StatsSnapshot }
  | { readonly type: "status"; readonly id: number; readonly listeners: readonly ListenerStatus[]; readonly closes: readonly CloseJson[] }
  | { readonly type: "connections"; readonly id: number; readonly page: ConnectionPage };

export function toWire(o: ServiceOptions): WireSettings {
  // A worker opens no listener at run time (--api needs a single process): no profile to carry.
  const { profile: _, ...rest } = o;
  return { ...rest, listeners: o.listeners.map((l) => ({ ...l, record: l.record && { format: l.record.codec.format, mode: l.record.mode } })) };
}

/** The formats were validated by the supervisor's CLI; compiling them again cannot fail for the same text. */
export function fromWire(w: WireSettings): ServiceOptions {
  return { ...w, listeners: w.listeners.map((l) => ({ ...l, record: l.record && { codec: compileStruct(l.record.format), mode: l.record.mode } })) };
}
