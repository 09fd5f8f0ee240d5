#!/usr/bin/env python3
"""A hostile upstream MCP service for the bridge's bound tests: plain asyncio HTTP/1.1, no SDK, so it
can send what no well-behaved server would.

  hostile_peer.py [--port N] [--json-response] [--cert PEM --key PEM]

Streamable HTTP on POST /mcp (answers as an SSE stream, or as application/json with --json-response)
and the older HTTP+SSE transport on GET /sse + POST /messages?session=N. Tools (any arguments):

  echo {"text"}          an ordinary answer
  endless_line           an answer whose `data:` line (or JSON body) never ends
  endless_events         small notification events forever, never the answer
  huge                   a 100 MiB answer (one JSON body, or one event)
  idle                   starts answering, then sends nothing more
  keepalive {"seconds"}  sends a comment every 0.3 s for that long, then answers

GET /stats answers {"written": {tool: bytes}}: what each hostile answer managed to write before its
reader went away. With --cert and --key it speaks https. Prints `PORT <n>` once bound; exits when
its stdin closes.
"""
import argparse
import asyncio
import json
import os
import socket
import ssl
import sys
import threading

HUGE_BYTES = 100 * 1024 * 1024
CHUNK = b"x" * 65536

stats = {}
legacy_streams = {}  # session number -> asyncio.StreamWriter of its GET stream
next_session = [0]


def count(tool, n):
    stats[tool] = stats.get(tool, 0) + n


