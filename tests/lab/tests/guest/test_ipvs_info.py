"""lvs.ipvs.ipvs_info against the kernel: what ipvsadm wrote, the module must read."""

from __future__ import annotations

import json
import subprocess

from conftest import EXAMPLES, RULES, STATE, nat_director, playbook


def ansible_module(host: str, *args: str, inventory: str | None = None) -> dict:
    argv = ["ansible", host, "-m", "lvs.ipvs.ipvs_info", "-o", *args]
    if inventory:
        argv += ["-i", inventory]
    else:
        argv += ["-c", "local", "-i", "localhost,", "-e", "ansible_python_interpreter=python3"]
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(proc.stdout.split(" => ", 1)[1])


def test_reads_every_kind_of_rule_as_ipvsadm_save_would():
    subprocess.run(["modprobe", "ip_vs"], check=True)
    subprocess.run(["ipvsadm", "-C"], check=True)
    subprocess.run(["ipvsadm-restore"], input=RULES, text=True, check=True)
    try:
        result = ansible_module("localhost", "--check")
        written = sorted(
            subprocess.run(["ipvsadm", "-Sn"], capture_output=True, text=True, check=True).stdout.split("\n")
        )
        assert sorted(result["ipvsadm_save"]) == sorted(line for line in written if line)
        assert sorted(result["ipvsadm_save"]) == sorted(RULES.splitlines())
        assert result["changed"] is False
        assert result["version"].startswith("1.2.")
        assert set(result["timeouts"]) == {"tcp", "tcpfin", "udp"}
        gue = next(d for s in result["services"] for d in s["destinations"] if d["address"] == "192.0.2.3")
        assert gue["tunnel"] == {"type": "gue", "port": 5555, "flags": ["remcsum"]}
    finally:
        subprocess.run(["ipvsadm", "-C"], check=True)


def test_counts_real_connections_on_a_lab_director(nat_lab):
    nat_director(
        "-A -t 203.0.113.100:80 -s rr",
        "-a -t 203.0.113.100:80 -r 192.0.2.11:80 -m",
        "-a -t 203.0.113.100:80 -r 192.0.2.12:80 -m",
    )
    subprocess.run(
        ["lvslab", "probe", "client1", "http://203.0.113.100/", "--count", "4"], check=True, capture_output=True
    )
    result = ansible_module("director1", inventory=str(STATE / "inventory.yml"))
    [service] = result["services"]
    assert service["stats"]["conns"] == 4
    assert sorted(d["stats"]["conns"] for d in service["destinations"]) == [2, 2]
    assert sum(d["inactive_conns"] + d["active_conns"] for d in service["destinations"]) == 4


def test_the_documented_example_runs(nat_lab):
    """docs/examples/ipvs_info.yml, as the docs show it (after the test above programmed director1)."""
    proc = playbook(EXAMPLES / "ipvs_info.yml")
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "-a -t 203.0.113.100:80 -r 192.0.2.11:80 -m -w 1" in proc.stdout
    assert "203.0.113.100:80 -> 192.0.2.12:80 active=0 inactive=2" in proc.stdout
