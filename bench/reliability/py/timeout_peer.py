"""Times idle timeouts from the client's side: N connections, one 16-byte exchange each, then wait
for the server's FIN; lateness = (FIN arrival - echo arrival) - TIMEOUT.

usage: timeout_peer.py PORT N TIMEOUT_S
prints {"closed", "open", "p50_ms", "p99_ms", "max_ms", "min_ms"} (lateness, ms; the echo's
arrival stands for the server's last activity, so this includes both sides' scheduling delays)
"""
import json, select, socket, sys, time

port, n, timeout = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
poller = select.epoll()
socks, echoed = {}, {}
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"timeout-%08d" % i)
    got = b""
    while len(got) < 16:
        got += s.recv(16 - len(got))
    echoed[s.fileno()] = time.monotonic()
    s.setblocking(False)
    socks[s.fileno()] = s
    poller.register(s.fileno(), select.EPOLLIN | select.EPOLLRDHUP)
late = []
deadline = time.monotonic() + timeout * 2 + 10
while len(late) < n and time.monotonic() < deadline:
    for fd, _ in poller.poll(0.5):
        t = time.monotonic()
        poller.unregister(fd)
        s = socks.pop(fd)
        late.append((t - echoed[fd] - timeout) * 1000)
        s.close()
late.sort()
q = lambda p: round(late[min(len(late) - 1, int(p * len(late)))], 1) if late else None
print(json.dumps({"closed": len(late), "open": len(socks), "p50_ms": q(0.5), "p99_ms": q(0.99), "max_ms": round(late[-1], 1) if late else None, "min_ms": round(late[0], 1) if late else None}), flush=True)
for s in socks.values():
    s.close()
