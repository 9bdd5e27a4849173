# Copyright (c) 2026 lvs.ipvs developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Runs the ipvs_table module, then shows its changes at default verbosity."""

from __future__ import annotations

from ansible_collections.lvs.ipvs.plugins.plugin_utils._changes import ChangesAction


class ActionModule(ChangesAction):
    MODULE = "lvs.ipvs.ipvs_table"
