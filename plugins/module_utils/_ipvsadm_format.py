# Copyright (c) 2026 lvs.ipvs developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The IPVS table as `ipvsadm -Sn` (ipvsadm-save) writes it.

Input is the netlink layer's dicts (a service with a "destinations" list).
The option order follows ipvsadm 1.31's own output, checked against it in
the lab (tests/lab/tests/guest/test_ipvs_info.py), so that the text can be
compared with, diffed against or fed to `ipvsadm-restore`.
"""

from __future__ import annotations

PROTOCOL_OPTIONS = {"tcp": "-t", "udp": "-u", "sctp": "--sctp-service"}
FORWARD_OPTIONS = {"masq": "-m", "droute": "-g", "tunnel": "-i", "local": "-g", "bypass": "-g"}
DEFAULT_NETMASK = {"ipv4": "255.255.255.255", "ipv6": 128}
SCHEDULER_FLAGS = ("sh-fallback", "sh-port", "mh-fallback", "mh-port", "flag-1", "flag-2", "flag-3")


def _host(family, address, port):
    return f"[{address}]:{port}" if family == "ipv6" else f"{address}:{port}"


def service_spec(service):
    """The options that name a service: '-t 203.0.113.1:80', '-f 5 -6'."""
    if service.get("fwmark"):
        return f"-f {service['fwmark']}" + (" -6" if service["family"] == "ipv6" else "")
    option = PROTOCOL_OPTIONS[service["protocol"]]
    return f"{option} {_host(service['family'], service['address'], service['port'])}"


def service_line(service):
    flags = service.get("flags") or []
    words = ["-A", service_spec(service), "-s", service["scheduler"]]
    if "persistent" in flags:
        words += ["-p", str(service["timeout"])]
        netmask = service.get("netmask")
        if netmask is not None and netmask != DEFAULT_NETMASK[service["family"]]:
            words += ["-M", str(netmask)]
    sched_flags = [f for f in SCHEDULER_FLAGS if f in flags]
    if sched_flags:
        words += ["-b", ",".join(sched_flags)]
    if service.get("pe_name"):
        words += ["--pe", service["pe_name"]]
    if "one-packet" in flags:
        words.append("-o")
    return " ".join(words)


def destination_line(service, dest):
    words = [
        "-a",
        service_spec(service),
        "-r",
        _host(dest["family"], dest["address"], dest["port"]),
        FORWARD_OPTIONS[dest["forward"]],
        "-w",
        str(dest["weight"]),
    ]
    tunnel = dest.get("tunnel")
    if dest["forward"] == "tunnel" and tunnel:
        words += ["--tun-type", tunnel["type"]]
        if tunnel["type"] == "gue":
            words += ["--tun-port", str(tunnel["port"])]
        if tunnel["type"] in ("gue", "gre"):
            flags = tunnel.get("flags") or []
            words.append("--tun-" + ("remcsum" if "remcsum" in flags else "csum" if "csum" in flags else "nocsum"))
    return " ".join(words)


def render(services):
    """ipvsadm-save lines for services (each with its "destinations"), in the given order."""
    lines = []
    for service in services:
        lines.append(service_line(service))
        lines.extend(destination_line(service, dest) for dest in service.get("destinations") or [])
    return lines
