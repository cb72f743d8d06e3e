"""One connection with data in flight when the server is told to stop.

usage: graceful.py PORT BYTES
phase 1: connects, sends BYTES without reading, and waits until its own send queue is empty
         (TIOCOUTQ, tcp(7)): every byte has reached the server, which echoes what our receive
         buffer takes and holds the rest. -> {"sent", "queued_ms"}; waits for a line on stdin
         (A byte still in the peer's own send queue when the stop begins has not reached the
         server: the documented graceful stop echoes what the server has read or holds unread
         in its receive queue, SIOCINQ, and discards the rest.)
phase 2: reads until end of file (10 s at most) -> {"received", "equal", "end": "fin" | "reset" | "timeout"}
"""
import array, fcntl, json, socket, sys, termios, time

port, n = int(sys.argv[1]), int(sys.argv[2])
data = bytes(i % 251 for i in range(n))
s = socket.create_connection(("127.0.0.1", port), timeout=10)
s.sendall(data)
t0 = time.monotonic()
outq = array.array("i", [0])
while time.monotonic() - t0 < 5:
    fcntl.ioctl(s.fileno(), termios.TIOCOUTQ, outq)
    if outq[0] == 0:
        break
    time.sleep(0.005)
print(json.dumps({"sent": n, "unsent": outq[0], "queued_ms": round((time.monotonic() - t0) * 1000, 1)}), flush=True)
sys.stdin.readline()
got, end = bytearray(), "timeout"
try:
    while True:
        chunk = s.recv(65536)
        if not chunk:
            end = "fin"
            break
        got += chunk
except ConnectionResetError:
    end = "reset"
except socket.timeout:
    pass
s.close()
print(json.dumps({"received": len(got), "equal": bytes(got) == data, "end": end}), flush=True)
