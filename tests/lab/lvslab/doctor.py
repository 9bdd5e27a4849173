"""lvslab doctor: can the lab work on this machine, and what to do if it cannot.

It looks at the machine first (what the lab needs from it), then boots one
guest and asks the guest kernel what it offers: IPVS and its schedulers,
network namespaces, the tunnels of the TUN modes, and the packet filters
that Full NAT needs. Every line says what was found; a line that stops the
lab also says what to do. Exit status 0 when the lab can run, 1 when not.
"""

from __future__ import annotations

import io
import json
import os
import platform
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from . import images, kernel, xstate

SCHEDULERS = ("rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh")
TUNNELS = ("ipip", "ip6_tunnel", "fou", "ip_gre", "ip6_gre")
GIB = 1 << 30


@dataclass
class Finding:
    name: str
    detail: str
    ok: bool = True
    needed: bool = True  # False: the lab runs without it, with less proven
    fix: str = ""

    @property
    def mark(self) -> str:
        if self.ok:
            return "ok"
        return "FAIL" if self.needed else "absent"


def _free(path: str) -> int:
    try:
        return shutil.disk_usage(path).free
    except OSError:
        return 0


def _mem_available() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) * 1024
    return 0


def _dpkg_version(package: str) -> str:
    out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", package], capture_output=True, text=True, check=False)
    return out.stdout.strip() if out.returncode == 0 else ""


def host_findings(checkout: Path, kernel_kind: str) -> list[Finding]:
    found = [
        Finding(
            "machine",
            f"{platform.machine()}, {os.cpu_count()} cores, host kernel {platform.release()}",
            ok=platform.machine() == "x86_64",
            fix="the lab runs Debian's User-Mode Linux for x86-64 only",
        ),
        Finding(
            "root",
            "running as root" if os.geteuid() == 0 else f"running as uid {os.geteuid()}",
            ok=os.geteuid() == 0,
            fix="run as root: the lab makes namespaces, mounts and network devices",
        ),
    ]
    mem = _mem_available()
    found.append(
        Finding(
            "memory",
            f"{mem / GIB:.1f} GiB available",
            ok=mem >= 2 * GIB,
            fix="two guests of 768 MiB run side by side in the test command: free at least 2 GiB",
        )
    )
    disk = _free(str(checkout))
    found.append(
        Finding(
            "disk",
            f"{disk / GIB:.1f} GiB free under {checkout}",
            ok=disk >= 3 * GIB,
            fix="the Python environment, the collections and the lab's run directories need about 3 GiB",
        )
    )
    if kernel_kind == "host":
        found.append(Finding("kernel", "the host's own kernel has IPVS: the lab runs on it, no guest needed"))
        return found
    uml = shutil.which(kernel.UML)
    version = _dpkg_version("user-mode-linux")
    found.append(
        Finding(
            "User-Mode Linux",
            f"{uml} (package user-mode-linux {version or 'not from a package'})" if uml else "linux.uml not found",
            ok=bool(uml),
            fix="apt-get install user-mode-linux (scripts/setup.sh does)",
        )
    )
    modules = sorted(p.name for p in Path("/usr/lib/uml/modules").glob("*") if p.is_dir())
    found.append(
        Finding(
            "guest modules",
            f"/usr/lib/uml/modules/{', '.join(modules)}" if modules else "no /usr/lib/uml/modules/VERSION",
            ok=bool(modules),
            fix="reinstall user-mode-linux: its modules hold IPVS",
        )
    )
    shm = _free("/dev/shm")
    found.append(
        Finding(
            "/dev/shm",
            # The test command runs the benchmark's guest (2 GiB) beside another (768 MiB).
            f"{shm / GIB:.1f} GiB free (a guest's memory lives there; the test command needs 3 GiB)",
            ok=shm >= 3 * GIB,
            fix="give /dev/shm at least 3 GiB (mount -o remount,size=4G /dev/shm), or set TMPDIR to a tmpfs with room",
        )
    )
    podman = shutil.which("podman")
    found.append(
        Finding(
            "podman",
            podman or "not found",
            ok=bool(podman),
            needed=False,
            fix="apt-get install podman crun (scripts/setup.sh does): the dr Molecule scenario runs containers",
        )
    )
    for name in images.IMAGES:
        try:
            rootfs, _repo = images.paths(name)
            found.append(Finding(f"image {name}", f"built: {rootfs.parent}", needed=False))
        except kernel.LabError as exc:
            found.append(
                Finding(
                    f"image {name}",
                    str(exc),
                    ok=False,
                    needed=False,
                    fix="run scripts/setup.sh (lvslab images): the dr Molecule scenario's containers run it",
                )
            )
    try:
        shim = xstate.shim_path()
        found.append(Finding("FPU shim", f"built: {shim.name}"))
    except xstate.ShimError as exc:
        found.append(Finding("FPU shim", str(exc).splitlines()[0], ok=False, fix="apt-get install gcc libc6-dev"))
    return found


