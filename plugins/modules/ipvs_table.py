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
    scheduler's module; an error names the field and the value. If the kernel still refuses a step
    midway, the steps already applied are undone (O(rollback)), so the table is as it was.
  - Runs that change the table of one network namespace at the same time take turns (O(lock_timeout)).
  - Steps go to the kernel in batches of up to 500 requests, which loads a 10,000-destination table
    about ten times faster than C(ipvsadm-restore); a run that changes nothing reads it in less than half
    the time C(ipvsadm -Sn) takes.
  - The services are checked by the collection's validator rather than by Ansible's suboption checks,
    which cost more time and memory than reading the kernel's table; the result's C(invocation), where
    Ansible adds one (from ansible-core 2.21, only when C(INJECT_INVOCATION) is on), shows how many
    services and destinations were given instead of repeating the whole table (RV(ipvsadm_save) is the
    table).
  - At Ansible's default verbosity the task prints its changes (in check mode, what would change), one
    line each after the host's name, up to 50 and then how many more; with C(-v) the result shows them
    all, and with C(--diff) the diff does.
author: lvs.ipvs developers (@lvs-ipvs)
options:
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
  - lvs.ipvs.ipvs_options.table
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
attributes:
  action:
    support: full
    details: An action plugin shows the changes at default verbosity.
  async:
    support: none
  bypass_host_loop:
    support: none
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
    - On failure, the steps carried out and still in effect. With O(rollback) (the default), only those
      whose undo failed; otherwise every step the kernel carried out (it carries out each step of a batch
      of up to 500 even after one fails).
  returned: failure
  type: list
  elements: str
refused:
  description: On failure, the steps the kernel refused, each with its reason.
  returned: failure
  type: list
  elements: str
not_sent:
  description: On failure, the steps of later batches, never sent.
  returned: failure
  type: list
  elements: str
undone:
  description: On failure, the steps carried out and then undone by the rollback.
  returned: failure
  type: list
  elements: str
ipvsadm_save:
  description: The table after the task (in check mode, as it would be), as C(ipvsadm-save -n) lines.
  returned: always
  type: list
  elements: str
"""

from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_argspec import TABLE_MODULE_SPEC, TABLE_SPEC
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_common import ipvs_module, ipvs_writer, module_errors
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_engine import converge, current_table
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_kmod import check_kernel_modules
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_validate import normalize_scope, normalize_services
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvsadm_format import render


def main():
    module = ipvs_module(
        argument_spec=TABLE_MODULE_SPEC, shape_spec=TABLE_SPEC, json_lists=("services",), supports_check_mode=True
    )
    params = module.params
    with module_errors(module):
        desired = normalize_services(params["services"], consume=True)
        scope = normalize_scope(params["scope"], params["scope_addresses"], params["scope_fwmarks"])
        check_kernel_modules(desired)
    # The input, a deep copy Ansible made (40 MiB at 110,000 rules), is let go
    # once the validator has made its own; and the result does not echo it
    # back in invocation.module_args, which would give the controller the
    # whole table to read again. ipvsadm_save is the table.
    destinations = sum(len(service["destinations"]) for service in desired)
    invocation = {"module_args": dict(params, services=f"{len(desired)} services, {destinations} destinations")}
    params["services"] = module.validation_result.validated_parameters["services"] = None
    with ipvs_writer(module) as client:
        current = current_table(client, like=desired)
        outcome = converge(
            client, current, desired, scope, module.check_mode, params["rollback"], module._diff, lean=True
        )
    # The save lines are made last, from the table after alone, letting go of
    # it service by service: the input, the plan and the table read (66 MiB at
    # 110,000 rules) are gone by then, and Ansible's copy and JSON encoding of
    # the result, twice its size, come on top of what is left.
    result = {"changed": bool(outcome.plan), "changes": outcome.changes, "invocation": invocation}
    if module._diff:
        result["diff"] = outcome.diff
    after = outcome.after
    del desired, current, outcome
    result["ipvsadm_save"] = render(after, consume=True)
    del after
    module.exit_json(**result)


if __name__ == "__main__":
    main()
