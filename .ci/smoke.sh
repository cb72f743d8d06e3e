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
