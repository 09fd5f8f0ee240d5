"""A WebSocket server built on the `websockets` library, used as an independent peer by the codec tests.

Prints its port on the first line of stdout, then serves until killed. Per connection:
- "path?"   -> answers with the request path and query exactly as received
- "ping-me" -> sends a ping with payload b"pp", then answers "pinged"
- "close-me"-> closes with code 4001, reason "bye"
- any other text or binary message is echoed unchanged.
"""
import asyncio
import sys

from websockets.asyncio.server import serve


async def handler(ws):
    async for message in ws:
        if message == "path?":
            await ws.send(ws.request.path)
        elif message == "ping-me":
            await ws.ping(b"pp")
            await ws.send("pinged")
        elif message == "close-me":
            await ws.close(4001, "bye")
        else:
            await ws.send(message)


async def main():
    async with serve(handler, "127.0.0.1", 0, max_size=None, ping_interval=None) as server:
        port = server.sockets[0].getsockname()[1]
        print(port, flush=True)
        await asyncio.Future()


asyncio.run(main())
