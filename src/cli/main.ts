import { defineCommand, runCommand, showUsage, type CommandDef } from "citty";
import pkg from "../../package.json" with { type: "json" };
import { EXIT, UsageError } from "./errors.ts";
import { normalizeArgv } from "./flags.ts";
import { errorMessage } from "../log/error-text.ts";

// Subcommands load lazily: `tcp-echo serve` never pays for the client's or bench's modules.
const commands: Record<string, () => Promise<CommandDef<any>>> = {
  serve: () => import("./serve.ts").then((m) => m.default),
  client: () => import("./client.ts").then((m) => m.default),
  bench: () => import("./bench.ts").then((m) => m.default),
};

const root = defineCommand({
  meta: { name: "tcp-echo", version: pkg.version, description: pkg.description },
  subCommands: commands,
});

function wantsTrace(argv: readonly string[], env: Record<string, string | undefined>): boolean {
  const i = argv.findIndex((a) => a === "--log-level" || a.startsWith("--log-level="));
  const flag = i < 0 ? undefined : argv[i]!.includes("=") ? argv[i]!.split("=")[1] : argv[i + 1];
  return (flag ?? env.TCP_ECHO_LOG_LEVEL) === "trace";
}

/** Runs the CLI and returns the exit code; errors a user can cause end in one line on stderr. */
export async function main(argv: readonly string[], env = process.env): Promise<number> {
  // Which help a usage error points to: the subcommand's, once it is known.
  let help = "tcp-echo --help";
  try {
    const first = argv[0];
    if (first === "--version" || first === "-v") {
      console.log(pkg.version);
      return EXIT.ok;
    }
    if (first === "--help" || first === "-h") {
      await showUsage(root);
      return EXIT.ok;
    }
    // A worker of `serve --workers N` (not in the help: only the supervisor starts it).
    if (first === "__worker") return await (await import("./worker.ts")).runWorkerCommand();
    // `tcp-echo` and `tcp-echo --port 7` mean `tcp-echo serve ...`.
    const name = first === undefined || first.startsWith("-") ? "serve" : first;
    const rest = name === first ? argv.slice(1) : argv;
    const load = commands[name];
    if (!load) throw new UsageError(`unknown command ${JSON.stringify(name)} (commands: ${Object.keys(commands).join(", ")})`);
    help = `tcp-echo ${name} --help`;
    const cmd = await load();
    if (rest.includes("--help") || rest.includes("-h")) {
      await showUsage(cmd, root);
      return EXIT.ok;
    }
    const args = (typeof cmd.args === "function" ? await cmd.args() : await cmd.args) ?? {};
    const { result } = await runCommand(cmd, { rawArgs: normalizeArgv(rest, args) });
    return typeof result === "number" ? result : EXIT.ok;
  } catch (e) {
    const err = e as Error;
    if (err instanceof UsageError) {
      console.error(`tcp-echo: ${err.message} (see ${help})`);
      return EXIT.usage;
    }
    console.error(`tcp-echo: ${errorMessage(e)}`);
    if (wantsTrace(argv, env) && err?.stack) console.error(err.stack);
    return EXIT.failure;
  }
}
