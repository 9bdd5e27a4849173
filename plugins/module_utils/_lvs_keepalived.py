# Copyright (c) 2026 lvs.ipvs developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A director's keepalived, from the checked model: its VRRP instances, virtual servers and sync daemon.

keepalived_plan() gives the director role's keepalived.conf template
everything it writes, already in keepalived's terms (lvs_method, lvs_sched
flags, connect ports), so that the template only lays it out.
"""

from __future__ import annotations

from ansible_collections.lvs.ipvs.plugins.module_utils import _lvs_bgp
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_validate import ValidationError, family_of

_METHODS = {"masq": "NAT", "droute": "DR"}
_NO_KEEPALIVED_SCHEDULER = ("none",)


def _lvs_method(dest, path):
    if dest["forward"] != "tunnel":
        return _METHODS[dest["forward"]]
    tunnel = dest.get("tunnel") or {"type": "ipip", "flags": []}
    words = ["TUN", "type", tunnel["type"]]
    if tunnel["type"] == "gue":
        words += ["port", str(tunnel["port"])]
    flags = tunnel.get("flags") or []
    if len(flags) > 1:
        raise ValidationError(f"{path}.tunnel.flags", flags, "keepalived takes one checksum flag per tunnel")
    return " ".join(words + list(flags))


def _real_server(dest, host, service, check, drained, path):
    port = dest.get("port") or None
    connect_port = None
    if check and check["type"] != "script":
        # A fwmark service's real servers have no port of their own: the check needs one.
        connect_port = check["port"] or (None if port else service["check_port"])
    return {
        "host": host,
        "address": dest["address"],
        "port": port,
        # The model's weight: the director's script sets drained ones to 0,
        # so that draining needs no run of the role.
        "weight": dest["weight"],
        "drained": host in drained,
        "u_threshold": dest.get("u_threshold") or 0,
        "l_threshold": dest.get("l_threshold") or 0,
        "lvs_method": _lvs_method(dest, path),
        "connect_port": connect_port,
        "script": (
            check["script"].replace("{address}", dest["address"]).replace("{port}", str(port or ""))
            if check and check["type"] == "script"
            else None
        ),
    }


def _virtual_server(entry, drained, path):
    service = entry["ipvs"]
    if service["scheduler"] in _NO_KEEPALIVED_SCHEDULER:
        raise ValidationError(f"{path}.scheduler", service["scheduler"], "keepalived cannot set this scheduler")
    flags = [flag for flag in service["flags"] if flag not in ("persistent", "one-packet")]
    if "one-packet" in service["flags"]:
        flags.append("ops")
    check = entry.get("health_check")
    if check and check["type"] == "none":
        check = None
    server = {
        "name": entry["name"],
        "family": entry["family"],
        "fwmark": entry["fwmark"],
        "address": entry["address"],
        "port": service.get("port") or None,
        "protocol": entry["protocol"].upper(),
        "scheduler": service["scheduler"],
        "flags": flags,
        "persistence_timeout": service["timeout"] if "persistent" in service["flags"] else None,
        # A netmask for IPv4, a prefix length for IPv6: keepalived reads both.
        "persistence_granularity": service["netmask"] if "persistent" in service["flags"] else None,
        "persistence_engine": service.get("pe_name"),
        "check": check,
        "check_port": entry["ports"][0],
        "quorum": entry.get("quorum"),
        "hysteresis": entry.get("hysteresis"),
        "sorry_server": entry.get("sorry_server"),
    }
    # The service's own method too: keepalived gives it to the sorry server,
    # and warns when it is left to its default.
    method = {"nat": "NAT", "fullnat": "NAT", "dr": "DR"}.get(entry["mode"])
    server["lvs_method"] = method or _lvs_method(dict(forward="tunnel", tunnel=entry["tunnel"]), f"{path}.tunnel")
    server["real_servers"] = [
        _real_server(dest, entry["hosts"][index], server, check, drained, f"{path}.real_servers[{index}]")
        for index, dest in enumerate(service["destinations"])
    ]
    return server


def _instance(group, host, entries):
    me = next(d for d in group["directors"] if d["host"] == host)
    addresses = []
    for entry in entries:
        vip = {
            "address": entry["address"],
            "prefix": 32 if entry["family"] == "ipv4" else 128,
            "family": entry["family"],
            "inside": False,
        }
        if vip not in addresses:
            addresses.append(vip)
    addresses += [dict(inside, inside=True) for inside in group["inside_addresses"]]
    if me["address"]:
        family = family_of(me["address"])
    else:
        family = "ipv4" if any(a["family"] == "ipv4" for a in addresses) or not addresses else "ipv6"
    # One address in the adverts, the others excluded: an advert carries at
    # most 20, and only addresses of the instance's own family.
    advertised = [a for a in addresses if a["family"] == family][:1]
    return {
        "name": group["name"],
        "virtual_router_id": group["virtual_router_id"],
        "version": group["version"],
        "advert_interval": group["advert_interval"],
        "priority": me["priority"],
        "preempt": group["preempt"],
        "preempt_delay": group["preempt_delay"],
        "family": family,
        "unicast_src": me["address"] if group["unicast"] else None,
        "unicast_peers": [d["address"] for d in group["directors"] if d["host"] != host] if group["unicast"] else [],
        "password": group["password"],
        "garp": group["garp"],
        "addresses": advertised,
        "excluded": [a for a in addresses if a not in advertised],
        "sync": group["sync"],
    }


def keepalived_plan(entries, groups, host, drained=()):
    """What host's keepalived runs: a VRRP instance per group it is in, and the groups' virtual servers.

    None when host is in no group. entries are normalized virtual services.
    """
    drained = set(drained or ())
    mine = [group for group in groups if any(d["host"] == host for d in group["directors"])]
    if not mine:
        return None
    instances, servers = [], []
    for group in mine:
        members = [(index, e) for index, e in enumerate(entries) if e.get("director_group") == group["name"]]
        if group["mode"] == "active_standby":
            instances.append(_instance(group, host, [e for _i, e in members]))
        for index, entry in members:
            server = _virtual_server(entry, drained, f"lvs_virtual_services[{index}]")
            # Its quorum going or coming back decides whether the director announces the VIP.
            server["announce_key"] = _lvs_bgp.service_key(entry) if group["mode"] == "active_active" else None
            servers.append(server)
    # The kernel runs one sync daemon of each kind: the first group that syncs sets its id.
    syncing = [i for i in instances if i["sync"]["enabled"]]
    return {
        "instances": instances,
        "virtual_servers": servers,
        "sync": {"id": syncing[0]["sync"]["id"]} if syncing else None,
        "scripts": any((s["check"] and s["check"]["type"] == "script") or s["announce_key"] for s in servers),
    }
