# Copyright (c) 2026 lvs.ipvs developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The kernel's IPVS generic-netlink family as include/uapi/linux/ip_vs.h defines it.

Constants, the kernel's numbers for the collection's names (the names
themselves are _ipvs_vocabulary's), and the message layouts. The layouts are
written here from scratch after ip_vs.h and net/netfilter/ipvs/ip_vs_ctl.c,
as pyroute2 writes its own (nla_map tables): pyroute2's IPVS classes have
wrong types.

Plain Python, without pyroute2: importing pyroute2 takes about 0.9 s in the
lab's kernel, more than `ipvsadm -Sn` takes for a 10,000-destination table,
and every module run would pay it. _ipvs_codec encodes and decodes by these
tables; _ipvs_pyroute2 turns them into pyroute2 classes for the replies
pyroute2 decodes.
"""

from __future__ import annotations

import socket

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

# The generic netlink controller (linux/genetlink.h), which names families:
# its attributes are the Controller layout below.
GENL_ID_CTRL = 0x10
CTRL_CMD_GETFAMILY = 3
CTRL_VERSION = 1

# --- The kernel's numbers for the vocabulary's names ---------------------------------

FAMILY_NUMBERS = {"ipv4": AF_INET, "ipv6": AF_INET6}
PROTOCOL_NUMBERS = {"tcp": IPPROTO_TCP, "udp": IPPROTO_UDP, "sctp": IPPROTO_SCTP}
FORWARD_NUMBERS = {
    "masq": IP_VS_CONN_F_MASQ,
    "local": IP_VS_CONN_F_LOCALNODE,
    "tunnel": IP_VS_CONN_F_TUNNEL,
    "droute": IP_VS_CONN_F_DROUTE,
    "bypass": IP_VS_CONN_F_BYPASS,
}
TUNNEL_TYPE_NUMBERS = {
    "ipip": IP_VS_CONN_F_TUNNEL_TYPE_IPIP,
    "gue": IP_VS_CONN_F_TUNNEL_TYPE_GUE,
    "gre": IP_VS_CONN_F_TUNNEL_TYPE_GRE,
}
TUNNEL_FLAG_BITS = {
    "nocsum": IP_VS_TUNNEL_ENCAP_FLAG_NOCSUM,
    "csum": IP_VS_TUNNEL_ENCAP_FLAG_CSUM,
    "remcsum": IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM,
}
DAEMON_STATE_NUMBERS = {"master": IP_VS_STATE_MASTER, "backup": IP_VS_STATE_BACKUP}
# The vocabulary's flags, and the names given to bits that are set without a
# scheduler that names them (by another tool, say): flag-1 to flag-3.
SERVICE_FLAG_BITS = {
    "persistent": IP_VS_SVC_F_PERSISTENT,
    "one-packet": IP_VS_SVC_F_ONEPACKET,
    "sh-fallback": IP_VS_SVC_F_SCHED_SH_FALLBACK,
    "sh-port": IP_VS_SVC_F_SCHED_SH_PORT,
    "mh-fallback": IP_VS_SVC_F_SCHED_MH_FALLBACK,
    "mh-port": IP_VS_SVC_F_SCHED_MH_PORT,
    "flag-1": IP_VS_SVC_F_SCHED1,
    "flag-2": IP_VS_SVC_F_SCHED2,
    "flag-3": IP_VS_SVC_F_SCHED3,
}
# Names given on output, bit by bit: the scheduler decides what SCHED1/SCHED2 mean.
FLAG_OUTPUT_NAMES = (
    (IP_VS_SVC_F_PERSISTENT, "persistent"),
    (IP_VS_SVC_F_ONEPACKET, "one-packet"),
    (IP_VS_SVC_F_SCHED1, "flag-1"),
    (IP_VS_SVC_F_SCHED2, "flag-2"),
    (IP_VS_SVC_F_SCHED3, "flag-3"),
)
SCHEDULER_FLAG_NAMES = {
    "sh": {IP_VS_SVC_F_SCHED1: "sh-fallback", IP_VS_SVC_F_SCHED2: "sh-port"},
    "mh": {IP_VS_SVC_F_SCHED1: "mh-fallback", IP_VS_SVC_F_SCHED2: "mh-port"},
}
STATS_KEYS = ("conns", "inpkts", "outpkts", "inbytes", "outbytes", "cps", "inpps", "outpps", "inbps", "outbps")


# --- Message layouts --------------------------------------------------------------
# pyroute2's shape: nla_map lists (name, type) by attribute number; a type that
# is not a scalar names the class attribute holding the nested layout.


class Controller:
    """The controller's attributes that a family lookup uses."""

    nla_map = (
        ("CTRL_ATTR_UNSPEC", "none"),
        ("CTRL_ATTR_FAMILY_ID", "uint16"),
        ("CTRL_ATTR_FAMILY_NAME", "asciiz"),
    )


class IPVSStats:
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


class IPVSStats64:
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


class IPVSFlags:
    """struct ip_vs_flags."""

    fields = (("flags", "I"), ("mask", "I"))


class IPVSService:
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


class IPVSDest:
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


class IPVSDaemon:
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


class IPVSMessage:
    prefix = "IPVS_CMD_ATTR_"
    nla_map = (
        ("IPVS_CMD_ATTR_UNSPEC", "none"),
        # The GET_INFO reply (cmd SET_INFO) puts IPVS_INFO_ATTR_VERSION and
        # _CONN_TAB_SIZE, plain u32s, under ids 1 and 2, which every other
        # message uses for the service and destination nests.
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
    # What ids 1 and 2 hold in a request: nests (only the GET_INFO reply differs).
    request_nests = {"_service_or_info": IPVSService, "_dest_or_info": IPVSDest}
