# Copyright (c) 2026 lvs.ipvs developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Active-active director groups in the roles' model: every director announces the VIPs over BGP.

A group with mode active_active has no VRRP: each of its directors holds the
VIPs on lo (answering no ARP or ND for them) and announces them to the routers
with BIRD while it is fit to serve them; the routers spread flows over the
directors with ECMP. A flow must reach the same real server whichever director
it lands on, so the group's services must use mh over one destination list,
and their replies must not come back through a director (DR or TUN): every
rule below is checked before any host is changed, the error naming the field
and the value.
"""

from __future__ import annotations

import math

from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_validate import (
    MISSING,
    ValidationError,
    address,
    check_list,
    check_mapping,
    family_of,
    given,
    integer,
)

MODES = ("active_standby", "active_active")
GROUP_KEYS = ("name", "mode", "directors", "bgp", "announce")
_DIRECTOR_KEYS = ("host", "address", "router_id")
_BGP_KEYS = ("asn", "peers", "bfd", "hold_time")
_PEER_KEYS = ("address", "asn", "password")
_BFD_KEYS = ("interval", "multiplier")
_ANNOUNCE_KEYS = ("min_healthy",)
# FRR's default, and BIRD's minimum a busy host keeps: in the lab, 0.1 s x 3
# dropped healthy directors' sessions when a director's BIRD stalled 365 ms.
BFD_DEFAULTS = {"interval": 0.3, "multiplier": 3}
HOLD_TIME = 9
MIN_HEALTHY = 50
# RFC 7607 (0), RFC 6793 (AS_TRANS), RFC 7300 (the last of each range).
_RESERVED_ASNS = {0: "reserved (RFC 7607)", 23456: "AS_TRANS (RFC 6793)", 65535: "reserved (RFC 7300)"}


def mode_of(raw):
    """The group's mode, checked; active_standby (VRRP) unless given."""
    mode = raw.get("mode") if isinstance(raw, dict) and given(raw, "mode") else "active_standby"
    if mode not in MODES:
        raise ValidationError("mode", mode, f"must be one of {', '.join(MODES)}")
    return mode


def asn(value, path):
    number = integer(value, path, 0, 2**32 - 1)
    if number in _RESERVED_ASNS or number == 2**32 - 1:
        raise ValidationError(path, value, f"is {_RESERVED_ASNS.get(number, 'reserved (RFC 7300)')}, not an AS number")
    return number


def _seconds(value, path, low, high):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValidationError(path, value, "must be a number of seconds")
    if not low <= value <= high:
        raise ValidationError(path, value, f"must be between {low:g} and {high:g} seconds")
    return float(value)


def _directors(raw, path):
    entries = check_list(raw.get("directors", MISSING), f"{path}.directors", "directors")
    if not entries:
        raise ValidationError(f"{path}.directors", entries, "a director group needs at least one director")
    directors, hosts, ids = [], {}, {}
    for index, entry in enumerate(entries):
        where = f"{path}.directors[{index}]"
        if isinstance(entry, dict) and given(entry, "priority"):
            raise ValidationError(
                f"{where}.priority", entry["priority"], "is VRRP's; an active_active group's directors are equals"
            )
        check_mapping(entry, where, _DIRECTOR_KEYS)
        host = entry.get("host", MISSING)
        if not isinstance(host, str) or not host.strip():
            raise ValidationError(f"{where}.host", host, "must be the inventory name of a director")
        if host in hosts:
            raise ValidationError(f"{where}.host", host, f"is also {path}.directors[{hosts[host]}]")
        hosts[host] = index
        if not given(entry, "address"):
            raise ValidationError(
                f"{where}.address", MISSING, "an active_active director needs its own address, the source of its BGP"
            )
        own = address(entry["address"], f"{where}.address")
        router_id = entry.get("router_id", own) if given(entry, "router_id") else own
        if family_of(address(router_id, f"{where}.router_id")) != "ipv4":
            raise ValidationError(f"{where}.router_id", router_id, "a BGP router id is an IPv4 address: give router_id")
        if router_id in ids:
            raise ValidationError(
                f"{where}.router_id", router_id, f"is also the router id of {path}.directors[{ids[router_id]}]"
            )
        ids[router_id] = index
        directors.append({"host": host, "address": own, "router_id": router_id, "priority": None})
    return directors


