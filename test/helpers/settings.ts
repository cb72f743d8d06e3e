// The serve command's option handling in-process, as the CLI runs it (citty's parse, our argv
// normalisation, the option table, the resolver), so a test checks settings or the exact one-line
// error without spawning a process.
import { parseArgs } from "citty";
import { UsageError } from "../../src/cli/errors.ts";
import { normalizeArgv } from "../../src/cli/flags.ts";
import { argsDef, manyOptions } from "../../src/cli/options/option.ts";
import { SERVE_OPTIONS } from "../../src/cli/options/table.ts";
import { resolveServe } from "../../src/cli/serve-settings.ts";

const defs = argsDef(SERVE_OPTIONS);

/** `tcp-echo serve ARGV` with these TCP_ECHO_* variables: the resolved settings. */
export function serveSettings(argv: string[], env: Record<string, string> = {}) {
  return resolveServe(parseArgs(normalizeArgv(argv, defs, manyOptions(SERVE_OPTIONS)), defs) as Record<string, unknown>, env).settings;
}

/** The UsageError's message `f` throws; a failure when it throws none. */
export function usage(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof UsageError) return e.message;
    throw e;
  }
  throw new Error("no usage error");
}
