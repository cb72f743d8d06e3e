"""N new connections at once, each sends 16 bytes and must get them back within T seconds.

usage: echo_probe.py PORT N TIMEOUT_S     one probe
       echo_probe.py                      one probe per stdin line "PORT N TIMEOUT_S" (python3
                                          starts slowly: a case that probes often keeps one)
prints {"served", "failed", "max_ms", "errors": {kind: count}} per probe (max_ms: slowest served
round trip, from the start of its connect)
"""
import errno, json, selectors, socket, sys, time


def probe(port, n, timeout):
    sel = selectors.DefaultSelector()
    start = time.monotonic()
    deadline = start + timeout
    state = {}
    errors = {}
    served, slowest = 0, 0.0

    def fail(s, kind):
        errors[kind] = errors.get(kind, 0) + 1
        sel.unregister(s)
        s.close()
        del state[s]

    for i in range(n):
        s = socket.socket()
        s.setblocking(False)
        err = s.connect_ex(("127.0.0.1", port))
        if err not in (0, errno.EINPROGRESS):
            errors[errno.errorcode.get(err, str(err))] = errors.get(errno.errorcode.get(err, str(err)), 0) + 1
            s.close()
            continue
        payload = b"probe-%09d\n" % i
        state[s] = {"payload": payload, "sent": False, "got": b"", "t0": time.monotonic()}
        sel.register(s, selectors.EVENT_WRITE)

    while state and time.monotonic() < deadline:
        for key, ev in sel.select(max(0.0, deadline - time.monotonic())):
            s = key.fileobj
            st = state[s]
            if not st["sent"]:
                err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    fail(s, errno.errorcode.get(err, str(err)))
                    continue
                s.send(st["payload"])
                st["sent"] = True
                sel.modify(s, selectors.EVENT_READ)
                continue
            try:
                data = s.recv(4096)
            except ConnectionResetError:
                fail(s, "ECONNRESET")
                continue
            if not data:
                fail(s, "eof")
                continue
            st["got"] += data
            if st["got"] == st["payload"]:
                served += 1
                slowest = max(slowest, time.monotonic() - st["t0"])
                sel.unregister(s)
                s.close()
                del state[s]
            elif not st["payload"].startswith(st["got"]):
                fail(s, "mismatch")

    for s in list(state):
        fail(s, "timeout")
    print(json.dumps({"served": served, "failed": n - served, "max_ms": round(slowest * 1000, 1), "errors": errors}), flush=True)


if len(sys.argv) > 1:
    probe(int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]))
else:
    for line in sys.stdin:
        port, n, timeout = line.split()
        probe(int(port), int(n), float(timeout))
