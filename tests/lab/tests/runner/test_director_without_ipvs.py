"""The director role on a kernel without IPVS: this machine's own.

The runner's host mode gives the playbook a private network namespace and an
overlay of the real root, so nothing reaches the real /etc; the machine's
kernel is built without IPVS and cannot load modules, which is what an
operator meets on a kernel built without it.
"""

from __future__ import annotations

import json
import sys

import pytest

from lvslab import kernel

FILES = (
    "/etc/sysctl.d/90-lvs-director.conf",
    "/etc/modules-load.d/lvs-director.conf",
    "/etc/systemd/system/lvs-director.service",
    "/etc/lvs/ipvs.rules",
)


def test_the_director_role_refuses_a_kernel_without_ipvs_before_writing_anything(run, run_dir):
    if kernel.host_has_ipvs():
        pytest.skip("this machine's kernel has IPVS, so it cannot stand for one without")
    inventory = {
        "all": {
            "hosts": {"director1": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}},
            "children": {"directors": {"hosts": {"director1": None}}},
            "vars": {
                "director_vip_interface": "lo",
                "lvs_virtual_services": [
                    {
                        "name": "web",
                        "mode": "dr",
                        "address": "203.0.113.101",
                        "port": 80,
                        "real_servers": [{"host": "rs1", "address": "192.0.2.21"}],
                    }
                ],
            },
        }
    }
    (run_dir / "inventory.json").write_text(json.dumps(inventory))
    checks = "; ".join(f"[ ! -e {path} ] || echo WROTE {path}" for path in FILES)
    play = f"ansible-playbook -i {run_dir}/inventory.json lvs.ipvs.site"
    script = (
        f"{play} --check > {run_dir}/check.log 2>&1; echo check-rc=$?; {checks};"
        f" {play} > {run_dir}/play.log 2>&1; echo play-rc=$?; {checks}"
    )
    rc, text, _dummy = run(script, kernel="host", run_dir=run_dir, timeout=300)
    check_log, play_log = (run_dir / "check.log").read_text(), (run_dir / "play.log").read_text()
    assert rc == 0, text
    assert "WROTE" not in text, text
    # Check mode: lvs_script runs the new script's check from a temporary copy
    # (the script is not on the host yet), which finds the kernel without IPVS
    # and says so, before the table task.
    assert "check-rc=2" in text, check_log
    assert "this kernel cannot load ip_vs (does it have IPVS?)" in check_log, check_log
    assert "Program the IPVS table" not in check_log, check_log
    # The real run: refused by the script before it writes a file, so the
    # table task never runs.
    assert "play-rc=2" in text, play_log
    assert "this kernel cannot load ip_vs (does it have IPVS?)" in play_log, play_log
    assert "Program the IPVS table" not in play_log, play_log
