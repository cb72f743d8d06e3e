"""A TLS echo server with python3's ssl module (OpenSSL): an independent peer for tcp-echo's
client and bench. Prints its port, then one JSON line per connection: the SNI it received, the
version, cipher and ALPN negotiated, and the client certificate's subject if any.

usage: tls_echo_server.py JSON with keys cert, key, ca (client CAs, or null), require (a client
certificate), alpn (list). Runs until killed; loopback only.
"""
import json
import socket
import ssl
import sys
import threading

o = json.loads(sys.argv[1])
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(o["cert"], o["key"])
if o.get("ca"):
    ctx.load_verify_locations(o["ca"])
    ctx.verify_mode = ssl.CERT_REQUIRED if o.get("require") else ssl.CERT_OPTIONAL
if o.get("alpn"):
    ctx.set_alpn_protocols(o["alpn"])
sni = {}


def on_sni(sslobj, name, _ctx):
    sni[id(sslobj)] = name


ctx.sni_callback = on_sni
lock = threading.Lock()


def serve(conn):
    try:
        t = ctx.wrap_socket(conn, server_side=True)
    except (ssl.SSLError, OSError) as e:
        with lock:
            print(json.dumps({"error": str(e)}), flush=True)
        return
    peer = t.getpeercert()
    info = {
        "sni": sni.get(id(t), sni.get(id(t._sslobj))),
        "version": t.version(),
        "cipher": t.cipher()[0],
        "alpn": t.selected_alpn_protocol(),
        "client": dict(x[0] for x in peer["subject"]) if peer else None,
    }
    with lock:
        print(json.dumps(info), flush=True)
    try:
        while True:
            d = t.recv(65536)
            if not d:
                break
            t.sendall(d)
        t.unwrap().close()
    except (ssl.SSLError, OSError):
        t.close()


s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(128)
print(s.getsockname()[1], flush=True)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
