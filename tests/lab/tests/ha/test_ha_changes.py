"""Draining and reconfiguring a director pair under load: nothing may fail, nothing may break.

Runs before test_ha_failover (file order), on the same lab, with director1
the master. The load is test_ha_failover's: a steady HTTP stream and 10
long-lived echo connections through each of the DR and NAT VIPs.
"""

from __future__ import annotations

import copy
import json

import pytest
import yaml
from conftest import LAB, ROOT, playbook
from test_ha_failover import GENTLE, SERVICES, Load

from lvslab.labtest import outcome, run_in, wait_for

TOPOLOGY = LAB / "topologies" / "ha.yml"
DRAIN = ROOT / "playbooks" / "drain.yml"
DRAINED = {"rs1": "192.0.2.21", "nat1": "192.0.2.11"}


def nothing_failed(summary: dict) -> bool:
    return summary["requests"]["failed"] == 0 and summary["echo"]["survived"] == summary["echo"]["conns"]


@pytest.fixture(scope="module")
def pair(ha_lab):
    """The deployed pair, director1 the master, every real server in its table."""
    assert wait_for(lambda: "203.0.113.101" in run_in("director1", "ip", "-o", "addr"), 30)
    for director in ("director1", "director2"):
        assert wait_for(lambda d=director: run_in(d, "ipvsadm", "-Sn").count("-a ") == 10, 30), run_in(
            director, "ipvsadm", "-Sn"
        )
    return ha_lab


def test_drain_and_restore_under_load(pair, proof, tmp_path):
    """lvs.ipvs.drain on rs1 and nat1, one at a time: weight 0 on both directors, then back."""
    tasks = tmp_path / "while-drained.yml"
    # The operator's tasks: here, a look at director1's table while the server is out.
    tasks.write_text(
        yaml.safe_dump(
            [
                {
                    "name": "Read director1's table while drained",
                    "lvs.ipvs.ipvs_info": {},
                    "delegate_to": "director1",
                    "register": "lab_table",
                },
                {
                    "name": "Keep it",
                    "ansible.builtin.copy": {
                        "content": "{{ lab_table.ipvsadm_save | to_json }}",
                        "dest": f"{tmp_path}/table-{{{{ inventory_hostname }}}}.json",
                        "mode": "0644",
                    },
                    "delegate_to": "localhost",
                },
            ]
        )
    )
    with Load("drain", GENTLE) as load:
        load.mark("drain rs1 then nat1")
        run = playbook(
            "-e",
            json.dumps({"lvs_drain_hosts": "rs1,nat1", "lvs_drain_timeout": 6, "lvs_drain_tasks": str(tasks)}),
            book=DRAIN,
        )
        load.mark("restored")
    proof.check(
        "drain playbook",
        run.returncode == 0,
        f"exit status {run.returncode}" + (f": {run.stdout[-3000:]}" if run.returncode else ""),
    )
    for host, address in DRAINED.items():
        table = json.loads((tmp_path / f"table-{host}.json").read_text())
        mine = [rule for rule in table if f"-r {address}:" in rule]
        proof.check(
            f"drain: {host} at weight 0 on director1 while drained",
            bool(mine) and all(rule.endswith("-w 0") for rule in mine),
            "; ".join(mine),
        )
        proof.check(
            f"drain: its open connections reported after the wait ({host})",
            f"{address} on director1:" in run.stdout and "active connections left" in run.stdout,
            "the echo connections stay open at weight 0, so the wait ends at its timeout and says what is left",
        )
    for director in ("director1", "director2"):
        rules = run_in(director, "ipvsadm", "-Sn")
        proof.check(
            f"drain: every weight back to 1 on {director}",
            rules.count("-a ") == 10 and rules.count("-w 1") == 10,
            " ".join(line for line in rules.splitlines() if "-w 0" in line) or "all at 1",
        )
    for kind in SERVICES:
        summary = load.summaries[kind]
        proof.check(f"{kind}: drain and restore under load", nothing_failed(summary), outcome(summary))
    proof.verify()


def _model() -> dict:
    return yaml.safe_load(TOPOLOGY.read_text())["vars"]


def _services(model: dict, names: tuple[str, ...]):
    return [s for s in model["lvs_virtual_services"] if s["name"] in names]


def _edit(model: dict, change) -> dict:
    model = copy.deepcopy(model)
    change(model)
    return model


WEB = ("web-dr", "web-nat")
ALL = ("web-dr", "echo-dr", "web-dr-v6", "web-nat", "echo-nat")


