#!/usr/bin/env bun
// Entry point of the `tcp-echo` executable: the CLI decides the exit code.
import { main } from "./cli/main.ts";

process.exitCode = await main(process.argv.slice(2));
