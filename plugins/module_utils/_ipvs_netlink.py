# Copyright (c) 2026 lvs.ipvs developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private netlink layer for the kernel's IPVS generic-netlink family.

Plain Python (no Ansible imports) so that modules and tests can use it alike.
Message classes are defined here from scratch after include/uapi/linux/ip_vs.h
and net/netfilter/ipvs/ip_vs_ctl.c: pyroute2's own IPVS classes have wrong
types, and overriding nla_map on a subclass of an already used pyroute2 class
is silently ignored (the compiled table is cached on the parent).

Services and destinations go in and out as plain dicts with readable keys;
kernel errors come out as IPVSError with a message an operator can act on.
"""

from __future__ import annotations

import errno
import functools
import ipaddress
import os
import socket
import struct
import time
import traceback

try:
    from pyroute2.netlink import CTRL_CMD_GETFAMILY, GENL_ID_CTRL, ctrlmsg, genlmsg, nla
except ImportError:
    PYROUTE2_IMPORT_ERROR = traceback.format_exc()
    # Placeholders so that this file still imports and its pure functions work.
    genlmsg = nla = ctrlmsg = object
    CTRL_CMD_GETFAMILY = GENL_ID_CTRL = None
else:
    PYROUTE2_IMPORT_ERROR = None


# --- Constants mirroring include/uapi/linux/ip_vs.h ---------------------------

GENL_NAME = "IPVS"
GENL_VERSION = 0x1

IPVS_CMD_UNSPEC = 0
IPVS_CMD_NEW_SERVICE = 1
IPVS_CMD_SET_SERVICE = 2
IPVS_CMD_DEL_SERVICE = 3
IPVS_CMD_GET_SERVICE = 4
IPVS_CMD_NEW_DEST = 5
IPVS_CMD_SET_DEST = 6
IPVS_CMD_DEL_DEST = 7
IPVS_CMD_GET_DEST = 8
IPVS_CMD_NEW_DAEMON = 9
IPVS_CMD_DEL_DAEMON = 10
IPVS_CMD_GET_DAEMON = 11
IPVS_CMD_SET_CONFIG = 12
IPVS_CMD_GET_CONFIG = 13
IPVS_CMD_SET_INFO = 14
IPVS_CMD_GET_INFO = 15
IPVS_CMD_ZERO = 16
IPVS_CMD_FLUSH = 17

IPVS_CMD_ATTR_UNSPEC = 0
IPVS_CMD_ATTR_SERVICE = 1
IPVS_CMD_ATTR_DEST = 2
IPVS_CMD_ATTR_DAEMON = 3
IPVS_CMD_ATTR_TIMEOUT_TCP = 4
IPVS_CMD_ATTR_TIMEOUT_TCP_FIN = 5
IPVS_CMD_ATTR_TIMEOUT_UDP = 6

IPVS_SVC_ATTR_UNSPEC = 0
IPVS_SVC_ATTR_AF = 1
IPVS_SVC_ATTR_PROTOCOL = 2
IPVS_SVC_ATTR_ADDR = 3
IPVS_SVC_ATTR_PORT = 4
IPVS_SVC_ATTR_FWMARK = 5
IPVS_SVC_ATTR_SCHED_NAME = 6
IPVS_SVC_ATTR_FLAGS = 7
IPVS_SVC_ATTR_TIMEOUT = 8
IPVS_SVC_ATTR_NETMASK = 9
IPVS_SVC_ATTR_STATS = 10
IPVS_SVC_ATTR_PE_NAME = 11
IPVS_SVC_ATTR_STATS64 = 12

IPVS_DEST_ATTR_UNSPEC = 0
IPVS_DEST_ATTR_ADDR = 1
IPVS_DEST_ATTR_PORT = 2
IPVS_DEST_ATTR_FWD_METHOD = 3
IPVS_DEST_ATTR_WEIGHT = 4
IPVS_DEST_ATTR_U_THRESH = 5
IPVS_DEST_ATTR_L_THRESH = 6
IPVS_DEST_ATTR_ACTIVE_CONNS = 7
IPVS_DEST_ATTR_INACT_CONNS = 8
IPVS_DEST_ATTR_PERSIST_CONNS = 9
IPVS_DEST_ATTR_STATS = 10
IPVS_DEST_ATTR_ADDR_FAMILY = 11
IPVS_DEST_ATTR_STATS64 = 12
IPVS_DEST_ATTR_TUN_TYPE = 13
IPVS_DEST_ATTR_TUN_PORT = 14
IPVS_DEST_ATTR_TUN_FLAGS = 15

IPVS_DAEMON_ATTR_UNSPEC = 0
IPVS_DAEMON_ATTR_STATE = 1
IPVS_DAEMON_ATTR_MCAST_IFN = 2
IPVS_DAEMON_ATTR_SYNC_ID = 3
IPVS_DAEMON_ATTR_SYNC_MAXLEN = 4
IPVS_DAEMON_ATTR_MCAST_GROUP = 5
IPVS_DAEMON_ATTR_MCAST_GROUP6 = 6
IPVS_DAEMON_ATTR_MCAST_PORT = 7
IPVS_DAEMON_ATTR_MCAST_TTL = 8

IPVS_STATS_ATTR_UNSPEC = 0
IPVS_STATS_ATTR_CONNS = 1
IPVS_STATS_ATTR_INPKTS = 2
IPVS_STATS_ATTR_OUTPKTS = 3
IPVS_STATS_ATTR_INBYTES = 4
IPVS_STATS_ATTR_OUTBYTES = 5
IPVS_STATS_ATTR_CPS = 6
IPVS_STATS_ATTR_INPPS = 7
IPVS_STATS_ATTR_OUTPPS = 8
IPVS_STATS_ATTR_INBPS = 9
IPVS_STATS_ATTR_OUTBPS = 10
IPVS_STATS_ATTR_PAD = 11

IPVS_INFO_ATTR_UNSPEC = 0
IPVS_INFO_ATTR_VERSION = 1
IPVS_INFO_ATTR_CONN_TAB_SIZE = 2

IP_VS_SVC_F_PERSISTENT = 0x0001
IP_VS_SVC_F_HASHED = 0x0002
IP_VS_SVC_F_ONEPACKET = 0x0004
IP_VS_SVC_F_SCHED1 = 0x0008
IP_VS_SVC_F_SCHED2 = 0x0010
IP_VS_SVC_F_SCHED3 = 0x0020
IP_VS_SVC_F_SCHED_SH_FALLBACK = IP_VS_SVC_F_SCHED1
IP_VS_SVC_F_SCHED_SH_PORT = IP_VS_SVC_F_SCHED2
# The MH aliases live in net/netfilter/ipvs/ip_vs_mh.c, not in the uapi header.
IP_VS_SVC_F_SCHED_MH_FALLBACK = IP_VS_SVC_F_SCHED1
IP_VS_SVC_F_SCHED_MH_PORT = IP_VS_SVC_F_SCHED2

IP_VS_CONN_F_FWD_MASK = 0x0007
IP_VS_CONN_F_MASQ = 0x0000
IP_VS_CONN_F_LOCALNODE = 0x0001
IP_VS_CONN_F_TUNNEL = 0x0002
IP_VS_CONN_F_DROUTE = 0x0003
IP_VS_CONN_F_BYPASS = 0x0004

IP_VS_CONN_F_TUNNEL_TYPE_IPIP = 0
IP_VS_CONN_F_TUNNEL_TYPE_GUE = 1
IP_VS_CONN_F_TUNNEL_TYPE_GRE = 2

IP_VS_TUNNEL_ENCAP_FLAG_NOCSUM = 0
IP_VS_TUNNEL_ENCAP_FLAG_CSUM = 1 << 0
IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM = 1 << 1

IP_VS_STATE_NONE = 0x0000
IP_VS_STATE_MASTER = 0x0001
IP_VS_STATE_BACKUP = 0x0002

IP_VS_SCHEDNAME_MAXLEN = 16
IP_VS_PENAME_MAXLEN = 16
IP_VS_IFNAME_MAXLEN = 16

IPPROTO_TCP = 6
IPPROTO_UDP = 17
IPPROTO_SCTP = 132

AF_INET = int(socket.AF_INET)
AF_INET6 = int(socket.AF_INET6)

# Netlink header flags (linux/netlink.h), kept here so pure code needs no pyroute2.
NLM_F_REQUEST = 0x1
NLM_F_ACK = 0x4
NLM_F_DUMP = 0x300

U16_MAX = 0xFFFF
U32_MAX = 0xFFFFFFFF
# The kernel keeps the weight in an int: anything above is negative (ERANGE).
WEIGHT_MAX = 0x7FFFFFFF

# --- Readable names ------------------------------------------------------------

FAMILIES = {"ipv4": AF_INET, "ipv6": AF_INET6}
PROTOCOLS = {"tcp": IPPROTO_TCP, "udp": IPPROTO_UDP, "sctp": IPPROTO_SCTP}
FORWARD_METHODS = {
    "masq": IP_VS_CONN_F_MASQ,
    "local": IP_VS_CONN_F_LOCALNODE,
    "tunnel": IP_VS_CONN_F_TUNNEL,
    "droute": IP_VS_CONN_F_DROUTE,
    "bypass": IP_VS_CONN_F_BYPASS,
}
TUNNEL_TYPES = {
    "ipip": IP_VS_CONN_F_TUNNEL_TYPE_IPIP,
    "gue": IP_VS_CONN_F_TUNNEL_TYPE_GUE,
    "gre": IP_VS_CONN_F_TUNNEL_TYPE_GRE,
}
TUNNEL_FLAGS = {
    "nocsum": IP_VS_TUNNEL_ENCAP_FLAG_NOCSUM,
    "csum": IP_VS_TUNNEL_ENCAP_FLAG_CSUM,
    "remcsum": IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM,
}
DAEMON_STATES = {"master": IP_VS_STATE_MASTER, "backup": IP_VS_STATE_BACKUP}

# Names accepted on input; ipvsadm's spellings. "hashed" is kernel bookkeeping.
SERVICE_FLAGS = {
    "persistent": IP_VS_SVC_F_PERSISTENT,
    "one-packet": IP_VS_SVC_F_ONEPACKET,
    "ops": IP_VS_SVC_F_ONEPACKET,
    "flag-1": IP_VS_SVC_F_SCHED1,
    "flag-2": IP_VS_SVC_F_SCHED2,
    "flag-3": IP_VS_SVC_F_SCHED3,
    "sh-fallback": IP_VS_SVC_F_SCHED_SH_FALLBACK,
    "sh-port": IP_VS_SVC_F_SCHED_SH_PORT,
    "mh-fallback": IP_VS_SVC_F_SCHED_MH_FALLBACK,
    "mh-port": IP_VS_SVC_F_SCHED_MH_PORT,
}
# Names given on output: the scheduler decides what SCHED1/SCHED2 mean.
_FLAG_OUTPUT_NAMES = (
    (IP_VS_SVC_F_PERSISTENT, "persistent"),
    (IP_VS_SVC_F_ONEPACKET, "one-packet"),
    (IP_VS_SVC_F_SCHED1, "flag-1"),
    (IP_VS_SVC_F_SCHED2, "flag-2"),
    (IP_VS_SVC_F_SCHED3, "flag-3"),
)
_SCHEDULER_FLAG_NAMES = {
    "sh": {IP_VS_SVC_F_SCHED1: "sh-fallback", IP_VS_SVC_F_SCHED2: "sh-port"},
    "mh": {IP_VS_SVC_F_SCHED1: "mh-fallback", IP_VS_SVC_F_SCHED2: "mh-port"},
}

# Defaults of the whole collection, the model's too. masq rather than
# ipvsadm's droute: it is the kernel's zero value and needs no set-up on the
# real servers (direct routing needs the VIP on each of them).
DEFAULT_SCHEDULER = "wlc"
DEFAULT_WEIGHT = 1
DEFAULT_FORWARD = "masq"

STATS_KEYS = ("conns", "inpkts", "outpkts", "inbytes", "outbytes", "cps", "inpps", "outpps", "inbps", "outbps")

# Keys the decoders return that describe kernel state; accepted and ignored on input.
_READ_ONLY_SERVICE_KEYS = {"stats"}
_READ_ONLY_DEST_KEYS = {"stats", "active_conns", "inactive_conns", "persistent_conns"}


class IPVSError(Exception):
    """A request the kernel (or this layer) refused, with an operator-readable message."""

    def __init__(self, code, message):
        super().__init__(code, message)
        self.errno = code
        self.message = message

    def __str__(self):
        name = errno.errorcode.get(self.errno, str(self.errno))
        return f"{self.message} [{name}]"


# --- Pure helpers: names, numbers, addresses --------------------------------------


def _check_int(name, value, low, high):
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            value = int(value)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be an integer, got {value!r}") from None
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low} and {high}, got {value}")
    return value


def _lookup(table, what, value):
    try:
        return table[str(value).lower()]
    except KeyError:
        raise ValueError(f"unknown {what} {value!r}; expected one of: {', '.join(sorted(table))}") from None


def _reverse(table, value):
    for name, number in table.items():
        if number == value:
            return name
    return value


def family_number(family):
    """'ipv4'/'ipv6' (or an AF_* number) to the AF_* number."""
    if family in (AF_INET, AF_INET6):
        return family
    return _lookup(FAMILIES, "address family", family)


def family_name(af):
    return _reverse(FAMILIES, af)


def protocol_number(protocol):
    if isinstance(protocol, int) and not isinstance(protocol, bool):
        return _check_int("protocol", protocol, 0, 255)
    return _lookup(PROTOCOLS, "protocol", protocol)


def protocol_name(number):
    return _reverse(PROTOCOLS, number)


def forward_number(forward):
    return _lookup(FORWARD_METHODS, "forwarding method", forward)


def forward_name(number):
    # The kernel masks fwd_method to its low 3 bits; so do we.
    return _reverse(FORWARD_METHODS, number & IP_VS_CONN_F_FWD_MASK)


# Parsing addresses dominates the planning of a large table, where each
# address is seen many times: one parse per distinct text.
@functools.lru_cache(maxsize=65536)
def _parse_address(text):
    return ipaddress.ip_address(text)


def _address(address):
    try:
        return _parse_address(str(address))
    except ValueError:
        raise ValueError(f"{address!r} is not an IPv4 or IPv6 address") from None


def address_family(address):
    """AF_INET or AF_INET6 for an address given as text."""
    return AF_INET6 if _address(address).version == 6 else AF_INET


def address_to_raw(address, af=None):
    """Text address to the 16-byte union nf_inet_addr; IPv4 takes the first 4 bytes."""
    found = address_family(address)
    if af is not None and family_number(af) != found:
        raise ValueError(f"address {address} is not an {family_name(family_number(af))} address")
    packed = _address(address).packed
    return packed + b"\0" * (16 - len(packed))


def address_from_raw(raw, af):
    """The 16-byte union nf_inet_addr (or a bare 4/16-byte address) to text."""
    size = 4 if family_number(af) == AF_INET else 16
    raw = bytes(raw)
    if len(raw) < size:
        raise ValueError(f"address field has {len(raw)} bytes, {family_name(af)} needs {size}")
    return str(ipaddress.ip_address(raw[:size]))


def normalize_address(address):
    return str(_address(address))


def netmask_to_raw(af, netmask=None):
    """Persistence netmask to the 4 bytes of IPVS_SVC_ATTR_NETMASK.

    IPv4: a __be32 mask; give a dotted mask or a prefix length 0-32.
    IPv6: the kernel reads the same 4 bytes as a host-order prefix length 1-128.
    None means the whole address (/32 or /128), as ipvsadm does.
    """
    if family_number(af) == AF_INET:
        if netmask is None:
            netmask = 32
        if isinstance(netmask, str) and "." in netmask:
            try:
                packed = ipaddress.IPv4Address(netmask).packed
            except ValueError:
                raise ValueError(f"{netmask!r} is not an IPv4 netmask") from None
            return packed
        prefix = _check_int("IPv4 netmask prefix length", netmask, 0, 32)
        return ipaddress.IPv4Network(f"0.0.0.0/{prefix}").netmask.packed
    if netmask is None:
        netmask = 128
    if isinstance(netmask, str):
        netmask = netmask.lstrip("/")
    prefix = _check_int("IPv6 netmask prefix length", netmask, 1, 128)
    return struct.pack("=I", prefix)


def netmask_from_raw(af, raw):
    """IPVS_SVC_ATTR_NETMASK bytes to a dotted mask (IPv4) or prefix length (IPv6)."""
    if raw is None:
        return None
    raw = bytes(raw)
    if family_number(af) == AF_INET:
        return str(ipaddress.IPv4Address(raw[:4]))
    return struct.unpack("=I", raw[:4])[0]


def service_flags_to_bits(flags):
    bits = 0
    for flag in flags or ():
        name = str(flag).lower().replace("_", "-")
        if name == "hashed":
            raise ValueError("flag 'hashed' is set by the kernel itself and cannot be requested")
        if name.startswith("0x"):
            bits |= _check_int("service flag", int(name, 16), 0, U32_MAX)
        else:
            bits |= _lookup(SERVICE_FLAGS, "service flag", name)
    return bits


def service_flags_from_bits(bits, scheduler=None):
    """Flag names for the bits, with the scheduler's names for SCHED1/SCHED2.

    The hashed flag, which the kernel adds to every service it dumps, is left out.
    """
    bits &= ~IP_VS_SVC_F_HASHED
    aliases = _SCHEDULER_FLAG_NAMES.get(scheduler, {})
    names = []
    for bit, name in _FLAG_OUTPUT_NAMES:
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
    for flag in flags or ():
        bits |= _lookup(TUNNEL_FLAGS, "tunnel flag", flag)
    return bits


def tunnel_flags_from_bits(bits):
    names = [name for name, bit in TUNNEL_FLAGS.items() if bit and bits & bit]
    rest = bits & ~(IP_VS_TUNNEL_ENCAP_FLAG_CSUM | IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM)
    if rest:
        names.append(f"0x{rest:x}")
    return names


def version_text(code):
    return f"{(code >> 16) & 0xFF}.{(code >> 8) & 0xFF}.{code & 0xFF}"


def _check_keys(what, given, allowed):
    unknown = set(given) - set(allowed)
    if unknown:
        # Silently dropping e.g. "sched" would create a wlc service: refuse instead.
        raise ValueError(f"unknown {what} key(s): {', '.join(sorted(unknown))}")


# --- Pure helpers: service and destination dicts <-> attribute lists ----------

# The dict contract shared with the desired-state model (_ipvs_model).
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
_TUNNEL_KEYS = {"type", "port", "flags"}
_DAEMON_KEYS = {"state", "mcast_interface", "sync_id", "sync_maxlen", "mcast_group", "mcast_port", "mcast_ttl"}


def service_family(service):
    """AF_* of a service dict: its address decides; a fwmark service says "family" (default ipv4)."""
    if service.get("fwmark"):
        return family_number(service.get("family") or "ipv4")
    if service.get("address") is None:
        raise ValueError("a service needs either an address (with protocol and port) or a fwmark")
    af = address_family(service["address"])
    if service.get("family") is not None and family_number(service["family"]) != af:
        raise ValueError(f"service address {service['address']} is not {service['family']}")
    return af


def service_key(service):
    """A hashable identity: ("ipv4", "fwmark", 5) or ("ipv4", "tcp", "203.0.113.1", 80)."""
    _check_keys("service", service, set(SERVICE_FIELDS) | _READ_ONLY_SERVICE_KEYS)
    af = service_family(service)
    if service.get("fwmark"):
        for key in ("protocol", "address", "port"):
            if service.get(key) is not None:
                raise ValueError(f"a fwmark service has no {key}; the kernel would ignore it")
        return (family_name(af), "fwmark", _check_int("fwmark", service["fwmark"], 1, U32_MAX))
    if service.get("protocol") is None or service.get("port") is None:
        raise ValueError("a service with an address needs a protocol and a port")
    return (
        family_name(af),
        protocol_name(protocol_number(service["protocol"])),
        normalize_address(service["address"]),
        _check_int("port", service["port"], 0, U16_MAX),
    )


def service_text(service):
    """How messages name a service: 'tcp 203.0.113.1:80', 'udp [2001:db8::1]:53', 'fwmark 5 (ipv4)'."""
    key = service_key(service)
    if key[1] == "fwmark":
        return f"fwmark {key[2]} ({key[0]})"
    host = f"[{key[2]}]" if key[0] == "ipv6" else key[2]
    return f"{key[1]} {host}:{key[3]}"


def dest_text(dest):
    host = dest.get("address")
    if host is not None and ":" in str(host):
        host = f"[{host}]"
    return f"{host}:{dest.get('port', 0)}"


def service_attrs(service, full=False):
    """IPVS_CMD_ATTR_SERVICE content: the identifying attributes, and all of them if full.

    A full entry replaces the kernel's one: flags are sent with an all-ones mask,
    so bits not listed are cleared (the kernel merges (old & ~mask) | (new & mask)).
    """
    key = service_key(service)
    af = family_number(key[0])
    attrs = [["IPVS_SVC_ATTR_AF", af]]
    if key[1] == "fwmark":
        attrs.append(["IPVS_SVC_ATTR_FWMARK", key[2]])
    else:
        attrs.append(["IPVS_SVC_ATTR_PROTOCOL", protocol_number(key[1])])
        attrs.append(["IPVS_SVC_ATTR_ADDR", address_to_raw(key[2], af)])
        attrs.append(["IPVS_SVC_ATTR_PORT", key[3]])
    if not full:
        return attrs
    scheduler = service.get("scheduler") or DEFAULT_SCHEDULER
    if len(scheduler) > IP_VS_SCHEDNAME_MAXLEN - 1:
        raise ValueError(f"scheduler name {scheduler!r} is longer than {IP_VS_SCHEDNAME_MAXLEN - 1} characters")
    attrs.append(["IPVS_SVC_ATTR_SCHED_NAME", scheduler])
    pe_name = service.get("pe_name")
    if pe_name:
        if len(pe_name) > IP_VS_PENAME_MAXLEN - 1:
            raise ValueError(f"persistence engine name {pe_name!r} is too long")
        attrs.append(["IPVS_SVC_ATTR_PE_NAME", pe_name])
    bits = service_flags_to_bits(service.get("flags"))
    attrs.append(["IPVS_SVC_ATTR_FLAGS", {"flags": bits, "mask": U32_MAX}])
    attrs.append(["IPVS_SVC_ATTR_TIMEOUT", _check_int("timeout", service.get("timeout") or 0, 0, U32_MAX)])
    attrs.append(["IPVS_SVC_ATTR_NETMASK", netmask_to_raw(af, service.get("netmask"))])
    return attrs


def dest_attrs(dest, full=False):
    """IPVS_CMD_ATTR_DEST content. A full entry replaces the kernel's one, tunnel fields included."""
    _check_keys("destination", dest, set(DEST_FIELDS) | _READ_ONLY_DEST_KEYS)
    if dest.get("address") is None:
        raise ValueError("a destination needs an address")
    af = address_family(dest["address"])
    if dest.get("family") is not None and family_number(dest["family"]) != af:
        raise ValueError(f"destination address {dest['address']} is not {dest['family']}")
    attrs = [
        ["IPVS_DEST_ATTR_ADDR_FAMILY", af],
        ["IPVS_DEST_ATTR_ADDR", address_to_raw(dest["address"], af)],
        ["IPVS_DEST_ATTR_PORT", _check_int("port", dest.get("port") or 0, 0, U16_MAX)],
    ]
    if not full:
        return attrs
    forward = forward_number(dest.get("forward") or DEFAULT_FORWARD)
    weight = dest.get("weight")
    weight = _check_int("weight", DEFAULT_WEIGHT if weight is None else weight, 0, WEIGHT_MAX)
    u_thresh = _check_int("u_threshold", dest.get("u_threshold") or 0, 0, U32_MAX)
    l_thresh = _check_int("l_threshold", dest.get("l_threshold") or 0, 0, U32_MAX)
    if l_thresh > u_thresh:
        # The kernel says ERANGE even when u_threshold is 0 (unlimited).
        raise ValueError(f"l_threshold ({l_thresh}) must not be higher than u_threshold ({u_thresh})")
    tunnel = dest.get("tunnel") or {}
    if tunnel and forward != IP_VS_CONN_F_TUNNEL:
        raise ValueError("tunnel settings need forward: tunnel")
    _check_keys("tunnel", tunnel, _TUNNEL_KEYS)
    tun_type = _lookup(TUNNEL_TYPES, "tunnel type", tunnel.get("type") or "ipip")
    tun_port = _check_int("tunnel port", tunnel.get("port") or 0, 0, U16_MAX)
    if tun_type == IP_VS_CONN_F_TUNNEL_TYPE_GUE and not tun_port:
        raise ValueError("a GUE tunnel needs a port")
    if tun_type != IP_VS_CONN_F_TUNNEL_TYPE_GUE and tun_port:
        raise ValueError("only a GUE tunnel has a port")
    attrs += [
        ["IPVS_DEST_ATTR_FWD_METHOD", forward],
        ["IPVS_DEST_ATTR_WEIGHT", weight],
        ["IPVS_DEST_ATTR_U_THRESH", u_thresh],
        ["IPVS_DEST_ATTR_L_THRESH", l_thresh],
        # Always sent: an edit resets omitted tunnel fields to 0 anyway.
        ["IPVS_DEST_ATTR_TUN_TYPE", tun_type],
        ["IPVS_DEST_ATTR_TUN_PORT", tun_port],
        ["IPVS_DEST_ATTR_TUN_FLAGS", tunnel_flags_to_bits(tunnel.get("flags"))],
    ]
    return attrs


