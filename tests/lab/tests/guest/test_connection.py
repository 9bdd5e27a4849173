"""The lvs.ipvs.netns connection plugin in real namespaces, through ansible-playbook."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import EXAMPLES, playbook, sh

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


def test_the_documented_recipe_gives_a_hand_made_namespace_files_of_its_own(tmp_path):
    """docs/examples/netns-host.sh: what the roles write lands in that host alone."""
    name, hosts = "recipe1", tmp_path / "hosts"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        made = subprocess.run(
            [str(EXAMPLES / "netns-host.sh"), name, str(hosts)], capture_output=True, text=True, check=False
        )
        assert made.returncode == 0, made.stderr
        mnt = hosts / name / "mnt"
        assert made.stdout.strip() == f"{name}: ansible_netns_mount_namespace={mnt}"
        inventory = tmp_path / "inventory.yml"
        host = {"ansible_connection": "lvs.ipvs.netns", "ansible_netns_mount_namespace": str(mnt)}
        inventory.write_text(
            json.dumps({"all": {"hosts": {name: dict(host, ansible_python_interpreter=sys.executable)}}})
        )
        copied = subprocess.run(
            [
                "ansible",
                "-i",
                str(inventory),
                name,
                "-m",
                "ansible.builtin.copy",
                "-a",
                "content=recipe dest=/etc/lvs-recipe-test mode=0644",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        assert copied.returncode == 0, copied.stdout[-2000:]
        assert not Path("/etc/lvs-recipe-test").exists(), "the file landed on the machine's own /etc"
        assert (hosts / name / "fs" / "etc" / "up" / "lvs-recipe-test").read_text() == "recipe"
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)
        subprocess.run(["umount", "-l", str(hosts)], check=False)
