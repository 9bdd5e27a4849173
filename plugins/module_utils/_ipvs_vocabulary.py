# Copyright (c) 2026 lvs.ipvs developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The collection's vocabulary: every name, choice, default and limit of a virtual service, in one place.

The validator (_ipvs_validate) checks input against it, the argument specs
(_ipvs_argspec) take their choices from it, the netlink layer maps its names
to the kernel's numbers (_ipvs_uapi), and a unit test holds the option docs
(the lvs.ipvs.ipvs_options doc fragment) and the roles' argument specs to it.
Plain Python, no imports from the rest of the collection.
"""

from __future__ import annotations

import socket

# --- Names ---------------------------------------------------------------------------

FAMILIES = ("ipv4", "ipv6")
PROTOCOLS = ("tcp", "udp", "sctp")
# The kernel's schedulers (net/netfilter/ipvs/ip_vs_*.c); "none" binds no
# scheduler, so only existing connections (e.g. synced ones) are served.
# twos came with Linux 6.6; an older kernel answers ENOENT, which the netlink
# layer turns into "no scheduler 'twos'".
SCHEDULERS = ("rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh", "twos", "none")
# Service flags as ipvsadm spells them. The scheduler flags are the kernel's
# SCHED1/SCHED2 bits, which mean something only to their own scheduler.
SERVICE_FLAGS = ("persistent", "one-packet", "sh-fallback", "sh-port", "mh-fallback", "mh-port")
FLAG_ALIASES = {"ops": "one-packet"}
FLAG_SCHEDULER = {"sh-fallback": "sh", "sh-port": "sh", "mh-fallback": "mh", "mh-port": "mh"}
# One-packet scheduling makes sense for datagrams only; a firewall mark may
# group UDP ports (ipvsadm allows -o there too).
ONE_PACKET_PROTOCOLS = ("udp",)
PERSISTENCE_ENGINES = ("sip",)
# masq rewrites the destination (NAT, Full NAT); droute sends the frame to the
# real server's MAC (DR); tunnel encapsulates (TUN); local and bypass are the
# kernel's own special cases.
FORWARD_METHODS = ("masq", "droute", "tunnel", "local", "bypass")
TUNNEL_TYPES = ("ipip", "gue", "gre")
TUNNEL_FLAGS = ("nocsum", "csum", "remcsum")
# Which encapsulation each checksum flag applies to (ip_vs_xmit.c): GRE knows
# csum only, IPIP neither; the kernel stores them regardless.
TUNNEL_FLAG_TYPES = {"nocsum": TUNNEL_TYPES, "csum": ("gue", "gre"), "remcsum": ("gue",)}
DESTINATIONS_MODES = ("exact", "merge")
SCOPE_MODES = ("managed", "addresses", "all")
STATES = ("present", "absent")
DAEMON_ROLES = ("master", "backup")
TIMEOUTS = ("tcp", "tcpfin", "udp")

# --- Defaults ------------------------------------------------------------------------

DEFAULT_FAMILY = "ipv4"  # of a firewall-mark service, which has no address to tell
DEFAULT_PROTOCOL = "tcp"
DEFAULT_SCHEDULER = "wlc"  # the kernel's and ipvsadm's
# masq rather than ipvsadm's droute: it is the kernel's zero value and needs
# no set-up on the real servers (direct routing needs the VIP on each of them).
DEFAULT_FORWARD = "masq"
DEFAULT_WEIGHT = 1
DEFAULT_PERSISTENT_TIMEOUT = 300  # ipvsadm's for -p without a value
# The whole client address: what the kernel uses when a persistent service
# names no netmask.
DEFAULT_NETMASK = {"ipv4": "255.255.255.255", "ipv6": 128}
DEFAULT_TUNNEL_TYPE = "ipip"
DEFAULT_DESTINATIONS_MODE = "exact"
DEFAULT_SCOPE = "managed"
DEFAULT_SYNC_ID = 0

# --- Limits ----------------------------------------------------------------------------

U16_MAX = 0xFFFF
U32_MAX = 0xFFFFFFFF
INT_MAX = 0x7FFFFFFF
PORT_MAX = U16_MAX
FWMARK_MAX = U32_MAX
# The kernel keeps the weight in an int (anything above is negative: ERANGE),
# not ipvsadm's 65535.
WEIGHT_MAX = INT_MAX
THRESHOLD_MAX = U32_MAX
# Seconds that the kernel multiplies by HZ into an unsigned int (the
# persistence timeout) or an int (the connection timeouts, refused above
# INT_MAX / HZ): kept valid for every HZ up to 1000.
PERSISTENT_TIMEOUT_MAX = U32_MAX // 1000
CONNECTION_TIMEOUT_MAX = INT_MAX // 1000
SYNC_ID_MAX = 255
MCAST_TTL_MAX = 255
# The kernel trims a larger sync message to what fits in one UDP datagram of
# the group's family (65535 minus the IP and UDP headers).
SYNC_MAXLEN_MAX = {"ipv4": 65535 - 20 - 8, "ipv6": 65535 - 40 - 8}
# IFNAMSIZ and IP_VS_SCHEDNAME_MAXLEN / IP_VS_PENAME_MAXLEN less the NUL.
IFNAME_MAX = 15
KERNEL_NAME_MAX = 15


def scheduler_module(name):
    """The kernel module that provides a scheduler: ip_vs_rr. None for 'none', which needs none."""
    return None if name == "none" else f"ip_vs_{name}"


def pe_module(name):
    """The kernel module of a persistence engine: ip_vs_pe_sip."""
    return f"ip_vs_pe_{name}"


def service_text(service):
    """How messages name a canonical service: 'tcp 203.0.113.1:80', 'udp [2001:db8::1]:53', 'fwmark 5 (ipv4)'."""
    if service.get("fwmark"):
        return f"fwmark {service['fwmark']} ({service.get('family') or DEFAULT_FAMILY})"
    host = service.get("address")
    if host is not None and ":" in str(host):
        host = f"[{host}]"
    return f"{service.get('protocol')} {host}:{service.get('port')}"


def dest_text(dest):
    """How messages name a destination: '192.0.2.11:80', '[2001:db8::11]:80'."""
    host = dest.get("address")
    if host is not None and ":" in str(host):
        host = f"[{host}]"
    return f"{host}:{dest.get('port') or 0}"


def packed_address(text):
    """A canonical address's bytes in network order (4 or 16): what the kernel is sent, and how addresses sort.

    inet_pton, not ipaddress: as quick as a cache of parses, without the
    cache's memory (10 MiB at 110,000 rules). Raises OSError for a text it
    refuses.
    """
    return socket.inet_pton(socket.AF_INET6 if ":" in text else socket.AF_INET, text)
