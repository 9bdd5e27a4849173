# Copyright (c) 2026 lvs.ipvs developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Canonical dicts to IPVS netlink attributes and back.

The dicts going in are the validator's output (_ipvs_validate): every field
present, every name from the vocabulary, every number in range. Nothing is
checked again here; a dict that is not canonical is a programming error and
fails with KeyError or ValueError. What comes out of the decoders is the same
shape, plus the kernel's counters, and is what the diff engine compares.

Pure Python over _ipvs_uapi's numbers; turning the attribute lists into bytes
is _ipvs_codec's job.
"""

from __future__ import annotations

import functools
import ipaddress
import struct

from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_uapi import (
    AF_INET,
    DAEMON_STATE_NUMBERS,
    FAMILY_NUMBERS,
    FLAG_OUTPUT_NAMES,
    FORWARD_NUMBERS,
    IP_VS_CONN_F_FWD_MASK,
    IP_VS_SVC_F_HASHED,
    IP_VS_TUNNEL_ENCAP_FLAG_CSUM,
    IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM,
    PROTOCOL_NUMBERS,
    SCHEDULER_FLAG_NAMES,
    SERVICE_FLAG_BITS,
    STATS_KEYS,
    TUNNEL_FLAG_BITS,
    TUNNEL_TYPE_NUMBERS,
)
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_vocabulary import packed_address

SERVICE_FIELDS = (
    "family",
    "protocol",
    "address",
    "port",
    "fwmark",
    "scheduler",
    "flags",
    "timeout",
    "netmask",
    "pe_name",
)
DEST_FIELDS = ("family", "address", "port", "forward", "weight", "u_threshold", "l_threshold", "tunnel")
DAEMON_FIELDS = ("state", "mcast_interface", "sync_id", "sync_maxlen", "mcast_group", "mcast_port", "mcast_ttl")


def _reverse(table, number):
    for name, value in table.items():
        if value == number:
            return name
    return number


def family_name(af):
    return _reverse(FAMILY_NUMBERS, af)


def protocol_name(number):
    return _reverse(PROTOCOL_NUMBERS, number)


def forward_name(number):
    # The kernel masks fwd_method to its low 3 bits; so do we.
    return _reverse(FORWARD_NUMBERS, number & IP_VS_CONN_F_FWD_MASK)


def _packed(text):
    # A text packed_address() refuses goes to ipaddress, whose ValueError
    # the client reports with the step.
    try:
        return packed_address(text)
    except (OSError, TypeError):
        return ipaddress.ip_address(text).packed


def address_to_raw(address):
    """Text address to the 16-byte union nf_inet_addr; IPv4 takes the first 4 bytes."""
    packed = _packed(address)
    return packed + b"\0" * (16 - len(packed))


def address_from_raw(raw, af):
    """The 16-byte union nf_inet_addr (or a bare 4/16-byte address) to text."""
    size = 4 if af == AF_INET else 16
    raw = bytes(raw)
    if len(raw) < size:
        raise ValueError(f"address field has {len(raw)} bytes, {family_name(af)} needs {size}")
    return _address_text(raw[:size])


# Reading a large table meets each address many times.
@functools.lru_cache(maxsize=65536)
def _address_text(packed):
    return str(ipaddress.ip_address(packed))


def netmask_to_raw(family, netmask):
    """Persistence netmask to the 4 bytes of IPVS_SVC_ATTR_NETMASK.

    IPv4: a dotted mask, sent as a __be32. IPv6: a prefix length, which the
    kernel reads from the same 4 bytes in host order.
    """
    if family == "ipv4":
        return ipaddress.IPv4Address(netmask).packed
    return struct.pack("=I", int(netmask))


def netmask_from_raw(af, raw):
    """IPVS_SVC_ATTR_NETMASK bytes to a dotted mask (IPv4) or prefix length (IPv6)."""
    if raw is None:
        return None
    raw = bytes(raw)
    if af == AF_INET:
        return str(ipaddress.IPv4Address(raw[:4]))
    return struct.unpack("=I", raw[:4])[0]


def service_flags_to_bits(flags):
    """Flag names (the vocabulary's, or the decoder's flag-N and 0x.. for bits it cannot name) to bits."""
    bits = 0
    for name in flags:
        bits |= int(name, 16) if name.startswith("0x") else SERVICE_FLAG_BITS[name]
    return bits


def service_flags_from_bits(bits, scheduler=None):
    """Flag names for the bits, with the scheduler's names for SCHED1/SCHED2.

    The hashed flag, which the kernel adds to every service it dumps, is left out.
    """
    bits &= ~IP_VS_SVC_F_HASHED
    aliases = SCHEDULER_FLAG_NAMES.get(scheduler, {})
    names = []
    for bit, name in FLAG_OUTPUT_NAMES:
        if bits & bit:
            names.append(aliases.get(bit, name))
            bits &= ~bit
    bit = 1
    while bits:
        if bits & bit:
            names.append(f"0x{bit:x}")
            bits &= ~bit
        bit <<= 1
    return names


def tunnel_flags_to_bits(flags):
    bits = 0
    for name in flags:
        bits |= int(name, 16) if name.startswith("0x") else TUNNEL_FLAG_BITS[name]
    return bits


def tunnel_flags_from_bits(bits):
    names = [name for name, bit in TUNNEL_FLAG_BITS.items() if bit and bits & bit]
    rest = bits & ~(IP_VS_TUNNEL_ENCAP_FLAG_CSUM | IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM)
    if rest:
        names.append(f"0x{rest:x}")
    return names


def version_text(code):
    return f"{(code >> 16) & 0xFF}.{(code >> 8) & 0xFF}.{code & 0xFF}"


# --- Canonical dicts -> attribute lists -----------------------------------------------


def service_attrs(service, full=False):
    """IPVS_CMD_ATTR_SERVICE content: the identifying attributes, and all of them if full.

    A full entry replaces the kernel's one: flags are sent with an all-ones mask,
    so bits not listed are cleared (the kernel merges (old & ~mask) | (new & mask)).
    """
    af = FAMILY_NUMBERS[service["family"]]
    attrs = [["IPVS_SVC_ATTR_AF", af]]
    if service["fwmark"]:
        attrs.append(["IPVS_SVC_ATTR_FWMARK", service["fwmark"]])
    else:
        attrs.append(["IPVS_SVC_ATTR_PROTOCOL", PROTOCOL_NUMBERS[service["protocol"]]])
        attrs.append(["IPVS_SVC_ATTR_ADDR", address_to_raw(service["address"])])
        attrs.append(["IPVS_SVC_ATTR_PORT", service["port"]])
    if not full:
        return attrs
    attrs.append(["IPVS_SVC_ATTR_SCHED_NAME", service["scheduler"]])
    if service["pe_name"]:
        attrs.append(["IPVS_SVC_ATTR_PE_NAME", service["pe_name"]])
    attrs.append(["IPVS_SVC_ATTR_FLAGS", {"flags": service_flags_to_bits(service["flags"]), "mask": 0xFFFFFFFF}])
    attrs.append(["IPVS_SVC_ATTR_TIMEOUT", service["timeout"]])
    attrs.append(["IPVS_SVC_ATTR_NETMASK", netmask_to_raw(service["family"], service["netmask"])])
    return attrs


def dest_attrs(dest, full=False):
    """IPVS_CMD_ATTR_DEST content. A full entry replaces the kernel's one, tunnel fields included."""
    attrs = [
        ["IPVS_DEST_ATTR_ADDR_FAMILY", FAMILY_NUMBERS[dest["family"]]],
        ["IPVS_DEST_ATTR_ADDR", address_to_raw(dest["address"])],
        ["IPVS_DEST_ATTR_PORT", dest["port"]],
    ]
    if not full:
        return attrs
    tunnel = dest["tunnel"]
    # Sent even without a tunnel: an edit resets omitted tunnel fields to 0
    # anyway, which is what a destination that does not tunnel has.
    tun_type, tun_port, tun_flags = (
        (TUNNEL_TYPE_NUMBERS[tunnel["type"]], tunnel["port"], tunnel_flags_to_bits(tunnel["flags"]))
        if tunnel
        else (0, 0, 0)
    )
    attrs += [
        ["IPVS_DEST_ATTR_FWD_METHOD", FORWARD_NUMBERS[dest["forward"]]],
        ["IPVS_DEST_ATTR_WEIGHT", dest["weight"]],
        ["IPVS_DEST_ATTR_U_THRESH", dest["u_threshold"]],
        ["IPVS_DEST_ATTR_L_THRESH", dest["l_threshold"]],
        ["IPVS_DEST_ATTR_TUN_TYPE", tun_type],
        ["IPVS_DEST_ATTR_TUN_PORT", tun_port],
        ["IPVS_DEST_ATTR_TUN_FLAGS", tun_flags],
    ]
    return attrs


