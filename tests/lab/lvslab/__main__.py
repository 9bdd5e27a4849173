"""lvslab: the lvs.ipvs lab.

doctor   can the lab run on this machine? what the guest kernel offers, what to do if not
run      run a command against a kernel with IPVS (the host's, or a UML guest)
images   build the Debian images lab containers can run (on the machine, with the network)
up       build a topology of network namespaces       (inside the lab kernel)
down     remove it
exec     run a command inside one lab host
probe    send client traffic from a lab host and check who answered
loadgen  steady requests and long-lived connections from a lab host, with exact accounting
neigh    which hosts answer ARP or neighbour solicitation for an address
verify   run and record every check of a spec file (probes, neigh, routes, files)
record   record the outcome of a check made elsewhere
report   print the table of recorded checks
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from . import checks, doctor, images, kernel, loadgen, report, topology


def _cmd_run(args) -> int:
    argv = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not argv:
        raise kernel.LabError("run: no command given")
    rc, run_dir = kernel.run(
        argv,
        kernel=args.kernel,
        mem=args.mem,
        timeout=args.timeout,
        verbose=args.verbose,
        run_dir=Path(args.run_dir).resolve() if args.run_dir else None,
    )
    boot = run_dir / "boot-seconds"
    print(
        f"lvslab: exit status {rc}; boot {boot.read_text().strip() if boot.exists() else '?'} s; "
        f"run directory {run_dir}",
        file=sys.stderr,
    )
    return rc


def _cmd_doctor(args) -> int:
    return doctor.run(Path(__file__).resolve().parents[3], mem=args.mem)


def _cmd_up(args) -> int:
    topo = topology.load(Path(args.topology))
    for spec in args.containers:
        name, image = spec.split("=", 1) if "=" in spec else (spec, "")
        if name not in topo.hosts:
            raise kernel.LabError(f"up: --containers: {name!r}: no such host in {args.topology}")
        if image and image not in images.IMAGES:
            raise kernel.LabError(
                f"up: --containers: {spec!r}: no image {image!r}; the images are {', '.join(images.IMAGES)}"
            )
        topo.hosts[name].container = image or True
    topology.up(topo, Path(args.state))
    print(Path(args.state) / "inventory.yml")
    return 0


def _cmd_images(args) -> int:
    for name in args.names or list(images.IMAGES):
        if name not in images.IMAGES:
            raise kernel.LabError(f"images: {name!r}: unknown; the images are {', '.join(images.IMAGES)}")
        built = images.build(name, force=args.force)
        print(f"{name}: {'built' if built else 'up to date'} in {images.images_dir() / name}")
    return 0


def _cmd_down(args) -> int:
    topology.down(Path(args.state))
    return 0


def _cmd_exec(args) -> int:
    argv = args.command[1:] if args.command[:1] == ["--"] else args.command
    return subprocess.call([*topology.enter(Path(args.state), args.host), *argv])


def _cmd_probe(args) -> int:
    ok, detail, tally = checks.probe(args.host, args.target, args.count, args.expect, args.round_robin, args.peer)
    report.record(args.label or f"{args.host} -> {args.target}", ok, detail)
    print(json.dumps({**tally, "ok": ok, "detail": detail}))
    return 0 if ok else 1


def _cmd_loadgen(args) -> int:
    return loadgen.run(args)


def _cmd_neigh(args) -> int:
    ok, detail = checks.neigh(Path(args.state), args.host, args.address, args.interface, args.expect_host, args.forbid)
    if args.label:
        report.record(args.label, ok, detail)
    print(json.dumps({"ok": ok, "detail": detail}))
    return 0 if ok else 1


def _cmd_verify(args) -> int:
    return 0 if checks.verify(Path(args.spec), Path(args.state), args.results) else 1


def _cmd_record(args) -> int:
    report.record(args.label, args.ok, args.detail, args.results)
    return 0


def _cmd_report(args) -> int:
    rows = report.read(Path(args.results))
    sys.stdout.write(report.table(rows, args.title))
    return 0 if rows and all(r["ok"] for r in rows) else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="lvslab", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--state", default=str(topology.DEFAULT_STATE), help="lab state directory")
    sub = parser.add_subparsers(dest="cmd", required=True)

    p = sub.add_parser("doctor", help="check that the lab can run here, and show what its kernel offers")
    p.add_argument("--mem", default="768M", help="UML guest memory")
    p.set_defaults(func=_cmd_doctor)

    p = sub.add_parser("run", help="run a command against a kernel with IPVS")
    p.add_argument("--kernel", default="auto", choices=("auto", "host", "uml"))
    p.add_argument("--mem", default="768M", help="UML guest memory")
    p.add_argument("--timeout", type=float, default=None, help="seconds before the guest is killed")
    p.add_argument("--run-dir", help="directory for this run's files (default: a new one under .lab/runs)")
    p.add_argument("--verbose", action="store_true", help="also show the guest's boot messages")
    p.add_argument("command", nargs=argparse.REMAINDER)
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("up", help="build a topology")
    p.add_argument("topology")
    p.add_argument(
        "--containers",
        nargs="*",
        default=[],
        metavar="HOST[=IMAGE]",
        help="run these hosts as podman containers (own root file system) in their namespaces;"
        " with =IMAGE (" + ", ".join(images.IMAGES) + ") on that Debian image, with its own Python and packages",
    )
    p.set_defaults(func=_cmd_up)

    p = sub.add_parser("images", help="build the Debian images of lab containers (needs the network)")
    p.add_argument("names", nargs="*", help="images to build (default: all)")
    p.add_argument("--force", action="store_true", help="rebuild even when up to date")
    p.set_defaults(func=_cmd_images)

    p = sub.add_parser("down", help="remove the topology")
    p.set_defaults(func=_cmd_down)

    p = sub.add_parser("exec", help="run a command in a lab host")
    p.add_argument("host")
    p.add_argument("command", nargs=argparse.REMAINDER)
    p.set_defaults(func=_cmd_exec)

    p = sub.add_parser("probe", help="client traffic from a lab host")
    p.add_argument("host")
    p.add_argument("target", help="http://ADDR[:PORT]/ or udp://ADDR:PORT")
    p.add_argument("--count", type=int, default=10)
    p.add_argument("--expect", nargs="*", default=[], help="servers that must (all, and only they) answer")
    p.add_argument(
        "--round-robin", action="store_true", help="also require the expected servers to answer in strict turn"
    )
    p.add_argument("--peer", nargs="*", default=[], help="the client addresses the servers must have seen (HTTP)")
    p.add_argument("--label")
    p.set_defaults(func=_cmd_probe)

    p = sub.add_parser(
        "loadgen",
        help="traffic with exact accounting until stopped (run it in a lab host)",
        description=loadgen.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    loadgen.add_arguments(p)
    p.set_defaults(func=_cmd_loadgen)

    p = sub.add_parser("neigh", help="who answers ARP or neighbour solicitation for an address")
    p.add_argument("host")
    p.add_argument("address")
    p.add_argument("--interface", default="eth0")
    p.add_argument("--expect-host", help="the one lab host that may answer")
    p.add_argument("--forbid", nargs="*", default=[], help="lab hosts that must not answer")
    p.add_argument("--label")
    p.set_defaults(func=_cmd_neigh)

    p = sub.add_parser("verify", help="run and record every check of a spec file")
    p.add_argument("spec")
    p.add_argument("--results", help="results file (default: $LVS_LAB_RESULTS)")
    p.set_defaults(func=_cmd_verify)

    p = sub.add_parser("record", help="record the outcome of a check made elsewhere")
    p.add_argument("--label", required=True)
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--ok", dest="ok", action="store_true")
    group.add_argument("--fail", dest="ok", action="store_false")
    p.add_argument("--detail", default="")
    p.add_argument("--results", help="results file (default: $LVS_LAB_RESULTS)")
    p.set_defaults(func=_cmd_record)

    p = sub.add_parser("report", help="print recorded checks as a table")
    p.add_argument("results")
    p.add_argument("--title", default="What the lab proved")
    p.set_defaults(func=_cmd_report)

    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except kernel.LabError as exc:
        print(f"lvslab: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
