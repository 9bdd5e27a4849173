"""ipvs_timeouts and ipvs_sync_daemon on a lab director, read back with ipvsadm."""

from __future__ import annotations

from pathlib import Path

from conftest import EXAMPLES, playbook, sh

HERE = Path(__file__).resolve().parent


def test_idempotence_check_mode_diff_and_bad_input(nat_lab):
    sh("director1", "modprobe ip_vs")
    proc = playbook(HERE / "settings.yml")
    assert proc.returncode == 0, proc.stdout[-4000:]


def test_the_documented_examples_run(nat_lab):
    for example in ("ipvs_timeouts.yml", "ipvs_sync_daemon.yml"):
        proc = playbook(EXAMPLES / example)
        assert proc.returncode == 0, proc.stdout[-3000:]
    assert "900 120 300" in " ".join(sh("director1", "ipvsadm -L --timeout").stdout.split())
    assert "syncid=10" in sh("director1", "ipvsadm -L --daemon").stdout
    sh("director1", "ipvsadm --stop-daemon master")
