#!/usr/bin/env bash
# selftest.sh — build the baselines + loadgen and check them against each other.
#
#   bash bench/loadgen/selftest.sh            # builds into a temp dir
#   BUILD_DIR=bench/build bash bench/loadgen/selftest.sh
#
# Starts echo-c, bun-echo.ts (bun), node-echo.mjs (node) and corrupt-echo.py on
# ephemeral ports (port 0, read back from "LISTENING <port>"), runs every
# loadgen mode briefly, validates the JSON with check-report.py, and requires
# the corrupting server to be detected (mismatches > 0, exit 1).
# Prints PASS/FAIL per check and a summary; exits 1 on any failure.
# Every process it starts is stopped by pid on exit.
set -u

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BASE="$(cd "$HERE/../baseline" && pwd)"
TMP="$(mktemp -d /tmp/loadgen-selftest.XXXXXX)"
BUILD="${BUILD_DIR:-$TMP}"
mkdir -p "$BUILD"
BUILD="$(cd "$BUILD" && pwd)"
CC="${CC:-cc}"
PY=python3
LG="$BUILD/loadgen"
SECS=1      # measured seconds per run
WARM=0.3    # warmup seconds per run

PIDS=()
PASS=0
FAIL=0
FAILED=()

cleanup() {
    for p in "${PIDS[@]}"; do
        kill -TERM "$p" 2>/dev/null
    done
    for p in "${PIDS[@]}"; do
        for _ in 1 2 3 4 5 6 7 8 9 10; do
            kill -0 "$p" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pass() { PASS=$((PASS + 1)); echo "PASS  $1"; }
fail() { FAIL=$((FAIL + 1)); FAILED+=("$1"); echo "FAIL  $1"; }

# --- build ---------------------------------------------------------------
build() { # name out src
    local log="$TMP/build-$1.log"
    if "$CC" -O2 -Wall -Wextra -o "$2" "$3" >"$log" 2>&1 && [ ! -s "$log" ]; then
        pass "build $1 (cc -O2 -Wall -Wextra, no warnings)"
    else
        fail "build $1"; cat "$log"
        return 1
    fi
}
build echo-c "$BUILD/echo-c" "$BASE/echo.c" || exit 1
build loadgen "$LG" "$HERE/loadgen.c" || exit 1

# --- servers -------------------------------------------------------------
# start_server NAME CMD... ; sets SRV_PID and SRV_PORT
start_server() {
    local name="$1"; shift
    local out="$TMP/srv-$name.out"
    "$@" >"$out" 2>"$TMP/srv-$name.err" &
    SRV_PID=$!
    PIDS+=("$SRV_PID")
    SRV_PORT=""
    for _ in $(seq 1 200); do # up to 10 s
        if read -r tag port <"$out" 2>/dev/null && [ "$tag" = LISTENING ]; then
            SRV_PORT="$port"
            return 0
        fi
        kill -0 "$SRV_PID" 2>/dev/null || break
        sleep 0.05
    done
    echo "server $name did not start:"; cat "$out" "$TMP/srv-$name.err"
    return 1
}

stop_server() { # pid
    kill -TERM "$1" 2>/dev/null
    for _ in $(seq 1 50); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.05
    done
    kill -KILL "$1" 2>/dev/null
    wait "$1" 2>/dev/null
}

# lg NAME EXPECT PORT MODE CONNS [extra loadgen args...]
lg() {
    local name="$1" expect="$2" port="$3" mode="$4" conns="$5"; shift 5
    local out="$TMP/lg-$name.json" err="$TMP/lg-$name.err"
    timeout 20 "$LG" --host 127.0.0.1 --port "$port" --mode "$mode" --connections "$conns" \
        --duration "$SECS" --warmup "$WARM" "$@" >"$out" 2>"$err"
    local rc=$?
    if $PY "$HERE/check-report.py" "$out" "$rc" "$mode" "$conns" "$expect" "$err"; then
        pass "$name"
    else
        fail "$name"; head -c 400 "$err"
    fi
}

suite() { # label port
    lg "$1 pingpong" clean "$2" pingpong 50 --size 64
    lg "$1 stream" clean "$2" stream 8
    lg "$1 connect" clean "$2" connect 16 --size 128
    lg "$1 idle" clean "$2" idle 300 --size 32
}

echo "== C echo server"
if start_server echo-c "$BUILD/echo-c" --host 127.0.0.1 --port 0; then
    P=$SRV_PORT
    suite echo-c "$P"
    lg "echo-c pingpong --rate 5000" clean "$P" pingpong 20 --rate 5000
    lg "echo-c pingpong 256KiB (partial writes)" clean "$P" pingpong 4 --size 262144
    lg "echo-c stream 1MiB chunks" clean "$P" stream 2 --size 1048576
    lg "echo-c connect --rate 2000" clean "$P" connect 8 --rate 2000
    # --count: exact message count
    out="$TMP/count.json"
    timeout 20 "$LG" --port "$P" --mode pingpong --connections 10 --warmup 0 --count 5000 >"$out" 2>/dev/null
    rc=$?
    if [ $rc = 0 ] && $PY -c 'import json,sys; r=json.load(open(sys.argv[1])); sys.exit(r["messages"]!=5000)' "$out"; then
        pass "echo-c pingpong --count 5000 (messages == 5000)"
    else
        fail "echo-c pingpong --count 5000"; cat "$out"
    fi
    # half-close + back-pressure: 4 MiB sent, then SHUT_WR, everything must come back, then EOF
    if timeout 20 $PY - "$P" <<'EOF'
import os, socket, sys, selectors
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
data = os.urandom(4 << 20)
s.setblocking(False)
sel = selectors.DefaultSelector()
sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE)
sent, got, eof, shut = 0, bytearray(), False, False
while not eof:
    for key, ev in sel.select(5):
        if ev & selectors.EVENT_WRITE and not shut:
            try:
                sent += s.send(data[sent:sent + 65536])
            except BlockingIOError:
                pass
            if sent == len(data):
                s.shutdown(socket.SHUT_WR); shut = True
                sel.modify(s, selectors.EVENT_READ)
        if ev & selectors.EVENT_READ:
            try:
                chunk = s.recv(1 << 20)
            except BlockingIOError:
                continue
            if not chunk:
                eof = True
            got += chunk
