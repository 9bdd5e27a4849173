# Copyright (c) 2026 lvs.ipvs developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What a task changed, shown at Ansible's default verbosity: one line per change, prefixed with the host.

Ansible's default callback prints a changed task as "changed: [host]" and its
result only with -v; the action plugins of ipvs_table and lvs_script print the
task's changes themselves, so a playbook run says what changed where. With -v
the result, changes included, is shown anyway, so nothing is printed then.
"""

from __future__ import annotations

from ansible import constants as C
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

# A first load of a large table has a change per rule: the first ones show,
# and how many more there are; the result's changes hold them all.
SHOWN = 50

display = Display()


def lines(host, changes, shown=SHOWN):
    """The lines that show changes on host: the first shown, then how many more."""
    out = [f"    {host}: {change}" for change in changes[:shown]]
    if len(changes) > shown:
        out.append(f"    {host}: ... and {len(changes) - shown} more (the task result's changes)")
    return out


def show(task, task_vars, result):
    """Print result's changes for the task's host (and where it was delegated to), at default verbosity only."""
    changes = result.get("changes") or []
    if not changes or display.verbosity > 0 or result.get("failed"):
        return
    host = (task_vars or {}).get("inventory_hostname", "?")
    if task.delegate_to and task.delegate_to != host:
        host = f"{host} -> {task.delegate_to}"
    display.display("\n".join(lines(host, changes)), color=C.COLOR_CHANGED)


class ChangesAction(ActionBase):
    """An action that runs its module (MODULE) as Ansible would, then shows the result's changes."""

    MODULE = ""

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        result.update(self._execute_module(module_name=self.MODULE, task_vars=task_vars))
        show(self._task, task_vars, result)
        return result
