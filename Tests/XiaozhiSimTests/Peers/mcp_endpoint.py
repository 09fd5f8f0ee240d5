"""Plays the pool's side of a Xiaozhi session against xiaozhi-sim: connects with a token and answers MCP.

Usage: mcp_endpoint.py URL [--pages N] [--hold SECONDS]
Answers initialize, tools/list (N pages chained by nextCursor), ping, and tools/call (echoes the arguments).
Prints one line per request received ("REQ <method>"), and "CLOSED <code>" when the session ends.
"""
import argparse
import asyncio
import json

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--pages", type=int, default=2)
    parser.add_argument("--hold", type=float, default=30)
    args = parser.parse_args()
    async with connect(args.url, ping_interval=None) as ws:
        async def serve():
            async for raw in ws:
                message = json.loads(raw)
                method = message.get("method")
                print("REQ", method, flush=True)
                if "id" not in message:
                    continue
                if method == "initialize":
                    result = {"protocolVersion": "2024-11-05", "capabilities": {"tools": {}},
                              "serverInfo": {"name": "peer", "version": "1"}}
                elif method == "tools/list":
                    page = int((message.get("params") or {}).get("cursor") or 0)
                    result = {"tools": [{"name": f"tool{page}", "inputSchema": {"type": "object"}}]}
                    if page + 1 < args.pages:
                        result["nextCursor"] = str(page + 1)
                elif method == "ping":
                    result = {}
                elif method == "tools/call":
                    result = {"content": [{"type": "text", "text": json.dumps(message["params"]["arguments"])}]}
                else:
                    await ws.send(json.dumps({"jsonrpc": "2.0", "id": message["id"],
                                              "error": {"code": -32601, "message": "unknown"}}))
                    continue
                await ws.send(json.dumps({"jsonrpc": "2.0", "id": message["id"], "result": result}))
        try:
            await asyncio.wait_for(serve(), timeout=args.hold)
        except asyncio.TimeoutError:
            pass
        except ConnectionClosed:
            pass
    print("CLOSED", ws.close_code, flush=True)


asyncio.run(main())