def daemon_attrs(daemon, full=True):
    _check_keys("sync daemon", daemon, _DAEMON_KEYS)
    attrs = [["IPVS_DAEMON_ATTR_STATE", _lookup(DAEMON_STATES, "sync daemon state", daemon.get("state"))]]
    if not full:
        return attrs
    ifname = daemon.get("mcast_interface")
    if not ifname or len(ifname) > IP_VS_IFNAME_MAXLEN - 1:
        raise ValueError(f"mcast_interface must be an interface name of 1-{IP_VS_IFNAME_MAXLEN - 1} characters")
    attrs.append(["IPVS_DAEMON_ATTR_MCAST_IFN", ifname])
    attrs.append(["IPVS_DAEMON_ATTR_SYNC_ID", _check_int("sync_id", daemon.get("sync_id") or 0, 0, 255)])
    if daemon.get("sync_maxlen"):
        attrs.append(["IPVS_DAEMON_ATTR_SYNC_MAXLEN", _check_int("sync_maxlen", daemon["sync_maxlen"], 1, U16_MAX)])
    group = daemon.get("mcast_group")
    if group:
        if not ipaddress.ip_address(str(group)).is_multicast:
            raise ValueError(f"mcast_group {group} is not a multicast address")
        packed = ipaddress.ip_address(str(group)).packed
        name = "IPVS_DAEMON_ATTR_MCAST_GROUP" if len(packed) == 4 else "IPVS_DAEMON_ATTR_MCAST_GROUP6"
        attrs.append([name, packed])
    if daemon.get("mcast_port"):
        attrs.append(["IPVS_DAEMON_ATTR_MCAST_PORT", _check_int("mcast_port", daemon["mcast_port"], 1, U16_MAX)])
    if daemon.get("mcast_ttl"):
        attrs.append(["IPVS_DAEMON_ATTR_MCAST_TTL", _check_int("mcast_ttl", daemon["mcast_ttl"], 1, 255)])
    return attrs


