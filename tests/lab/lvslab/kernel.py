"""Run a command against a Linux kernel that has IPVS.

The host's own kernel is used when it has IPVS; otherwise the command runs in
a User-Mode Linux guest (Debian's ``user-mode-linux`` package), which is a
Linux kernel running as an ordinary process. Both ways go through
``guest-init.sh``, so the command always sees the same thing: a private
network namespace, a private ``/run``, and an overlay of the real root that
absorbs every write except those to the run directory.
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
INIT = HERE / "guest-init.sh"
BEGIN, END = "@@lvslab-begin@@", "@@lvslab-end@@"
UML = "linux.uml"

# Variables worth carrying from the caller into the guest; the guest's PID 1
# starts with an empty environment.
PASSED_ENV_PREFIXES = ("ANSIBLE_", "LVS_", "MOLECULE_", "PYTEST_", "HYPOTHESIS_")
PASSED_ENV = ("CI", "TERM", "PYTHONPATH", "VIRTUAL_ENV", "PY_COLORS", "NO_COLOR")


class LabError(RuntimeError):
    """The lab could not run the command at all (as opposed to the command failing)."""


def host_has_ipvs() -> bool:
    if Path("/proc/net/ip_vs").exists():
        return True
    if shutil.which("modprobe"):
        subprocess.run(["modprobe", "-q", "ip_vs"], capture_output=True, check=False)
    return Path("/proc/net/ip_vs").exists()


def choose_kernel(requested: str = "auto") -> str:
    if requested not in ("auto", "host", "uml"):
        raise LabError(f"kernel must be auto, host or uml, not {requested!r}")
    if requested != "auto":
        return requested
    return "host" if host_has_ipvs() else "uml"


def default_runs_root() -> Path:
    env = os.environ.get("LVS_LAB_RUNS")
    if env:
        return Path(env)
    # In the checkout (git ignores it): the guest reaches the real disk only
    # through this directory, so its results stay with the project.
    return HERE.parent.parent.parent / ".lab" / "runs"


def _job_script(argv: list[str], workdir: Path, env: dict[str, str]) -> str:
    lines = ["#!/bin/sh", "set -e"]
    for key in sorted(env):
        lines.append(f"export {key}={shlex.quote(env[key])}")
    lines.append(f"cd {shlex.quote(str(workdir))}")
    lines.append("set +e")
    lines.append("exec " + " ".join(shlex.quote(a) for a in argv))
    return "\n".join(lines) + "\n"


def guest_env(run_dir: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in PASSED_ENV or k.startswith(PASSED_ENV_PREFIXES)}
    env.update(
        PATH=os.environ.get("PATH", "") + ":/usr/local/sbin:/usr/sbin:/sbin",
        HOME=os.environ.get("HOME", "/root"),
        LANG="C.UTF-8",
        LC_ALL="C.UTF-8",
        PYTHONUNBUFFERED="1",
        LVS_LAB_RUN_DIR=str(run_dir),
        LVS_LAB_RESULTS=str(run_dir / "results.jsonl"),
    )
    if not sys.stdout.isatty():
        env.update(ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", NO_COLOR="1", PY_COLORS="0")
    env.update(extra or {})
    return env


def new_run_dir(root: Path | None = None) -> Path:
    root = (root or default_runs_root()).resolve()
    root.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return Path(tempfile.mkdtemp(prefix=f"{stamp}-", dir=root))


def _command(kernel: str, run_dir: Path, mem: str) -> list[str]:
    if kernel == "uml":
        if not shutil.which(UML):
            raise LabError(f"{UML} not found: install the user-mode-linux package")
        # init= must name one file; the wrapper passes mode and run directory.
        wrapper = run_dir / "init"
        wrapper.write_text(f"#!/bin/sh\nexec /bin/sh {shlex.quote(str(INIT))} uml {shlex.quote(str(run_dir))}\n")
        wrapper.chmod(0o755)
        return [
            UML,
            f"mem={mem}",
            "root=/dev/root",
            "rootfstype=hostfs",
            "hostfs=/",
            "rw",
            f"init={wrapper}",
            "con=null",
            "con0=fd:0,fd:1",
            "quiet",
            # UML keeps its pid file and control socket in ~/.uml by default.
            f"uml_dir={run_dir}",
            f"umid=uml-{os.getpid()}",
        ]
    return [
        "unshare",
        "--mount",
        "--net",
        "--pid",
        "--fork",
        "--propagation",
        "private",
        "/bin/sh",
        str(INIT),
        "host",
        str(run_dir),
    ]


def run(
    argv: list[str],
    *,
    kernel: str = "auto",
    mem: str = "768M",
    workdir: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float | None = None,
    run_dir: Path | None = None,
    out=None,
    verbose: bool = False,
) -> tuple[int, Path]:
    """Run argv in a kernel with IPVS; return (exit status of argv, run directory)."""
    out = out or sys.stdout
    kernel = choose_kernel(kernel)
    run_dir = run_dir or new_run_dir()
    run_dir.mkdir(parents=True, exist_ok=True)
    workdir = (workdir or Path.cwd()).resolve()
    (run_dir / "job.sh").write_text(_job_script(argv, workdir, guest_env(run_dir, env)))
    rc_file = run_dir / "rc"
    rc_file.unlink(missing_ok=True)
    cmd = _command(kernel, run_dir, mem)
    started = time.monotonic()
    proc = subprocess.Popen(
        cmd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        cwd=run_dir,
    )
    boot_log = []
    inside = False
    expired = threading.Event()

    def _expire():
        expired.set()
        os.killpg(proc.pid, signal.SIGKILL)

    timer = threading.Timer(timeout, _expire) if timeout else None
    if timer:
        timer.start()
    try:
        assert proc.stdout is not None
        for raw in proc.stdout:
            line = raw.decode("utf-8", "replace").replace("\r", "")
            if line.rstrip("\n") == BEGIN:
                inside = True
                (run_dir / "boot-seconds").write_text(f"{time.monotonic() - started:.2f}\n")
                continue
            if line.rstrip("\n") == END:
                inside = False
                continue
            if inside or verbose:
                out.write(line)
                out.flush()
            else:
                boot_log.append(line)
        proc.wait()
    finally:
        if timer:
            timer.cancel()
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    (run_dir / "boot.log").write_text("".join(boot_log))
    if expired.is_set():
        out.write(f"lvslab: timed out after {timeout:.0f}s; run directory {run_dir}\n")
        return 124, run_dir
    if not rc_file.exists():
        out.write("".join(boot_log[-30:]))
        raise LabError(f"the {kernel} kernel ended without an exit status; see {run_dir}/boot.log")
    return int(rc_file.read_text().strip() or 125), run_dir
