"""Benchmark: a 1,000-service x 10-destination IPVS table, lvs.ipvs against the usual ways.

Runs as root in a kernel with IPVS, in one boot, so every ratio compares
figures taken minutes apart on the same kernel:

    lvslab run -- python tests/lab/bench/ipvs_table.py

"lvs.ipvs" times what the ipvs_table module does once Ansible has started it:
validate the input, check the kernel modules, open the client, take the
table's lock, read the table, plan, apply in batches, render the result. The references are
ipvsadm-restore, ipvsadm -Sn, one ipvsadm process per rule (a sample,
extrapolated) and pyroute2's own IPVS API. Each figure is the best of
--repeat runs, ours and the reference's taken in turn. Exit status 1 means the table read back wrong, not that a
target was missed; --strict also fails on a missed target.
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import time
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


def engine_run(raw):
    """What ipvs_table does after Ansible has started it."""
    desired = normalize_services(raw)
    scope = normalize_scope("managed")
    check_kernel_modules(desired)
    with IPVSClient() as client, table_lock():
        outcome = converge(client, current_table(client), desired, scope)
    render(outcome.after)
    return outcome


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=1000)
    parser.add_argument("--dests", type=int, default=10)
    parser.add_argument("--sample", type=int, default=500, help="ipvsadm processes actually run for the per-rule row")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--strict", action="store_true", help="exit 2 when a target is missed")
    args = parser.parse_args()

    sh("modprobe ip_vs; ip link set lo up")
    raw = table(args.services, args.dests)
    rules = "\n".join(render(normalize_table(raw))) + "\n"
    lines = rules.splitlines()
    rule_count = len(lines)
    changed = {(i, 0) for i in range(0, args.services, max(1, args.services // (args.services * args.dests // 100)))}
    bumped = table(args.services, args.dests, weight_bump=changed)
    present = set(lines)
    edit_rules = [
        line.replace("-a ", "-e ", 1)
        for line in render(normalize_table(bumped))
        if line.startswith("-a ") and line not in present
    ]
    problems = []

    def load_reference():
        flush()
        sh("ipvsadm-restore", stdin=rules)

    # Initial apply: empty table to the full one.
    restore_s, apply_s, outcome = paired(
        args.repeat, flush, lambda: sh("ipvsadm-restore", stdin=rules), lambda: engine_run(raw)
    )
    if len(outcome.plan) != rule_count:
        problems.append(f"initial apply planned {len(outcome.plan)} steps, expected {rule_count}")
    if sorted(sh("ipvsadm -Sn").splitlines()) != sorted(lines):
        problems.append("the table lvs.ipvs loaded does not read back as the rules")

    # No change: read the full table, find nothing to do.
    save_s, noop_s, outcome = paired(args.repeat, lambda: None, lambda: sh("ipvsadm -Sn"), lambda: engine_run(raw))
    if outcome.plan:
        problems.append(f"a no-change run planned {len(outcome.plan)} steps")

    # 1% of the weights change. ipvsadm-restore refuses -e lines ("Service not
    # defined"): one ipvsadm -e per edit is ipvsadm's way.
    edits_ipvsadm_s, edit_s, outcome = paired(
        args.repeat,
        load_reference,
        lambda: [subprocess.run(["ipvsadm", *e.split()], check=True) for e in edit_rules],
        lambda: engine_run(bumped),
    )
    if len(outcome.plan) != len(edit_rules) or any(op.action != "edit_destination" for op in outcome.plan):
        problems.append(f"the 1% change planned {len(outcome.plan)} steps, expected {len(edit_rules)} edits")
    if sorted(sh("ipvsadm -Sn").splitlines()) != sorted(render(normalize_table(bumped))):
        problems.append("the edited table does not read back as planned")

    # One ipvsadm process per rule, on a sample.
    flush()
    sample = lines[: args.sample]
    per_rule_sample_s, _dummy = timed(
        lambda: [subprocess.run(["ipvsadm", *line.split()], check=True) for line in sample]
    )
    per_rule_s = per_rule_sample_s * rule_count / len(sample)

    # pyroute2's own IPVS API.
    stock_load_s, _dummy = best(1, flush, lambda: stock_pyroute2_load(raw))
    stock_dump_s, count = best(1, lambda: None, stock_pyroute2_dump)
    if count != args.services * args.dests:
        problems.append(f"pyroute2 read {count} destinations")
    flush()

    size = f"{args.services} services x {args.dests} destinations = {rule_count} rules"
    print(f"\nIPVS table benchmark, {size}, best of {args.repeat} (seconds)\n")
    rows = [
        ("initial apply", apply_s, "ipvsadm-restore", restore_s, 1.2),
        ("no-change run", noop_s, "ipvsadm -Sn", save_s, 2.0),
        (f"1% of weights ({len(edit_rules)} edits)", edit_s, "one ipvsadm -e per edit", edits_ipvsadm_s, None),
        ("initial apply", apply_s, f"one ipvsadm per rule ({len(sample)} run, extrapolated)", per_rule_s, 1 / 30),
        ("initial apply", apply_s, "pyroute2 IPVS API, one request per rule", stock_load_s, None),
        ("no-change run", noop_s, "pyroute2 IPVS API dump", stock_dump_s, None),
    ]
    header = f"| {'lvs.ipvs run':<28} | {'s':>6} | {'reference':<46} | {'s':>7} | {'ratio':>6} | target  |"
    print(header)
    print("|" + "|".join("-" * (len(cell) + 0) for cell in header.split("|")[1:-1]) + "|")
    missed = []
    for name, ours, ref_name, ref, target in rows:
        ratio = ours / ref
        if target is None:
            verdict = "-"
        elif target >= 1:
            verdict = f"<={target:g}x " + ("met" if ratio <= target else "MISSED")
        else:
            verdict = f">={1 / target:g}x faster " + ("met" if ratio <= target else "MISSED")
        if "MISSED" in verdict:
            missed.append(name)
        print(f"| {name:<28} | {ours:6.2f} | {ref_name:<46} | {ref:7.2f} | {ratio:5.2f}x | {verdict:<22} |")
    print("\nratio = lvs.ipvs / reference: below 1 when lvs.ipvs is faster.")
    print(f"initial apply: {per_rule_s / apply_s:.0f}x faster than one ipvsadm process per rule.")
    for problem in problems:
        print(f"PROBLEM: {problem}")
    if problems:
        return 1
    return 2 if missed and args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