def _scheduler(name):
    def change(model):
        for service in _services(model, ALL):
            service["scheduler"] = name

    return change


def _weight(host_weights: dict, others=None):
    """The weights of host_weights' real servers; the others' set to others, or left."""

    def change(model):
        for service in _services(model, ALL):
            for server in service["real_servers"]:
                server["weight"] = host_weights.get(server["host"], others or server.get("weight", 1))

    return change


def _without(hosts):
    def change(model):
        for service in _services(model, WEB):
            service["real_servers"] = [s for s in service["real_servers"] if s["host"] not in hosts]

    return change


def _back(base: dict, hosts):
    """hosts back in the web services, where the base model has them, and at weight 1 everywhere."""

    def change(model):
        for service, original in zip(_services(model, WEB), _services(base, WEB), strict=True):
            present = {s["host"] for s in service["real_servers"]}
            service["real_servers"] += [dict(s) for s in original["real_servers"] if s["host"] in hosts - present]
        _weight(dict.fromkeys(hosts, 1))(model)

    return change


def _persistence(timeout):
    def change(model):
        for service in _services(model, WEB):
            if timeout:
                service.update(flags=["persistent"], timeout=timeout)
            else:
                service.pop("flags", None)
                service.pop("timeout", None)

    return change


def test_ten_reconfigurations_under_load(pair, proof, tmp_path):
    """Ten changes, each applied by the director role (keepalived reloads) or a reload alone, under load.

    A real server leaves the way an operator removes one: weight 0 first,
    then out of the service, so that no request is in flight to it."""
    base = _model()
    stages = [
        ("scheduler wrr to rr", _scheduler("rr")),
        ("rs1 and nat1 weight 3", _weight({"rs1": 3, "nat1": 3})),
        ("rs2 and nat2 weight 0 in the web services", _weight({"rs2": 0, "nat2": 0})),
        ("rs2 and nat2 out of the web services", _without({"rs2", "nat2"})),
        ("rs2 and nat2 back, weight 1", _back(base, {"rs2", "nat2"})),
        ("keepalived reload", None),
        ("persistence 30 s on the web services", _persistence(30)),
        ("persistence off", _persistence(0)),
        ("weights back to 1", _weight({}, others=1)),
        ("scheduler back to wrr", _scheduler("wrr")),
    ]
    model, applied = base, []
    with Load("reconfigure", GENTLE) as load:
        for index, (label, change) in enumerate(stages, 1):
            load.mark(label)
            if change is None:
                for director in ("director1", "director2"):
                    run_in(director, "/etc/lvs-director", "keepalived", "reload")
                applied.append(f"{index}. {label}: reloaded")
                continue
            # Each stage from the base model plus every change so far.
            model = _edit(model, change)
            extra = tmp_path / f"stage-{index}.json"
            extra.write_text(json.dumps({key: model[key] for key in ("lvs_virtual_services", "lvs_director_groups")}))
            run = playbook("--limit", "directors", "-e", f"@{extra}")
            changed = [line for line in run.stdout.splitlines() if line.startswith(("director1", "director2"))]
            applied.append(
                f"{index}. {label}: exit {run.returncode}, " + "; ".join(" ".join(c.split()[:4]) for c in changed)
            )
            if run.returncode:
                proof.check(f"reconfiguration {index}: {label}", False, run.stdout[-3000:])
                break
            if index == 4:
                rules = run_in("director2", "ipvsadm", "-Sn")
                proof.check(
                    "reconfiguration 4: rs2 and nat2 out of the web services on the standby too",
                    "192.0.2.22:80 " not in rules and "192.0.2.12:80 " not in rules,
                    f"{rules.count('-a ')} real servers in director2's table",
                )
    proof.check("ten reconfigurations applied", len(applied) == 10, " | ".join(applied))
    final = {d: run_in(d, "ipvsadm", "-Sn") for d in ("director1", "director2")}
    proof.check(
        "after the ten: both tables as deployed (wrr, every weight 1, no persistence)",
        all(t.count("-s wrr") == 5 and t.count("-w 1") == 10 and " -p " not in t for t in final.values()),
        " ".join(final["director1"].split())[:600],
    )
    for kind in SERVICES:
        summary = load.summaries[kind]
        resets = summary["requests"]["failures_by_kind"].get("reset", 0) + summary["echo"]["broken_by_kind"].get(
            "reset", 0
        )
        proof.check(
            f"{kind}: ten reconfigurations under load, 0 failed, 0 resets",
            nothing_failed(summary) and resets == 0,
            outcome(summary),
        )
    proof.verify()
