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
  - All input is checked before anything is changed; an error names the option and the value. If the
    kernel still refuses a step midway, the steps already applied are undone (O(rollback)).
  - For many services at once use M(lvs.ipvs.ipvs_table), which sends its changes in batches.
author: lvs.ipvs developers (@lvs-ipvs)
options:
  state:
    description: Whether the service is present or absent. An absent service takes its destinations with it.
    type: str
    choices: [present, absent]
    default: present
  destinations:
    description:
      - The real servers of the service.
      - Leave it out to manage the service's settings alone; V([]) with O(destinations_mode=exact) removes
        them all.
    type: list
    elements: dict
extends_documentation_fragment:
  - lvs.ipvs.ipvs
  - lvs.ipvs.ipvs_options.service
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
applied:
  description: On failure, the steps carried out and still in effect (see M(lvs.ipvs.ipvs_table)).
  returned: failure
  type: list
  elements: str
refused:
  description: On failure, the steps the kernel refused, each with its reason.
  returned: failure
  type: list
  elements: str
undone:
  description: On failure, the steps carried out and then undone by the rollback.
  returned: failure
  type: list
  elements: str
"""

from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_argspec import SERVICE_SPEC, STATE_SPEC, WRITER_SPEC
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_common import ipvs_module, ipvs_writer, module_errors
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_engine import converge, current_table
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_kmod import check_service_modules
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_validate import normalize_scope, normalize_service
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvsadm_format import render

ARGUMENT_SPEC = dict(SERVICE_SPEC, **STATE_SPEC, **WRITER_SPEC)


def main():
    module = ipvs_module(
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
            check_service_modules(desired, "")
    with ipvs_writer(module) as client:
        current = current_table(client, [desired])
        if present:
            outcome = converge(
                client, current, [desired], normalize_scope("managed"), module.check_mode, params["rollback"]
            )
        else:
            # Only this service was read, so scope "all" can reach no other.
            outcome = converge(client, current, [], normalize_scope("all"), module.check_mode, params["rollback"])
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
