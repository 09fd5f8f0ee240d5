#!/usr/bin/env python3
"""Peer for `bench amqp-publish` (Sources/Bench/AMQPBench.swift): confirmed publishes of persistent messages with the pika client.

Modes:
  blocking   BlockingConnection + confirm_delivery: one publish, one confirm round trip (pika's usual use).
  pipelined  SelectConnection with confirms and a window of unconfirmed messages (pika at its fastest).
Prints one JSON line: {"mode": ..., "messages": N, "seconds": S, "rate": N/S, "confirmed": C}.
"""
import argparse
import json
import time

import pika


def blocking(params, queue, count, body):
    connection = pika.BlockingConnection(params)
    channel = connection.channel()
    channel.confirm_delivery()
    props = pika.BasicProperties(delivery_mode=2, content_type="application/octet-stream")
    confirmed = 0
    start = time.perf_counter()
    for _ in range(count):
        channel.basic_publish("", queue, body, props, mandatory=True)  # raises on nack or return
        confirmed += 1
    elapsed = time.perf_counter() - start
    connection.close()
    return elapsed, confirmed


def pipelined(params, queue, count, body, window):
    state = {"sent": 0, "confirmed": 0, "outstanding": 0, "start": 0.0, "end": 0.0}
    props = pika.BasicProperties(delivery_mode=2, content_type="application/octet-stream")

    def fill(channel):
        while state["sent"] < count and state["outstanding"] < window:
            channel.basic_publish("", queue, body, props, mandatory=True)
            state["sent"] += 1
            state["outstanding"] += 1

    def on_confirm(frame, channel, connection, last_tag=[0]):
        tag = frame.method.delivery_tag
        acked = tag - last_tag[0] if frame.method.multiple else 1
        last_tag[0] = max(last_tag[0], tag)
        state["outstanding"] -= acked
        if isinstance(frame.method, pika.spec.Basic.Ack):
            state["confirmed"] += acked
        if state["sent"] >= count and state["outstanding"] <= 0:
            state["end"] = time.perf_counter()
            connection.close()
        else:
            fill(channel)

    def on_channel(channel, connection):
        def on_select(_):
            state["start"] = time.perf_counter()
            fill(channel)

        channel.confirm_delivery(lambda frame: on_confirm(frame, channel, connection), callback=on_select)

    def on_open(connection):
        connection.channel(on_open_callback=lambda channel: on_channel(channel, connection))

    connection = pika.SelectConnection(params, on_open_callback=on_open,
                                       on_close_callback=lambda c, reason: c.ioloop.stop())
    connection.ioloop.start()
    return state["end"] - state["start"], state["confirmed"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--queue", required=True)
    parser.add_argument("--messages", type=int, required=True)
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--mode", choices=["blocking", "pipelined"], default="blocking")
    parser.add_argument("--window", type=int, default=1000)
    args = parser.parse_args()
    params = pika.URLParameters(args.url)
    body = b"x" * args.size
    if args.mode == "blocking":
        seconds, confirmed = blocking(params, args.queue, args.messages, body)
    else:
        seconds, confirmed = pipelined(params, args.queue, args.messages, body, args.window)
    print(json.dumps({"mode": args.mode, "messages": args.messages, "seconds": seconds,
                      "rate": args.messages / seconds if seconds > 0 else 0, "confirmed": confirmed}))


if __name__ == "__main__":
    main()
