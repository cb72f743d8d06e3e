import { runCommand, type CommandDef } from "citty";
import pkg from "../../package.json" with { type: "json" };
import { EXIT, UsageError } from "./errors.ts";
import { normalizeArgv } from "./flags.ts";
import { paragraph, renderHelp, type CommandHelp } from "./options/help.ts";
import { manyOptions, type Table } from "./options/option.ts";
import { errorMessage } from "../log/index.ts";

interface Loaded {
  readonly default: CommandDef<any>;
  readonly help: CommandHelp;
  readonly options: Table;
}

// Subcommands load lazily: `tcp-echo serve` never pays for the client's or bench's modules.
const commands: Record<string, () => Promise<Loaded>> = {
  serve: () => import("./commands/serve.ts"),
  client: () => import("./commands/client.ts"),
  bench: () => import("./commands/bench.ts"),
};

const rootHelp = () => `Usage: tcp-echo [serve] [options]     run the echo server (the default command)
       tcp-echo client [options]      check and time echoes, like ping
       tcp-echo bench [options]       load generator with byte verification
       tcp-echo COMMAND --help        the options of a command, with defaults and examples
       tcp-echo --version

${paragraph(pkg.description)}
`;

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
      process.stdout.write(rootHelp());
      return EXIT.ok;
    }
    // A worker of `serve --workers N` (not in the help: only the supervisor starts it).
    if (first === "__worker") return await (await import("./commands/worker.ts")).runWorkerCommand();
    // `tcp-echo` and `tcp-echo --port 7` mean `tcp-echo serve ...`.
    const name = first === undefined || first.startsWith("-") ? "serve" : first;
    const rest = name === first ? argv.slice(1) : argv;
    const load = commands[name];
    if (!load) throw new UsageError(`unknown command ${JSON.stringify(name)} (commands: ${Object.keys(commands).join(", ")})`);
    help = `tcp-echo ${name} --help`;
    const mod = await load();
    const cmd = mod.default;
    const args = (typeof cmd.args === "function" ? await cmd.args() : await cmd.args) ?? {};
    if (rest.includes("--help") || rest.includes("-h")) {
      process.stdout.write(renderHelp(mod.help, mod.options, Boolean(process.stdout.isTTY)));
      return EXIT.ok;
    }
    const { result } = await runCommand(cmd, { rawArgs: normalizeArgv(rest, args, manyOptions(mod.options)) });
    return typeof result === "number" ? result : EXIT.ok;
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`tcp-echo: ${e.message} (see ${help})`);
      return EXIT.usage;
    }
    console.error(`tcp-echo: ${errorMessage(e)}`);
    const stack = (e as Error)?.stack;
    if (wantsTrace(argv, env) && stack) console.error(stack);
    return EXIT.failure;
  }
}
