#!/usr/bin/python
# Copyright (c) 2026 lvs.ipvs developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: ipvs_service
short_description: One IPVS virtual service and, optionally, its real servers
version_added: 0.1.0
description:
  - Makes one virtual service (by protocol, address and port, or by firewall mark) present with the
    given settings, or absent.
  - Settings left out take their defaults (scheduler V(wlc), no flags), as in M(lvs.ipvs.ipvs_table).
  - A change of scheduler, flags, persistence, weight, thresholds, forwarding or tunnel settings is
    made in place, so established connections survive; new destinations are added before old ones
    are removed.
  - All input is checked before anything is changed; an error names the option and the value.
  - For many services at once use M(lvs.ipvs.ipvs_table), which sends its changes in batches.
author: lvs.ipvs developers (@lvs-ipvs)
options:
  state:
    description: Whether the service is present or absent. An absent service takes its destinations with it.
    type: str
    choices: [present, absent]
    default: present
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
      - Defaults to V(exact). Without O(destinations) the service's destinations are left as they are.
    type: str
    choices: [exact, merge]
  destinations:
    description:
      - The real servers of the service.
      - Leave it out to manage the service's settings alone; V([]) with O(destinations_mode=exact) removes
        them all.
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
        description: Tunnel settings, with O(destinations[].forward=tunnel).
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
  - module: lvs.ipvs.ipvs_table
  - module: lvs.ipvs.ipvs_destination
"""

EXAMPLES = r"""
- name: DNS over UDP, source hashing, two direct-routing real servers
  lvs.ipvs.ipvs_service:
    protocol: udp
    address: 203.0.113.53
    port: 53
    scheduler: sh
    flags: [sh-port]
    destinations:
      - {address: 192.0.2.11, forward: droute}
      - {address: 192.0.2.12, forward: droute}

- name: Web traffic marked 80 by the firewall (ports 80 and 443), persistent per /24 for ten minutes
  lvs.ipvs.ipvs_service:
    fwmark: 80
    scheduler: wlc
    flags: [persistent]
    timeout: 600
    netmask: 255.255.255.0

- name: Remove a service and its destinations
  lvs.ipvs.ipvs_service:
    protocol: tcp
    address: 203.0.113.100
    port: 8080
    state: absent
"""

RETURN = r"""
service:
  description: The service after the task (in check mode, as it would be), with its destinations; null when absent.
  returned: always
  type: dict
  sample:
    family: ipv4
    protocol: tcp
    address: 203.0.113.100
    port: 80
    fwmark: 0
    scheduler: rr
    flags: []
    timeout: 0
    netmask: 255.255.255.255
    pe_name: null
    destinations:
      - {family: ipv4, address: 192.0.2.11, port: 80, forward: masq, weight: 1, u_threshold: 0,
         l_threshold: 0, tunnel: null}
changes:
  description: What was changed (in check mode, what would be), one line per step, in order.
  returned: always
  type: list
  elements: str
  sample:
    - "edit service tcp 203.0.113.100:80: scheduler wlc -> rr"
ipvsadm_save:
  description: The service after the task, as C(ipvsadm-save -n) lines.
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_argspec import SERVICE_SPEC
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_common import ipvs_client, module_errors
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_engine import converge, current_table
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_kmod import check_service_modules
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_model import normalize_service
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvsadm_format import render

ARGUMENT_SPEC = dict(SERVICE_SPEC, state={"type": "str", "choices": ["present", "absent"], "default": "present"})


def main():
    module = AnsibleModule(
        argument_spec=ARGUMENT_SPEC,
        supports_check_mode=True,
        required_one_of=[("address", "fwmark")],
        mutually_exclusive=[("fwmark", "address"), ("fwmark", "protocol"), ("fwmark", "port")],
    )
    params = module.params
    raw = {key: params[key] for key in SERVICE_SPEC}
    if raw["destinations"] is None:
        # Without a list the destinations are not this task's business.
        raw["destinations_mode"] = "merge"
    present = params["state"] == "present"
    with module_errors(module):
        desired = normalize_service(raw, "")
        if present:
            check_service_modules(raw, "")
    with ipvs_client(module) as client:
        current = current_table(client, [desired])
        if present:
            outcome = converge(client, current, [desired], {"mode": "managed"}, module.check_mode)
        else:
            # Only this service was read, so scope "all" can reach no other.
            outcome = converge(client, current, [], {"mode": "all"}, module.check_mode)
    result = {
        "changed": bool(outcome.plan),
        "changes": outcome.changes,
        "service": outcome.after[0] if outcome.after else None,
        "ipvsadm_save": render(outcome.after),
    }
    if module._diff:
        result["diff"] = outcome.diff
    module.exit_json(**result)


if __name__ == "__main__":
    main()
