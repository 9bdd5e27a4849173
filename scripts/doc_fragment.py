#!/usr/bin/env python3
"""Writes plugins/doc_fragments/ipvs_options.py: the options of a virtual service and a real server, once.

ipvs_service takes a service's options at the top, ipvs_table under
services[], ipvs_destination a real server's at the top: one text, placed
three ways. ansible-test wants a doc fragment made of plain string literals,
so the fragment is generated from the text below, not composed at import.
Edit the text here, then run this script; `--check` (the lint tier) fails
when the fragment is not what this script writes. Choices, defaults and
limits are the vocabulary's (plugins/module_utils/_ipvs_vocabulary.py), and
tests/unit/plugins/module_utils/test_ipvs_vocabulary.py holds the fragment to it.

Usage: scripts/doc_fragment.py [--check]
"""

from __future__ import annotations

import sys
from pathlib import Path
from textwrap import indent

TARGET = Path(__file__).resolve().parent.parent / "plugins" / "doc_fragments" / "ipvs_options.py"

_IDENTITY = r"""
protocol:
  description: Transport protocol of a service with an address. Defaults to V(tcp).
  type: str
  choices: [tcp, udp, sctp]
address:
  description: The virtual IP address, IPv4 or IPv6 (without a zone id).
  type: str
port:
  description: The virtual port, 0-65535. 0 (all ports) only for a persistent service.
  type: int
fwmark:
  description:
    - Firewall mark (1-4294967295) of a mark-based service, instead of a protocol, an address and a port.
  type: int
family:
  description: Address family of a firewall-mark service. Defaults to V(ipv4).
  type: str
  choices: [ipv4, ipv6]
"""

_TUNNEL = r"""
type:
  description: Encapsulation. Defaults to V(ipip).
  type: str
  choices: [ipip, gue, gre]
port:
  description: Destination UDP port (1-65535) of a V(gue) tunnel; only V(gue) has one.
  type: int
flags:
  description:
    - Checksum flags, V(csum) (V(gue), V(gre)) or V(remcsum) (V(gue)), or V(nocsum), the absence of both.
  type: list
  elements: str
  choices: [nocsum, csum, remcsum]
"""

_DESTINATION = r"""
address:
  description: Address of the real server, IPv4 or IPv6, unicast (without a zone id).
  type: str
  required: true
port:
  description:
    - Port of the real server, 0-65535. Defaults to the service's port.
    - Only masquerading (V(masq)) can map to another port than the service's.
  type: int
forward:
  description:
    - Forwarding method. Defaults to V(masq).
    - V(masq) for NAT and Full NAT, V(droute) for direct routing, V(tunnel) for IP tunnelling; V(local) and
      V(bypass) are the kernel's special cases.
    - A real server of another address family than the service's needs V(tunnel).
  type: str
  choices: [masq, droute, tunnel, local, bypass]
weight:
  description: Weight, 0-2147483647; 0 quiesces the server (no new connections). Defaults to 1.
  type: int
u_threshold:
  description: Upper connection threshold, 0-4294967295; 0 is unlimited.
  type: int
l_threshold:
  description:
    - Lower connection threshold, at which an overloaded server is used again; not above the upper one,
      even when that is 0.
  type: int
tunnel:
  description: Tunnel settings, with the V(tunnel) forwarding method only.
  type: dict
  suboptions:
""" + indent(_TUNNEL, "    ")

