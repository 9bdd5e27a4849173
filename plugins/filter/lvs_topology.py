# Copyright (c) 2026 lvs.ipvs developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filters that turn lvs_virtual_services into a director's or a real server's plan (the roles use them)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.lvs.ipvs.plugins.module_utils import _lvs_topology
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_validate import ValidationError


def director_plan(services, host=None, inventory=None):
    try:
        return _lvs_topology.director_plan(services or [], host, inventory)
    except ValidationError as exc:
        raise AnsibleFilterError(f"director_plan: {exc}") from exc


def real_server_plan(services, host, inventory=None):
    try:
        return _lvs_topology.real_server_plan(services or [], host, inventory)
    except ValidationError as exc:
        raise AnsibleFilterError(f"real_server_plan: {exc}") from exc


class FilterModule:
    def filters(self):
        return {"director_plan": director_plan, "real_server_plan": real_server_plan}
