"""One TLS client connection with python3's ssl module (OpenSSL), as a test peer.

usage: tls_client.py JSON, with keys (or a list of such objects: one connection each, in turn): port, ca (file, or null: no verification), sni (or null: none),
cert/key (a client certificate), alpn (list), version ("TLSv1_2"/"TLSv1_3": both min and max),
proxy (text sent in the clear before the handshake), send (bytes to echo, as text), session_reuse (connect
twice, the second time resuming the first session).
Prints one JSON object per connection (a list for a list): version, cipher, alpn, the server certificate's SHA-256 (hex, lower case), whether
the echo matched, or the error (where it happened: handshake or after).
"""
import hashlib
import json
import socket
import ssl
import sys


def context(o):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if o.get("ca"):
        ctx.load_verify_locations(o["ca"])
        ctx.check_hostname = o.get("sni") is not None
    else:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if o.get("cert"):
        ctx.load_cert_chain(o["cert"], o["key"])
    if o.get("alpn"):
        ctx.set_alpn_protocols(o["alpn"])
    if o.get("version"):
        v = getattr(ssl.TLSVersion, o["version"])
        ctx.minimum_version = v
        ctx.maximum_version = v
    return ctx


def once(o, ctx, session=None):
    out = {}
    raw = socket.create_connection(("127.0.0.1", o["port"]), timeout=5)
    if o.get("proxy"):
        raw.sendall(o["proxy"].encode("latin1"))
    try:
        t = ctx.wrap_socket(raw, server_hostname=o.get("sni"), session=session)
    except (ssl.SSLError, OSError) as e:
        return {"error": str(e), "stage": "handshake"}, None
    der = t.getpeercert(True)
    out.update(version=t.version(), cipher=t.cipher()[0], alpn=t.selected_alpn_protocol(), server_sha256=hashlib.sha256(der).hexdigest() if der else None, resumed=t.session_reused)
    msg = o.get("send", "hello over tls\n").encode()
    try:
        t.sendall(msg)
        got = b""
        while len(got) < len(msg):
            d = t.recv(65536)
            if not d:
                break
            got += d
        out["echo_ok"] = got == msg
        if not out["echo_ok"]:
            out["got"] = got.decode("latin1")
    except (ssl.SSLError, OSError) as e:
        out.update(error=str(e), stage="data")
    session = t.session
    t.close()
    return out, session


def run(o):
    ctx = context(o)
    first, session = once(o, ctx)
    if o.get("session_reuse") and "error" not in first:
        second, _ = once(o, ctx, session)
        first["second"] = second
    return first


arg = json.loads(sys.argv[1])
print(json.dumps([run(o) for o in arg] if isinstance(arg, list) else run(arg)))
