"""A WebSocket client built on the `websockets` library, used as an independent peer by the codec tests.

Usage: conformance_client.py URL
Sends a text, a binary, a fragmented text and a large binary message, expects each echoed, pings, then
closes with 1000 "done". Prints "OK" on success; any mismatch raises (non-zero exit).
"""
import asyncio
import sys

from websockets.asyncio.client import connect


async def main():
    async with connect(sys.argv[1], ping_interval=None, max_size=None) as ws:
        await ws.send("小智 hello")
        assert await ws.recv() == "小智 hello", "text echo"
        await ws.send(bytes(range(256)))
        assert await ws.recv() == bytes(range(256)), "binary echo"
        await ws.send(iter(["Hel", "lo ", "🎤"]))
        assert await ws.recv() == "Hello 🎤", "fragmented echo"
        large = bytes(i * 7 % 256 for i in range(300_000))
        await ws.send(large)
        assert await ws.recv() == large, "large echo"
        pong = await ws.ping(b"are you there")
        await asyncio.wait_for(pong, timeout=5)
        await ws.close(1000, "done")
        assert ws.close_code == 1000, f"close code {ws.close_code}"
    print("OK", flush=True)


asyncio.run(main())