# --- inside the guest --------------------------------------------------------


def _sh(command: str) -> tuple[bool, str]:
    out = subprocess.run(["/bin/sh", "-c", command], capture_output=True, text=True, check=False)
    text = [line.strip() for line in (out.stdout + out.stderr).splitlines() if line.strip()]
    # nft and ip put the reason on an "Error:" line, above a line of carets.
    reason = next((line for line in text if "rror" in line), text[-1] if text else "")
    return out.returncode == 0, reason


def _modprobe(name: str) -> bool:
    return subprocess.run(["modprobe", "-q", name], capture_output=True, check=False).returncode == 0


def guest_probe() -> dict:
    """What this (guest) kernel offers the lab; run inside the lab kernel."""
    facts: dict = {"kernel": platform.release()}
    facts["ipvs"] = _modprobe("ip_vs") and Path("/proc/net/ip_vs").exists()
    facts["schedulers"] = {s: _modprobe(f"ip_vs_{s}") for s in SCHEDULERS}
    facts["ipvsadm"] = _sh("ipvsadm -A -t 192.0.2.1:80 -s rr && ipvsadm -Ln | grep -q 192.0.2.1:80 && ipvsadm -C")
    facts["netns"] = _sh(
        "ip netns add lvslab-doctor && ip netns exec lvslab-doctor ip link set lo up && ip netns del lvslab-doctor"
    )
    facts["veth"] = _sh("ip link add lvsd0 type veth peer name lvsd1 && ip link del lvsd0")
    facts["bridge"] = _sh("ip link add lvsdbr type bridge && ip link del lvsdbr")
    facts["tunnels"] = {t: _modprobe(t) for t in TUNNELS}
    facts["gue"] = _sh("ip fou add port 5555 gue && ip fou del port 5555")
    facts["iptables"] = _sh("iptables-legacy -t nat -A POSTROUTING -j MASQUERADE && iptables-legacy -t nat -F")
    facts["nftables"] = _sh("nft add table inet lvslab_doctor && nft delete table inet lvslab_doctor")
    facts["pyroute2"] = _sh(f"{sys.executable} -c 'import pyroute2; print(pyroute2.__version__)'")
    facts["memory"] = next(
        (
            int(line.split()[1]) * 1024
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal:")
        ),
        0,
    )
    return facts


