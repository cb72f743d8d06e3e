"""Holds N connections to a server that has fewer descriptors than that, then checks who is served.

usage: fd_hold.py PORT N
phase 1: opens N connections (the kernel completes them; the server accepts what it can)
         -> {"opened", "connect_errors"}; waits for a line on stdin
phase 2: one byte on every connection, 2 s for echoes, nothing closed
         -> {"first", "first_max_ms"}  (the connections the server had accepted)
         waits for a line on stdin
phase 3: closes those, then closes every other connection as soon as its echo arrives (freeing
         the server's descriptors), until all are served or nothing moved for 3 s (60 s at most)
         -> {"later", "waiting", "seconds"}
"""
import json, select, socket, sys, time

port, n = int(sys.argv[1]), int(sys.argv[2])
socks, errors = [], 0
for i in range(n):
    s = socket.socket()
    s.settimeout(5)
    try:
        s.connect(("127.0.0.1", port))
        socks.append(s)
    except OSError:
        errors += 1
        s.close()
print(json.dumps({"opened": len(socks), "connect_errors": errors}), flush=True)
sys.stdin.readline()

for s in socks:
    s.sendall(b"x")
    s.setblocking(False)
poller = select.epoll()
by_fd = {s.fileno(): s for s in socks}
for fd in by_fd:
    poller.register(fd, select.EPOLLIN)
t0 = time.monotonic()
first, slowest = set(), 0.0
while time.monotonic() - t0 < 2.0:
    for fd, _ in poller.poll(0.1):
        try:
            if by_fd[fd].recv(16) == b"x":
                first.add(fd)
                slowest = max(slowest, time.monotonic() - t0)
        except OSError:
            pass
        poller.unregister(fd)
print(json.dumps({"first": len(first), "first_max_ms": round(slowest * 1000, 1)}), flush=True)
sys.stdin.readline()

for fd in first:
    by_fd.pop(fd).close()
waiting = len(by_fd)
later = 0
t0 = last = time.monotonic()
while by_fd and time.monotonic() - last < 3.0 and time.monotonic() - t0 < 60:
    for fd, _ in poller.poll(0.1):
        s = by_fd.pop(fd)
        try:
            if s.recv(16) == b"x":
                later += 1
                last = time.monotonic()
        except OSError:
            pass
        poller.unregister(fd)
        s.close()
print(json.dumps({"later": later, "waiting": waiting, "seconds": round(time.monotonic() - t0, 2)}), flush=True)
for s in by_fd.values():
    s.close()