# --- Decoders (take pyroute2 nla objects, give plain dicts) ---------------------


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
            "type": _reverse(TUNNEL_TYPES, get("IPVS_DEST_ATTR_TUN_TYPE") or 0),
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
        "state": _reverse(DAEMON_STATES, get("IPVS_DAEMON_ATTR_STATE")),
        "mcast_interface": get("IPVS_DAEMON_ATTR_MCAST_IFN"),
        "sync_id": get("IPVS_DAEMON_ATTR_SYNC_ID") or 0,
        "sync_maxlen": get("IPVS_DAEMON_ATTR_SYNC_MAXLEN") or 0,
        "mcast_group": str(ipaddress.ip_address(bytes(group))) if group else None,
        "mcast_port": get("IPVS_DAEMON_ATTR_MCAST_PORT") or 0,
        "mcast_ttl": get("IPVS_DAEMON_ATTR_MCAST_TTL") or 0,
    }


# --- Message classes --------------------------------------------------------------
# Only nla/genlmsg are subclassed: see the module docstring.


class IPVSStats(nla):
    prefix = "IPVS_STATS_ATTR_"
    nla_map = (
        ("IPVS_STATS_ATTR_UNSPEC", "none"),
        ("IPVS_STATS_ATTR_CONNS", "uint32"),
        ("IPVS_STATS_ATTR_INPKTS", "uint32"),
        ("IPVS_STATS_ATTR_OUTPKTS", "uint32"),
        ("IPVS_STATS_ATTR_INBYTES", "uint64"),
        ("IPVS_STATS_ATTR_OUTBYTES", "uint64"),
        ("IPVS_STATS_ATTR_CPS", "uint32"),
        ("IPVS_STATS_ATTR_INPPS", "uint32"),
        ("IPVS_STATS_ATTR_OUTPPS", "uint32"),
        ("IPVS_STATS_ATTR_INBPS", "uint32"),
        ("IPVS_STATS_ATTR_OUTBPS", "uint32"),
        ("IPVS_STATS_ATTR_PAD", "none"),
    )


