"""A lab real server: answers every TCP (HTTP) request or UDP datagram with its host name.

``--proto echo`` serves long-lived TCP connections instead: each line
received is sent back as ``<host name> <the line>``, so a client that keeps a
connection open knows at every message which server holds it (the load
generator's survivors, lvslab.loadgen).

Binding to the wildcard address means it answers on whatever address the
packet was sent to, the VIP included in DR and TUN modes.
"""

from __future__ import annotations

import argparse
import contextlib
import http.server
import socket
import socketserver
from pathlib import Path


class _Handler(http.server.BaseHTTPRequestHandler):
    name = "?"

    def do_GET(self):
        body = f"{self.name}\n".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Lab-Client", self.client_address[0])
        # The address the request reached: tells apart the destinations of one host.
        self.send_header("X-Lab-Local", self.connection.getsockname()[0].removeprefix("::ffff:"))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        pass


class _DualStackHTTP(socketserver.ThreadingMixIn, http.server.HTTPServer):
    address_family = socket.AF_INET6
    daemon_threads = True
    # socketserver's default backlog of 5 overflowed under the load
    # generator's 50 connections a second whenever the guest stalled for a
    # moment: the server dropped the SYNs, and failover tests saw failures
    # that the director did not cause.
    request_queue_size = 128

    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()


class _EchoHandler(socketserver.StreamRequestHandler):
    name = "?"

    def handle(self):
        # One small reply per line: without Nagle it leaves at once, so the
        # client's timeout measures the path, not the stack's batching.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        prefix = f"{self.name} ".encode()
        # A client that goes away abruptly is what failover tests do: not an error to log.
        with contextlib.suppress(ConnectionError):
            for line in self.rfile:
                self.wfile.write(prefix + line.rstrip(b"\r\n") + b"\n")


class _DualStackEcho(socketserver.ThreadingTCPServer):
    address_family = socket.AF_INET6
    daemon_threads = True
    allow_reuse_address = True
    # Every connection of a load test arrives at once (see _DualStackHTTP).
    request_queue_size = 128

    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()


def serve_udp(name: str, port: int, ready: Path) -> None:
    sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    sock.bind(("::", port))
    ready.touch()
    while True:
        _dummy, peer = sock.recvfrom(2048)
        sock.sendto(f"{name}\n".encode(), peer)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--name", required=True)
    parser.add_argument("--proto", choices=("tcp", "udp", "echo"), default="tcp")
    parser.add_argument("--port", type=int, default=80)
    parser.add_argument("--ready", type=Path, required=True)
    args = parser.parse_args()
    if args.proto == "udp":
        serve_udp(args.name, args.port, args.ready)
        return
    if args.proto == "echo":
        _EchoHandler.name = args.name
        server = _DualStackEcho(("::", args.port), _EchoHandler)
        args.ready.touch()
        server.serve_forever()
        return
    _Handler.name = args.name
    server = _DualStackHTTP(("::", args.port), _Handler)
    args.ready.touch()
    server.serve_forever()


if __name__ == "__main__":
    main()
