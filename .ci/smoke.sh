#!/usr/bin/env bash
# Smoke test of the compiled executable: serve on a free port, echo through python3, SIGTERM, exit 0.
set -euo pipefail
exe=${1:-dist/tcp-echo}
log=$(mktemp)
"$exe" serve --port 0 --log-format json 2>"$log" &
pid=$!
trap 'kill -9 $pid 2>/dev/null || true; rm -f "$log"' EXIT
port=""
for _ in $(seq 100); do
  port=$(python3 -c 'import json,sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e["event"] == "listening": print(e["port"]); break' "$log" 2>/dev/null || true)
  [ -n "$port" ] && break
  sleep 0.05
done
[ -n "$port" ] || { echo "smoke: server did not start"; cat "$log"; exit 1; }
python3 - "$port" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
msg = bytes(range(256)) * 64
s.sendall(msg); s.shutdown(socket.SHUT_WR)
got = b""
while True:
    d = s.recv(65536)
    if not d: break
    got += d
assert got == msg, f"echo mismatch: {len(got)} of {len(msg)} bytes"
print(f"smoke: echoed {len(got)} bytes")
PY
kill -TERM "$pid"
code=0; wait "$pid" || code=$?
[ "$code" -eq 0 ] || { echo "smoke: exit code $code after SIGTERM"; cat "$log"; exit 1; }
grep -q '"event":"stopped"' "$log" || { echo "smoke: no stopped event"; cat "$log"; exit 1; }
echo "smoke: SIGTERM -> exit 0"

# TLS in the executable: a self-signed certificate (its library loads on first use), echoed through
# python3's ssl; the certificate python gets is the one the start-up report names.
tlslog=$(mktemp)
"$exe" serve --port 0 --log-format json --tls-self-signed 2>"$tlslog" &
tpid=$!
trap 'kill -9 $pid $tpid 2>/dev/null || true; rm -f "$log" "$tlslog"' EXIT
port=""
for _ in $(seq 100); do
  port=$(python3 -c 'import json,sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e["event"] == "listening": print(e["port"]); break' "$tlslog" 2>/dev/null || true)
  [ -n "$port" ] && break
  sleep 0.05
done
[ -n "$port" ] || { echo "smoke: TLS server did not start"; cat "$tlslog"; exit 1; }
python3 - "$port" "$tlslog" <<'PY'
import hashlib, json, socket, ssl, sys
want = next(json.loads(l)["sha256"] for l in open(sys.argv[2]) if '"tls-certificate"' in l)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
t = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5))
got_fp = ":".join(f"{b:02X}" for b in hashlib.sha256(t.getpeercert(True)).digest())
assert got_fp == want, f"served {got_fp}, the report says {want}"
msg = bytes(range(256)) * 64
t.sendall(msg)
got = b""
while len(got) < len(msg):
    got += t.recv(65536)
assert got == msg, "TLS echo mismatch"
print(f"smoke: echoed {len(got)} bytes over {t.version()}, certificate as reported")
PY
kill -TERM "$tpid"
code=0; wait "$tpid" || code=$?
[ "$code" -eq 0 ] || { echo "smoke: TLS server exit code $code after SIGTERM"; cat "$tlslog"; exit 1; }