class IPVSStats64(nla):
    prefix = "IPVS_STATS_ATTR_"
    nla_map = (
        ("IPVS_STATS_ATTR_UNSPEC", "none"),
        ("IPVS_STATS_ATTR_CONNS", "uint64"),
        ("IPVS_STATS_ATTR_INPKTS", "uint64"),
        ("IPVS_STATS_ATTR_OUTPKTS", "uint64"),
        ("IPVS_STATS_ATTR_INBYTES", "uint64"),
        ("IPVS_STATS_ATTR_OUTBYTES", "uint64"),
        ("IPVS_STATS_ATTR_CPS", "uint64"),
        ("IPVS_STATS_ATTR_INPPS", "uint64"),
        ("IPVS_STATS_ATTR_OUTPPS", "uint64"),
        ("IPVS_STATS_ATTR_INBPS", "uint64"),
        ("IPVS_STATS_ATTR_OUTBPS", "uint64"),
        ("IPVS_STATS_ATTR_PAD", "none"),
    )


class IPVSFlags(nla):
    """struct ip_vs_flags."""

    fields = (("flags", "I"), ("mask", "I"))


class IPVSService(nla):
    prefix = "IPVS_SVC_ATTR_"
    nla_map = (
        ("IPVS_SVC_ATTR_UNSPEC", "none"),
        ("IPVS_SVC_ATTR_AF", "uint16"),
        ("IPVS_SVC_ATTR_PROTOCOL", "uint16"),
        ("IPVS_SVC_ATTR_ADDR", "cdata"),  # union nf_inet_addr, 16 bytes
        ("IPVS_SVC_ATTR_PORT", "be16"),
        ("IPVS_SVC_ATTR_FWMARK", "uint32"),
        ("IPVS_SVC_ATTR_SCHED_NAME", "asciiz"),
        ("IPVS_SVC_ATTR_FLAGS", "ipvs_flags"),
        ("IPVS_SVC_ATTR_TIMEOUT", "uint32"),
        ("IPVS_SVC_ATTR_NETMASK", "cdata"),  # 4 bytes, meaning by family: see netmask_to_raw
        ("IPVS_SVC_ATTR_STATS", "ipvs_stats"),
        ("IPVS_SVC_ATTR_PE_NAME", "asciiz"),
        ("IPVS_SVC_ATTR_STATS64", "ipvs_stats64"),
    )
    ipvs_flags = IPVSFlags
    ipvs_stats = IPVSStats
    ipvs_stats64 = IPVSStats64


