#!/usr/bin/python
# Copyright (c) 2026 lvs.ipvs developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: ipvs_destination
short_description: One real server on one or more IPVS services; the building block of draining
version_added: 0.1.0
description:
  - Adds a real server to virtual services that exist, changes its weight, thresholds or forwarding in
    place, or removes it.
  - On a destination that exists, only the options given change; the others keep their current values.
    A new destination takes the defaults for the options left out.
  - Draining a real server is setting O(weight=0) (no new connections; existing ones go on), waiting
    until RV(destinations[].active_conns) falls to 0, then O(state=absent) or maintenance. Restoring is
    setting its weight back.
  - All input is checked before anything is changed, with or without O(services); an error names the
    option and the value. If the kernel still refuses a step midway, the steps already applied are
    undone (O(rollback)).
author: lvs.ipvs developers (@lvs-ipvs)
options:
  port:
    description:
      - Port of the real server, 0-65535. Defaults to the service's port for a new destination.
      - Left out when acting on existing destinations, every port of O(address) in each service is meant.
      - Only masquerading (V(masq)) can map to another port than the service's.
    type: int
  services:
    description:
      - The virtual services, each named by O(services[].protocol), O(services[].address) and
        O(services[].port), or by O(services[].fwmark). With O(state=present) each must exist.
      - Left out, every service that has this real server is meant, which is what draining a server
        everywhere needs; nothing can then be added.
    type: list
    elements: dict
  state:
    description: Whether the real server is in the services.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - lvs.ipvs.ipvs
  - lvs.ipvs.ipvs_options.destination
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  platform:
    platforms: linux
seealso:
  - module: lvs.ipvs.ipvs_service
  - module: lvs.ipvs.ipvs_table
"""

EXAMPLES = r"""
- name: Add a third real server to the web VIP, over IPv4 and IPv6
  lvs.ipvs.ipvs_destination:
    address: 192.0.2.13
    forward: masq
    weight: 2
    services:
      - {protocol: tcp, address: 203.0.113.100, port: 80}
      - {protocol: tcp, address: 203.0.113.100, port: 443}

- name: Drain rs1 everywhere, waiting until its active connections are gone
  lvs.ipvs.ipvs_destination:
    address: 192.0.2.11
    weight: 0
  register: drain
  until: drain.destinations | map(attribute='active_conns') | sum == 0
  retries: 30
  delay: 10

- name: Take it out of the web VIP
  lvs.ipvs.ipvs_destination:
    address: 192.0.2.11
    services:
      - {protocol: tcp, address: 203.0.113.100, port: 80}
    state: absent
"""

RETURN = r"""
destinations:
  description:
    - The real server in each service meant, after the task (in check mode, as it would be), with the
      connection counts the kernel reported when the task read the table.
    - Empty when the real server is in none of them.
  returned: always
  type: list
  elements: dict
  contains:
    service:
      description: The virtual service, as C(protocol address:port) or C(fwmark N).
      type: str
      sample: tcp 203.0.113.100:80
    address:
      description: Address of the real server.
      type: str
    port:
      description: Port of the real server.
      type: int
    forward:
      description: Forwarding method.
      type: str
    weight:
      description: Weight.
      type: int
    active_conns:
      description: Established connections; 0 when the destination was just added.
      type: int
    inactive_conns:
      description: Other connection entries (closing, or UDP).
      type: int
    persistent_conns:
      description: Persistence templates pointing to the server.
      type: int
    present:
      description: Whether the real server is in the service after the task.
      type: bool
changes:
  description: What was changed (in check mode, what would be), one line per step, in order.
  returned: always
  type: list
  elements: str
  sample:
    - "edit destination 192.0.2.11:80 in tcp 203.0.113.100:80: weight 1 -> 0"
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

from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_argspec import (
    DESTINATION_SPEC,
    SERVICE_IDENTITY_SPEC,
    STATE_SPEC,
    WRITER_SPEC,
)
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_common import ipvs_module, ipvs_writer, module_errors
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_engine import converge, read_services
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_plan import (
    from_kernel,
    plain_destination,
)
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_validate import (
    ValidationError,
    address,
    dest_key,
    destination_options,
    normalize_destination,
    normalize_scope,
    normalize_service_identity,
    service_key,
)
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_vocabulary import service_text

ARGUMENT_SPEC = dict(
    DESTINATION_SPEC,
    services={"type": "list", "elements": "dict", "options": SERVICE_IDENTITY_SPEC},
    **STATE_SPEC,
    **WRITER_SPEC,
)
_SETTINGS = ("forward", "weight", "u_threshold", "l_threshold", "tunnel")


def _wanted(entry, present, params):
    """The destination as it must be in entry: present's settings with the given ones over them."""
    raw = {key: params[key] for key in ("address", "port", *_SETTINGS) if params[key] is not None}
    if present is not None:
        base = plain_destination(present)
        if raw.get("forward", base["forward"]) != "tunnel":
            base["tunnel"] = None
        raw = dict(base, **raw)
    return normalize_destination(raw, entry, "")


def _report(entry, dest, counts, present):
    counts = counts or {}
    return {
        "service": service_text(entry),
        "address": dest["address"],
        "port": dest["port"],
        "forward": dest["forward"],
        "weight": dest["weight"],
        "active_conns": counts.get("active_conns", 0),
        "inactive_conns": counts.get("inactive_conns", 0),
        "persistent_conns": counts.get("persistent_conns", 0),
        "present": present,
    }


def main():
    module = ipvs_module(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    params = module.params
    present = params["state"] == "present"
    with module_errors(module):
        # Everything given is checked before the kernel is read, whether or
        # not the services are named and whatever the state.
        wanted_address = address(params["address"], "address")
        destination_options({key: params[key] for key in DESTINATION_SPEC})
        named = None
        if params["services"] is not None:
            named = [normalize_service_identity(raw, f"services[{i}]") for i, raw in enumerate(params["services"])]
    with ipvs_writer(module) as client:
        found = read_services(client, named)
        if named is not None and present:
            keys = {service_key(service) for service, _dests in found}
            for index, service in enumerate(named):
                if service_key(service) not in keys:
                    raise ValidationError(f"services[{index}]", service_text(service), "no such virtual service")
        current, desired, reports = [], [], []
        for service, dests in found:
            entry = from_kernel(service, dests)
            matching = [
                dest for dest in dests if dest["address"] == wanted_address and params["port"] in (None, dest["port"])
            ]
            if named is None and not matching:
                continue  # not one of this real server's services
            current.append(entry)
            counts = {dest_key(dest): dest for dest in matching}
            if present:
                wanted = [_wanted(entry, dest, params) for dest in matching] or [_wanted(entry, None, params)]
                desired.append(dict(entry, destinations=wanted, destinations_mode="merge"))
                reports += [_report(entry, dest, counts.get(dest_key(dest)), True) for dest in wanted]
            else:
                gone = {dest_key(dest) for dest in matching}
                kept = [dest for dest in entry["destinations"] if dest_key(dest) not in gone]
                desired.append(dict(entry, destinations=kept, destinations_mode="exact"))
                reports += [_report(entry, dest, dest, False) for dest in matching]
        if named is None and present and not current:
            module.warn(f"no virtual service has real server {wanted_address}: name the services to add it to")
        outcome = converge(client, current, desired, normalize_scope("managed"), module.check_mode, params["rollback"])
    result = {"changed": bool(outcome.plan), "changes": outcome.changes, "destinations": reports}
    if module._diff:
        result["diff"] = outcome.diff
    module.exit_json(**result)


if __name__ == "__main__":
    main()
