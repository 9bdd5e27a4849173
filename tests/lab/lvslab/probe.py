"""Client traffic for the lab: N fresh connections to a target, tallied by which server answered."""

from __future__ import annotations

import collections
import http.client
import json
import socket
import sys
from urllib.parse import urlsplit


def _host_port(target: str, default_port: int) -> tuple[str, int]:
    parts = urlsplit(target if "//" in target else f"//{target}")
    return parts.hostname, parts.port or default_port


def once(target: str, timeout: float = 3.0) -> tuple[str, str | None]:
    """Send one request (a new connection each time): who answered, and (HTTP) whom it saw as the client."""
    if target.startswith("udp://"):
        host, port = _host_port(target, 53)
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family, socket.SOCK_DGRAM) as sock:
            sock.settimeout(timeout)
            sock.sendto(b"who\n", (host, port))
            return sock.recv(2048).decode().strip(), None
    host, port = _host_port(target, 80)
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", "/")
        response = conn.getresponse()
        return response.read().decode().strip(), response.getheader("X-Lab-Client")
    finally:
        conn.close()


def tally(target: str, count: int) -> dict:
    seen: collections.Counter = collections.Counter()
    peers: collections.Counter = collections.Counter()
    order = []
    errors = collections.Counter()
    for _dummy in range(count):
        try:
            who, peer = once(target)
        except OSError as exc:
            errors[type(exc).__name__] += 1
            order.append("!")
            continue
        seen[who] += 1
        if peer:
            # IPv4-mapped when the server's dual-stack socket took an IPv4 connection.
            peers[peer.removeprefix("::ffff:")] += 1
        order.append(who)
    return {
        "target": target,
        "count": count,
        "servers": dict(seen),
        "peers": dict(peers),
        "order": order,
        "errors": dict(errors),
    }


if __name__ == "__main__":
    json.dump(tally(sys.argv[1], int(sys.argv[2])), sys.stdout)
