# Copyright (c) 2026 lvs.ipvs developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Runs the lvs_script module, then shows its changes at default verbosity."""

from __future__ import annotations

from ansible.plugins.action import ActionBase

from ansible_collections.lvs.ipvs.plugins.plugin_utils._changes import show


class ActionModule(ActionBase):
    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        result.update(self._execute_module(module_name="lvs.ipvs.lvs_script", task_vars=task_vars))
        show(self._task, task_vars, result)
        return result
