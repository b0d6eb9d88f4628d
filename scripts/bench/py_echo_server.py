#!/usr/bin/env python3
"""CPython echo servers, the baselines for scripts/bench/echo_compare.

Usage:
    python3 scripts/bench/py_echo_server.py --impl asyncio|uvloop \
        --api protocol|streams [--host 127.0.0.1] --port P [--cert FILE --key FILE]

protocol  an asyncio.Protocol that echoes in data_received with
          transport.write (the fastest way to echo in asyncio);
streams   asyncio.start_server with the handler
              while data := await reader.read(65536):
                  writer.write(data)
                  await writer.drain()

--impl uvloop runs the same code on uvloop's event loop. The server prints
nothing except errors and runs until SIGTERM or SIGINT, then closes the
listening socket and exits with status 0.
"""

import argparse
import asyncio
import signal
import ssl
import sys


class EchoProtocol(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.transport.write(data)

    def eof_received(self):
        return False  # close the transport

    def connection_lost(self, exc):
        self.transport = None


async def echo_stream(reader, writer):
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


async def start(api, host, port, context):
    if api == "protocol":
        loop = asyncio.get_running_loop()
        return await loop.create_server(EchoProtocol, host, port, ssl=context)
    return await asyncio.start_server(echo_stream, host, port, ssl=context)


async def serve(api, host, port, context):
    loop = asyncio.get_running_loop()
    stop = loop.create_future()

    def request_stop():
        if not stop.done():
            stop.set_result(None)

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, request_stop)
    server = await start(api, host, port, context)
    await stop
    server.close()
    await server.wait_closed()


def loop_factory(impl):
    if impl == "uvloop":
        import uvloop
        return uvloop.new_event_loop
    return asyncio.new_event_loop


def run(main, impl):
    factory = loop_factory(impl)
    if hasattr(asyncio, "Runner"):  # Python 3.11+
        with asyncio.Runner(loop_factory=factory) as runner:
            runner.run(main)
        return
    loop = factory()
    asyncio.set_event_loop(loop)
    try:
        loop.run_until_complete(main)
    finally:
        loop.close()


def parse_args(argv):
    p = argparse.ArgumentParser(description="asyncio / uvloop echo server for benchmarks.")
    p.add_argument("--impl", choices=("asyncio", "uvloop"), default="asyncio")
    p.add_argument("--api", choices=("protocol", "streams"), default="protocol")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--cert", help="serve TLS with this certificate (PEM)")
    p.add_argument("--key", help="the certificate's private key (PEM)")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    context = None
    if args.cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.cert, args.key)
    try:
        run(serve(args.api, args.host, args.port, context), args.impl)
    except OSError as e:
        print("py_echo_server: cannot listen on %s port %d: %s" % (args.host, args.port, e),
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
