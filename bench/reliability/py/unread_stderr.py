"""Runs a server whose stderr is a pipe that nobody reads for a while.

usage: unread_stderr.py EXE [SERVE ARGS...]
phase 1: starts EXE serve --port 0 --log-format json ARGS with stderr a pipe, reads it until the
         "listening" line, then stops reading -> {"pid", "port"}; waits for a line on stdin
phase 2: reads the pipe again for up to 5 s, until a log-dropped line has come and 0.5 s passed
         -> {"read_bytes", "log_dropped": [counts], "first_dropped_after_s"}; waits for a line
phase 3: SIGTERM to the server, reads its stderr to the end -> {"exit"}
"""
import json, os, select, signal, subprocess, sys, time

exe, args = sys.argv[1], sys.argv[2:]
proc = subprocess.Popen([exe, "serve", "--port", "0", "--log-format", "json", *args], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
port = None
buf = b""
fd = proc.stderr.fileno()
deadline = time.monotonic() + 15
while port is None and time.monotonic() < deadline:
    chunk = os.read(fd, 65536)
    if not chunk:
        break
    buf += chunk
    while b"\n" in buf:
        line, buf = buf.split(b"\n", 1)
        try:
            e = json.loads(line)
        except ValueError:
            continue
        if e.get("event") == "listening":
            port = e["port"]
print(json.dumps({"pid": proc.pid, "port": port}), flush=True)
sys.stdin.readline()

os.set_blocking(fd, False)
dropped, read_bytes, first = [], 0, None
t0 = time.monotonic()
while time.monotonic() - t0 < 5 and not (first is not None and time.monotonic() - t0 > first + 0.5):
    select.select([fd], [], [], 0.1)
    try:
        chunk = os.read(fd, 1 << 20)
    except BlockingIOError:
        continue
    if not chunk:
        break
    read_bytes += len(chunk)
    buf += chunk
    lines = buf.split(b"\n")
    buf = lines.pop()
    for line in lines:
        if b'"log-dropped"' in line:
            dropped.append(json.loads(line).get("dropped"))
            if first is None:
                first = time.monotonic() - t0
print(json.dumps({"read_bytes": read_bytes, "log_dropped": dropped, "first_dropped_after_s": first}), flush=True)
sys.stdin.readline()

proc.send_signal(signal.SIGTERM)
os.set_blocking(fd, True)
while os.read(fd, 1 << 20):
    pass
print(json.dumps({"exit": proc.wait(timeout=15)}), flush=True)
