"""The director role on a kernel without IPVS: this machine's own.

The runner's host mode gives the playbook a private network namespace and an
overlay of the real root, so nothing reaches the real /etc; the machine's
kernel is built without IPVS and cannot load modules, which is what an
operator meets on a kernel built without it.
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from lvslab import kernel

FILES = (
    "/etc/sysctl.d/90-lvs-director.conf",
    "/etc/modules-load.d/lvs-director.conf",
    "/etc/systemd/system/lvs-director.service",
    "/etc/lvs/ipvs.rules",
)


def test_the_director_role_refuses_a_kernel_without_ipvs_before_writing_anything():
    if kernel.host_has_ipvs():
        pytest.skip("this machine's kernel has IPVS, so it cannot stand for one without")
    runs = Path(__file__).resolve().parents[4] / ".lab" / "runs"
    run_dir = kernel.new_run_dir(runs)
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
    script = (
        f"ansible-playbook -i {run_dir}/inventory.json lvs.ipvs.site > {run_dir}/play.log 2>&1;"
        f" echo play-rc=$?; {checks}; cat {run_dir}/play.log"
    )
    out = io.StringIO()
    rc, _dummy = kernel.run(["/bin/sh", "-c", script], kernel="host", out=out, run_dir=run_dir, timeout=300)
    text = out.getvalue()
    assert rc == 0, text
    assert "play-rc=2" in text, text
    assert "this kernel cannot load ip_vs (does it have IPVS?)" in text, text
    assert "WROTE" not in text, text
    # The table task never ran: the failure came before anything was programmed.
    assert "Program the IPVS table" not in text, text
