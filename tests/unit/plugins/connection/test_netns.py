# Copyright (c) 2026 lvs.ipvs developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Logic of the netns connection plugin: which command it builds and how it fails.

Running commands in a real namespace is proven in the lab tier
(tests/lab/tests/guest/test_connection.py); here only the plugin's decisions.
"""

from __future__ import annotations

import io

import pytest
from ansible.errors import AnsibleConnectionFailure, AnsibleError
from ansible.playbook.play_context import PlayContext
from ansible.plugins.loader import connection_loader


@pytest.fixture
def conn(monkeypatch, tmp_path):
    monkeypatch.setattr("ansible_collections.lvs.ipvs.plugins.connection.netns.NETNS_DIR", str(tmp_path))
    (tmp_path / "rs1").touch()
    connection = connection_loader.get("lvs.ipvs.netns", PlayContext(), io.StringIO())
    connection.set_options(direct={"netns": "rs1"})
    return connection


class _FakePopen:
    calls = []

    def __init__(self, argv, **kwargs):
        self.argv = [a.decode() for a in argv]
        self.returncode = 0
        _FakePopen.calls.append(self.argv)

    def communicate(self, data=None):
        self.data = data
        return b"out", b"err"


@pytest.fixture
def popen(monkeypatch):
    _FakePopen.calls = []
    monkeypatch.setattr("subprocess.Popen", _FakePopen)
    return _FakePopen


def test_ip_netns_exec_without_mount_namespace(conn, popen):
    conn._connect()
    rc, out, err = conn.exec_command("echo hi")
    assert (rc, out, err) == (0, b"out", b"err")
    assert popen.calls[-1][:4] == ["ip", "netns", "exec", "rs1"]
    assert popen.calls[-1][-2:] == ["-c", "echo hi"]


def test_nsenter_with_mount_namespace(conn, popen, tmp_path):
    mnt = tmp_path / "mnt"
    mnt.touch()
    conn.set_options(direct={"netns": "rs1", "mount_namespace": str(mnt)})
    conn._connect()
    conn.exec_command("true")
    assert popen.calls[-1][:4] == ["nsenter", f"--net={tmp_path}/rs1", f"--mount={mnt}", "--"]


def test_missing_namespace_is_named(conn, popen):
    conn.set_options(direct={"netns": "nosuch"})
    with pytest.raises(AnsibleConnectionFailure, match="'nosuch' does not exist"):
        conn._connect()


@pytest.mark.parametrize("name", ["../etc", "a/b", "..", ""])
def test_unsafe_names_are_refused(conn, name):
    conn.set_options(direct={"netns": name})
    with pytest.raises(AnsibleConnectionFailure, match="invalid network namespace name"):
        conn._connect()


def test_missing_mount_namespace_is_named(conn, tmp_path):
    conn.set_options(direct={"netns": "rs1", "mount_namespace": str(tmp_path / "gone")})
    with pytest.raises(AnsibleConnectionFailure, match="mount namespace file"):
        conn._connect()


def test_put_file_streams_through_stdin(conn, popen, tmp_path):
    src = tmp_path / "src"
    src.write_bytes(b"payload")
    conn._connect()
    conn.put_file(str(src), "/etc/target")
    assert popen.calls[-1][-3:] == ['cat > "$1"', "sh", "/etc/target"]


def test_fetch_failure_is_reported(conn, monkeypatch, tmp_path):
    conn._connect()
    monkeypatch.setattr(conn, "_run", lambda argv, in_data=None: (1, b"", b"No such file"))
    with pytest.raises(AnsibleError, match="failed to read /nope: No such file"):
        conn.fetch_file("/nope", str(tmp_path / "out"))
