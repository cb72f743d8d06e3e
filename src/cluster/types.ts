import type { LogSettings } from "../log/index.ts";
import type { ServerConfig } from "../server/index.ts";

/** Everything `serve` needs: the server's config plus how to run it (processes, metrics, stats). */
export interface ServiceOptions extends Omit<ServerConfig, "logger" | "clock"> {
  readonly log: LogSettings;
  /** Worker processes; 1 = serve in this process. */
  readonly workers: number;
  readonly metrics: { readonly host: string; readonly port: number } | null;
  /** --api: the control API (single process only). */
  readonly api: { readonly host: string; readonly port: number } | null;
  readonly apiToken: string | null;
  /** Seconds between stats lines; 0 = off. */
  readonly statsInterval: number;
  /** Bytes of GC ballast each serving process holds (src/cluster/gc-ballast.ts); 0 = none. */
  readonly gcBallast: number;
}

/** A running service: one server, or a supervisor with its workers. */
export interface Service {
  /** Graceful stop (idempotent). */
  stop(): Promise<void>;
  /** Resolves with the exit code once everything has stopped. */
  readonly done: Promise<number>;
  /** Ends child processes at once (a second signal); the caller exits right after. */
  abort?(): void;
  /** SIGHUP: reload what can be reloaded: TLS listeners' certificate files. */
  reload(): void;
  /** SIGUSR1: log the counters now. */
  report(): Promise<void>;
}
