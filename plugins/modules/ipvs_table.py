#!/usr/bin/python
# Copyright (c) 2026 lvs.ipvs developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: ipvs_table
short_description: Make the kernel's IPVS table what it should be, in one task
version_added: 0.1.0
description:
  - Declares virtual services with their real servers and makes the kernel's IPVS table match,
    over generic netlink, with the fewest changes; the fast path for large tables.
  - Changes of scheduler, flags, persistence, weights, thresholds, forwarding or tunnel settings
    are made in place, so established connections survive. New destinations are added before old
    ones are removed.
  - Only services within O(scope) are ever removed, so tables that keepalived or kube-proxy own on
    the same host are left alone.
  - All input is checked before anything is changed, including whether the kernel can load each
    scheduler's module; an error names the field and the value. If the kernel refuses a step midway,
    the result says exactly which steps were applied.
  - Steps go to the kernel in batches of up to 500 requests, which loads a 10,000-destination table
    faster than C(ipvsadm-restore).
author: lvs.ipvs developers (@lvs-ipvs)
options:
  services:
    description: The virtual services that must exist, each with its real servers.
    type: list
    elements: dict
    default: []
    suboptions:
      protocol:
        description: Transport protocol of the service. Defaults to V(tcp) for a service with an address.
        type: str
        choices: [tcp, udp, sctp]
      address:
        description: The virtual IP address (IPv4 or IPv6).
        type: str
      port:
        description: The virtual port. 0 only for persistent services (all ports).
        type: int
      fwmark:
        description: Firewall mark of a mark-based service, instead of protocol, address and port.
        type: int
      family:
        description: Address family of a firewall-mark service. Defaults to V(ipv4).
        type: str
        choices: [ipv4, ipv6]
      scheduler:
        description:
          - Scheduler, one of V(rr), V(wrr), V(lc), V(wlc), V(lblc), V(lblcr), V(dh), V(sh), V(sed), V(nq),
            V(fo), V(ovf), V(mh), V(twos) (Linux 6.6 and later) or V(none). Defaults to V(wlc).
        type: str
      flags:
        description:
          - Service flags, V(persistent), V(one-packet) (UDP), and the scheduler's own V(sh-fallback),
            V(sh-port) (with V(sh)) or V(mh-fallback), V(mh-port) (with V(mh)).
        type: list
        elements: str
      timeout:
        description: Persistence timeout in seconds, with the V(persistent) flag. Defaults to 300 then.
        type: int
      netmask:
        description:
          - Persistence granularity, with the V(persistent) flag. An IPv4 netmask such as V(255.255.255.0),
            or an IPv6 prefix length such as V(64).
        type: raw
      pe_name:
        description: Persistence engine; only V(sip) exists.
        type: str
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
          address:
            description: Address of the real server.
            type: str
            required: true
          port:
            description:
              - Port of the real server. Defaults to the service's port.
              - Only masquerading (V(masq)) can map to another port.
            type: int
          forward:
            description: Forwarding method. Defaults to V(masq).
            type: str
            choices: [masq, droute, tunnel, local, bypass]
          weight:
            description: Weight; 0 quiesces the server (no new connections). Defaults to 1.
            type: int
          u_threshold:
            description: Upper connection threshold; 0 is unlimited.
            type: int
          l_threshold:
            description: Lower connection threshold, at which an overloaded server is used again.
            type: int
          tunnel:
            description: Tunnel settings, with O(services[].destinations[].forward=tunnel).
            type: dict
            suboptions:
              type:
                description: Encapsulation. Defaults to V(ipip).
                type: str
                choices: [ipip, gue, gre]
              port:
                description: Destination UDP port of a V(gue) tunnel.
                type: int
              flags:
                description: Checksum flags, V(csum) or V(remcsum) (V(gue) only), or V(nocsum).
                type: list
                elements: str
  scope:
    description:
      - Which services not listed in O(services) are removed.
      - V(managed) removes none; only the listed services are made exact.
      - V(addresses) also removes every other service on an address in O(scope_addresses) or a
        firewall mark in O(scope_fwmarks).
      - V(all) removes every service not listed, like C(ipvsadm-restore) after C(ipvsadm -C).
    type: str
    choices: [managed, addresses, all]
    default: managed
  scope_addresses:
    description: The VIPs this task owns, with O(scope=addresses).
    type: list
    elements: str
    default: []
  scope_fwmarks:
    description: The firewall marks this task owns, with O(scope=addresses).
    type: list
    elements: int
    default: []
