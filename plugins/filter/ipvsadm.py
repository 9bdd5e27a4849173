# Copyright (c) 2026 lvs.ipvs developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filters to adopt an existing director: ipvsadm-save text <-> the modules' service list."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_validate import ValidationError, normalize_table
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvsadm_format import RulesError, parse, render


def ipvsadm_rules(text):
    try:
        return parse(text)
    except RulesError as exc:
        raise AnsibleFilterError(f"ipvsadm_rules: {exc}") from exc


def to_ipvsadm_rules(services):
    try:
        table = normalize_table(services)
    except ValidationError as exc:
        raise AnsibleFilterError(f"to_ipvsadm_rules: {exc}") from exc
    return "".join(line + "\n" for line in render(table))


class FilterModule:
    def filters(self):
        return {"ipvsadm_rules": ipvsadm_rules, "to_ipvsadm_rules": to_ipvsadm_rules}
