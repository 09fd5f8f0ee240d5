#!/usr/bin/env python3
"""An upstream MCP service for the bridge tests, built on the reference SDK (PyPI `mcp`).

  mcp_peer.py --transport streamable-http|sse|garbage [--json-response] [--port N] --auth-header NAME --auth-value VALUE --user-id ID

Every HTTP request must carry the header NAME with VALUE and `X-User-Id: ID`, else 401/403.
Prints `PORT <n>` on stdout once the listening socket is bound. Exits when its stdin closes, so a
test process that dies never leaves it behind.
"""
import argparse
import asyncio
import json
import os
import socket
import sys
import threading

import uvicorn
from pydantic import BaseModel

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError


class Sum(BaseModel):
    total: int
    operands: list[int]


def big_text(size: int) -> str:
    """A deterministic text of exactly `size` characters: `<offset>:` markers, so a cut shows."""
    parts = []
    length = 0
    while length < size:
        piece = f"{length}:"
        parts.append(piece)
        length += len(piece)
    return "".join(parts)[:size]


def build_server() -> MCPServer:
    server = MCPServer(name="bridge-peer")

    @server.tool(description="Echo the text back.")
    def echo(text: str) -> str:
        return text

    @server.tool(description="Add two integers, as a structured result.")
    def add(a: int, b: int) -> Sum:
        return Sum(total=a + b, operands=[a, b])

    @server.tool(description="Always fails with the given reason.")
    def fail(reason: str) -> str:
        raise ToolError(reason)

    cancelled = {"count": 0}

    @server.tool(description="Sleep for the given seconds, then answer.")
    async def sleep(seconds: float) -> str:
        try:
            await asyncio.sleep(seconds)
        except asyncio.CancelledError:
            cancelled["count"] += 1
            raise
        return f"slept {seconds}"

    @server.tool(description="How many sleep calls were cancelled by their client.")
    def cancelled_sleeps() -> int:
        return cancelled["count"]

    @server.tool(description="A text of exactly `size` characters.")
    def big(size: int) -> str:
        return big_text(size)

    return server


class HeaderCheck:
    """ASGI middleware: answers 401 without the expected auth header, 403 without the expected user."""

    def __init__(self, app, header: str, value: str, user_id: str):
        self.app = app
        self.header = header.lower().encode()
        self.value = value.encode()
        self.user_id = user_id.encode()

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            headers = dict(scope["headers"])
            status = None
            if headers.get(self.header) != self.value:
                status = 401
            elif headers.get(b"x-user-id") != self.user_id:
                status = 403
            if status is not None:
                body = json.dumps({"error": "unauthorized" if status == 401 else "forbidden"}).encode()
                await send({"type": "http.response.start", "status": status,
                            "headers": [(b"content-type", b"application/json")]})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


async def garbage_app(scope, receive, send):
    """Answers every HTTP request with a 200 HTML page: not an MCP service."""
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/html")]})
    await send({"type": "http.response.body", "body": b"<html>not an MCP service</html>"})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--transport", choices=["streamable-http", "sse", "garbage"], required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--auth-header", required=True)
    parser.add_argument("--auth-value", required=True)
    parser.add_argument("--user-id", required=True)
    parser.add_argument("--json-response", action="store_true",
                        help="streamable-http: answer POSTs with application/json instead of an SSE stream")
    args = parser.parse_args()

    server = build_server()
    if args.transport == "garbage":
        app = garbage_app
    elif args.transport == "streamable-http":
        app = server.streamable_http_app(json_response=args.json_response)
    else:
        app = server.sse_app()
    if args.transport != "garbage":
        app = HeaderCheck(app, args.auth_header, args.auth_value, args.user_id)

    def exit_when_parent_goes() -> None:
        while sys.stdin.buffer.read(4096):
            pass
        os._exit(0)

    threading.Thread(target=exit_when_parent_goes, daemon=True).start()

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted sockets inherit it: no Nagle delay on kept-alive connections.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", args.port))
    sock.listen(128)
    print(f"PORT {sock.getsockname()[1]}", flush=True)
    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    asyncio.run(uvicorn.Server(config).serve(sockets=[sock]))


if __name__ == "__main__":
    main()
