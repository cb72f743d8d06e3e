"""N concurrent scrapes: N connections at once, each GET /metrics (Connection: close), read to EOF.

usage: scrape.py PORT N [PATH]
prints {"ok", "failed", "wall_ms", "median_ms", "max_ms", "bytes", "errors"}: wall_ms from the
first connect to the last complete answer; ok = status 200 and a complete body.
"""
import errno, json, select, socket, sys, time

port, n = int(sys.argv[1]), int(sys.argv[2])
path = sys.argv[3] if len(sys.argv) > 3 else "/metrics"
request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()
poller = select.epoll()
conns, errors = {}, {}
t_start = time.monotonic()
for i in range(n):
    s = socket.socket()
    s.setblocking(False)
    err = s.connect_ex(("127.0.0.1", port))
    if err not in (0, errno.EINPROGRESS):
        k = errno.errorcode.get(err, str(err)); errors[k] = errors.get(k, 0) + 1
        s.close(); continue
    conns[s.fileno()] = {"s": s, "t0": time.monotonic(), "sent": False, "data": bytearray()}
    poller.register(s.fileno(), select.EPOLLOUT)

times, ok, total = [], 0, 0
deadline = time.monotonic() + 120
def finish(fd, kind=None):
    global ok, total
    c = conns.pop(fd)
    poller.unregister(fd)
    c["s"].close()
    data = bytes(c["data"])
    head, _, body = data.partition(b"\r\n\r\n")
    good = kind is None and head.startswith(b"HTTP/1.1 200")
    if good:
        for line in head.split(b"\r\n")[1:]:
            k, _, v = line.partition(b":")
            if k.strip().lower() == b"content-length":
                good = len(body) == int(v)
    if good:
        ok += 1; total += len(data)
        times.append(time.monotonic() - c["t0"])
    else:
        kind = kind or ("status " + head.split(b"\r\n")[0].decode(errors="replace")[:40] if head else "empty")
        errors[kind] = errors.get(kind, 0) + 1

while conns and time.monotonic() < deadline:
    for fd, ev in poller.poll(1.0):
        c = conns[fd]
        if not c["sent"]:
            if c["s"].getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                finish(fd, "connect"); continue
            try:
                c["s"].send(request)
            except OSError as e:
                finish(fd, type(e).__name__); continue
            c["sent"] = True
            poller.modify(fd, select.EPOLLIN)
            continue
        try:
            chunk = c["s"].recv(1 << 16)
        except OSError as e:
            finish(fd, type(e).__name__); continue
        if not chunk:
            finish(fd); continue
        c["data"] += chunk
        # Complete by its Content-Length, whether or not the server honours Connection: close.
        head, sep, body = bytes(c["data"]).partition(b"\r\n\r\n")
        if sep:
            for line in head.split(b"\r\n")[1:]:
                k, _, v = line.partition(b":")
                if k.strip().lower() == b"content-length" and len(body) >= int(v):
                    finish(fd)
                    break
for fd in list(conns):
    finish(fd, "timeout")
wall = time.monotonic() - t_start
times.sort()
print(json.dumps({
    "ok": ok, "failed": n - ok, "wall_ms": round(wall * 1000, 1),
    "median_ms": round(times[len(times) // 2] * 1000, 1) if times else None,
    "max_ms": round(times[-1] * 1000, 1) if times else None,
    "bytes": total, "errors": errors,
}), flush=True)
