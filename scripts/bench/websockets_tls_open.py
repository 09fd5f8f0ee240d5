"""The peer of `bench tls-open`: the PyPI `websockets` asyncio client with Python's `ssl` opens N wss://
sessions (at most --concurrency handshakes at once), closes them, and opens them again; prints JSON with the
wall time and this process's CPU time of each phase. The client uses one SSLContext, as an application
would; Python's ssl module resumes a session only when one is passed explicitly, which websockets does not.
"""
import argparse
import asyncio
import json
import resource
import ssl
import time

import websockets


def cpu_ms():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return (usage.ru_utime + usage.ru_stime) * 1000


async def open_all(url, context, sessions, concurrency):
    gate = asyncio.Semaphore(concurrency)

    async def one():
        async with gate:
            return await websockets.connect(url, ssl=context, ping_interval=None, max_size=None, compression=None)

    cpu_before, start = cpu_ms(), time.monotonic()
    opened = await asyncio.gather(*(one() for _ in range(sessions)))
    seconds, cpu = time.monotonic() - start, cpu_ms() - cpu_before
    await asyncio.gather(*(session.close() for session in opened))
    return {"seconds": seconds, "cpuMilliseconds": cpu}


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--ca", required=True)
    parser.add_argument("--sessions", type=int, default=10000)
    parser.add_argument("--concurrency", type=int, default=256)
    args = parser.parse_args()
    context = ssl.create_default_context(cafile=args.ca)
    first = await open_all(args.url, context, args.sessions, args.concurrency)
    again = await open_all(args.url, context, args.sessions, args.concurrency)
    print(json.dumps({"open": first, "reopen": again}))


asyncio.run(main())