class IPVSDest(nla):
    prefix = "IPVS_DEST_ATTR_"
    nla_map = (
        ("IPVS_DEST_ATTR_UNSPEC", "none"),
        ("IPVS_DEST_ATTR_ADDR", "cdata"),  # union nf_inet_addr, 16 bytes
        ("IPVS_DEST_ATTR_PORT", "be16"),
        ("IPVS_DEST_ATTR_FWD_METHOD", "uint32"),
        ("IPVS_DEST_ATTR_WEIGHT", "uint32"),
        ("IPVS_DEST_ATTR_U_THRESH", "uint32"),
        ("IPVS_DEST_ATTR_L_THRESH", "uint32"),
        ("IPVS_DEST_ATTR_ACTIVE_CONNS", "uint32"),
        ("IPVS_DEST_ATTR_INACT_CONNS", "uint32"),
        ("IPVS_DEST_ATTR_PERSIST_CONNS", "uint32"),
        ("IPVS_DEST_ATTR_STATS", "ipvs_stats"),
        ("IPVS_DEST_ATTR_ADDR_FAMILY", "uint16"),
        ("IPVS_DEST_ATTR_STATS64", "ipvs_stats64"),
        ("IPVS_DEST_ATTR_TUN_TYPE", "uint8"),
        ("IPVS_DEST_ATTR_TUN_PORT", "be16"),
        ("IPVS_DEST_ATTR_TUN_FLAGS", "uint16"),
    )
    ipvs_stats = IPVSStats
    ipvs_stats64 = IPVSStats64


class IPVSDaemon(nla):
    prefix = "IPVS_DAEMON_ATTR_"
    nla_map = (
        ("IPVS_DAEMON_ATTR_UNSPEC", "none"),
        ("IPVS_DAEMON_ATTR_STATE", "uint32"),
        ("IPVS_DAEMON_ATTR_MCAST_IFN", "asciiz"),
        ("IPVS_DAEMON_ATTR_SYNC_ID", "uint32"),
        ("IPVS_DAEMON_ATTR_SYNC_MAXLEN", "uint16"),
        ("IPVS_DAEMON_ATTR_MCAST_GROUP", "cdata"),  # struct in_addr, 4 bytes
        ("IPVS_DAEMON_ATTR_MCAST_GROUP6", "cdata"),  # struct in6_addr, 16 bytes
        # Host byte order, unlike the service and tunnel ports: the kernel
        # uses nla_get_u16() and htons() only when it builds the sockaddr.
        ("IPVS_DAEMON_ATTR_MCAST_PORT", "uint16"),
        ("IPVS_DAEMON_ATTR_MCAST_TTL", "uint8"),
    )


class IPVSMessage(genlmsg):
    prefix = "IPVS_CMD_ATTR_"
    nla_map = (
        ("IPVS_CMD_ATTR_UNSPEC", "none"),
        ("IPVS_CMD_ATTR_SERVICE", "_service_or_info"),
        ("IPVS_CMD_ATTR_DEST", "_dest_or_info"),
        ("IPVS_CMD_ATTR_DAEMON", "ipvs_daemon"),
        ("IPVS_CMD_ATTR_TIMEOUT_TCP", "uint32"),
        ("IPVS_CMD_ATTR_TIMEOUT_TCP_FIN", "uint32"),
        ("IPVS_CMD_ATTR_TIMEOUT_UDP", "uint32"),
    )
    ipvs_service = IPVSService
    ipvs_dest = IPVSDest
    ipvs_daemon = IPVSDaemon

    # The GET_INFO reply (cmd SET_INFO) puts IPVS_INFO_ATTR_VERSION and
    # _CONN_TAB_SIZE, plain u32s, at the top level under ids 1 and 2, which
    # other messages use for the service and destination nests.
    @staticmethod
    def _service_or_info(msg, *argv, **kwarg):
        return msg.uint32 if msg.get("cmd") == IPVS_CMD_SET_INFO else msg.ipvs_service

    @staticmethod
    def _dest_or_info(msg, *argv, **kwarg):
        return msg.uint32 if msg.get("cmd") == IPVS_CMD_SET_INFO else msg.ipvs_dest


# The top-level nests of a request: IPVSMessage decides by cmd only when decoding.
_NESTS = {"_service_or_info": IPVSService, "_dest_or_info": IPVSDest}


# --- Errors -----------------------------------------------------------------------

_GENERIC_REASONS = {
    errno.EPERM: "not permitted: IPVS needs CAP_NET_ADMIN (run as root, in the right network namespace)",
    errno.EAFNOSUPPORT: "address family not supported by this kernel's IPVS (no IPv6 support, or IPv6 disabled)",
    errno.ENOMEM: "the kernel is out of memory",
    errno.ENOBUFS: "the netlink receive buffer overflowed: send fewer requests at once",
    errno.ENOPROTOOPT: "the ip_vs module is being unloaded",
    errno.EMSGSIZE: "the kernel's answer did not fit in a netlink message",
}
_NO_SCHEDULER = (
    "the kernel has no scheduler '{scheduler}' or persistence engine '{pe_name}' "
    "(is module ip_vs_{scheduler} available?)"
)
_BAD_SERVICE = "invalid service (an IPv6 persistence netmask must be a prefix length 1-128)"
_BAD_DEST = (
    "the kernel refused the destination: its address must be unicast and routable or local (in a new network "
    "namespace bring 'lo' up first), a GUE tunnel needs a port, and a destination of another address family "
    "than the service needs forward: tunnel and no running sync daemon"
)
_BAD_THRESHOLDS = (
    "weight must not be negative, and l_threshold must not be above u_threshold even when u_threshold is 0"
)
_SPECIFIC_REASONS = {
    ("add_service", errno.EEXIST): "it already exists",
    ("add_service", errno.ENOENT): _NO_SCHEDULER,
    ("edit_service", errno.ENOENT): _NO_SCHEDULER,
    ("add_service", errno.EINVAL): _BAD_SERVICE,
    ("edit_service", errno.EINVAL): _BAD_SERVICE,
    ("add_destination", errno.EEXIST): "the destination already exists in the service",
    ("add_destination", errno.EINVAL): _BAD_DEST,
    ("edit_destination", errno.EINVAL): _BAD_DEST,
    ("add_destination", errno.ERANGE): _BAD_THRESHOLDS,
    ("edit_destination", errno.ERANGE): _BAD_THRESHOLDS,
    ("edit_destination", errno.ENOENT): "the service has no such destination",
    ("delete_destination", errno.ENOENT): "the service has no such destination",
    ("start_daemon", errno.EEXIST): "a sync daemon in that state is already running",
    ("start_daemon", errno.ENODEV): "no such network interface",
    ("start_daemon", errno.EINVAL): "invalid sync daemon settings (the group must be multicast, and no service "
    "may have destinations of another address family)",
    ("stop_daemon", errno.ESRCH): "no sync daemon in that state is running",
    ("set_timeouts", errno.EINVAL): "invalid timeout (too large for the kernel)",
}