def daemon_attrs(daemon, full=True):
    """IPVS_CMD_ATTR_DAEMON content; settings left at None are the kernel's to choose."""
    attrs = [["IPVS_DAEMON_ATTR_STATE", DAEMON_STATE_NUMBERS[daemon["state"]]]]
    if not full:
        return attrs
    attrs.append(["IPVS_DAEMON_ATTR_MCAST_IFN", daemon["mcast_interface"]])
    attrs.append(["IPVS_DAEMON_ATTR_SYNC_ID", daemon["sync_id"]])
    if daemon.get("sync_maxlen") is not None:
        attrs.append(["IPVS_DAEMON_ATTR_SYNC_MAXLEN", daemon["sync_maxlen"]])
    group = daemon.get("mcast_group")
    if group is not None:
        packed = _packed(group)
        name = "IPVS_DAEMON_ATTR_MCAST_GROUP" if len(packed) == 4 else "IPVS_DAEMON_ATTR_MCAST_GROUP6"
        attrs.append([name, packed])
    if daemon.get("mcast_port") is not None:
        attrs.append(["IPVS_DAEMON_ATTR_MCAST_PORT", daemon["mcast_port"]])
    if daemon.get("mcast_ttl") is not None:
        attrs.append(["IPVS_DAEMON_ATTR_MCAST_TTL", daemon["mcast_ttl"]])
    return attrs


