// Builds dist/tcp-echo: one standalone executable (Bun runtime included) via `bun build --compile`.
// --bytecode ships JSC bytecode instead of source to parse at every start (exec to first echo:
// median 100 ms instead of 164 on a loaded 2-core machine, 15 runs each; bench/README.md); it
// needs --format=esm here, for the top-level await of src/index.ts. Run-time speed is the same
// code on the same JIT either way (bench/README.md, "source and executable").
import { $ } from "bun";
import { mkdirSync } from "node:fs";

const outfile = process.argv[2] ?? "dist/tcp-echo";
mkdirSync("dist", { recursive: true });
await $`bun build --compile --minify --sourcemap --bytecode --format=esm src/index.ts --outfile ${outfile}`;
const version = (await $`${outfile} --version`.text()).trim();
console.log(`built ${outfile} (tcp-echo ${version})`);