def _subject(operation, subject=""):
    what = "IPVS " + operation.replace("_", " ")
    return f"{what} {subject}" if subject else what


def describe_error(code, operation, subject="", details=None):
    """An operator-readable message for a kernel error code answering one operation."""
    if code == errno.ESRCH and operation not in ("stop_daemon",):
        # Every service and destination command answers ESRCH for a missing service.
        reason = "no such service"
    else:
        reason = _SPECIFIC_REASONS.get((operation, code)) or _GENERIC_REASONS.get(code)
    if reason is None:
        reason = os.strerror(code)
    values = {"scheduler": "?", "pe_name": ""}
    values.update(details or {})
    return f"{_subject(operation, subject)}: {reason.format(**values)}"


FAMILY_MISSING_MESSAGE = (
    "the kernel has no IPVS generic netlink family: load the IPVS module with 'modprobe ip_vs' "
    "(in a container or namespace, on the host kernel), or use a kernel built with CONFIG_IP_VS"
)


# --- Client -----------------------------------------------------------------------


# --- Transport ----------------------------------------------------------------------

NETLINK_GENERIC = 16
NLMSG_ERROR = 2
NLMSG_DONE = 3
# A dump's answers come in buffers of at most 32 KiB (netlink_dump() caps them).
RECV_SIZE = 65536
# Each ACK takes about 1 KiB of the socket's receive buffer until it is read:
# 1,000 requests in one send overflowed it (ENOBUFS) where 500 did not.
BATCH_SIZE = 500
RCVBUF = 4 * 1024 * 1024
_HEADER = struct.Struct("=IHHII")
# socket.timeout, not its name since Python 3.10 (TimeoutError): before 3.10 they differ.
_TIMEOUT = socket.timeout
_INT = struct.Struct("=i")

_STEP_COMMANDS = {
    # operation: (command, whether the full entry is sent)
    "add_service": (IPVS_CMD_NEW_SERVICE, True),
    "edit_service": (IPVS_CMD_SET_SERVICE, True),
    "delete_service": (IPVS_CMD_DEL_SERVICE, False),
    "add_destination": (IPVS_CMD_NEW_DEST, True),
    "edit_destination": (IPVS_CMD_SET_DEST, True),
    "delete_destination": (IPVS_CMD_DEL_DEST, False),
}


def _open_socket():
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC)
    try:
        # Room for a batch's answers; the FORCE variant (root) passes net.core.rmem_max.
        sock.setsockopt(socket.SOL_SOCKET, 33, RCVBUF)  # SO_RCVBUFFORCE
    except OSError:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF)
    sock.bind((0, 0))
    return sock


def _split(data):
    """(type, sequence number, whole message) of each netlink message in one received buffer."""
    offset = 0
    while offset + _HEADER.size <= len(data):
        length, kind, _flags, seq, _pid = _HEADER.unpack_from(data, offset)
        if length < _HEADER.size:
            return
        yield kind, seq, data[offset : offset + length]
        offset += (length + 3) & ~3


def _decode(data, cls=None):
    msg = (cls or IPVSMessage)(data)
    msg.decode()
    return msg


# pyroute2's generic encoding and decoding cost more than the kernel's work:
# with it, loading a 10,000-destination table spends 2 s in encoding alone,
# and reading one takes several times as long as `ipvsadm -Sn`. IPVS
# requests are therefore encoded, and service and destination dumps decoded,
# by this small codec, driven by the very nla_map tables above so that each
# attribute is still defined once; unit tests hold it to pyroute2's bytes
# and results. pyroute2 still decodes the rare replies (info, daemons,
# timeouts) and looks up the family.
_NLA = struct.Struct("=HH")
_NLA_TYPE_MASK = 0x3FFF  # without NLA_F_NESTED and NLA_F_NET_BYTEORDER
_SCALARS = {
    "uint8": struct.Struct("=B"),
    "uint16": struct.Struct("=H"),
    "uint32": struct.Struct("=I"),
    "uint64": struct.Struct("=Q"),
    "be16": struct.Struct(">H"),
}
_GENL = struct.Struct("=BBH")
_GENL_HEADER_SIZE = _GENL.size
_TABLES = {}
_ENCODERS = {}


class Attrs(dict):
    """Decoded attributes by name, read with get_attr() like a pyroute2 message."""

    def get_attr(self, name):
        return self.get(name)


def _scalar(layout):
    return lambda data, start, stop: layout.unpack_from(data, start)[0]


def _cdata(data, start, stop):
    return bytes(data[start:stop])


def _asciiz(data, start, stop):
    return bytes(data[start:stop]).split(b"\0", 1)[0].decode("ascii", "replace")


def _struct_fields(cls):
    layout = struct.Struct("=" + "".join(kind for _name, kind in cls.fields))
    names = [name for name, _kind in cls.fields]
    # zip(strict=) needs Python 3.10; both sequences come from cls.fields.
    return lambda data, start, stop: dict(zip(names, layout.unpack_from(data, start)))  # noqa: B905


def _nested(cls):
    return lambda data, start, stop: parse_attrs(cls, data, start, stop)


def _table(cls):
    """{attribute type: (name, decoder)} compiled from cls.nla_map."""
    table = _TABLES.get(cls)
    if table is None:
        table = {}
        for index, (name, kind) in enumerate(cls.nla_map):
            if kind in _SCALARS:
                table[index] = (name, _scalar(_SCALARS[kind]))
            elif kind == "cdata":
                table[index] = (name, _cdata)
            elif kind == "asciiz":
                table[index] = (name, _asciiz)
            elif kind != "none":
                sub = getattr(cls, kind)
                table[index] = (name, _struct_fields(sub) if getattr(sub, "fields", None) else _nested(sub))
        _TABLES[cls] = table
    return table


def parse_attrs(cls, data, start, stop):
    """The attributes in data[start:stop], decoded by cls's nla_map."""
    table = _table(cls)
    found = Attrs()
    offset = start
    while offset + 4 <= stop:
        length, kind = _NLA.unpack_from(data, offset)
        if length < 4:
            break
        entry = table.get(kind & _NLA_TYPE_MASK)
        if entry is not None:
            found[entry[0]] = entry[1](data, offset + 4, offset + length)
        offset += (length + 3) & ~3
    return found


