"""N connections held idle for SECONDS, watching for any close, then one more exchange on each.

usage: hold.py PORT N SECONDS
prints {"survived", "closed_after_s": [...], "echoed_after": n}
"""
import json, select, socket, sys, time

port, n, seconds = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
socks = []
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"before")
    assert s.recv(6) == b"before"
    socks.append(s)
t0 = time.monotonic()
closed = []
live = list(socks)
while time.monotonic() - t0 < seconds and live:
    r, _, _ = select.select(live, [], [], max(0.0, seconds - (time.monotonic() - t0)))
    for s in r:
        # Nothing was sent: anything readable is the end of the connection (EOF or reset).
        closed.append(round(time.monotonic() - t0, 1))
        live.remove(s)
echoed = 0
for s in live:
    try:
        s.sendall(b"after")
        if s.recv(5) == b"after":
            echoed += 1
    except OSError:
        pass
for s in socks:
    s.close()
print(json.dumps({"survived": len(live), "closed_after_s": closed, "echoed_after": echoed}), flush=True)
