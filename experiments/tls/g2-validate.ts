// (g, continued) Validating certificate files before use: with the upgrade path no context is built
// until the first connection, so a bad file must be caught up front (exit 2 at start, old
// certificate kept on reload). What do tls.createSecureContext and Bun.listen say?
// Run: bun experiments/tls/g2-validate.ts
import { createSecureContext } from "node:tls";
import { readFileSync } from "node:fs";
import { makePki } from "./lib.ts";

const pki = makePki();
const pem = (f: string) => readFileSync(f, "utf8");
const tryit = (label: string, o: object) => {
  try {
    createSecureContext(o);
    console.log(label, "-> ok");
  } catch (e: any) {
    console.log(label, "->", e.code, e.message);
  }
};
tryit("matching", { cert: pem(pki.fooCert), key: pem(pki.fooKey) });
tryit("cert foo + key bar", { cert: pem(pki.fooCert), key: pem(pki.barKey) });
tryit("garbage cert", { cert: "hello", key: pem(pki.fooKey) });
tryit("key file given as cert", { cert: pem(pki.fooKey), key: pem(pki.fooKey) });
tryit("bad ca", { cert: pem(pki.fooCert), key: pem(pki.fooKey), ca: "nope" });
try {
  Bun.listen({ hostname: "127.0.0.1", port: 0, tls: { cert: pem(pki.fooCert), key: pem(pki.barKey) }, socket: { data() {} } });
  console.log("Bun.listen mismatched -> ok?!");
} catch (e: any) {
  console.log("Bun.listen mismatched ->", e.code, e.message);
}
