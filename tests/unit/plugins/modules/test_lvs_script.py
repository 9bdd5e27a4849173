# Copyright (c) 2026 lvs.ipvs developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""lvs_script runs a real script: what it reports as changed, in normal, check and diff mode, and on failure."""

from __future__ import annotations

import json

import pytest

from ansible_collections.lvs.ipvs.plugins.modules import lvs_script

SCRIPT = """#!/bin/sh
echo "checking $*"
[ "$1" = fail ] && { echo "CHANGED: half done"; echo "no such device" >&2; exit 3; }
[ "$1" = same ] && exit 0
echo "CHANGED: VIP 203.0.113.1 on lo ($1)"
echo "CHANGED: net.ipv4.conf.all.arp_ignore 1"
"""


@pytest.fixture
def script(tmp_path):
    path = tmp_path / "lvs-real-server"
    path.write_text(SCRIPT)
    path.chmod(0o755)
    return str(path)


def run(capsys, **args):
    from ansible_collections.lvs.ipvs.tests.unit.compat.module_args import patch_module_args

    with patch_module_args(args), pytest.raises(SystemExit):
        lvs_script.main()
    return json.loads(capsys.readouterr().out)


def test_each_changed_line_is_a_change_and_the_rest_is_not(capsys, script):
    result = run(capsys, path=script, argv=["install"])
    assert result["changed"] is True and result["rc"] == 0
    assert result["changes"] == ["VIP 203.0.113.1 on lo (install)", "net.ipv4.conf.all.arp_ignore 1"]
    assert "diff" not in result


def test_nothing_changed(capsys, script):
    result = run(capsys, path=script, argv=["same"])
    assert result["changed"] is False and result["changes"] == []


def test_the_diff_lists_the_changes(capsys, script):
    result = run(capsys, path=script, argv=["install"], _ansible_diff=True)
    assert result["diff"]["before"] == ""
    assert result["diff"]["after"] == "VIP 203.0.113.1 on lo (install)\nnet.ipv4.conf.all.arp_ignore 1\n"


def test_check_mode_runs_check_argv_or_nothing(capsys, script):
    result = run(capsys, path=script, argv=["install"], check_argv=["check"], _ansible_check_mode=True)
    assert result["changes"][0] == "VIP 203.0.113.1 on lo (check)"
    result = run(capsys, path=script, argv=["install"], _ansible_check_mode=True)
    assert result["changed"] is False and "rc" not in result


def test_a_failure_names_the_script_and_keeps_what_it_changed(capsys, script):
    result = run(capsys, path=script, argv=["fail"])
    assert result["failed"] is True and result["rc"] == 3
    assert result["msg"] == f"{script} fail: no such device"
    assert result["changes"] == ["half done"] and "checking fail" in result["stdout"]
