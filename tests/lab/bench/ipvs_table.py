"""Benchmark: IPVS tables of 11,000 and 110,000 rules, lvs.ipvs against the usual ways.

Runs as root in a kernel with IPVS, in one boot, so every ratio compares
figures taken minutes apart on the same kernel:

    lvslab run -- python tests/lab/bench/ipvs_table.py

"engine" rows time what the ipvs_table module does once Ansible has started
it: validate the input, check the kernel modules, open the client, take the
table's lock, read the table, plan, apply in batches, render the result.
"whole task" rows time the task as a playbook runs it (ansible-playbook, the
connection local, the table in the inventory), minus an empty
ansible.builtin.ping task on the same host; beside them, the same task with
a module that takes the same argument and does nothing (what Ansible itself
costs to hand a table of that size to any module). The module process's
peak memory is taken from the kernel (the rusage of the module run as
Ansible runs a module, with its arguments in a file).

The references are ipvsadm-restore, ipvsadm -Sn, one ipvsadm process per rule
(a sample, extrapolated) and pyroute2's own IPVS API. Each figure is the best
of N runs (N printed), ours and the reference's taken in turn. Exit status 1
means a table read back wrong, not that a target was missed; --strict also
fails on a missed target.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections import namedtuple
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / ".build" / "collections"))

from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_client import IPVSClient  # noqa: E402
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_engine import converge, current_table  # noqa: E402
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_kmod import check_kernel_modules  # noqa: E402
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_lock import table_lock  # noqa: E402
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_validate import (  # noqa: E402
    normalize_scope,
    normalize_services,
    normalize_table,
)
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvsadm_format import render  # noqa: E402

SCHEDULERS = ("wlc", "rr", "wrr", "lc", "sh", "mh")


def table(services, dests, weight_bump=()):
    """The user's input for services x dests; the destinations listed in weight_bump get weight + 10."""
    raw = []
    for i in range(services):
        vip = f"10.{i // 250}.{i % 250}.1"
        entries = []
        for j in range(dests):
            weight = 1 + (i + j) % 5 + (10 if (i, j) in weight_bump else 0)
            entries.append({"address": f"172.16.{j}.{i % 250 + 1}", "port": 8000 + i // 250, "weight": weight})
        raw.append(
            {
                "protocol": "tcp",
                "address": vip,
                "port": 80,
                "scheduler": SCHEDULERS[i % len(SCHEDULERS)],
                "destinations": [dict(entry, forward="masq") for entry in entries],
            }
        )
    return raw


def sh(script: str, stdin: str | None = None) -> str:
    done = subprocess.run(["sh", "-c", script], input=stdin, capture_output=True, text=True, check=False)
    if done.returncode:
        raise RuntimeError(f"{script} failed ({done.returncode}): {done.stderr.strip()}")
    return done.stdout


def timed(func):
    start = time.perf_counter()
    value = func()
    return time.perf_counter() - start, value


def best(repeat, prepare, func):
    """Fastest of repeat runs of func, each after prepare(); also the last run's value."""
    runs = []
    value = None
    for _dummy in range(repeat):
        prepare()
        seconds, value = timed(func)
        runs.append(seconds)
    return min(runs), value


def paired(repeat, prepare, reference, ours):
    """Best of repeat runs each of reference and ours, taken in turn, so that a
    drift of the kernel's speed during the run weighs on both alike."""
    ref_runs, our_runs, value = [], [], None
    for _dummy in range(repeat):
        prepare()
        ref_runs.append(timed(reference)[0])
        prepare()
        seconds, value = timed(ours)
        our_runs.append(seconds)
    return min(ref_runs), min(our_runs), value


Planned = namedtuple("Planned", "steps actions")


def engine_run(raw):
    """What ipvs_table does after Ansible has started it (without --diff); the plan's size and actions."""
    desired = normalize_services(raw)
    scope = normalize_scope("managed")
    check_kernel_modules(desired)
    with IPVSClient() as client, table_lock():
        outcome = converge(client, current_table(client, like=desired), desired, scope, with_diff=False)
    render(outcome.after)
    # Not the outcome itself: the bench would hold a 110,000-step plan while it times the next run.
    return Planned(len(outcome.plan), {op.action for op in outcome.plan})


def flush():
    sh("ipvsadm -C")


def stock_pyroute2_load(raw):
    from pyroute2 import IPVS, IPVSDest, IPVSService

    with IPVS() as ipvs:
        for svc in raw:
            service = IPVSService(
                addr=svc["address"], port=svc["port"], protocol=socket.IPPROTO_TCP, sched_name=svc["scheduler"]
            )
            ipvs.service("add", service=service)
            for dest in svc["destinations"]:
                ipvs.dest(
                    "add",
                    service=service,
                    dest=IPVSDest(addr=dest["address"], port=dest["port"], fwd_method=0, weight=dest["weight"]),
                )


def stock_pyroute2_dump():
    from pyroute2 import IPVS, IPVSDest, IPVSService

    count = 0
    with IPVS() as ipvs:
        for msg in ipvs.service("dump"):
            service = IPVSService.from_message(msg)
            count += sum(1 for dest in ipvs.dest("dump", service=service) if IPVSDest.from_message(dest))
    return count


def engine_rows(args, services, repeat, problems, references=True, apply_repeat=None):
    """The engine's rows for a services x args.dests table: {name: (ours, reference name, reference, runs)}."""
    apply_repeat = apply_repeat or repeat
    raw = table(services, args.dests)
    rules = "\n".join(render(normalize_table(raw))) + "\n"
    lines = rules.splitlines()
    rule_count = len(lines)
    changed = {(i, 0) for i in range(0, services, max(1, services // (services * args.dests // 100)))}
    bumped = table(services, args.dests, weight_bump=changed)
    present = set(lines)
    edit_rules = [
        line.replace("-a ", "-e ", 1)
        for line in render(normalize_table(bumped))
        if line.startswith("-a ") and line not in present
    ]
    size = f"{rule_count // 1000}k"
    rows = {}

    def back_to_start():
        # From the edited table back to the loaded one: 1% of edits, not a reload.
        engine_run(raw)

    # Initial apply: empty table to the full one.
    restore_s, apply_s, outcome = paired(
        apply_repeat, flush, lambda: sh("ipvsadm-restore", stdin=rules), lambda: engine_run(raw)
    )
    if outcome.steps != rule_count:
        problems.append(f"{size}: initial apply planned {outcome.steps} steps, expected {rule_count}")
    if sorted(sh("ipvsadm -Sn").splitlines()) != sorted(lines):
        problems.append(f"{size}: the table lvs.ipvs loaded does not read back as the rules")
    rows["apply"] = (apply_s, "ipvsadm-restore", restore_s, apply_repeat)

    # No change: read the full table, find nothing to do.
    save_s, noop_s, outcome = paired(repeat, lambda: None, lambda: sh("ipvsadm -Sn"), lambda: engine_run(raw))
    if outcome.steps:
        problems.append(f"{size}: a no-change run planned {outcome.steps} steps")
    rows["noop"] = (noop_s, "ipvsadm -Sn", save_s, repeat)

    # 1% of the weights change, against our own initial apply. ipvsadm-restore
    # refuses -e lines ("Service not defined"): one ipvsadm -e per edit is
    # ipvsadm's way, timed on the small table only (1,100 processes take
    # minutes in the lab's kernel).
    if references:
        edits_ipvsadm_s, edit_s, outcome = paired(
            repeat,
            back_to_start,
            lambda: [subprocess.run(["ipvsadm", *e.split()], check=True) for e in edit_rules],
            lambda: engine_run(bumped),
        )
        rows["edits_ipvsadm"] = (edit_s, "one ipvsadm -e per edit", edits_ipvsadm_s, repeat)
    else:
        edit_s, outcome = best(repeat, back_to_start, lambda: engine_run(bumped))
    if outcome.steps != len(edit_rules) or outcome.actions != {"edit_destination"}:
        problems.append(f"{size}: the 1% change planned {outcome.steps} steps, expected {len(edit_rules)} edits")
    if sorted(sh("ipvsadm -Sn").splitlines()) != sorted(render(normalize_table(bumped))):
        problems.append(f"{size}: the edited table does not read back as planned")
    rows["edits"] = (edit_s, "our initial apply", apply_s, repeat)
    rows["edit_count"] = len(edit_rules)
    rows["rules"] = rule_count

    if references:
        # One ipvsadm process per rule, on a sample.
        flush()
        sample = lines[: args.sample]
        per_rule_sample_s, _dummy = timed(
            lambda: [subprocess.run(["ipvsadm", *line.split()], check=True) for line in sample]
        )
        rows["per_rule"] = (
            apply_s,
            f"one ipvsadm per rule ({len(sample)} run, extrapolated)",
            per_rule_sample_s * rule_count / len(sample),
            1,
        )
        # pyroute2's own IPVS API.
        stock_load_s, _dummy = best(1, flush, lambda: stock_pyroute2_load(raw))
        stock_dump_s, count = best(1, lambda: None, stock_pyroute2_dump)
        if count != services * args.dests:
            problems.append(f"pyroute2 read {count} destinations")
        rows["stock_load"] = (apply_s, "pyroute2 IPVS API, one request per rule", stock_load_s, 1)
        rows["stock_dump"] = (noop_s, "pyroute2 IPVS API dump", stock_dump_s, 1)
    flush()
    return rows


# Starts the module from a small process and gives its peak RSS (KiB) on stderr.
# A process's ru_maxrss includes the memory of the process it was forked from
# (the kernel carries the high-water mark over exec), so the module must not
# be forked from this benchmark, which holds tables of 110,000 rules itself.
LAUNCHER = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
_pid, status, usage = os.wait4(pid, 0)
print(usage.ru_maxrss, file=sys.stderr)
sys.exit(os.waitstatus_to_exitcode(status))
"""


def module_peak(services, dests, workdir):
    """{(form, run): (seconds, peak RSS in MiB)} of the ipvs_table module process and of a module that
    takes the same argument and does nothing (Ansible alone), with the table as a list of mappings
    ("list") and as one string of JSON ("JSON").

    Each runs as Ansible runs a module, with its arguments in a file, as its
    own process; the peak comes from the kernel's rusage of that process,
    started from a small one (LAUNCHER).
    """
    modules = ROOT / ".build/collections/ansible_collections/lvs/ipvs/plugins/modules"
    floors = {"list": Path(workdir) / "bench_floor.py", "JSON": Path(workdir) / "bench_floor_json.py"}
    floors["list"].write_text(FLOOR_MODULE)
    floors["JSON"].write_text(FLOOR_JSON_MODULE)
    raw = table(services, dests)
    arguments = {"list": Path(workdir) / "list.json", "JSON": Path(workdir) / "string.json"}
    arguments["list"].write_text(json.dumps({"ANSIBLE_MODULE_ARGS": {"services": raw}}))
    arguments["JSON"].write_text(json.dumps({"ANSIBLE_MODULE_ARGS": {"services": json.dumps(raw)}}))
    del raw
    env = dict(os.environ, PYTHONPATH=str(ROOT / ".build" / "collections"))
    figures = {}
    flush()
    for form, run, module, changed in (
        ("JSON", "Ansible alone", floors["JSON"], False),
        ("JSON", "initial apply", modules / "ipvs_table.py", True),
        ("JSON", "no-change run", modules / "ipvs_table.py", False),
        ("list", "Ansible alone", floors["list"], False),
        ("list", "no-change run", modules / "ipvs_table.py", False),
    ):
        start = time.perf_counter()
        result = Path(workdir) / "result.json"
        with result.open("wb") as out:
            launched = subprocess.run(
                [sys.executable, "-c", LAUNCHER, sys.executable, str(module), str(arguments[form])],
                env=env,
                stdout=out,
                stderr=subprocess.PIPE,
                text=True,
                check=False,
            )
        outcome = json.loads(result.read_text())
        if launched.returncode or outcome.get("failed") or outcome["changed"] != changed:
            raise RuntimeError(
                f"the module's {run} ({form}) went wrong: {outcome.get('msg')} {launched.stderr[-2000:]}"
            )
        peak_kib = int(launched.stderr.strip().splitlines()[-1])
        figures[form, run] = (time.perf_counter() - start, peak_kib / 1024)
    flush()
    return figures


PLAYBOOK = """
- hosts: bench
  gather_facts: false
  tasks:
"""
TASKS = """
    - name: ping {n}
      ansible.builtin.ping:
    - name: table {n}
      lvs.ipvs.ipvs_table:
        services: "{{{{ bench_services }}}}"
    - name: floor {n}
      bench_floor:
        services: "{{{{ bench_services }}}}"
    - name: table_json {n}
      lvs.ipvs.ipvs_table:
        services: "{{{{ bench_services_json }}}}"
    - name: floor_json {n}
      bench_floor_json:
        services: "{{{{ bench_services_json }}}}"
"""
FLOOR_MODULE = """#!/usr/bin/python
# What Ansible itself costs to hand this argument to a module: the same shape,
# nothing done, and (as ipvs_table) the argument not echoed back in the result.
from ansible.module_utils.basic import AnsibleModule

module = AnsibleModule(argument_spec={"services": {"type": "list", "elements": "dict"}})
module.exit_json(changed=False, invocation={"module_args": {"services": len(module.params["services"])}})
"""
# The same for the table given as one string of JSON: the string handed over, not parsed.
FLOOR_JSON_MODULE = """#!/usr/bin/python
from ansible.module_utils.basic import AnsibleModule

module = AnsibleModule(argument_spec={"services": {"type": "str"}})
module.exit_json(changed=False, invocation={"module_args": {"services": len(module.params["services"])}})
"""
CLOCK_PLUGINS = Path(__file__).resolve().parent / "callback_plugins"


def clock_runs(path):
    """[(playbook, seconds, [(host, task, status, changed, seconds)])] of each playbook run bench_clock recorded."""
    runs = []
    for line in Path(path).read_text().splitlines():
        record = json.loads(line)
        if record[0] == "run" and len(record) == 2:
            runs.append([record[1], None, []])
        elif record[0] == "end" and len(record) == 2:
            runs[-1][1] = record[1]
        else:
            runs[-1][2].append(tuple(record))
    return [tuple(run) for run in runs]


def clocked_playbook(work, what, argv, **env):
    """Run ansible-playbook argv with the bench_clock callback; (seconds, [(host, task, status, changed, seconds)]).

    Raises RuntimeError, naming what, when the playbook fails.
    """
    clock = work / "clock.jsonl"
    clock.unlink(missing_ok=True)
    env = dict(
        os.environ,
        BENCH_CLOCK=str(clock),
        ANSIBLE_CALLBACKS_ENABLED="bench_clock",
        ANSIBLE_CALLBACK_PLUGINS=str(CLOCK_PLUGINS),
        **env,
    )
    seconds, done = timed(
        lambda: subprocess.run(
            ["ansible-playbook", *argv], cwd=work, env=env, capture_output=True, text=True, check=False
        )
    )
    if done.returncode:
        raise RuntimeError(f"{what} failed: {done.stdout[-3000:]}{done.stderr[-2000:]}")
    [(_playbook, _seconds, records)] = clock_runs(clock)
    return seconds, records


def whole_task(services, dests, repeat, workdir, problems):
    """Best-of-repeat seconds of the ping task, and of ipvs_table (no change) and the floor module with the
    table as a list and as a JSON string, in one playbook run."""
    work = Path(workdir)
    (work / "host_vars").mkdir()
    (work / "library").mkdir()
    # The table twice: as a list of mappings, and as one string holding its JSON
    # (what a lookup of a .json file gives).
    raw = table(services, dests)
    (work / "host_vars" / "bench.json").write_text(
        json.dumps({"bench_services": raw, "bench_services_json": json.dumps(raw)})
    )
    (work / "library" / "bench_floor.py").write_text(FLOOR_MODULE)
    (work / "library" / "bench_floor_json.py").write_text(FLOOR_JSON_MODULE)
    (work / "hosts").write_text(f"bench ansible_connection=local ansible_python_interpreter={sys.executable}\n")
    (work / "play.yml").write_text(PLAYBOOK + "".join(TASKS.format(n=n) for n in range(repeat + 1)))
    flush()
    engine_run(table(services, dests))  # the table the no-change tasks find
    _seconds, records = clocked_playbook(
        work,
        "the whole-task playbook",
        ["-i", str(work / "hosts"), str(work / "play.yml")],
        ANSIBLE_LIBRARY=str(work / "library"),
    )
    times = {"ping": [], "table": [], "floor": [], "table_json": [], "floor_json": []}
    for _host, name, _status, changed, seconds in records:
        kind, number = name.split()
        if kind.startswith("table") and changed:
            problems.append(f"whole task: {name} changed a table that was already in place")
        # Run 0 warms Ansible's module cache (the first use of a module builds its payload).
        if number != "0":
            times[kind].append(seconds)
    flush()
    found = {kind: min(values) for kind, values in times.items()}
    found["runs"] = len(times["table"])
    return found


def fleet(workdir, problems):
    """A no-change run of lvs.ipvs.site on the demo's topology: (seconds, {host: tasks run}, skipped)."""
    work = Path(workdir)
    sh(f"lvslab down; lvslab up {ROOT / 'tests' / 'lab' / 'topologies' / 'modes.yml'}")
    site = ["-i", "/run/lvslab/inventory.yml", str(ROOT / "playbooks" / "site.yml")]
    try:
        clocked_playbook(work, "the fleet's first site run", site, ANSIBLE_LOCALHOST_WARNING="false")
        seconds, records = clocked_playbook(
            work, "the fleet's no-change site run", site, ANSIBLE_LOCALHOST_WARNING="false"
        )
    finally:
        sh("lvslab down")
    return fleet_figures(seconds, records, problems)


def fleet_figures(seconds, records, problems):
    """(seconds, {host: tasks run}, skipped) of a no-change site run's records; a change is a problem."""
    tasks, skipped = {}, 0
    for host, name, status, changed, _seconds in records:
        if changed or status == "failed":
            problems.append(f"fleet: the no-change site run {'changed' if changed else 'failed'} {name!r} on {host}")
        if status == "skipped":
            skipped += 1
            continue
        tasks[host] = tasks.get(host, 0) + 1
    return seconds, tasks, skipped


def fleet_line(site):
    seconds, tasks, skipped = site
    counts = sorted(set(tasks.values()))
    return (
        f"fleet: a no-change run of lvs.ipvs.site on the demo's lab ({len(tasks)} hosts) took {seconds:.1f} s, "
        f"{seconds / len(tasks):.1f} s per host; tasks run per host: {min(counts)} to {max(counts)} "
        f"({', '.join(f'{host} {count}' for host, count in sorted(tasks.items()))}); {skipped} skipped in all."
    )


def fleet_from(path):
    """The fleet line from the clock of a Molecule run of the scenario modes: its idempotence run is the
    second run of converge.yml (lvs.ipvs.site on the demo's topology, which must change nothing)."""
    converges = [run for run in clock_runs(path) if run[0] == "converge.yml"]
    if len(converges) < 2 or converges[1][1] is None:
        print(f"fleet: no idempotence run recorded in {path}")
        return 1
    problems = []
    _playbook, seconds, records = converges[1]
    print(fleet_line(fleet_figures(seconds, records, problems)) + " (the Molecule scenario modes' idempotence run)")
    for problem in problems:
        print(f"PROBLEM: {problem}")
    return 1 if problems else 0


def step(what):
    """A progress line, written at once: a run that dies shows how far it got."""
    print(f"[{time.strftime('%H:%M:%S')}] {what}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=1000)
    parser.add_argument("--dests", type=int, default=10)
    parser.add_argument("--scale", type=int, default=10, help="the large table has this many times the services")
    parser.add_argument("--sample", type=int, default=100, help="ipvsadm processes actually run for the per-rule row")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--repeat-large", type=int, default=2)
    parser.add_argument("--no-fleet", action="store_true", help="leave out the no-change site run on the demo's lab")
    parser.add_argument("--strict", action="store_true", help="exit 2 when a target is missed")
    parser.add_argument(
        "--fleet-from", metavar="CLOCK", help="only print the fleet line from a Molecule run of modes with bench_clock"
    )
    args = parser.parse_args()
    if args.fleet_from:
        return fleet_from(args.fleet_from)

    sh("modprobe ip_vs; ip link set lo up")
    problems = []
    step("the small table, engine and references")
    small = engine_rows(args, args.services, args.repeat, problems)
    step("the whole task, from a playbook")
    with tempfile.TemporaryDirectory() as workdir:
        task = whole_task(args.services, args.dests, args.repeat - 1, workdir, problems)
    step("the large table, engine and references")
    # ipvsadm-restore takes about two minutes for the large table: its apply pair runs once.
    large = engine_rows(args, args.services * args.scale, args.repeat_large, problems, references=False, apply_repeat=1)
    step("the module process on the large table")
    with tempfile.TemporaryDirectory() as workdir:
        peaks = module_peak(args.services * args.scale, args.dests, workdir)
    site = None
    if not args.no_fleet:
        step("a no-change run of lvs.ipvs.site on the demo's lab")
        with tempfile.TemporaryDirectory() as workdir:
            site = fleet(workdir, problems)

    small_size, large_size = f"{small['rules']:,} rules", f"{large['rules']:,} rules"
    task_ours, task_floor = task["table"] - task["ping"], task["floor"] - task["ping"]
    json_ours, json_floor = task["table_json"] - task["ping"], task["floor_json"] - task["ping"]
    save = small["noop"][2]
    runs = task["runs"]
    list_floor = f"- (Ansible alone {task_floor / save:.1f}x)"
    rows = [
        # (table, lvs.ipvs run, ours, reference name, reference, runs, target, growth)
        (small_size, "initial apply, engine", *small["apply"], 1.2, None),
        (small_size, "no-change run, engine", *small["noop"], 1.0, None),
        (small_size, "no-change, whole task, JSON string", json_ours, "ipvsadm -Sn", save, runs, 2.0, None),
        (small_size, "  Ansible alone, same argument", json_floor, "ipvsadm -Sn", save, runs, None, None),
        (small_size, "  lvs.ipvs's share of the task", json_ours - json_floor, "ipvsadm -Sn", save, runs, None, None),
        (small_size, "no-change, whole task, YAML list", task_ours, "ipvsadm -Sn", save, runs, list_floor, None),
        (small_size, "  Ansible alone, same argument", task_floor, "ipvsadm -Sn", save, runs, None, None),
        (small_size, "  lvs.ipvs's share of the task", task_ours - task_floor, "ipvsadm -Sn", save, runs, None, None),
        (small_size, f"1% of weights ({small['edit_count']} edits)", *small["edits"], 0.2, None),
        (small_size, f"1% of weights ({small['edit_count']} edits)", *small["edits_ipvsadm"], None, None),
        (small_size, "initial apply, engine", *small["per_rule"], 1 / 30, None),
        (small_size, "initial apply, engine", *small["stock_load"], None, None),
        (small_size, "no-change run, engine", *small["stock_dump"], None, None),
        (large_size, "initial apply, engine", *large["apply"], 1.2, large["apply"][0] / small["apply"][0]),
        (large_size, "no-change run, engine", *large["noop"], 1.0, large["noop"][0] / small["noop"][0]),
        (
            large_size,
            f"1% of weights ({large['edit_count']} edits)",
            *large["edits"],
            0.2,
            large["edits"][0] / small["edits"][0],
        ),
    ]
    print(
        f"\nIPVS table benchmark: {args.services} and {args.services * args.scale} services x {args.dests} "
        f"destinations; seconds, the best of N runs\n"
    )
    header = (
        f"| {'table':<14} | {'lvs.ipvs run':<34} | {'s':>6} | {'reference':<44} | {'s':>7} | {'N':>2} | {'ratio':>6} "
        f"| {'target':<22} | {'growth':>6} |"
    )
    print(header)
    print("|" + "|".join("-" * len(cell) for cell in header.split("|")[1:-1]) + "|")
    missed = []
    for size, name, ours, ref_name, ref, count, target, growth in rows:
        ratio = ours / ref
        if target is None:
            verdict = "-"
        elif isinstance(target, str):
            verdict = target  # no target of its own: what bounds it from below
        elif target >= 0.1:
            verdict = f"<={target:g}x " + ("met" if ratio <= target else "MISSED")
        else:
            verdict = f">={1 / target:g}x faster " + ("met" if ratio <= target else "MISSED")
        grown = "-"
        if growth is not None:
            grown = f"{growth:5.1f}x"
            if growth > args.scale:
                missed.append(f"{name} grew {growth:.1f}x")
        if "MISSED" in verdict:
            missed.append(f"{size} {name}")
        print(
            f"| {size:<14} | {name:<34} | {ours:6.2f} | {ref_name:<44} | {ref:7.2f} | {count:>2} | {ratio:5.2f}x "
            f"| {verdict:<22} | {grown:>6} |"
        )
    peak = max(peaks["JSON", "initial apply"][1], peaks["JSON", "no-change run"][1])
    if peak > 150:
        missed.append("peak RSS")
    print(
        "\nratio = lvs.ipvs / reference: below 1 when lvs.ipvs is faster. growth = the "
        f"{large_size} figure / the {small_size} one (linear: <= {args.scale}x)."
    )
    print(
        f"whole task: the ping task took {task['ping']:.2f} s (subtracted from the task rows); the ipvs_table "
        f"task {task['table_json']:.2f} s with the table as one JSON string, {task['table']:.2f} s as a list; "
        f"a module that takes the same argument and does nothing {task['floor_json']:.2f} s and "
        f"{task['floor']:.2f} s."
    )
    print(
        f"module process at {large_size}, peak RSS (target <= 150 MiB, table as a JSON string: "
        f"{'met' if peak <= 150 else 'MISSED'}): "
        + "; ".join(f"{run} ({form}) {rss:.0f} MiB in {seconds:.1f} s" for (form, run), (seconds, rss) in peaks.items())
        + " (Ansible alone: a module that takes the same argument and does nothing)."
    )
    if site is not None:
        print(fleet_line(site))
    print(f"initial apply: {small['per_rule'][2] / small['apply'][0]:.0f}x faster than one ipvsadm process per rule.")
    for problem in problems:
        print(f"PROBLEM: {problem}")
    if missed:
        print(f"missed: {'; '.join(missed)}")
    if problems:
        return 1
    return 2 if missed and args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