def _encoder(kind, cls):
    if kind in _SCALARS:
        return _SCALARS[kind].pack
    if kind == "cdata":
        return bytes
    if kind == "asciiz":
        return lambda value: value.encode("ascii") + b"\0"
    sub = _NESTS.get(kind) or getattr(cls, kind)
    fields = getattr(sub, "fields", None)
    if fields:
        layout = struct.Struct("=" + "".join(code for _name, code in fields))
        return lambda value: layout.pack(*(value[name] for name, _code in fields))
    return lambda value: encode_attrs(sub, value["attrs"])


def _encoders(cls):
    """{attribute name: (type, encoder)} compiled from cls.nla_map."""
    table = _ENCODERS.get(cls)
    if table is None:
        table = {name: (index, _encoder(kind, cls)) for index, (name, kind) in enumerate(cls.nla_map) if kind != "none"}
        _ENCODERS[cls] = table
    return table


def encode_attrs(cls, attrs):
    """[[name, value], ...] as netlink attributes, by cls's nla_map (what pyroute2 would encode)."""
    table = _encoders(cls)
    out = bytearray()
    for name, value in attrs:
        kind, encode = table[name]
        payload = encode(value)
        out += _NLA.pack(4 + len(payload), kind)
        out += payload
        out += b"\0" * (-len(payload) % 4)
    return bytes(out)


def encode_message(family, cmd, attrs, flags, seq):
    """One IPVS request as bytes: netlink header, genl header (cmd, version), attributes."""
    body = _GENL.pack(cmd, GENL_VERSION, 0) + encode_attrs(IPVSMessage, attrs)
    return _HEADER.pack(_HEADER.size + len(body), family, flags, seq, 0) + body


def parse_reply(data, attr_type, cls):
    """The nest of type attr_type in one IPVS reply message, decoded by cls; None if absent."""
    offset = _HEADER.size + _GENL_HEADER_SIZE
    while offset + 4 <= len(data):
        length, kind = _NLA.unpack_from(data, offset)
        if length < 4:
            break
        if kind & _NLA_TYPE_MASK == attr_type:
            return parse_attrs(cls, data, offset + 4, offset + length)
        offset += (length + 3) & ~3
    return None


class BatchError(Exception):
    """Some steps of a batch failed: which were applied, which failed, which were never sent.

    The kernel carries out every request of a sent batch even after one
    fails, so applied and failed can interleave; not_sent follows the first
    batch that had a failure.
    """

    def __init__(self, applied, failed, not_sent):
        super().__init__(failed[0][1].message)
        self.applied = applied
        self.failed = failed
        self.not_sent = not_sent


