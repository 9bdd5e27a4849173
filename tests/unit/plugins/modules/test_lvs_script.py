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


NEW = SCRIPT.replace("checking", "new script checking")


def test_content_is_written_once_then_run(capsys, tmp_path):
    dest = str(tmp_path / "lvs-director")
    result = run(capsys, content=NEW, dest=dest, argv=["install"])
    assert result["changes"][0] == f"written {dest}" and result["changes"][1].startswith("VIP")
    written = tmp_path / "lvs-director"
    assert written.read_text() == NEW and written.stat().st_mode & 0o7777 == 0o755
    result = run(capsys, content=NEW, dest=dest, argv=["same"])
    assert result["changed"] is False and result["changes"] == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lvs-director"]


def test_a_mode_alone_is_a_change(capsys, tmp_path):
    dest = str(tmp_path / "keepalived.conf")
    run(capsys, content="vrrp\n", dest=dest, mode="0644", path="/bin/true")
    result = run(capsys, content="vrrp", dest=dest, mode="0600", path="/bin/true")
    assert result["changes"] == [f"written {dest}"] and (tmp_path / "keepalived.conf").stat().st_mode & 0o7777 == 0o600


def test_argv_if_written_only_when_written(capsys, tmp_path, script):
    dest = str(tmp_path / "keepalived.conf")
    args = {"content": "a\n", "dest": dest, "mode": "0600", "path": script, "argv": ["same"]}
    result = run(capsys, argv_if_written=["reload"], **args)
    assert result["changes"] == [f"written {dest}", "VIP 203.0.113.1 on lo (reload)", "net.ipv4.conf.all.arp_ignore 1"]
    result = run(capsys, argv_if_written=["reload"], **args)
    assert result["changed"] is False


def test_a_rejected_content_changes_nothing_and_runs_nothing(capsys, tmp_path, script):
    dest = tmp_path / "keepalived.conf"
    dest.write_text("old\n")
    result = run(capsys, content="new\n", dest=str(dest), path=script, argv=["install"], validate="grep -q old %s")
    assert result["failed"] is True and result["msg"].startswith(f"{dest} not written: grep -q old %s failed")
    assert dest.read_text() == "old\n" and "changes" not in result
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keepalived.conf", "lvs-real-server"]


def test_validate_needs_a_placeholder_and_mode_must_be_octal(capsys, tmp_path):
    result = run(capsys, content="x", dest=str(tmp_path / "f"), path="/bin/true", validate="true")
    assert result["failed"] is True and "validate: 'true' has no %s" in result["msg"]
    result = run(capsys, content="x", dest=str(tmp_path / "f"), path="/bin/true", mode="rwx")
    assert result["failed"] is True and result["msg"] == "mode: 'rwx' is not an octal mode such as 0755"


def test_check_mode_checks_the_new_script_and_writes_nothing(capsys, tmp_path, script):
    result = run(capsys, content=NEW, dest=script, argv=["install"], check_argv=["check"], _ansible_check_mode=True)
    assert result["changes"] == [f"written {script}", "VIP 203.0.113.1 on lo (check)", "net.ipv4.conf.all.arp_ignore 1"]
    assert (tmp_path / "lvs-real-server").read_text() == SCRIPT
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lvs-real-server"]


def test_the_diff_shows_the_file_and_the_changes(capsys, tmp_path, script):
    dest = tmp_path / "keepalived.conf"
    dest.write_text("old\n")
    result = run(capsys, content="new\n", dest=str(dest), path=script, argv=["install"], _ansible_diff=True)
    assert result["diff"][0] == {
        "before_header": str(dest),
        "after_header": str(dest),
        "before": "old\n",
        "after": "new\n",
    }
    assert result["diff"][1]["after"].startswith("VIP 203.0.113.1 on lo (install)\n")