sys.exit(0 if bytes(got) == data else 1)
EOF
    then pass "echo-c half-close: 4 MiB + SHUT_WR echoed fully, then EOF"; else fail "echo-c half-close"; fi
    # SIGINT: stops early and still reports
    out="$TMP/sigint.json"
    timeout 20 "$LG" --port "$P" --mode stream --connections 4 --duration 30 --warmup 0.2 >"$out" 2>/dev/null &
    LGP=$!
    PIDS+=("$LGP")
    sleep 1.2
    kill -INT "$LGP" 2>/dev/null
    wait "$LGP"
    rc=$?
    if [ $rc = 0 ] && $PY -c 'import json,sys; r=json.load(open(sys.argv[1])); sys.exit(not (0.5 < r["duration_s"] < 5 and r["mb_per_s"] > 1))' "$out"; then
        pass "loadgen SIGINT: early stop with report"
    else
        fail "loadgen SIGINT (rc=$rc)"; cat "$out"
    fi
    stop_server "$SRV_PID"
    if [ -s "$TMP/srv-echo-c.err" ]; then echo "echo-c stderr:"; cat "$TMP/srv-echo-c.err"; fi
    # connection errors: nothing listens on that port any more
    lg "closed port -> errors, exit 1" errors "$P" pingpong 2 --size 64
else
    fail "start echo-c"
fi

echo "== bun-echo.ts"
if command -v bun >/dev/null && start_server bun-echo bun "$BASE/bun-echo.ts" --host 127.0.0.1 --port 0; then
    suite bun-echo "$SRV_PORT"
    lg "bun-echo pingpong 256KiB (partial writes)" clean "$SRV_PORT" pingpong 4 --size 262144
    stop_server "$SRV_PID"
else
    fail "start bun-echo"
fi

echo "== node-echo.mjs"
if command -v node >/dev/null && start_server node-echo node "$BASE/node-echo.mjs" --host 127.0.0.1 --port 0; then
    suite node-echo "$SRV_PORT"
    stop_server "$SRV_PID"
else
    fail "start node-echo"
fi

echo "== corrupting echo server (must be detected)"
if start_server corrupt $PY "$HERE/corrupt-echo.py" --port 0 --every 50; then
    lg "corrupt pingpong -> mismatches, exit 1" corrupt "$SRV_PORT" pingpong 10 --size 256
    lg "corrupt stream -> mismatches, exit 1" corrupt "$SRV_PORT" stream 4
    lg "corrupt connect -> mismatches, exit 1" corrupt "$SRV_PORT" connect 4 --size 512
    stop_server "$SRV_PID"
else
    fail "start corrupt-echo"
fi

echo "== server that closes connections after 0.5 s (idle close detection)"
if start_server closer $PY "$HERE/corrupt-echo.py" --port 0 --every 0 --close-after 0.5; then
    out="$TMP/closer.json"
    timeout 20 "$LG" --port "$SRV_PORT" --mode idle --connections 50 --duration 1.5 >"$out" 2>"$TMP/closer.err"
    rc=$?
    if [ $rc = 0 ] && grep -q '^IDLE_READY 50$' "$TMP/closer.err" &&
        $PY -c 'import json,sys; r=json.load(open(sys.argv[1])); sys.exit(not (r["open_at_end"]==0 and r["errors"]==0 and r["messages"]==50))' "$out"; then
        pass "idle: peer closes detected (open_at_end == 0, no errors)"
    else
        fail "idle close detection (rc=$rc)"; cat "$out" "$TMP/closer.err"
    fi
    stop_server "$SRV_PID"
else
    fail "start closing echo server"
fi

echo "== argument handling"
bad_ok=1
for args in "--mode pingpong" "--port 1" "--port 1 --mode nope" "--port 1 --mode stream --rate 5" \
            "--port 1 --mode pingpong --connections 0" "--port 1 --mode pingpong --duration x" \
            "--port 1 --mode idle --count 3" "--port 1 --mode pingpong --bogus 1" "--port 1 --mode pingpong --size 0"; do
    # shellcheck disable=SC2086
    timeout 5 "$LG" $args >/dev/null 2>&1
    rc=$?
    if [ $rc != 2 ]; then bad_ok=0; echo "  '$args' -> rc=$rc (want 2)"; fi
done
if [ $bad_ok = 1 ]; then pass "bad arguments -> exit 2"; else fail "bad arguments -> exit 2"; fi

echo
echo "selftest: $PASS passed, $FAIL failed"
if [ "$FAIL" -gt 0 ]; then
    printf '  failed: %s\n' "${FAILED[@]}"
    echo "FAIL"
    exit 1
fi
echo "PASS"
exit 0
