"""Concurrent runs take turns, and a run the kernel refuses midway leaves the table as it was.

Against the lab kernel's own table (the guest's namespace), with the modules'
own code: concurrent runs as separate processes, the way two Ansible tasks on
one director would run; the others in this process (conftest.run_module).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import COLLECTIONS, ipvs_state, ipvsadm_save, run_module, unloadable

from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_lock import table_lock

MODULES = COLLECTIONS / "ansible_collections" / "lvs" / "ipvs" / "plugins" / "modules"


def big_table(second_octet: int, services: int = 250, dests: int = 10) -> list[dict]:
    """services x dests rules on VIPs 10.<second_octet>.x.y: two such tables have no service in common."""
    table = []
    for i in range(services):
        table.append(
            {
                "address": f"10.{second_octet}.{i // 250}.{i % 250 + 1}",
                "port": 80,
                "scheduler": "wrr",
                "destinations": [
                    {"address": f"172.16.{j}.{i % 250 + 1}", "port": 8080, "weight": 1 + j} for j in range(dests)
                ],
            }
        )
    return table


def rules_of(table: list[dict]) -> list[str]:
    from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_validate import normalize_table
    from ansible_collections.lvs.ipvs.plugins.module_utils._ipvsadm_format import render

    return sorted(render(normalize_table(table)))


def start_module(name: str, args: dict, tmp_path: Path, tag: str) -> subprocess.Popen:
    """The module as a process of its own, its arguments in a file, as Ansible starts one."""
    args_file = tmp_path / f"{tag}.json"
    args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
    env = {**os.environ, "PYTHONPATH": str(COLLECTIONS)}
    return subprocess.Popen(
        [sys.executable, str(MODULES / f"{name}.py"), str(args_file)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def result_of(proc: subprocess.Popen) -> dict:
    out, err = proc.communicate(timeout=600)
    assert out.strip(), err
    return json.loads(out.strip().splitlines()[-1])


def test_two_runs_at_once_end_with_exactly_one_table_and_true_reports(ipvs, tmp_path):
    tables = {"a": big_table(1), "b": big_table(2)}
    procs = {
        tag: start_module("ipvs_table", {"services": table, "scope": "all"}, tmp_path, tag)
        for tag, table in tables.items()
    }
    results = {tag: result_of(proc) for tag, proc in procs.items()}
    for result in results.values():
        assert not result.get("failed"), result
        assert result["changed"] is True
    kernel = ipvsadm_save()
    assert kernel in (rules_of(tables["a"]), rules_of(tables["b"])), "the kernel holds a mixture of both tables"
    last = "a" if kernel == rules_of(tables["a"]) else "b"
    first = "b" if last == "a" else "a"
    # The first run found the table empty; the last found the first's, whole, and replaced it.
    assert len(results[first]["changes"]) == 250 * 11
    assert all(change.startswith("add ") for change in results[first]["changes"])
    deletes = [change for change in results[last]["changes"] if change.startswith("delete service ")]
    assert len(deletes) == 250 and all("with its 10 destinations" in change for change in deletes)
    assert len(results[last]["changes"]) == 250 * 11 + 250
    assert sorted(results[last]["ipvsadm_save"]) == kernel


def test_a_run_that_cannot_get_the_lock_in_time_says_who_holds_it(ipvs):
    before = ipvs_state()
    with table_lock() as path:
        started = time.monotonic()
        result = run_module("ipvs_table", {"services": [{"address": "203.0.113.7", "port": 80}], "lock_timeout": 1})
        waited = time.monotonic() - started
    assert result.get("failed") is True, result
    assert f"another run has held its lock ({path}) for over 1 s" in result["msg"]
    assert f"it is pid {os.getpid()}" in result["msg"]
    assert 1 <= waited < 10
    assert ipvs_state() == before
    # Once the lock is free the same run goes through.
    assert run_module("ipvs_table", {"services": [{"address": "203.0.113.7", "port": 80}]})["changed"] is True


@pytest.fixture
def no_sed(ipvs):
    """ip_vs_sed listed in modules.dep but not loadable, for the test's duration."""
    with unloadable("ip_vs_sed"):
        yield ipvs