extends_documentation_fragment:
  - lvs.ipvs.ipvs
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  platform:
    platforms: linux
seealso:
  - module: lvs.ipvs.ipvs_info
  - module: lvs.ipvs.ipvs_service
  - module: lvs.ipvs.ipvs_destination
"""

EXAMPLES = r"""
- name: One web VIP over IPv4 and IPv6, NAT to two real servers, round robin
  lvs.ipvs.ipvs_table:
    services:
      - protocol: tcp
        address: 203.0.113.100
        port: 80
        scheduler: rr
        destinations:
          - {address: 192.0.2.11, forward: masq}
          - {address: 192.0.2.12, forward: masq}
      - protocol: tcp
        address: "2001:db8:113::100"
        port: 80
        scheduler: rr
        destinations:
          - {address: "2001:db8:2::11", forward: masq}
          - {address: "2001:db8:2::12", forward: masq}

- name: Own the whole table of this VIP, removing what is not listed
  lvs.ipvs.ipvs_table:
    scope: addresses
    scope_addresses: [203.0.113.100]
    services:
      - protocol: tcp
        address: 203.0.113.100
        port: 443
        scheduler: sh
        flags: [persistent, sh-port]
        timeout: 600
        destinations:
          - {address: 192.0.2.11, forward: droute, weight: 3}
          - {address: 192.0.2.12, forward: droute, weight: 1}
"""

RETURN = r"""
changes:
  description: What was changed (in check mode, what would be), one line per step, in order.
  returned: always
  type: list
  elements: str
  sample:
    - "edit service tcp 203.0.113.100:80: scheduler rr -> wrr"
    - "add destination 192.0.2.13:80 to tcp 203.0.113.100:80 (masq, weight 1)"
applied:
  description:
    - On failure, the steps the kernel carried out. Steps go to the kernel in batches of up to 500,
      and the kernel carries out each step of a batch even after one fails.
  returned: failure
  type: list
  elements: str
failed:
  description: On failure, the steps the kernel refused, each with its reason.
  returned: failure
  type: list
  elements: str
not_sent:
  description: On failure, the steps of later batches, never sent.
  returned: failure
  type: list
  elements: str
ipvsadm_save:
  description: The table after the task (in check mode, as it would be), as C(ipvsadm-save -n) lines.
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_argspec import SERVICE_SPEC
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_common import ipvs_client, module_errors
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_engine import converge, current_table
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_kmod import check_kernel_modules
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_model import normalize_table
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvsadm_format import render

ARGUMENT_SPEC = {
    "services": {"type": "list", "elements": "dict", "default": [], "options": SERVICE_SPEC},
    "scope": {"type": "str", "choices": ["managed", "addresses", "all"], "default": "managed"},
    "scope_addresses": {"type": "list", "elements": "str", "default": []},
    "scope_fwmarks": {"type": "list", "elements": "int", "default": []},
}


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    params = module.params
    scope = {"mode": params["scope"], "addresses": params["scope_addresses"], "fwmarks": params["scope_fwmarks"]}
    with module_errors(module):
        desired = normalize_table(params["services"])
        check_kernel_modules(params["services"])
    with ipvs_client(module) as client:
        outcome = converge(client, current_table(client), desired, scope, module.check_mode)
    result = {"changed": bool(outcome.plan), "changes": outcome.changes, "ipvsadm_save": render(outcome.after)}
    if module._diff:
        result["diff"] = outcome.diff
    module.exit_json(**result)


if __name__ == "__main__":
    main()
