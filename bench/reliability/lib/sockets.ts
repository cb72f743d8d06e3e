// What a process holds, from /proc: its connected TCP sockets and its descriptors.
import { readdirSync, readFileSync, readlinkSync } from "node:fs";

function socketInodes(pid: number): Set<string> {
  const out = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) out.add(m[1]!);
    } catch {
      // closed while we looked
    }
  }
  return out;
}

/** TCP connections the process holds in state ESTABLISHED (or CLOSE_WAIT): the connections it accepted and has not closed. */
export function acceptedConnections(pid: number): number {
  const mine = socketInodes(pid);
  let n = 0;
  for (const line of readFileSync(`/proc/${pid}/net/tcp`, "utf8").split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if ((f[3] === "01" || f[3] === "08") && mine.has(f[9] ?? "")) n++;
  }
  return n;
}

/** Open descriptors of a process. */
export function openFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}
