# Copyright (c) 2026 lvs.ipvs developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filters over lvs_virtual_services for the roles: a host's plan, and a check of the whole list."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible.utils.display import Display

from ansible_collections.lvs.ipvs.plugins.module_utils import _lvs_drain, _lvs_topology
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_validate import ValidationError


def director_plan(services, host=None, groups=None, drained=None):
    try:
        return _lvs_topology.director_plan(services or [], host, groups or [], drained or [])
    except ValidationError as exc:
        raise AnsibleFilterError(f"director_plan: {exc}") from exc


def real_server_plan(services, host, groups=None):
    try:
        return _lvs_topology.real_server_plan(services or [], host, groups or [])
    except ValidationError as exc:
        raise AnsibleFilterError(f"real_server_plan: {exc}") from exc


def not_in_inventory(services, inventory, groups=None):
    """Check the whole topology; warn about, and return, each host it names that is not in inventory."""
    try:
        found = _lvs_topology.not_in_inventory(services or [], inventory or [], groups or [])
    except ValidationError as exc:
        raise AnsibleFilterError(f"lvs_not_in_inventory: {exc}") from exc
    for message in found:
        Display().warning(message)
    return found


def drain_plan(services, host, groups=None, directors=None):
    try:
        return _lvs_drain.drain_plan(services or [], host, groups or [], directors or [])
    except ValidationError as exc:
        raise AnsibleFilterError(f"drain_plan: {exc}") from exc


def active_active_consistent(groups, hostvars):
    """Check that every director of an active_active group has the same services as the others; True."""
    views = {}
    for group in groups or []:
        if not isinstance(group, dict) or group.get("mode") != "active_active":
            continue
        for director in group.get("directors") or []:
            host = director.get("host") if isinstance(director, dict) else None
            if host in hostvars:
                own = hostvars[host]
                views[host] = (own.get("lvs_virtual_services") or [], own.get("lvs_director_groups") or [])
    try:
        _lvs_topology.check_active_active_views(views)
    except ValidationError as exc:
        raise AnsibleFilterError(f"lvs_active_active_consistent: {exc}") from exc
    return True


class FilterModule:
    def filters(self):
        return {
            "director_plan": director_plan,
            "real_server_plan": real_server_plan,
            "lvs_not_in_inventory": not_in_inventory,
            "drain_plan": drain_plan,
            "lvs_active_active_consistent": active_active_consistent,
        }
