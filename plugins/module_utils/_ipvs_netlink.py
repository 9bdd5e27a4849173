# Copyright (c) 2026 lvs.ipvs developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The vocabulary of the kernel's IPVS generic-netlink family: constants, names, attributes, messages, errors.

Plain Python (no Ansible imports) so that modules and tests can use it alike.
Message classes are defined here from scratch after include/uapi/linux/ip_vs.h
and net/netfilter/ipvs/ip_vs_ctl.c: pyroute2's own IPVS classes have wrong
types, and overriding nla_map on a subclass of an already used pyroute2 class
is silently ignored (the compiled table is cached on the parent).

Services and destinations go in and out as plain dicts with readable keys;
kernel errors come out as IPVSError with a message an operator can act on.

Turning messages into bytes is _ipvs_codec's job, sending them _ipvs_client's:
this file opens no socket, so the model and the filters can build on it alone.
"""

from __future__ import annotations

import errno
import functools
import ipaddress
import os
import socket
import struct
import traceback

try:
    from pyroute2.netlink import genlmsg, nla
except ImportError:
    PYROUTE2_IMPORT_ERROR = traceback.format_exc()
    # Placeholders so that this file still imports and its pure functions work.
    genlmsg = nla = object
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