def timeout_attrs(timeouts):
    """IPVS_CMD_SET_CONFIG attributes for the timeouts given (seconds); the others stay as they are."""
    names = {
        "tcp": "IPVS_CMD_ATTR_TIMEOUT_TCP",
        "tcpfin": "IPVS_CMD_ATTR_TIMEOUT_TCP_FIN",
        "udp": "IPVS_CMD_ATTR_TIMEOUT_UDP",
    }
    # The kernel reads 0 as "leave unchanged": such a value is not sent at all.
    return [[names[name], value] for name, value in timeouts.items() if value]


# --- Decoders (take decoded attributes, give canonical dicts) --------------------------


def decode_stats(stats64, stats32=None):
    """Counters from IPVS_*_ATTR_STATS64, falling back to the 32-bit STATS nest."""
    source = stats64 if stats64 is not None else stats32
    if source is None:
        return None
    return {key: source.get_attr(f"IPVS_STATS_ATTR_{key.upper()}") or 0 for key in STATS_KEYS}


def decode_service(svc):
    get = svc.get_attr
    af = get("IPVS_SVC_ATTR_AF")
    fwmark = get("IPVS_SVC_ATTR_FWMARK") or 0
    scheduler = get("IPVS_SVC_ATTR_SCHED_NAME")
    flags = get("IPVS_SVC_ATTR_FLAGS")
    return {
        "family": family_name(af),
        "protocol": None if fwmark else protocol_name(get("IPVS_SVC_ATTR_PROTOCOL")),
        "address": None if fwmark else address_from_raw(get("IPVS_SVC_ATTR_ADDR"), af),
        "port": None if fwmark else get("IPVS_SVC_ATTR_PORT"),
        "fwmark": fwmark,
        "scheduler": scheduler,
        "flags": service_flags_from_bits(flags["flags"] if flags else 0, scheduler),
        "timeout": get("IPVS_SVC_ATTR_TIMEOUT") or 0,
        "netmask": netmask_from_raw(af, get("IPVS_SVC_ATTR_NETMASK")),
        "pe_name": get("IPVS_SVC_ATTR_PE_NAME") or None,
        "stats": decode_stats(get("IPVS_SVC_ATTR_STATS64"), get("IPVS_SVC_ATTR_STATS")),
    }


def decode_dest(dest, service_af=AF_INET):
    get = dest.get_attr
    # Kernels before 4.x sent no ADDR_FAMILY: the destination then has the service's.
    af = get("IPVS_DEST_ATTR_ADDR_FAMILY") or service_af
    forward = forward_name(get("IPVS_DEST_ATTR_FWD_METHOD") or 0)
    tunnel = None
    if forward == "tunnel":
        tunnel = {
            "type": _reverse(TUNNEL_TYPE_NUMBERS, get("IPVS_DEST_ATTR_TUN_TYPE") or 0),
            "port": get("IPVS_DEST_ATTR_TUN_PORT") or 0,
            "flags": tunnel_flags_from_bits(get("IPVS_DEST_ATTR_TUN_FLAGS") or 0),
        }
    return {
        "family": family_name(af),
        "address": address_from_raw(get("IPVS_DEST_ATTR_ADDR"), af),
        "port": get("IPVS_DEST_ATTR_PORT") or 0,
        "forward": forward,
        "weight": get("IPVS_DEST_ATTR_WEIGHT") or 0,
        "u_threshold": get("IPVS_DEST_ATTR_U_THRESH") or 0,
        "l_threshold": get("IPVS_DEST_ATTR_L_THRESH") or 0,
        "tunnel": tunnel,
        "active_conns": get("IPVS_DEST_ATTR_ACTIVE_CONNS") or 0,
        "inactive_conns": get("IPVS_DEST_ATTR_INACT_CONNS") or 0,
        "persistent_conns": get("IPVS_DEST_ATTR_PERSIST_CONNS") or 0,
        "stats": decode_stats(get("IPVS_DEST_ATTR_STATS64"), get("IPVS_DEST_ATTR_STATS")),
    }


def decode_daemon(daemon):
    get = daemon.get_attr
    group = get("IPVS_DAEMON_ATTR_MCAST_GROUP6") or get("IPVS_DAEMON_ATTR_MCAST_GROUP")
    return {
        "state": _reverse(DAEMON_STATE_NUMBERS, get("IPVS_DAEMON_ATTR_STATE")),
        "mcast_interface": get("IPVS_DAEMON_ATTR_MCAST_IFN"),
        "sync_id": get("IPVS_DAEMON_ATTR_SYNC_ID") or 0,
        "sync_maxlen": get("IPVS_DAEMON_ATTR_SYNC_MAXLEN") or 0,
        "mcast_group": str(ipaddress.ip_address(bytes(group))) if group else None,
        "mcast_port": get("IPVS_DAEMON_ATTR_MCAST_PORT") or 0,
        "mcast_ttl": get("IPVS_DAEMON_ATTR_MCAST_TTL") or 0,
    }
