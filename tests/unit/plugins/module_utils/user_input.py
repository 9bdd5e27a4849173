# Copyright (c) 2026 lvs.ipvs developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Users' input as the tests of the validator and the diff engine write it."""

from __future__ import annotations

from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_validate import normalize_table

WEB = {"address": "203.0.113.1", "port": 80}
WEB6 = {"address": "2001:db8::1", "port": 80}


def svc(**kwargs):
    return {**WEB, **kwargs}


def with_dest(service=None, **kwargs):
    return {**(service or WEB), "destinations": [{"address": "192.0.2.11", **kwargs}]}


def table(*services):
    return normalize_table(list(services))


def actions(plan):
    return [op.action for op in plan]
