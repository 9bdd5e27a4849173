# Copyright (c) 2026 lvs.ipvs developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The benchmark's clock: every task's outcome and time, and each playbook run's, as JSON lines.

Enabled by the benchmark (and, for the fleet figure, by the test command's
run of the Molecule scenario modes) with ANSIBLE_CALLBACKS_ENABLED=bench_clock,
ANSIBLE_CALLBACK_PLUGINS pointing here, and BENCH_CLOCK naming the file.
A line is ["run", playbook] at the start of a playbook run, ["end", seconds]
at its end, and [host, task, status, changed, seconds] for each task on a host.
"""

from __future__ import annotations

import json
import os
import time

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "bench_clock"
    CALLBACK_NEEDS_ENABLED = True

    def _write(self, record):
        with open(os.environ["BENCH_CLOCK"], "a", encoding="utf-8") as out:
            out.write(json.dumps(record) + "\n")

    def v2_playbook_on_start(self, playbook):
        self.run_start = time.perf_counter()
        self._write(["run", os.path.basename(playbook._file_name)])

    def v2_playbook_on_stats(self, stats):
        self._write(["end", time.perf_counter() - self.run_start])

    def v2_playbook_on_task_start(self, task, is_conditional):
        self.start = time.perf_counter()

    def _note(self, result, status):
        seconds = time.perf_counter() - self.start
        changed = bool(result._result.get("changed"))
        self._write([result._host.get_name(), result._task.get_name(), status, changed, seconds])

    def v2_runner_on_ok(self, result):
        self._note(result, "ok")

    def v2_runner_on_skipped(self, result):
        self._note(result, "skipped")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._note(result, "failed")
