// Builds dist/tcp-echo: one standalone executable (Bun runtime included) via `bun build --compile`.
import { $ } from "bun";
import { mkdirSync } from "node:fs";

const outfile = process.argv[2] ?? "dist/tcp-echo";
mkdirSync("dist", { recursive: true });
await $`bun build --compile --minify --sourcemap src/index.ts --outfile ${outfile}`;
const version = (await $`${outfile} --version`.text()).trim();
console.log(`built ${outfile} (tcp-echo ${version})`);