async def read_request(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    body = await reader.readexactly(length) if length else b""
    return method, target, headers, body


def head(status, content_type, extra=()):
    reason = {200: "OK", 202: "Accepted", 404: "Not Found"}.get(status, "OK")
    lines = [f"HTTP/1.1 {status} {reason}", f"Content-Type: {content_type}", "Cache-Control: no-cache", "Connection: close"]
    lines += list(extra)
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def response(id_, result):
    return json.dumps({"jsonrpc": "2.0", "id": id_, "result": result})


def tool_result(text):
    return {"content": [{"type": "text", "text": text}], "isError": False}


def initialize_result():
    return {"protocolVersion": "2025-06-18", "capabilities": {"tools": {}}, "serverInfo": {"name": "hostile", "version": "1"}}


async def write_endless(writer, tool, prefix, piece):
    """Writes `prefix`, then `piece` forever, until the reader goes away."""
    writer.write(prefix)
    count(tool, len(prefix))
    while True:
        writer.write(piece)
        count(tool, len(piece))
        await writer.drain()


async def write_huge(writer, tool, prefix, suffix):
    """Writes `prefix`, HUGE_BYTES of text, then `suffix`."""
    writer.write(prefix)
    written = 0
    while written < HUGE_BYTES:
        writer.write(CHUNK)
        written += len(CHUNK)
        count(tool, len(CHUNK))
        await writer.drain()
    writer.write(suffix)
    await writer.drain()


async def answer_on_stream(writer, tool, id_, arguments, as_event):
    """Writes the answer to a tools/call: an SSE event (as_event) or a JSON body."""
    def frame(text):
        return f"event: message\ndata: {text}\n\n".encode() if as_event else text.encode()

    progress = json.dumps({"jsonrpc": "2.0", "method": "notifications/message", "params": {"level": "info", "data": "tick"}})
    opening = '{"jsonrpc":"2.0","id":' + json.dumps(id_) + ',"result":{"content":[{"type":"text","text":"'
    closing = '"}],"isError":false}}'
    if tool == "echo":
        writer.write(frame(response(id_, tool_result(str(arguments.get("text", ""))))))
    elif tool == "endless_line":
        await write_endless(writer, tool, (("event: message\ndata: " if as_event else "") + opening).encode(), CHUNK)
    elif tool == "endless_events":
        await write_endless(writer, tool, b"", f"event: message\ndata: {progress}\n\n".encode() * 64)
    elif tool == "huge":
        await write_huge(writer, tool, (("event: message\ndata: " if as_event else "") + opening).encode(),
                         (closing + ("\n\n" if as_event else "")).encode())
    elif tool == "idle":
        writer.write(b": started\n\n" if as_event else opening.encode())
        await writer.drain()
        await asyncio.sleep(3600)
    elif tool == "keepalive":
        seconds = float(arguments.get("seconds", 1))
        loop = asyncio.get_running_loop()
        end = loop.time() + seconds
        while loop.time() < end:
            writer.write(b": keepalive\n\n" if as_event else b" ")
            await writer.drain()
            await asyncio.sleep(0.3)
        writer.write(frame(response(id_, tool_result(f"kept alive {seconds}"))))
    else:
        writer.write(frame(json.dumps({"jsonrpc": "2.0", "id": id_, "error": {"code": -32602, "message": "unknown tool"}})))
    await writer.drain()


async def streamable(writer, body, json_response):
    message = json.loads(body)
    method = message.get("method")
    id_ = message.get("id")
    if id_ is None:
        writer.write(head(202, "application/json"))
        return
    if method == "initialize":
        payload = response(id_, initialize_result())
        if json_response:
            writer.write(head(200, "application/json", ["Mcp-Session-Id: hostile-1"]) + payload.encode())
        else:
            writer.write(head(200, "text/event-stream", ["Mcp-Session-Id: hostile-1"]) + f"event: message\ndata: {payload}\n\n".encode())
        return
    params = message.get("params") or {}
    tool = params.get("name", "")
    # The keep-alive padding of a JSON answer is whitespace before the body: still one valid JSON text.
    writer.write(head(200, "application/json" if json_response else "text/event-stream", ["Mcp-Session-Id: hostile-1"]))
    await answer_on_stream(writer, tool, id_, params.get("arguments") or {}, as_event=not json_response)


async def legacy_stream(reader, writer):
    next_session[0] += 1
    session = next_session[0]
    legacy_streams[session] = writer
    writer.write(head(200, "text/event-stream") + f"event: endpoint\ndata: /messages?session={session}\n\n".encode())
    await writer.drain()
    try:
        # The stream lives until the client closes it.
        while await reader.read(4096):
            pass
    finally:
        legacy_streams.pop(session, None)


async def legacy_message(writer, target, body):
    session = int(target.split("session=", 1)[1]) if "session=" in target else -1
    stream = legacy_streams.get(session)
    if stream is None:
        writer.write(head(404, "text/plain") + b"no such session")
        return
    writer.write(head(202, "text/plain") + b"Accepted")
    await writer.drain()
    message = json.loads(body)
    id_ = message.get("id")
    if id_ is None:
        return
    if message.get("method") == "initialize":
        stream.write(f"event: message\ndata: {response(id_, initialize_result())}\n\n".encode())
        await stream.drain()
        return
    params = message.get("params") or {}
    tool = params.get("name", "")
    # The answer goes out on the event stream, in the background: the POST is done.
    asyncio.get_running_loop().create_task(guarded(answer_on_stream(stream, tool, id_, params.get("arguments") or {}, as_event=True)))


async def guarded(work):
    try:
        await work
    except (ConnectionError, asyncio.IncompleteReadError, RuntimeError):
        pass


async def handle(reader, writer, json_response):
    try:
        method, target, _headers, body = await read_request(reader)
        if method == "GET" and target.startswith("/stats"):
            payload = json.dumps({"written": stats}).encode()
            writer.write(head(200, "application/json", [f"Content-Length: {len(payload)}"]) + payload)
        elif method == "GET" and target.startswith("/sse"):
            await legacy_stream(reader, writer)
        elif method == "POST" and target.startswith("/messages"):
            await legacy_message(writer, target, body)
        elif method == "POST" and target.startswith("/mcp"):
            await streamable(writer, body, json_response)
        elif method == "DELETE":
            writer.write(head(200, "application/json"))
        else:
            writer.write(head(404, "text/plain"))
        await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError, RuntimeError):
        pass
    finally:
        try:
            writer.close()
        except Exception:
            pass


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--json-response", action="store_true")
    parser.add_argument("--cert")
    parser.add_argument("--key")
    args = parser.parse_args()
    tls = None
    if args.cert:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(args.cert, args.key)

    def exit_when_parent_goes():
        while sys.stdin.buffer.read(4096):
            pass
        os._exit(0)

    threading.Thread(target=exit_when_parent_goes, daemon=True).start()

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    sock.listen(128)
    print(f"PORT {sock.getsockname()[1]}", flush=True)

    async def serve():
        server = await asyncio.start_server(lambda r, w: handle(r, w, args.json_response), sock=sock, limit=1 << 20, ssl=tls)
        async with server:
            await server.serve_forever()

    asyncio.run(serve())


if __name__ == "__main__":
    main()
