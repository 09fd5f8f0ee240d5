#!/usr/bin/env python3
"""A WebSocket server for the conformance tests, on the PyPI `websockets` package.

Paths: `/echo` echoes every message (text stays text, binary stays binary); `/fragments` sends a text
and a binary message in fragments, then echoes; `/ping` pings the client and, once the pong arrives,
sends the text `pong received`; `/close/<code>` closes at once with that code and reason `bye`;
`/status/<n>` refuses the upgrade with HTTP status n. With --cert/--key it serves wss.
Prints `PORT <n>` once listening; runs until killed.
"""
import argparse
import asyncio
import ssl

from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed


async def handler(ws):
    path = ws.request.path.split("?")[0]
    if path == "/fragments":
        await ws.send(["frag", "ment", "ed ", "text ✓"])
        await ws.send([b"\x00\x01", b"\x02", b"\x03\x04"])
    elif path == "/ping":
        waiter = await ws.ping(b"peer-ping")
        await waiter
        await ws.send("pong received")
    elif path.startswith("/close/"):
        await ws.close(code=int(path.split("/")[2]), reason="bye")
        return
    try:
        async for message in ws:
            await ws.send(message)
    except ConnectionClosed:
        pass  # a close code other than 1000/1001 is part of the tests


def process_request(connection, request):
    if request.path.startswith("/status/"):
        status = int(request.path.split("/")[2])
        return connection.respond(status, "refused by the test peer\n")
    return None


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cert")
    parser.add_argument("--key")
    args = parser.parse_args()
    context = None
    if args.cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.cert, args.key)
    async with serve(handler, "127.0.0.1", 0, ssl=context, max_size=None, process_request=process_request,
                     ping_interval=None, compression=None) as server:
        port = server.sockets[0].getsockname()[1]
        print(f"PORT {port}", flush=True)
        await asyncio.Future()


if __name__ == "__main__":
    asyncio.run(main())