def guest_findings(facts: dict) -> list[Finding]:
    missing = [s for s, ok in facts["schedulers"].items() if not ok]
    loaded = " ".join(s for s in SCHEDULERS if s not in missing)
    tunnels_missing = [t for t, ok in facts["tunnels"].items() if not ok]
    return [
        Finding("guest kernel", f"Linux {facts['kernel']}, {facts['memory'] / GIB:.2f} GiB"),
        Finding(
            "IPVS", "ip_vs loaded, /proc/net/ip_vs present" if facts["ipvs"] else "ip_vs did not load", ok=facts["ipvs"]
        ),
        Finding(
            "schedulers",
            f"{len(SCHEDULERS) - len(missing)} of {len(SCHEDULERS)}: {loaded}"
            + (f"; missing {' '.join(missing)}" if missing else ""),
            ok=not missing,
        ),
        Finding(
            "ipvsadm",
            "a service added, listed and cleared" if facts["ipvsadm"][0] else facts["ipvsadm"][1],
            ok=facts["ipvsadm"][0],
        ),
        Finding(
            "network namespaces", "made and removed" if facts["netns"][0] else facts["netns"][1], ok=facts["netns"][0]
        ),
        Finding(
            "veth, bridge",
            "made and removed"
            if facts["veth"][0] and facts["bridge"][0]
            else f"{facts['veth'][1]} {facts['bridge'][1]}",
            ok=facts["veth"][0] and facts["bridge"][0],
        ),
        Finding(
            "tunnels",
            " ".join(t for t in TUNNELS if t not in tunnels_missing)
            + (f"; missing {' '.join(tunnels_missing)}" if tunnels_missing else ""),
            ok=not tunnels_missing,
        ),
        Finding("GUE port", "opened and closed" if facts["gue"][0] else facts["gue"][1], ok=facts["gue"][0]),
        Finding(
            "iptables (legacy)",
            "nat table works: Full NAT's SNAT in the lab" if facts["iptables"][0] else facts["iptables"][1],
            ok=facts["iptables"][0],
        ),
        Finding(
            "nf_tables",
            "inet table works"
            if facts["nftables"][0]
            else f"{facts['nftables'][1] or 'refused'} "
            "(the director's nftables rules are proven on the host's kernel instead)",
            ok=facts["nftables"][0],
            needed=False,
        ),
        Finding(
            "pyroute2",
            f"version {facts['pyroute2'][1]}" if facts["pyroute2"][0] else facts["pyroute2"][1],
            ok=facts["pyroute2"][0],
        ),
    ]


# --- the whole check -----------------------------------------------------------


def _print_section(title: str, findings: list[Finding], out) -> None:
    out.write(f"  {title}\n")
    width = max(len(f.name) for f in findings)
    for f in findings:
        out.write(f"    {f.name:<{width}}  {f.mark:<7}  {f.detail}\n")


def run(checkout: Path, mem: str = "768M", out=None) -> int:
    out = out or sys.stdout
    out.write("lvslab doctor: can the lab run on this machine?\n")
    kind = kernel.choose_kernel("auto")
    host = host_findings(checkout, kind)
    _print_section("this machine", host, out)
    blockers = [f for f in host if not f.ok and f.needed]
    guest: list[Finding] = []
    if not blockers:
        buf = io.StringIO()
        try:
            rc, run_dir = kernel.run(
                [sys.executable, "-m", "lvslab.doctor", "--guest"],
                kernel=kind,
                mem=mem,
                timeout=180,
                out=buf,
                run_dir=kernel.new_run_dir(),
            )
        except kernel.LabError as exc:
            guest = [
                Finding("guest boot", str(exc).replace("\n", "\n      "), ok=False, fix="see the boot log lines above")
            ]
        else:
            boot = (run_dir / "boot-seconds").read_text().strip()
            facts = None
            for line in buf.getvalue().splitlines():
                if line.startswith("{"):
                    facts = json.loads(line)
            if rc != 0 or facts is None:
                guest = [Finding("guest probe", f"exit status {rc}: {buf.getvalue().strip()[-500:]}", ok=False)]
            else:
                shim = xstate.describe(xstate.read_report(run_dir)) if kind == "uml" else "host kernel"
                guest = [
                    Finding("guest boot", f"{boot} s to the first command; FPU state: {shim}"),
                    *guest_findings(facts),
                ]
        _print_section("the lab kernel", guest, out)
    blockers += [f for f in guest if not f.ok and f.needed]
    if blockers:
        out.write("verdict: the lab CANNOT run on this machine:\n")
        for f in blockers:
            out.write(f"  - {f.name}: {f.fix or f.detail.splitlines()[0]}\n")
        out.write("  see the troubleshooting part of docs/lab.md\n")
        return 1
    optional = [f for f in host + guest if not f.ok]
    out.write(
        "verdict: the lab can run here"
        + (f" (without: {', '.join(f.name for f in optional)})" if optional else "")
        + "\n"
    )
    return 0


def main(argv: list[str]) -> int:
    if argv == ["--guest"]:
        print(json.dumps(guest_probe()))
        return 0
    raise SystemExit("usage: python -m lvslab.doctor --guest (inside the lab kernel); otherwise use `lvslab doctor`")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
