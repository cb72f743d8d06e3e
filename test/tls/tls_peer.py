"""A scripted TLS client on a MemoryBIO, so TLS events (close_notify) and TCP events (FIN, RST)
are seen apart, which a wrapped ssl socket hides; every byte received is checked against what was
sent. Loopback only, bounded in time.

usage: tls_peer.py PORT CAFILE SERVER_NAME ACTION...
  tls12          (first) cap the client at TLS 1.2
  send:N         write N bytes of a repeating pattern as application data
  close_notify   send our close_notify (TLS half-close, RFC 8446 6.1); the TCP side stays open
  fin            shutdown(SHUT_WR): a bare FIN without close_notify
  read:MS        read for MS ms, or until the TCP stream ends
  drain:MS       read until both the server's close_notify and its FIN have come (at most MS ms)
Prints one JSON object: the handshake, bytes sent and received, whether they match, and the
ordered events (close_notify, tcp-fin, tcp-rst) each with the byte count received before it.
"""
import json
import select
import socket
import ssl
import sys
import time

port, cafile, host = int(sys.argv[1]), sys.argv[2], sys.argv[3]
actions = sys.argv[4:]
t0 = time.monotonic()
PATTERN = bytes(range(256))

ctx = ssl.create_default_context(cafile=cafile)
if actions and actions[0] == "tls12":
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    actions = actions[1:]
raw = socket.create_connection(("127.0.0.1", port), timeout=5)
raw.setblocking(False)
inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
tls = ctx.wrap_bio(inc, out, server_hostname=host)
st = {"sent": 0, "received": 0, "mismatch_at": None, "tls_closed": False, "tcp_eof": False, "events": []}


def event(name, **kw):
    st["events"].append({"ev": name, "received": st["received"], "t": round((time.monotonic() - t0) * 1000, 1), **kw})


def flush():
    data = out.read()
    while data:
        try:
            n = raw.send(data)
        except BlockingIOError:
            select.select([], [raw], [], 1)
            continue
        except (BrokenPipeError, ConnectionResetError):
            return
        data = data[n:]


def pump(timeout):
    if st["tcp_eof"]:
        return False
    r, _, _ = select.select([raw], [], [], timeout)
    if not r:
        return False
    try:
        b = raw.recv(65536)
    except ConnectionResetError:
        st["tcp_eof"] = True
        event("tcp-rst")
        inc.write_eof()
        return False
    if not b:
        st["tcp_eof"] = True
        event("tcp-fin")
        inc.write_eof()
        return True
    inc.write(b)
    return True


def check(b):
    off = st["received"]
    for i, x in enumerate(b):
        if st["mismatch_at"] is None and x != PATTERN[(off + i) % 256]:
            st["mismatch_at"] = off + i
    st["received"] += len(b)


def read_tls():
    while not st["tls_closed"]:
        try:
            b = tls.read(65536)
            if not b:
                st["tls_closed"] = True
                event("close_notify")
                break
            check(b)
        except ssl.SSLWantReadError:
            break
        except ssl.SSLZeroReturnError:
            st["tls_closed"] = True
            event("close_notify")
        except ssl.SSLEOFError:
            st["tls_closed"] = True
            event("tls-eof-without-close_notify")
        except ssl.SSLError as e:
            st["tls_closed"] = True
            event("tls-error", error=str(e))


def read_for(ms, until_closed):
    end = time.monotonic() + ms / 1000
    while time.monotonic() < end:
        pump(min(0.05, max(0, end - time.monotonic())))
        read_tls()
        if until_closed and st["tls_closed"] and st["tcp_eof"]:
            return
        if st["tcp_eof"] and not inc.pending:
            read_tls()
            return


hs = None
deadline = time.monotonic() + 5
while time.monotonic() < deadline:
    try:
        tls.do_handshake()
        hs = {"version": tls.version(), "cipher": tls.cipher()[0]}
        break
    except ssl.SSLWantReadError:
        flush()
        if not pump(1) and st["tcp_eof"]:
            break
    except ssl.SSLError as e:
        hs = {"error": str(e)}
        break
flush()
if hs is None or "error" in hs:
    print(json.dumps({"handshake": hs, **st}))
    sys.exit(0)

for a in actions:
    if a.startswith("send:"):
        n = int(a[5:])
        done = 0
        while done < n:
            k = min(16384, n - done)
            start = (st["sent"] + done) % 256
            chunk = (PATTERN[start:] + PATTERN * (k // 256 + 2))[:k]
            tls.write(chunk)
            flush()
            done += k
            # Read as we go: a server with a bounded buffer stops reading once we stop.
            pump(0)
            read_tls()
        st["sent"] += n
    elif a == "close_notify":
        try:
            tls.unwrap()
        except ssl.SSLWantReadError:
            pass
        except ssl.SSLError as e:
            event("unwrap-error", error=str(e))
        flush()
        event("sent-close_notify")
    elif a == "fin":
        raw.shutdown(socket.SHUT_WR)
        event("sent-fin")
    elif a.startswith("read:"):
        read_for(int(a[5:]), False)
    elif a.startswith("drain:"):
        read_for(int(a[6:]), True)
    else:
        raise SystemExit(f"unknown action {a}")

print(json.dumps({"handshake": hs, **st}))
