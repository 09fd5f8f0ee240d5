#!/usr/bin/env python3
"""A loopback TCP peer for the transport tests.

Modes: `echo` sends back every byte; `silent` accepts and never sends a byte (for handshake timeouts).
With --cert/--key the echo runs over TLS. Prints `PORT <n>` once listening; runs until killed.
"""
import argparse
import socket
import ssl
import sys
import threading


def serve_echo(conn, context):
    try:
        if context is not None:
            conn = context.wrap_socket(conn, server_side=True)
        while True:
            data = conn.recv(65536)
            if not data:
                break
            conn.sendall(data)
    except (OSError, ssl.SSLError):
        pass
    finally:
        try:
            conn.close()
        except OSError:
            pass


def serve_silent(conn):
    try:
        while conn.recv(65536):
            pass
    except OSError:
        pass
    finally:
        conn.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=["echo", "silent"], default="echo")
    parser.add_argument("--cert")
    parser.add_argument("--key")
    args = parser.parse_args()
    context = None
    if args.cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.cert, args.key)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    print(f"PORT {listener.getsockname()[1]}", flush=True)
    while True:
        conn, _ = listener.accept()
        target = serve_silent if args.mode == "silent" else (lambda c: serve_echo(c, context))
        threading.Thread(target=target, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
