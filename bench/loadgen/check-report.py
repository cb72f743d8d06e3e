#!/usr/bin/env python3
"""Validate one loadgen JSON report (used by selftest.sh).

Usage: check-report.py REPORT.json RC MODE CONNECTIONS EXPECT [STDERR_FILE]
  EXPECT = clean   -> rc 0, no errors/mismatches, sane positive numbers
           corrupt -> rc 1, mismatches > 0
           errors  -> rc 1, errors > 0, mismatches == 0
Prints a one-line summary; exits 1 with a reason on failure.
"""
import json
import sys

KEYS = ["mode", "connections", "size", "duration_s", "messages", "msgs_per_s", "mb_per_s",
        "conns_per_s", "latency_us", "errors", "mismatches", "open_at_end", "latency_curve_us"]
LAT_KEYS = ["p50", "p90", "p99", "p999", "max", "mean"]
CURVE_PCT = [0, 50, 80, 90, 95, 98, 99, 99.5, 99.8, 99.9, 99.95, 99.98, 99.99, 99.995, 99.998, 99.999]


def fail(msg: str) -> None:
    print(f"  -> {msg}")
    sys.exit(1)


def main() -> None:
    path, rc, mode, conns, expect = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5]
    stderr_file = sys.argv[6] if len(sys.argv) > 6 else None
    text = open(path).read()
    lines = [l for l in text.splitlines() if l.strip()]
    if len(lines) != 1:
        fail(f"expected exactly one JSON line on stdout, got {len(lines)}: {text[:300]!r}")
    r = json.loads(lines[0])
    if list(r.keys()) != KEYS:
        fail(f"keys {list(r.keys())} != {KEYS}")
    if r["mode"] != mode or r["connections"] != conns:
        fail(f"mode/connections mismatch: {r['mode']}/{r['connections']}")
    for k in ("messages", "errors", "mismatches", "size", "connections"):
        if not isinstance(r[k], int) or r[k] < 0:
            fail(f"{k} not a non-negative int: {r[k]!r}")
    # null-ness per mode
    if (r["conns_per_s"] is None) != (mode != "connect"):
        fail(f"conns_per_s null-ness wrong: {r['conns_per_s']!r}")
    if (r["open_at_end"] is None) != (mode != "idle"):
        fail(f"open_at_end null-ness wrong: {r['open_at_end']!r}")
    if mode in ("stream", "idle") and r["latency_us"] is not None:
        fail("latency_us must be null for stream/idle")
    if (r["latency_curve_us"] is None) != (r["latency_us"] is None):
        fail(f"latency_curve_us null-ness differs from latency_us: {r['latency_curve_us']!r}")
    summary = (f"msgs={r['messages']} msgs/s={r['msgs_per_s']} MB/s={r['mb_per_s']} "
               f"err={r['errors']} mism={r['mismatches']} rc={rc}")

    if expect == "corrupt":
        if r["mismatches"] <= 0:
            fail(f"corrupting server not detected: {summary}")
        if rc != 1:
            fail(f"exit status {rc} != 1 with mismatches")
        print(f"  ok: {summary}")
        return
    if expect == "errors":
        if r["errors"] <= 0 or r["mismatches"] != 0 or rc != 1:
            fail(f"expected errors>0, mismatches=0, rc=1: {summary}")
        print(f"  ok: {summary}")
        return

    # clean
    if rc != 0:
        fail(f"exit status {rc}: {summary}")
    if r["errors"] or r["mismatches"]:
        fail(f"errors/mismatches on a correct server: {summary}")
    if not (isinstance(r["duration_s"], (int, float)) and r["duration_s"] > 0):
        fail(f"bad duration_s {r['duration_s']!r}")
    if r["messages"] <= 0 or not r["msgs_per_s"] or r["msgs_per_s"] <= 0:
        fail(f"no traffic: {summary}")
    if abs(r["msgs_per_s"] * r["duration_s"] - r["messages"]) > max(2, 0.01 * r["messages"]):
        fail("msgs_per_s inconsistent with messages/duration_s")
    if mode != "stream":
        exp_mb = r["messages"] * r["size"] / 1e6 / r["duration_s"]
        if abs(exp_mb - r["mb_per_s"]) > 0.01 * exp_mb + 0.002:
            fail(f"mb_per_s {r['mb_per_s']} != {exp_mb:.3f}")
    if mode == "stream" and r["mb_per_s"] < 1:
        fail(f"stream throughput implausibly low: {summary}")
    if mode == "connect" and r["conns_per_s"] != r["msgs_per_s"]:
        fail("conns_per_s != msgs_per_s in connect mode")
    if mode in ("pingpong", "connect"):
        lat = r["latency_us"]
        if not isinstance(lat, dict) or list(lat.keys()) != LAT_KEYS:
            fail(f"bad latency_us {lat!r}")
        seq = [lat["p50"], lat["p90"], lat["p99"], lat["p999"], lat["max"]]
        if any(v is None or v <= 0 for v in seq) or seq != sorted(seq):
            fail(f"latency percentiles not positive/monotonic: {lat}")
        if not (0 < lat["mean"] <= lat["max"]):
            fail(f"latency mean out of range: {lat}")
        curve = r["latency_curve_us"]
        if [p for p, _ in curve] != CURVE_PCT:
            fail(f"latency_curve_us percentiles {[p for p, _ in curve]} != {CURVE_PCT}")
        values = [v for _, v in curve]
        if values != sorted(values) or values[0] <= 0 or values[-1] > lat["max"]:
            fail(f"latency_curve_us not positive, ascending and <= max: {curve}")
        at = dict(curve)
        if [at[50], at[90], at[99], at[99.9]] != [lat["p50"], lat["p90"], lat["p99"], lat["p999"]]:
            fail(f"latency_curve_us disagrees with latency_us: {curve} vs {lat}")
        summary += f" p50={lat['p50']}us p99={lat['p99']}us"
    if mode == "idle":
        if r["open_at_end"] != conns or r["messages"] != conns:
            fail(f"idle: open_at_end={r['open_at_end']} messages={r['messages']} (want {conns})")
        ready = open(stderr_file).read() if stderr_file else ""
        if f"IDLE_READY {conns}\n" not in ready:
            fail(f"no 'IDLE_READY {conns}' line on stderr: {ready[:200]!r}")
        summary += f" open_at_end={r['open_at_end']}"
    print(f"  ok: {summary}")


if __name__ == "__main__":
    main()
