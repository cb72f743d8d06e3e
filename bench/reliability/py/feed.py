"""One connection: sends TOTAL bytes (0, 1, ..., 255 repeated) while reading the echo back, then closes.

usage: feed.py PORT TOTAL
prints {"sent", "received", "equal", "seconds"}
"""
import json, socket, sys, threading, time

port, total = int(sys.argv[1]), int(sys.argv[2])
data = bytes(range(256)) * (total // 256) + bytes(range(total % 256))
s = socket.create_connection(("127.0.0.1", port), timeout=30)
t0 = time.monotonic()
sender = threading.Thread(target=s.sendall, args=(data,))
sender.start()
got = bytearray()
while len(got) < total:
    chunk = s.recv(1 << 16)
    if not chunk:
        break
    got += chunk
sender.join()
s.close()
print(json.dumps({"sent": total, "received": len(got), "equal": bytes(got) == data, "seconds": round(time.monotonic() - t0, 3)}), flush=True)
