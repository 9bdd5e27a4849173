"""The lab's checks: client traffic, ARP/ND answers, routes, files; alone or from a spec file.

Each check returns (ok, detail); `verify` runs every check of a spec in one
process (each Ansible task costs seconds in the lab kernel) and records each.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

from . import report, topology
from .kernel import LabError

_LAB = str(Path(__file__).resolve().parent.parent)


def _in_netns(host: str, module: str, *argv: str) -> dict | list:
    out = subprocess.run(
        ["nsenter", f"--net=/run/netns/{host}", "--", sys.executable, "-m", f"lvslab.{module}", *argv],
        capture_output=True,
        text=True,
        check=False,
        env={"PYTHONPATH": _LAB, "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
    )
    if out.returncode:
        raise LabError(f"{module} from {host}: {out.stderr.strip()}")
    return json.loads(out.stdout)


def probe(host: str, target: str, count: int = 6, expect=(), round_robin=False, peer=()) -> tuple[bool, str, dict]:
    """Send count requests from host; expect exactly these servers (in turn), seeing exactly these clients.

    Returns (ok, detail, the probe's tally)."""
    expect = list(expect)
    if round_robin and len(expect) < 2:
        raise LabError("probe: round robin needs the servers that take turns in expect")
    result = _in_netns(host, "probe", target, str(count))
    servers = result["servers"]
    missing = sorted(set(expect) - set(servers))
    unexpected = sorted(set(servers) - set(expect)) if expect else []
    ok = not missing and not unexpected and not result["errors"]
    detail = " ".join(f"{k}={v}" for k, v in sorted(servers.items())) or "no answer"
    if result["errors"]:
        detail += " errors=" + ",".join(f"{k}:{v}" for k, v in result["errors"].items())
    if round_robin and ok:
        # Round robin: every run of len(expect) answers holds each server once.
        order = result["order"]
        windows = [order[i : i + len(expect)] for i in range(len(order) - len(expect) + 1)]
        if any(len(set(window)) != len(expect) for window in windows):
            ok = False
            detail += " not round robin: " + ",".join(order)
        else:
            detail += " in turn"
    if missing:
        detail += " missing=" + ",".join(missing)
    if unexpected:
        detail += " unexpected=" + ",".join(unexpected)
    if peer:
        peers = sorted(result["peers"])
        detail += "; servers saw " + (",".join(peers) or "nobody")
        ok = ok and peers == sorted(peer)
    return ok, detail, result


def neigh(state: Path, host: str, address: str, interface="eth0", expect_host=None, forbid=()) -> tuple[bool, str]:
    """Who answers ARP/ND for address on host's interface: exactly expect_host, and none of forbid."""
    answers = _in_netns(host, "neigh", interface, address)
    owners = topology.mac_owners(state)
    named = sorted(owners.get(mac, mac) for mac in answers)
    ok = (named == [expect_host]) if expect_host else not set(named) & set(forbid)
    return ok, f"asked from {host} {interface}: answered by " + (",".join(named) or "nobody")


def route(state: Path, host: str, via: str, family: str = "-4") -> tuple[bool, str]:
    out = subprocess.run(
        [*topology.enter(state, host), "ip", family, "route", "show", "default"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    found = out[2] if len(out) > 2 and out[1] == "via" else "none"
    return found == via, f"{host}: default via {found}"


def file_only(state: Path, path: str, hosts: list[str], only: list[str]) -> tuple[bool, str]:
    seen = [
        host
        for host in hosts
        if subprocess.run([*topology.enter(state, host), "test", "-e", path], check=False).returncode == 0
    ]
    return sorted(seen) == sorted(only), f"{path} seen by: " + (",".join(seen) or "nobody")


def verify(spec_path: Path, state: Path, results: str | None = None) -> bool:
    """Run every check of a spec file, record each; True when all passed."""
    spec = yaml.safe_load(Path(spec_path).read_text())
    hosts = json.loads((state / "topology.json").read_text())["hosts"]
    all_ok = True
    for check in spec["checks"]:
        kind = next(k for k in ("probe", "neigh", "route", "file") if k in check)
        try:
            if kind == "probe":
                ok, detail, _tally = probe(
                    check["from"],
                    check["probe"],
                    check.get("count", 6),
                    check.get("expect", ()),
                    check.get("round_robin", True),
                    check.get("peer", ()),
                )
            elif kind == "neigh":
                ok, detail = neigh(
                    state,
                    check["from"],
                    check["neigh"],
                    check.get("interface", "eth0"),
                    check.get("expect"),
                    check.get("forbid", ()),
                )
            elif kind == "route":
                ok, detail = True, ""
                details = []
                for host in check["hosts"]:
                    host_ok, host_detail = route(state, host, check["route"])
                    ok, details = ok and host_ok, [*details, host_detail]
                detail = "; ".join(details)
            else:
                ok, detail = file_only(state, check["file"], hosts, check["only"])
        except LabError as exc:
            ok, detail = False, str(exc)
        report.record(check["label"], ok, detail, results)
        print(f"{'PASS' if ok else 'FAIL'}  {check['label']}: {detail}", flush=True)
        all_ok = all_ok and ok
    return all_ok
