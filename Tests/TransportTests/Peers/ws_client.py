#!/usr/bin/env python3
"""A WebSocket client on the PyPI `websockets` package, to check the project's server side.

Connects to the URL given, sends a text and a binary message and expects each back unchanged, then
closes with code 4000 and reason `done`. Exits 0 on success, 1 with a message on stderr otherwise.
Pass --ca FILE for wss with a private CA.
"""
import argparse
import asyncio
import ssl
import sys

from websockets.asyncio.client import connect


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--ca")
    args = parser.parse_args()
    context = None
    if args.url.startswith("wss://"):
        context = ssl.create_default_context(cafile=args.ca)
    async with connect(args.url, ssl=context, compression=None, open_timeout=5) as ws:
        for message in ["héllo from python", bytes(range(256)) * 300]:
            await ws.send(message)
            answer = await asyncio.wait_for(ws.recv(), 5)
            if answer != message:
                print(f"echo mismatch: sent {type(message).__name__} of {len(message)}, got {len(answer)}", file=sys.stderr)
                sys.exit(1)
        await ws.close(code=4000, reason="done")


if __name__ == "__main__":
    asyncio.run(main())
