"""The lvs.ipvs.netns connection plugin in real namespaces, through ansible-playbook."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import playbook, sh

HERE = Path(__file__).resolve().parent


def test_tasks_run_inside_the_namespace_and_files_move_both_ways(nat_lab, tmp_path):
    results = tmp_path / "result"
    proc = playbook(HERE / "connection.yml", "-e", f"lab_results={results}")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]

    rs1 = json.loads(Path(f"{results}.rs1.json").read_text())
    assert rs1 == {"interfaces": ["eth0", "lo"], "ipv4": "192.0.2.11", "stdin": "through stdin"}
    plain = json.loads(Path(f"{results}.rs2-ipnetns.json").read_text())
    assert plain["interfaces"] == ["eth0", "lo"] and plain["ipv4"] == "192.0.2.12"

    # A 300 kB file went in and came back whole.
    fetched = Path(f"{results}.rs1.fetched").read_text()
    assert fetched.startswith("rs1 x") and len(fetched) == len("rs1 ") + 300000 + 1

    # With its mount namespace, rs1 wrote to its private /etc; without one
    # (ip netns exec), rs2-ipnetns wrote to the lab kernel's own /etc.
    assert sh("rs1", "cut -c1-4 /etc/lab-connection-test").stdout == "rs1 \n"
    assert Path("/etc/lab-connection-test").read_text().startswith("rs2-ipnetns x")
