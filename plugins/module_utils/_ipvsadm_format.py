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

from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_vocabulary import (
    DEFAULT_FAMILY,
    DEFAULT_NETMASK,
    DEFAULT_PERSISTENT_TIMEOUT,
    DEFAULT_SCHEDULER,
    DEFAULT_TUNNEL_TYPE,
)

PROTOCOL_OPTIONS = {"tcp": "-t", "udp": "-u", "sctp": "--sctp-service"}
FORWARD_OPTIONS = {"masq": "-m", "droute": "-g", "tunnel": "-i", "local": "-g", "bypass": "-g"}
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


def render(services, consume=False):
    """ipvsadm-save lines for services (each with its "destinations"), in the given order.

    consume: let go of each service as soon as its lines are made (the list
    is left full of None), so that a large table and its lines are not held
    whole at the same time.
    """
    lines = []
    for index, service in enumerate(services):
        lines.append(service_line(service))
        lines.extend(destination_line(service, dest) for dest in service.get("destinations") or [])
        if consume:
            services[index] = None
    return lines


# --- Parsing: ipvsadm-save text -> the modules' service list ----------------------

_SERVICE_OPTIONS = {"-t": "tcp", "--tcp-service": "tcp", "-u": "udp", "--udp-service": "udp", "--sctp-service": "sctp"}
_FORWARD_FLAGS = {
    "-m": "masq",
    "--masquerading": "masq",
    "-g": "droute",
    "--gatewaying": "droute",
    "-i": "tunnel",
    "--ipip": "tunnel",
}
_TUNNEL_CSUM = {"--tun-nocsum": [], "--tun-csum": ["csum"], "--tun-remcsum": ["remcsum"]}
_VALUE_OPTIONS = {
    "-s": "scheduler",
    "--scheduler": "scheduler",
    "-M": "netmask",
    "--netmask": "netmask",
    "-b": "sched_flags",
    "--sched-flags": "sched_flags",
    "--pe": "pe_name",
    "-r": "server",
    "--real-server": "server",
    "-w": "weight",
    "--weight": "weight",
    "-x": "u_threshold",
    "--u-threshold": "u_threshold",
    "-y": "l_threshold",
    "--l-threshold": "l_threshold",
    "--tun-type": "tun_type",
    "--tun-port": "tun_port",
    "-f": "fwmark",
    "--fwmark-service": "fwmark",
}


class RulesError(ValueError):
    """A line of ipvsadm-save text that cannot be read, with its number."""


def _split_host(text, where):
    """'203.0.113.1:80' or '[2001:db8::1]:80' -> (address, port)."""
    if text.startswith("["):
        host, sep, port = text[1:].partition("]:")
    else:
        host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit():
        raise RulesError(f"{where}: {text!r}: expected ADDRESS:PORT with a numeric port (save with ipvsadm -Sn)")
    return host, int(port)


def _read_line(words, where):
    """The options of one -A or -a line as a dict."""
    opts = {"command": words[0]}
    index = 1
    while index < len(words):
        word = words[index]
        if word in _SERVICE_OPTIONS:
            opts["protocol"] = _SERVICE_OPTIONS[word]
            opts["address"], opts["port"] = _split_host(words[index + 1], where)
            index += 2
        elif word in ("-p", "--persistent"):
            opts["persistent"] = True
            if index + 1 < len(words) and words[index + 1].isdigit():
                opts["timeout"] = int(words[index + 1])
                index += 1
            index += 1
        elif word in ("-6", "--ipv6"):
            opts["family"] = "ipv6"
            index += 1
        elif word in ("-o", "--ops"):
            opts["one_packet"] = True
            index += 1
        elif word in _FORWARD_FLAGS:
            opts["forward"] = _FORWARD_FLAGS[word]
            index += 1
        elif word in _TUNNEL_CSUM:
            opts["tun_flags"] = _TUNNEL_CSUM[word]
            index += 1
        elif word in _VALUE_OPTIONS and index + 1 < len(words):
            opts[_VALUE_OPTIONS[word]] = words[index + 1]
            index += 2
        else:
            raise RulesError(f"{where}: unknown or incomplete option {word!r}")
    return opts


def _service_of(opts, where):
    if "fwmark" in opts:
        if not opts["fwmark"].isdigit():
            raise RulesError(f"{where}: fwmark {opts['fwmark']!r} is not a number")
        return {"fwmark": int(opts["fwmark"]), "family": opts.get("family", DEFAULT_FAMILY)}
    if "protocol" not in opts:
        raise RulesError(f"{where}: no service (-t, -u, --sctp-service or -f)")
    return {"protocol": opts["protocol"], "address": opts["address"], "port": opts["port"]}


def service_spec_text(service):
    """How an error names a parsed service: tcp 203.0.113.1:80, fwmark 5."""
    if "fwmark" in service:
        return f"fwmark {service['fwmark']}"
    return f"{service['protocol']} {service['address']}:{service['port']}"


def _number(opts, key, where):
    value = opts.get(key)
    if value is None:
        return None
    if not value.isdigit():
        raise RulesError(f"{where}: {key} {value!r} is not a number")
    return int(value)


def parse(text):
    """The modules' service list for ipvsadm-save text; raises RulesError naming the line."""
    services = {}
    for number, line in enumerate(str(text).splitlines(), 1):
        words = line.split()
        if not words or words[0].startswith("#"):
            continue
        where = f"line {number}"
        if words[0] not in ("-A", "--add-service", "-a", "--add-server"):
            raise RulesError(f"{where}: {words[0]!r}: only -A and -a lines are expected in ipvsadm-save text")
        opts = _read_line(words, where)
        service = _service_of(opts, where)
        key = tuple(sorted(service.items()))
        if words[0] in ("-A", "--add-service"):
            flags = (["persistent"] if opts.get("persistent") else []) + (
                ["one-packet"] if opts.get("one_packet") else []
            )
            flags += [f for f in (opts.get("sched_flags") or "").split(",") if f]
            service.update(scheduler=opts.get("scheduler", DEFAULT_SCHEDULER), flags=flags, destinations=[])
            if opts.get("persistent"):
                service["timeout"] = int(opts.get("timeout", DEFAULT_PERSISTENT_TIMEOUT))
            if "netmask" in opts:
                mask = opts["netmask"]
                service["netmask"] = int(mask) if mask.isdigit() else mask
            if "pe_name" in opts:
                service["pe_name"] = opts["pe_name"]
            services[key] = service
            continue
        if key not in services:
            raise RulesError(f"{where}: {service_spec_text(service)}: a real server for a service not defined above it")
        address, port = _split_host(opts.get("server", ""), where)
        # ipvsadm's own default, gatewaying, which is not the collection's (masq).
        dest = {"address": address, "port": port, "forward": opts.get("forward", "droute")}
        for field in ("weight", "u_threshold", "l_threshold"):
            value = _number(opts, field, where)
            if value is not None:
                dest[field] = value
        if dest["forward"] == "tunnel":
            tunnel = {"type": opts.get("tun_type", DEFAULT_TUNNEL_TYPE)}
            if _number(opts, "tun_port", where):
                tunnel["port"] = _number(opts, "tun_port", where)
            if opts.get("tun_flags"):
                tunnel["flags"] = opts["tun_flags"]
            dest["tunnel"] = tunnel
        services[key]["destinations"].append(dest)
    return list(services.values())