_SETTINGS = r"""
scheduler:
  description:
    - Scheduler. Defaults to V(wlc).
    - V(twos) needs Linux 6.6 or later; V(none) binds no scheduler, so only existing (for example synced)
      connections are served.
  type: str
  choices: [rr, wrr, lc, wlc, lblc, lblcr, dh, sh, sed, nq, fo, ovf, mh, twos, none]
flags:
  description:
    - Service flags. V(persistent); V(one-packet) (alias V(ops)), for UDP and firewall-mark services only;
      and the scheduler's own V(sh-fallback), V(sh-port) (with V(sh)) or V(mh-fallback), V(mh-port) (with V(mh)).
  type: list
  elements: str
  choices: [persistent, one-packet, sh-fallback, sh-port, mh-fallback, mh-port, ops]
timeout:
  description:
    - Persistence timeout in seconds (1-4294967), with the V(persistent) flag only. Defaults to 300 then.
  type: int
netmask:
  description:
    - Persistence granularity, with the V(persistent) flag only. An IPv4 netmask such as V(255.255.255.0),
      or an IPv6 prefix length (1-128) such as V(64). Defaults to the whole address.
  type: raw
pe_name:
  description: Persistence engine, with the V(persistent) flag only.
  type: str
  choices: [sip]
destinations_mode:
  description:
    - V(exact) removes the service's destinations that are not listed; V(merge) never removes any.
    - Defaults to V(exact).
  type: str
  choices: [exact, merge]
destinations:
  description: The real servers of the service.
  type: list
  elements: dict
  suboptions:
"""

_SERVICE = _IDENTITY + _SETTINGS + indent(_DESTINATION, "    ")

_WRITER = r"""
lock_timeout:
  description:
    - Seconds to wait for another run that is changing the IPVS state of this network namespace (runs are
      serialised with a lock under C(/run/lvs-ipvs)); the task fails with a message naming the lock after that.
  type: int
  default: 60
"""

_ROLLBACK = r"""
rollback:
  description:
    - When the kernel refuses a step midway, undo the steps already applied, latest first, so that the table
      is as it was before the task; the failure then says so, or which steps could not be undone.
    - With V(false) the steps applied stay, and the failure lists them in RV(applied).
  type: bool
  default: true
"""


_SERVICE = _IDENTITY + _SETTINGS + indent(_DESTINATION, "    ")

FRAGMENTS = {
    # ipvs_service: one service's options at the top.
    "SERVICE": "options:" + indent(_SERVICE + _WRITER + _ROLLBACK, "  "),
    # ipvs_table: the services under services[].
    "TABLE": "options:"
    + indent(
        """
services:
  description:
    - The virtual services that must exist, each with its real servers.
    - May also be one string holding this list as JSON, such as the text of a C(.json) file read with the
      P(ansible.builtin.file#lookup) lookup. For a table of thousands of services this is much faster and
      takes less memory, since Ansible hands one string to the module instead of templating every entry;
      the figures are in the Speed section of the collection's C(docs/modules.md).
  type: list
  elements: dict
  default: []
  suboptions:
"""
        + indent(_SERVICE, "    ")
        + _WRITER
        + _ROLLBACK,
        "  ",
    ),
    # ipvs_destination: one real server's options at the top, the services by their identity.
    "DESTINATION": "options:"
    + indent(
        _DESTINATION
        + """
services:
  description:
    - The virtual services, each named by its protocol, address and port, or by its firewall mark.
  type: list
  elements: dict
  suboptions:
"""
        + indent(_IDENTITY, "    ")
        + _WRITER
        + _ROLLBACK,
        "  ",
    ),
    # ipvs_timeouts, ipvs_sync_daemon: the lock alone.
    "LOCK": "options:" + indent(_WRITER, "  "),
}

HEADER = """# Copyright (c) 2026 lvs.ipvs developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Generated by scripts/doc_fragment.py, which holds each option's text once:
# edit it there and run it, not here.

from __future__ import annotations


class ModuleDocFragment:
"""


def render():
    blocks = []
    for name, text in FRAGMENTS.items():
        lines = "\n".join(line for line in text.splitlines() if line.strip())
        blocks.append(f'    {name} = r"""\n{lines}\n"""\n')
    return HEADER + "\n".join(blocks)


def main(argv):
    text = render()
    if argv == ["--check"]:
        if TARGET.read_text() != text:
            print(f"{TARGET} is not what scripts/doc_fragment.py writes: run it", file=sys.stderr)
            return 1
        return 0
    if argv:
        print(__doc__, file=sys.stderr)
        return 2
    TARGET.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
