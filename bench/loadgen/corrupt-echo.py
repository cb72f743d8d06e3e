#!/usr/bin/env python3
"""Deliberately broken echo server for the loadgen self-test.

Echoes everything back, but flips one byte in every EVERY-th chunk it reads
(counted over all connections), so a verifying load generator must report
mismatches (--every 0: never corrupt). --close-after S closes every
connection S seconds after it was accepted (to test idle-mode close detection).
Usage: corrupt-echo.py [--host 127.0.0.1] [--port 0] [--every 50] [--close-after S]
Prints "LISTENING <port>" once listening; exits on SIGTERM/SIGINT.
"""
import argparse
import asyncio
import signal
import sys

chunks = 0


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--every", type=int, default=50)
    ap.add_argument("--close-after", type=float, default=0.0)
    args = ap.parse_args()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        global chunks
        if args.close_after > 0:
            asyncio.get_running_loop().call_later(args.close_after, writer.close)
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                chunks += 1
                if args.every > 0 and chunks % args.every == 0:
                    b = bytearray(data)
                    b[len(b) // 2] ^= 0x5A
                    data = bytes(b)
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, args.host, args.port, backlog=1024)
    port = server.sockets[0].getsockname()[1]
    sys.stdout.write(f"LISTENING {port}\n")
    sys.stdout.flush()
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
    async with server:
        await stop


if __name__ == "__main__":
    asyncio.run(main())