def _peers(raw, path, directors):
    entries = check_list(raw.get("peers", MISSING), f"{path}.peers", "BGP peers")
    if not entries:
        raise ValidationError(f"{path}.peers", entries, "the directors need at least one router to announce to")
    own = {d["address"]: i for i, d in enumerate(directors)}
    peers, seen = [], {}
    for index, entry in enumerate(entries):
        where = f"{path}.peers[{index}]"
        check_mapping(entry, where, _PEER_KEYS)
        peer = address(entry.get("address", MISSING), f"{where}.address")
        if peer in own:
            raise ValidationError(
                f"{where}.address", entry["address"], f"is the address of the group's directors[{own[peer]}]"
            )
        if peer in seen:
            raise ValidationError(f"{where}.address", entry["address"], f"is also {path}.peers[{seen[peer]}]")
        seen[peer] = index
        if not given(entry, "asn"):
            raise ValidationError(f"{where}.asn", MISSING, "a BGP peer needs its AS number")
        password = entry.get("password")
        if password is not None and (not isinstance(password, str) or not password or '"' in password):
            raise ValidationError(f"{where}.password", "(hidden)", "must be a string without double quotes")
        peers.append(
            {
                "address": peer,
                "family": family_of(peer),
                "asn": asn(entry["asn"], f"{where}.asn"),
                "password": password,
                "name": f"peer{index + 1}",
            }
        )
    return peers


def _bgp(raw, path, directors):
    where = f"{path}.bgp"
    if not given(raw, "bgp"):
        raise ValidationError(where, MISSING, "an active_active group announces its VIPs over BGP: give asn and peers")
    bgp = raw["bgp"]
    check_mapping(bgp, where, _BGP_KEYS)
    if not given(bgp, "asn"):
        raise ValidationError(f"{where}.asn", MISSING, "the directors' AS number")
    # BGP counts the hold time in whole seconds, and 1-2 are not allowed (RFC 4271, 4.2).
    hold = integer(bgp["hold_time"], f"{where}.hold_time", 3, 65535) if given(bgp, "hold_time") else HOLD_TIME
    bfd = dict(BFD_DEFAULTS)
    if given(bgp, "bfd"):
        if bgp["bfd"] is False:
            bfd = None
        else:
            check_mapping(bgp["bfd"], f"{where}.bfd", _BFD_KEYS)
            if given(bgp["bfd"], "interval"):
                bfd["interval"] = _seconds(bgp["bfd"]["interval"], f"{where}.bfd.interval", 0.01, 10)
            if given(bgp["bfd"], "multiplier"):
                bfd["multiplier"] = integer(bgp["bfd"]["multiplier"], f"{where}.bfd.multiplier", 1, 255)
    return {
        "asn": asn(bgp["asn"], f"{where}.asn"),
        "peers": _peers(bgp, where, directors),
        "hold_time": hold,
        "bfd": bfd,
    }


def normalize_group(raw, path):
    """An active_active group: its directors (address, router id), BGP and when a VIP is announced."""
    check_mapping(raw, path, GROUP_KEYS)
    directors = _directors(raw, path)
    announce = {"min_healthy": MIN_HEALTHY}
    if given(raw, "announce"):
        check_mapping(raw["announce"], f"{path}.announce", _ANNOUNCE_KEYS)
        if given(raw["announce"], "min_healthy"):
            announce["min_healthy"] = integer(raw["announce"]["min_healthy"], f"{path}.announce.min_healthy", 1, 100)
    return {
        "name": raw["name"],
        "mode": "active_active",
        "directors": directors,
        "bgp": _bgp(raw, path, directors),
        "announce": announce,
        # No VRRP: the keys the rest of the model reads, inert.
        "virtual_router_id": None,
        "inside_addresses": [],
        "sync": {"enabled": False, "id": 0},
        "password": None,
    }


