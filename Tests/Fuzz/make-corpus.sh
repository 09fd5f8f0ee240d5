#!/usr/bin/env bash
# Writes the seed corpus of each fuzz target into Tests/Fuzz/corpus/<target>/: a few small valid and edge inputs
# from which the fuzzer mutates. Each seed starts with the setting bytes its target reads (see the target's
# header comment); the rest is what the peer sends. Run again after changing a target's settings layout.
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p corpus
cd corpus

seed() { # seed <target> <name> <printf format>
    mkdir -p "$1"
    printf '%b' "$3" >"$1/$2"
}

# WebSocketFrame settings: role (0 client, 1 server), local close after piece N, three piece lengths - 1,
# a 4-byte masking key.
client='\x00\x00\x02\x06\x00\x37\xfa\x21\x3d'
server='\x01\x00\x02\x06\x00\x37\xfa\x21\x3d'
seed WebSocketFrame client-text "${client}"'\x81\x05Hello'
seed WebSocketFrame server-masked-text "${server}"'\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58'
seed WebSocketFrame fragmented-text-with-ping "${client}"'\x01\x03Hel\x89\x05Hello\x80\x02lo'
seed WebSocketFrame utf8-split-across-fragments "${client}"'\x01\x02\xe2\x82\x80\x01\xac'
seed WebSocketFrame close-with-reason "${client}"'\x88\x06\x03\xe8bye!'
seed WebSocketFrame empty-close "${server}"'\x88\x80\x01\x02\x03\x04'
seed WebSocketFrame ping-pong "${client}"'\x89\x04ping\x8a\x00\x82\x03\x00\x01\x02'
seed WebSocketFrame binary-16bit-length-at-limit "${client}"'\x82\x7e\x00\x40'"$(printf 'x%.0s' {1..64})"
seed WebSocketFrame binary-64bit-length-over-limit "${client}"'\x82\x7f\x00\x00\x00\x00\x00\x00\x00\x41'
seed WebSocketFrame local-close-then-peer-close '\x00\x01\x02\x02\x02\x00\x00\x00\x00\x81\x02hi\x88\x02\x03\xe8'
seed WebSocketFrame reserved-bits "${client}"'\xc1\x00'
seed WebSocketFrame masked-frame-from-server "${client}"'\x81\x80\x00\x00\x00\x00'

# HTTPHead settings: three piece lengths - 1.
pieces='\x07\x00\x1f'
accept='Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n'
seed HTTPHead upgrade-101 "${pieces}"'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'"${accept}"'\r\n\x81\x02hi'
seed HTTPHead upgrade-101-subprotocol "${pieces}"'HTTP/1.1 101 Switching Protocols\r\nupgrade: WebSocket\r\nconnection: keep-alive, Upgrade\r\n'"${accept}"'Sec-WebSocket-Protocol: mcp\r\n\r\n'
seed HTTPHead upgrade-101-wrong-accept "${pieces}"'HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: AAAA\r\n\r\n'
seed HTTPHead unauthorized-401 "${pieces}"'HTTP/1.1 401 Unauthorized\r\nContent-Length: 5\r\n\r\nnope!'
seed HTTPHead request-with-query "${pieces}"'GET /mcp/?token=abc&x=%41%zz HTTP/1.1\r\nHost: xiaozhi.example\r\nUpgrade: websocket\r\n\r\n'
seed HTTPHead malformed-status "${pieces}"'HTTP/1.1 2x0 Huh\r\nA b: c\r\n\r\n'

# UpstreamBody settings: mode (0 HTTP response, 1 event stream alone), most bytes per body step - 1,
# three piece lengths - 1.
response='\x00\x0f\x05\x00\x10'
stream='\x01\x00\x03\x00\x07'
seed UpstreamBody chunked-event-stream "${response}"'HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n1e\r\nevent: message\ndata: {"a":1}\n\n\r\n0\r\n\r\n'
seed UpstreamBody content-length-json "${response}"'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 36\r\n\r\n{"jsonrpc":"2.0","id":1,"result":{}}'
seed UpstreamBody chunked-extension-trailer "${response}"'HTTP/1.1 202 Accepted\r\nTransfer-Encoding: gzip, chunked\r\nConnection: close\r\n\r\n4;ext=1\r\ndata\r\n3\r\n: x\r\n0\r\nX-Trailer: 1\r\n\r\n'
seed UpstreamBody until-close "${response}"'HTTP/1.0 200 OK\r\nContent-Type: text/event-stream\r\n\r\ndata: a\r\n\r\ndata: b\n\n'
seed UpstreamBody no-content-204 "${response}"'HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n'
seed UpstreamBody conflicting-lengths "${response}"'HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\nhello!'
seed UpstreamBody event-stream-line-endings "${stream}"': comment\r\nid: 7\r\nevent: endpoint\rdata: /messages?session=1\r\rdata:  two\ndata\n\n'
seed UpstreamBody event-stream-over-limits "${stream}"'data: '"$(printf 'y%.0s' {1..60})"'\n\n'
seed UpstreamBody signed-chunk-size "${response}"'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n+0\r\n\r\n'

# JSONRPC: the message text alone.
seed JSONRPC request-tools-call '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","arguments":{"a":[1,-2.5e+3,true,null]}}}'
seed JSONRPC request-string-id-escapes '{"jsonrpc":"2.0","id":"a\\u00e9\\ud83d\\ude00","method":"initialize","params":{"protocolVersion":"2024-11-05"}}'
seed JSONRPC notification '{"jsonrpc":"2.0","method":"notifications/initialized"}'
seed JSONRPC response-result ' {"id":12345678901234567890123,"result":{"tools":[]},"jsonrpc":"2.0"} '
seed JSONRPC response-error '{"jsonrpc":"2.0","id":null,"error":{"code":-32601,"message":"Method not found","data":[0]}}'
seed JSONRPC batch '[{"jsonrpc":"2.0","method":"a"},{"jsonrpc":"2.0","id":2,"method":"b"}]'
seed JSONRPC null-id-request '{"jsonrpc":"2.0","id":null,"method":"ping"}'
seed JSONRPC truncated '{"jsonrpc":"2.0","id":1,"method":"tools/li'

# WebSocketURL: the address text alone.
seed WebSocketURL xiaozhi-wss 'wss://api.xiaozhi.me/mcp/?token=eyJhbGciOiJFUzI1NiJ9.e30.c2ln'
seed WebSocketURL ipv6-port-query 'ws://[::ffff:127.0.0.1]:8080?a=1&flag&b=2'
seed WebSocketURL user-info-refused ' wss://user:pass@host.example/mcp/?token=x '
seed WebSocketURL fragment-refused 'ws://host/path#frag?x=1'
seed WebSocketURL http-scheme-refused 'https://host.example/mcp'
