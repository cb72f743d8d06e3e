"""N peers that send and never read, then reset.

usage: flood.py PORT N RCVBUF SNDBUF
phase 1: opens N connections with SO_RCVBUF / SO_SNDBUF set before connect (so the window the
         server may fill towards us is small) -> {"opened"}; waits for a line on stdin
phase 2: sends 64 KiB chunks on every connection (non-blocking) until none has been able to send
         for 1 s (every one is blocked: the server stopped reading them), 90 s at most
         -> {"sent_bytes", "blocked" (connections whose last send would block), "seconds"}; waits for a line on stdin
phase 3: SO_LINGER {on, 0} and close on all: each sends RST -> {"reset"}
"""
import errno, json, select, socket, struct, sys, time

port, n, rcvbuf, sndbuf = (int(a) for a in sys.argv[1:5])
socks = []
for i in range(n):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, sndbuf)
    s.settimeout(10)
    s.connect(("127.0.0.1", port))
    s.setblocking(False)
    socks.append(s)
print(json.dumps({"opened": len(socks)}), flush=True)
sys.stdin.readline()

chunk = bytes(65536)
poller = select.epoll()
by_fd = {s.fileno(): s for s in socks}
for fd in by_fd:
    poller.register(fd, select.EPOLLOUT)
sent = 0
blocked = set()
t0 = last = time.monotonic()
while time.monotonic() - last < 1.0 and time.monotonic() - t0 < 90:
    for fd, ev in poller.poll(0.2):
        s = by_fd[fd]
        while True:
            try:
                k = s.send(chunk)
            except BlockingIOError:
                blocked.add(fd)
                break
            except OSError:
                poller.unregister(fd)
                break
            sent += k
            blocked.discard(fd)
            last = time.monotonic()
print(json.dumps({"sent_bytes": sent, "blocked": len(blocked), "seconds": round(last - t0, 2)}), flush=True)
sys.stdin.readline()

linger = struct.pack("ii", 1, 0)
for s in socks:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
    s.close()
print(json.dumps({"reset": len(socks)}), flush=True)
