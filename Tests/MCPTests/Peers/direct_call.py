#!/usr/bin/env python3
"""Calls one tool of an MCP service directly, speaking raw JSON-RPC over HTTP with the standard
library only, and prints the `result` (or `error`) object of the tools/call response as JSON.

  direct_call.py --transport streamable-http|sse --url URL --header NAME:VALUE ... --tool NAME --arguments JSON
"""
import argparse
import http.client
import json
import sys
import urllib.parse

PROTOCOL = "2025-06-18"


def connect(url):
    parts = urllib.parse.urlsplit(url)
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=60), parts


def sse_events(response):
    """Yields (event, data) from a text/event-stream response."""
    event, data = "message", []
    while True:
        line = response.readline()
        if not line:
            return
        line = line.decode().rstrip("\r\n")
        if line == "":
            if data:
                yield event, "\n".join(data)
            event, data = "message", []
        elif line.startswith(":"):
            continue
        else:
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "event":
                event = value
            elif field == "data":
                data.append(value)


def streamable_post(url, headers, message, session_id=None):
    conn, parts = connect(url)
    h = dict(headers)
    h.update({"Content-Type": "application/json", "Accept": "application/json, text/event-stream",
              "MCP-Protocol-Version": PROTOCOL})
    if session_id:
        h["Mcp-Session-Id"] = session_id
    conn.request("POST", parts.path or "/", body=json.dumps(message), headers=h)
    response = conn.getresponse()
    if response.status >= 300:
        raise SystemExit(f"HTTP {response.status}")
    sid = response.getheader("mcp-session-id") or session_id
    if "id" not in message:
        response.read()
        return sid, None
    if response.getheader("content-type", "").startswith("text/event-stream"):
        for _, data in sse_events(response):
            msg = json.loads(data)
            if msg.get("id") == message["id"]:
                return sid, msg
        raise SystemExit("stream ended without a response")
    return sid, json.loads(response.read())


def call_streamable(url, headers, tool, arguments):
    init = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": {"protocolVersion": PROTOCOL, "capabilities": {}, "clientInfo": {"name": "direct", "version": "1"}}}
    sid, _ = streamable_post(url, headers, init)
    streamable_post(url, headers, {"jsonrpc": "2.0", "method": "notifications/initialized"}, sid)
    _, response = streamable_post(url, headers, {"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                                                 "params": {"name": tool, "arguments": arguments}}, sid)
    return response


def call_sse(url, headers, tool, arguments):
    conn, parts = connect(url)
    h = dict(headers)
    h["Accept"] = "text/event-stream"
    conn.request("GET", parts.path, headers=h)
    response = conn.getresponse()
    if response.status >= 300:
        raise SystemExit(f"HTTP {response.status}")
    events = sse_events(response)
    endpoint = None
    for event, data in events:
        if event == "endpoint":
            endpoint = urllib.parse.urljoin(url, data)
            break

    def post(message):
        c, p = connect(endpoint)
        hh = dict(headers)
        hh["Content-Type"] = "application/json"
        c.request("POST", p.path + ("?" + p.query if p.query else ""), body=json.dumps(message), headers=hh)
        r = c.getresponse()
        r.read()
        if r.status >= 300:
            raise SystemExit(f"HTTP {r.status}")

    def answer(request_id):
        for event, data in events:
            if event == "message":
                msg = json.loads(data)
                if msg.get("id") == request_id:
                    return msg
        raise SystemExit("stream ended without a response")

    post({"jsonrpc": "2.0", "id": 1, "method": "initialize",
          "params": {"protocolVersion": PROTOCOL, "capabilities": {}, "clientInfo": {"name": "direct", "version": "1"}}})
    answer(1)
    post({"jsonrpc": "2.0", "method": "notifications/initialized"})
    post({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": tool, "arguments": arguments}})
    return answer(2)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--transport", choices=["streamable-http", "sse"], required=True)
    parser.add_argument("--url", required=True)
    parser.add_argument("--header", action="append", default=[])
    parser.add_argument("--tool", required=True)
    parser.add_argument("--arguments", default="{}")
    args = parser.parse_args()
    headers = dict(h.split(":", 1) for h in args.header)
    call = call_streamable if args.transport == "streamable-http" else call_sse
    response = call(args.url, headers, args.tool, json.loads(args.arguments))
    body = response["result"] if "result" in response else {"error": response["error"]}
    sys.stdout.write(json.dumps(body))


if __name__ == "__main__":
    main()