def check_services(entries, group, path):
    """The group's services: mh on every one, DR or TUN, health-checked in place, no sorry server.

    It also sets, in the normalized entries, what such a group implies:
    inhibit_on_failure true and, where no quorum is given, announce.min_healthy
    of the real servers' weight as the quorum.

    Every director schedules a flow alone; mh gives the same real server for
    the same flow only over the same list in the same order. keepalived, on a
    failed check, removes a real server and appends it when it comes back,
    which reorders the list on that director alone: inhibit_on_failure keeps
    it in place at weight 0 instead.
    """
    families = set()
    for index, entry in entries:
        where = f"lvs_virtual_services[{index}]"
        if entry["mode"] not in ("dr", "tun"):
            raise ValidationError(
                f"{where}.mode",
                entry["mode"],
                f"cannot be in active_active group {group['name']}: the replies would come back through whichever"
                " director the router picks, which has no state for the connection; use dr or tun",
            )
        scheduler = entry["ipvs"]["scheduler"]
        if scheduler != "mh":
            raise ValidationError(
                f"{where}.scheduler",
                scheduler,
                f"must be mh in active_active group {group['name']}: every director must pick the same real server"
                " for a flow, which only Maglev hashing over the same list does",
            )
        check = entry["health_check"]
        if check is None or check["type"] == "none":
            raise ValidationError(
                f"{where}.health_check",
                check["type"] if check else MISSING,
                f"a service of active_active group {group['name']} needs a health check: its VIPs are announced"
                " while enough real servers pass it",
            )
        if check["inhibit_on_failure"] is False:
            raise ValidationError(
                f"{where}.health_check.inhibit_on_failure",
                False,
                "must be true in an active_active group: removing a failed real server reorders mh's list on one"
                " director only",
            )
        check["inhibit_on_failure"] = True
        if entry["sorry_server"] is not None:
            raise ValidationError(
                f"{where}.sorry_server",
                entry["sorry_server"]["address"],
                f"cannot be in active_active group {group['name']}: each director would send to it alone",
            )
        if not entry["ipvs"]["destinations"]:
            raise ValidationError(f"{where}.real_servers", [], "an active_active service needs real servers")
        if entry["quorum"] is None:
            total = sum(d["weight"] for d in entry["ipvs"]["destinations"])
            entry["quorum"] = max(1, math.ceil(total * group["announce"]["min_healthy"] / 100))
        families.add(entry["family"])
    peers = {peer["family"] for peer in group["bgp"]["peers"]}
    for family in sorted(families - peers):
        raise ValidationError(
            f"{path}.bgp.peers",
            [p["address"] for p in group["bgp"]["peers"]],
            f"has no {family} peer, and group {group['name']} has {family} VIPs to announce",
        )


def service_key(entry):
    """A file name for the service's quorum state, from its IPVS identity."""
    if entry["fwmark"]:
        return f"fwmark-{entry['fwmark']}-{entry['family']}"
    return f"{entry['protocol']}-{entry['address']}-{entry['ports'][0]}"


def bgp_plan(entries, groups, host):
    """What host's BIRD announces and to whom, and when: None when host is in no active_active group."""
    group = next(
        (g for g in groups if g["mode"] == "active_active" and any(d["host"] == host for d in g["directors"])), None
    )
    if group is None:
        return None
    me = next(d for d in group["directors"] if d["host"] == host)
    vips = {}
    for entry in entries:
        if entry["director_group"] != group["name"]:
            continue
        vip = vips.setdefault(
            entry["address"],
            {
                "address": entry["address"],
                "family": entry["family"],
                "prefix": 32 if entry["family"] == "ipv4" else 128,
                "services": [],
            },
        )
        vip["services"].append(
            {
                "key": service_key(entry),
                "name": entry["name"],
                "protocol": entry["protocol"],
                "fwmark": entry["fwmark"],
                "port": None if entry["fwmark"] else entry["ports"][0],
                "quorum": entry["quorum"],
            }
        )
    return {
        "group": group["name"],
        "router_id": me["router_id"],
        "address": me["address"],
        "asn": group["bgp"]["asn"],
        "hold_time": group["bgp"]["hold_time"],
        "bfd": group["bgp"]["bfd"],
        "peers": group["bgp"]["peers"],
        "min_healthy": group["announce"]["min_healthy"],
        "vips": sorted(vips.values(), key=lambda v: (v["family"], v["address"])),
    }


# Sysctls of an active_active director, on top of a DR director's.
SYSCTLS = {
    # A flow the routers move to this director mid-stream (another director
    # died or withdrew) is taken up from its next packet, not only from a SYN.
    "net.ipv4.vs.sloppy_tcp": 1,
    "net.ipv4.vs.sloppy_sctp": 1,
    # The VIPs are on lo: no answer to ARP for them from the director's own
    # interfaces, and never one as the source of its ARP requests; the routers
    # reach them by the BGP next hop.
    "net.ipv4.conf.all.arp_ignore": 1,
    "net.ipv4.conf.all.arp_announce": 2,
}
