"""A scripted TLS client on a MemoryBIO, so TLS events (close_notify) and TCP events (FIN) are seen
apart, which a wrapped ssl socket hides. Used by the TLS experiments; loopback only, bounded.

usage: peer.py PORT CAFILE SERVER_HOSTNAME ACTION...
actions:
  send:N          write N bytes (a repeating pattern) as TLS application data
  close_notify    send our close_notify alert (TLS half-close, RFC 8446 6.1)
  fin             shutdown(SHUT_WR) on the TCP socket: a bare FIN, no close_notify
  read:MS         read for MS ms (or until the TCP stream ends); log what arrives
  drain:MS        like read, but stop as soon as TLS close_notify and TCP FIN have both arrived
  hello_only      send the raw TCP connect and nothing else (for handshake-timeout experiments)
  tls12           (first action) cap the client at TLS 1.2
Prints one JSON line per event: {"t": ms since start, "ev": ..., ...}, then a summary.
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


def log(ev, **kw):
    print(json.dumps({"t": round((time.monotonic() - t0) * 1000, 1), "ev": ev, **kw}), flush=True)


ctx = ssl.create_default_context(cafile=cafile)
if actions and actions[0] == "tls12":
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    actions = actions[1:]
raw = socket.create_connection(("127.0.0.1", port), timeout=5)
raw.setblocking(False)
if actions and actions[0] == "hello_only":
    # Never send a ClientHello: see when and how the server gives up.
    deadline = time.monotonic() + float(actions[1]) / 1000 if len(actions) > 1 else time.monotonic() + 5
    while time.monotonic() < deadline:
        r, _, _ = select.select([raw], [], [], 0.05)
        if r:
            try:
                b = raw.recv(65536)
            except ConnectionResetError:
                log("tcp-rst")
                break
            if not b:
                log("tcp-fin")
                break
            log("tcp-bytes", hex=b.hex())
    else:
        log("still-open")
    sys.exit(0)

inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
tls = ctx.wrap_bio(inc, out, server_hostname=host)
state = {"tls_closed": False, "tcp_eof": False, "rst": False, "received": 0, "sent": 0}


def flush():
    data = out.read()
    while data:
        try:
            n = raw.send(data)
        except BlockingIOError:
            select.select([], [raw], [], 1)
            continue
        data = data[n:]


def pump(timeout):
    """Moves TCP bytes into the TLS engine; returns False when nothing came within timeout."""
    if state["tcp_eof"]:
        return False
    r, _, _ = select.select([raw], [], [], timeout)
    if not r:
        return False
    try:
        b = raw.recv(65536)
    except ConnectionResetError:
        state["rst"] = True
        state["tcp_eof"] = True
        log("tcp-rst")
        inc.write_eof()
        return False
    if not b:
        state["tcp_eof"] = True
        log("tcp-fin")
        inc.write_eof()
        return True
    inc.write(b)
    return True


while True:
    try:
        tls.do_handshake()
        break
    except ssl.SSLWantReadError:
        flush()
        if not pump(5) and state["tcp_eof"]:
            log("handshake-failed-eof")
            sys.exit(0)
flush()
log("handshake", version=tls.version(), cipher=tls.cipher()[0])


def read_tls():
    """Reads what the TLS engine holds; logs data, close_notify and ragged EOF."""
    while not state["tls_closed"]:
        try:
            b = tls.read(65536)
            if not b:
                # CPython's SSLObject.read returns b"" (rather than raising SSLZeroReturnError) for a
                # close_notify received before we sent ours (_ssl.c: ZERO_RETURN with RECEIVED_SHUTDOWN).
                state["tls_closed"] = True
                log("close_notify", received=state["received"])
                break
            state["received"] += len(b)
        except ssl.SSLWantReadError:
            break
        except ssl.SSLZeroReturnError:
            state["tls_closed"] = True
            log("close_notify", received=state["received"])
        except ssl.SSLEOFError as e:
            state["tls_closed"] = True
            log("tls-eof-without-close_notify", received=state["received"], error=str(e))
        except ssl.SSLError as e:
            state["tls_closed"] = True
            log("tls-error", error=str(e))


def read_for(ms, until_closed):
    end = time.monotonic() + ms / 1000
    while time.monotonic() < end:
        pump(min(0.05, max(0, end - time.monotonic())))
        read_tls()
        if until_closed and state["tls_closed"] and state["tcp_eof"]:
            return
        if state["tcp_eof"] and not inc.pending:
            read_tls()
            return


for a in actions:
    if a.startswith("send:"):
        n = int(a[5:])
        pattern = bytes(range(256)) * (n // 256 + 1)
        tls.write(pattern[:n])
        flush()
        state["sent"] += n
        log("sent", bytes=n)
    elif a == "close_notify":
        try:
            tls.unwrap()
        except ssl.SSLWantReadError:
            pass
        except ssl.SSLError as e:
            log("unwrap-error", error=str(e))
        flush()
        log("sent-close_notify")
    elif a == "fin":
        raw.shutdown(socket.SHUT_WR)
        log("sent-fin")
    elif a.startswith("read:"):
        read_for(int(a[5:]), False)
    elif a.startswith("drain:"):
        read_for(int(a[6:]), True)
    else:
        raise SystemExit(f"unknown action {a}")

log("summary", sent=state["sent"], received=state["received"], tls_closed=state["tls_closed"], tcp_eof=state["tcp_eof"], rst=state["rst"])