START = """
ipvsadm -A -t 203.0.113.1:80 -s rr
ipvsadm -a -t 203.0.113.1:80 -r 192.0.2.11:80 -m -w 1
ipvsadm -a -t 203.0.113.1:80 -r 192.0.2.12:80 -m -w 3
ipvsadm -A -t 203.0.113.1:443 -s wlc -p 300
ipvsadm -a -t 203.0.113.1:443 -r 192.0.2.13:443 -g -w 2
ipvsadm -A -f 9 -s rr
"""

# Three new services, the second with a scheduler the kernel cannot load.
NEW = [
    {"address": "203.0.113.2", "port": 80, "scheduler": "rr", "destinations": [{"address": "192.0.2.21"}]},
    {"address": "203.0.113.3", "port": 80, "scheduler": "sed", "destinations": [{"address": "192.0.2.31"}]},
    {"address": "203.0.113.4", "port": 80, "scheduler": "rr", "destinations": [{"address": "192.0.2.41"}]},
]

# With scope all, the same three services replace a table they also edit.
REPLACE = [
    {
        "address": "203.0.113.1",
        "port": 80,
        "scheduler": "wrr",
        "destinations": [{"address": "192.0.2.11", "weight": 5}, {"address": "192.0.2.14"}],
    },
    *NEW,
]


def saved_text() -> str:
    return subprocess.run(["ipvsadm", "-Sn"], capture_output=True, text=True, check=True).stdout


def test_a_refusal_midway_is_undone_and_the_table_is_byte_identical(no_sed):
    subprocess.run(["sh", "-ec", START], check=True)
    before = saved_text()
    result = run_module("ipvs_table", {"services": NEW})
    assert result.get("failed") is True, result
    assert "no scheduler 'sed'" in result["msg"]
    assert "were undone: the table is as it was before" in result["msg"], result["msg"]
    assert result["applied"] == []
    assert sorted(result["undone"]) == sorted(
        [
            "add service tcp 203.0.113.2:80: scheduler rr",
            "add service tcp 203.0.113.4:80: scheduler rr",
            "add destination 192.0.2.21:80 to tcp 203.0.113.2:80 (masq, weight 1)",
            "add destination 192.0.2.41:80 to tcp 203.0.113.4:80 (masq, weight 1)",
        ]
    )
    assert [step.split(":")[0] for step in result["refused"]] == [
        "add service tcp 203.0.113.3",
        "add destination 192.0.2.31",
    ]
    assert saved_text() == before


def test_edits_and_deletes_are_undone_too(no_sed):
    # A deleted service or destination comes back with its settings; the
    # kernel lists what it re-creates where it puts new entries, so the
    # content is compared, not the order.
    subprocess.run(["sh", "-ec", START], check=True)
    before = ipvsadm_save()
    result = run_module("ipvs_table", {"services": REPLACE, "scope": "all"})
    assert result.get("failed") is True, result
    assert "were undone: the table is as it was before" in result["msg"], result["msg"]
    assert any(step.startswith("edit service tcp 203.0.113.1:80") for step in result["undone"])
    assert any(step.startswith("delete service fwmark 9") for step in result["undone"])
    assert any(step.startswith("delete destination 192.0.2.12:80") for step in result["undone"])
    assert ipvsadm_save() == before


def test_without_rollback_the_report_lists_what_stays(no_sed):
    subprocess.run(["sh", "-ec", START], check=True)
    result = run_module("ipvs_table", {"services": REPLACE, "scope": "all", "rollback": False})
    assert result.get("failed") is True, result
    assert "left in place (rollback is off)" in result["msg"]
    assert result["undone"] == []
    kernel = ipvsadm_save()
    # What the report says was applied is what the kernel holds: the other services, not the refused one.
    assert "add service tcp 203.0.113.4:80: scheduler rr" in result["applied"]
    assert "-A -t 203.0.113.4:80 -s rr" in kernel
    assert not any("203.0.113.3:80" in line for line in kernel)
    assert "delete service fwmark 9 (ipv4) with its 0 destinations" in result["applied"]
    assert not any(line.startswith("-A -f 9") for line in kernel)