class IPVSClient:
    """Synchronous IPVS client over one netlink socket.

    pyroute2 resolves the family id and encodes and decodes the messages; the
    socket is a plain one so that many requests can go out in one send (the
    kernel answers each in turn) without an event loop per request, which is
    what makes a 10,000-entry table quick. Each request waits at most
    `timeout` seconds: the kernel may never answer a sync daemon stop sent
    right after a start.
    """

    def __init__(self, timeout=30.0):
        if PYROUTE2_IMPORT_ERROR is not None:
            raise IPVSError(errno.ENOPKG, "the Python library pyroute2 is required")
        self.timeout = timeout
        self._seq = 0
        try:
            self._sock = _open_socket()
        except OSError as exc:
            raise IPVSError(exc.errno or errno.EIO, f"cannot open a netlink socket: {exc}") from None
        try:
            self._family = self._family_id()
        except IPVSError:
            self._sock.close()
            raise

    def _family_id(self):
        self._seq += 1
        msg = ctrlmsg()
        msg["cmd"] = CTRL_CMD_GETFAMILY
        msg["version"] = 1
        msg["attrs"] = [["CTRL_ATTR_FAMILY_NAME", GENL_NAME]]
        msg["header"]["type"] = GENL_ID_CTRL
        msg["header"]["flags"] = NLM_F_REQUEST | NLM_F_ACK
        msg["header"]["sequence_number"] = self._seq
        msg.encode()
        try:
            [reply] = self._exchange(self._seq, msg.data, self.timeout, "lookup of the IPVS family")
        except IPVSError as exc:
            if exc.errno == errno.ENOENT:
                raise IPVSError(errno.ENOENT, FAMILY_MISSING_MESSAGE) from None
            raise
        return _decode(reply, ctrlmsg).get_attr("CTRL_ATTR_FAMILY_ID")

    def close(self):
        self._sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    # Transport

    def _encode(self, cmd, attrs, dump):
        """(sequence number, bytes) of the next IPVS request."""
        self._seq += 1
        # Every request but a dump asks for an ACK, so that each ends with one
        # answer (an ACK or an error) and a batch can be matched up by sequence.
        flags = NLM_F_REQUEST | (NLM_F_DUMP if dump else NLM_F_ACK)
        return self._seq, encode_message(self._family, cmd, attrs, flags, self._seq)

    def _receive(self, pending, deadline, errors, ended):
        """Read answers until every request in pending ({sequence number: replies}) has ended.

        A request the kernel refused goes into errors ({sequence number:
        errno}), one that succeeded into ended; replies are appended to
        pending's lists. Raises socket.timeout at the deadline.
        """
        waiting = len(pending)
        while waiting:
            left = deadline - time.monotonic()
            if left <= 0:
                raise _TIMEOUT()
            self._sock.settimeout(left)
            for kind, seq, body in _split(self._sock.recv(RECV_SIZE)):
                if seq not in pending or seq in ended or seq in errors:
                    continue  # a late answer to an abandoned request
                if kind not in (NLMSG_ERROR, NLMSG_DONE):
                    pending[seq].append(body)
                    continue
                waiting -= 1
                code = -_INT.unpack_from(body, _HEADER.size)[0] if len(body) >= _HEADER.size + 4 else 0
                if code:
                    errors[seq] = code
                else:
                    ended.add(seq)

    def _exchange(self, seq, data, limit, operation, subject="", details=None):
        """Send one request; its raw replies, or IPVSError."""
        pending, errors = {seq: []}, {}
        try:
            self._sock.send(data)
            self._receive(pending, time.monotonic() + limit, errors, set())
        except _TIMEOUT:
            raise IPVSError(
                errno.ETIMEDOUT, f"{_subject(operation, subject)}: no answer from the kernel in {limit}s"
            ) from None
        except OSError as exc:
            code = exc.errno or errno.EIO
            raise IPVSError(code, describe_error(code, operation, subject)) from None
        if seq in errors:
            raise IPVSError(errors[seq], describe_error(errors[seq], operation, subject, details))
        return pending[seq]

    def _request(
        self, cmd, attrs=(), dump=False, operation="request", subject="", details=None, timeout=None, raw=False
    ):
        """One IPVS request; its replies (decoded by pyroute2 unless raw), or IPVSError."""
        limit = self.timeout if timeout is None else timeout
        seq, data = self._encode(cmd, attrs, dump)
        replies = self._exchange(seq, data, limit, operation, subject, details)
        return replies if raw else [_decode(body) for body in replies]

    def run(self, steps, batch_size=BATCH_SIZE):
        """Carry out steps, each (operation, service, destination or None), batch_size per send.

        operation is one of add_service, edit_service, delete_service,
        add_destination, edit_destination, delete_destination. Everything is
        encoded (and so validated) before the first send. Raises BatchError
        after the first batch in which the kernel refused a step.
        """
        # A plan's steps for one service share its dict: its identity is encoded once.
        identities = {}
        requests = [self._step_request(*step, identities=identities) for step in steps]
        applied = []
        for first in range(0, len(requests), batch_size):
            chunk = requests[first : first + batch_size]
            pending = {}
            buffer = bytearray()
            for cmd, attrs, _dummy, _dummy2 in chunk:
                seq, data = self._encode(cmd, attrs, False)
                pending[seq] = []
                buffer += data
            ended, errors = set(), {}
            try:
                self._sock.send(bytes(buffer))
                self._receive(pending, time.monotonic() + self.timeout, errors, ended)
            except _TIMEOUT:
                pass  # the steps without an answer fail below
            except OSError as exc:
                errors.update((seq, exc.errno or errno.EIO) for seq in pending if seq not in ended)
            failed = []
            for index, seq in enumerate(pending, start=first):
                _cmd, _attrs, operation, (subject, details) = requests[index]
                if seq in ended:
                    applied.append(index)
                elif seq in errors:
                    code = errors[seq]
                    failed.append((index, IPVSError(code, describe_error(code, operation, subject, details))))
                else:
                    message = f"{_subject(operation, subject)}: no answer from the kernel in {self.timeout}s"
                    failed.append((index, IPVSError(errno.ETIMEDOUT, message)))
            if failed:
                raise BatchError(applied, failed, list(range(first + len(chunk), len(requests))))
        return applied

    def _step_request(self, operation, service, dest=None, identities=None):
        cmd, full = _STEP_COMMANDS[operation]
        attrs, subject, details = self._service_attrs(service, full, dest, identities)
        return cmd, attrs, operation, (subject, details)

    # Services

    def services(self):
        replies = self._request(IPVS_CMD_GET_SERVICE, dump=True, operation="list_services", raw=True)
        return [decode_service(parse_reply(reply, IPVS_CMD_ATTR_SERVICE, IPVSService)) for reply in replies]

    def get_service(self, service):
        """The service as the kernel has it, or None."""
        attrs = [["IPVS_CMD_ATTR_SERVICE", {"attrs": service_attrs(service)}]]
        try:
            replies = self._request(
                IPVS_CMD_GET_SERVICE, attrs, operation="get_service", subject=service_text(service), raw=True
            )
        except IPVSError as exc:
            if exc.errno == errno.ESRCH:
                return None
            raise
        return decode_service(parse_reply(replies[0], IPVS_CMD_ATTR_SERVICE, IPVSService)) if replies else None

    def _service_attrs(self, service, full, dest=None, identities=None):
        if dest is None or identities is None:
            attrs = [["IPVS_CMD_ATTR_SERVICE", {"attrs": service_attrs(service, full and dest is None)}]]
            subject = service_text(service)
        else:
            if id(service) not in identities:
                identities[id(service)] = (service, service_attrs(service), service_text(service))
            _dummy, identity, subject = identities[id(service)]
            attrs = [["IPVS_CMD_ATTR_SERVICE", {"attrs": identity}]]
        if dest is not None:
            attrs.append(["IPVS_CMD_ATTR_DEST", {"attrs": dest_attrs(dest, full)}])
            subject = f"{dest_text(dest)} in service {subject}"
        details = {"scheduler": service.get("scheduler") or DEFAULT_SCHEDULER, "pe_name": service.get("pe_name") or ""}
        return attrs, subject, details

    def _step(self, operation, service, dest=None):
        cmd, attrs, operation, (subject, details) = self._step_request(operation, service, dest)
        self._request(cmd, attrs, operation=operation, subject=subject, details=details)

    def add_service(self, service):
        self._step("add_service", service)

    def edit_service(self, service):
        """Replace the service's settings with these (omitted ones take their defaults)."""
        self._step("edit_service", service)

    def delete_service(self, service):
        self._step("delete_service", service)

    # Destinations

    def destinations(self, service):
        """The service's destinations. The kernel answers a missing service with an empty list."""
        attrs = [["IPVS_CMD_ATTR_SERVICE", {"attrs": service_attrs(service)}]]
        replies = self._request(
            IPVS_CMD_GET_DEST, attrs, dump=True, operation="destinations", subject=service_text(service), raw=True
        )
        af = service_family(service)
        return [decode_dest(parse_reply(reply, IPVS_CMD_ATTR_DEST, IPVSDest), af) for reply in replies]

    def add_destination(self, service, dest):
        self._step("add_destination", service, dest)

    def edit_destination(self, service, dest):
        """Replace the destination's settings, tunnel ones included (omitted ones take their defaults)."""
        self._step("edit_destination", service, dest)

    def delete_destination(self, service, dest):
        self._step("delete_destination", service, dest)

    # Global settings

    def get_timeouts(self):
        replies = self._request(IPVS_CMD_GET_CONFIG, operation="get_timeouts")
        reply = replies[0]
        # A kernel without TCP or UDP IPVS support leaves that attribute out.
        return {
            "tcp": reply.get_attr("IPVS_CMD_ATTR_TIMEOUT_TCP"),
            "tcpfin": reply.get_attr("IPVS_CMD_ATTR_TIMEOUT_TCP_FIN"),
            "udp": reply.get_attr("IPVS_CMD_ATTR_TIMEOUT_UDP"),
        }

    def set_timeouts(self, tcp=None, tcpfin=None, udp=None):
        """Seconds; None or 0 leaves a timeout as it is (the kernel ignores 0)."""
        attrs = []
        for name, value in (("TCP", tcp), ("TCP_FIN", tcpfin), ("UDP", udp)):
            if value:
                attrs.append(
                    [f"IPVS_CMD_ATTR_TIMEOUT_{name}", _check_int(f"{name.lower()} timeout", value, 0, 2**31 - 1)]
                )
        if attrs:
            self._request(IPVS_CMD_SET_CONFIG, attrs, operation="set_timeouts")

    def info(self):
        reply = self._request(IPVS_CMD_GET_INFO, operation="get_info")[0]
        code = reply.get_attr("IPVS_CMD_ATTR_SERVICE")  # IPVS_INFO_ATTR_VERSION: see IPVSMessage
        return {
            "version": version_text(code),
            "version_code": code,
            "conn_table_size": reply.get_attr("IPVS_CMD_ATTR_DEST"),  # IPVS_INFO_ATTR_CONN_TAB_SIZE
        }

    # Sync daemons

    def daemons(self):
        replies = self._request(IPVS_CMD_GET_DAEMON, dump=True, operation="list_daemons")
        return [decode_daemon(reply.get_attr("IPVS_CMD_ATTR_DAEMON")) for reply in replies]

    def start_daemon(self, daemon):
        attrs = [["IPVS_CMD_ATTR_DAEMON", {"attrs": daemon_attrs(daemon)}]]
        self._request(IPVS_CMD_NEW_DAEMON, attrs, operation="start_daemon", subject=str(daemon.get("state")))

    def stop_daemon(self, state, timeout=10.0):
        """Stop the master or backup daemon.

        The kernel may not answer a stop sent right after a start; after a
        timeout the daemon list decides whether the stop happened.
        """
        state = str(state).lower()
        attrs = [["IPVS_CMD_ATTR_DAEMON", {"attrs": daemon_attrs({"state": state}, full=False)}]]
        try:
            self._request(IPVS_CMD_DEL_DAEMON, attrs, operation="stop_daemon", subject=str(state), timeout=timeout)
        except IPVSError as exc:
            if exc.errno != errno.ETIMEDOUT:
                raise
            if any(d["state"] == state for d in self.daemons()):
                raise

    # Whole table

    def flush(self):
        self._request(IPVS_CMD_FLUSH, operation="flush")

    def zero(self, service=None):
        """Zero the counters of one service (and its destinations), or of all."""
        if service is None:
            self._request(IPVS_CMD_ZERO, operation="zero", subject="all services")
        else:
            attrs, subject, _dummy = self._service_attrs(service, False)
            self._request(IPVS_CMD_ZERO, attrs, operation="zero", subject=subject)
