"""Who answers ARP (IPv4) or neighbour solicitation (IPv6) for an address, seen from one lab host.

Sends one request on an interface and lists the link-layer address of every
answer within a second: in DR and TUN only the director may answer for a VIP.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import struct
import subprocess
import sys
import time

ETH_P_ARP = 0x0806
SO_BINDTODEVICE = 25


def _mac_text(raw: bytes) -> str:
    return ":".join(f"{b:02x}" for b in raw)


def _mac_of(interface: str) -> bytes:
    # Not from /sys: nsenter --net keeps the sysfs of the namespace it came from.
    with socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ARP)) as sock:
        sock.bind((interface, 0))
        return sock.getsockname()[4]


def _ipv4_of(interface: str) -> bytes:
    out = subprocess.run(
        ["ip", "-4", "-o", "addr", "show", "dev", interface], capture_output=True, text=True, check=True
    ).stdout
    return ipaddress.IPv4Address(out.split()[3].split("/")[0]).packed


def arp(interface: str, target: str, seconds: float = 1.0) -> list[str]:
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ARP))
    sock.bind((interface, 0))
    mac = sock.getsockname()[4]
    wanted = ipaddress.IPv4Address(target).packed
    request = struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + mac + _ipv4_of(interface) + b"\0" * 6 + wanted
    sock.send(b"\xff" * 6 + mac + struct.pack("!H", ETH_P_ARP) + request)
    return _collect(sock, seconds, lambda f: _arp_reply(f, wanted))


def _arp_reply(frame: bytes, wanted: bytes) -> str | None:
    if len(frame) < 42 or frame[12:14] != b"\x08\x06":
        return None
    opcode = struct.unpack("!H", frame[20:22])[0]
    if opcode == 2 and frame[28:32] == wanted:
        return _mac_text(frame[22:28])
    return None


def solicit(interface: str, target: str, seconds: float = 1.0) -> list[str]:
    address = ipaddress.IPv6Address(target)
    group = ipaddress.IPv6Address(int(ipaddress.IPv6Address("ff02::1:ff00:0")) | (int(address) & 0xFFFFFF))
    sock = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    sock.setsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, interface.encode())
    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, 255)
    mac = _mac_of(interface)
    # Type 135, code 0, checksum (the kernel fills it in), reserved, target, source link-layer option.
    message = struct.pack("!BBHI", 135, 0, 0, 0) + address.packed + bytes([1, 1]) + mac
    sock.sendto(message, (str(group), 0, 0, socket.if_nametoindex(interface)))
    return _collect(sock, seconds, lambda m: _advert(m, address.packed))


def _advert(message: bytes, wanted: bytes) -> str | None:
    if len(message) < 24 or message[0] != 136 or message[8:24] != wanted:
        return None
    options = message[24:]
    while len(options) >= 8 and options[1]:
        if options[0] == 2:
            return _mac_text(options[2:8])
        options = options[options[1] * 8 :]
    return "?"


def _collect(sock: socket.socket, seconds: float, parse) -> list[str]:
    answers = set()
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            data = sock.recv(2048)
        except TimeoutError:
            break
        who = parse(data)
        if who:
            answers.add(who)
    return sorted(answers)


if __name__ == "__main__":
    interface, target = sys.argv[1], sys.argv[2]
    ask = solicit if ipaddress.ip_address(target).version == 6 else arp
    json.dump(ask(interface, target), sys.stdout)
