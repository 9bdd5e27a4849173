"""Run a command against a Linux kernel that has IPVS.

The host's own kernel is used when it has IPVS; otherwise the command runs in
a User-Mode Linux guest (Debian's ``user-mode-linux`` package), which is a
Linux kernel running as an ordinary process. Both ways go through
``guest-init.sh``, so the command always sees the same thing: a private
network namespace, a private ``/run``, and an overlay of the real root that
absorbs every write except those to the run directory.
"""

from __future__ import annotations

import collections
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import NoReturn

from . import xstate

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


# Lines of a boot log that say why a guest stopped, each with what to do.
CAUSES = (
    (
        re.compile(r"ptrace.*(fp|fpx) regs failed"),
        "the host's XSAVE area does not fit this UML's FPU buffer; the lab's shim (tests/lab/lvslab/uml-xstate.c) "
        "should have widened it: see the troubleshooting part of docs/lab.md",
    ),
    (
        re.compile(r"ptrace.*failed|failed.*ptrace"),
        "UML could not trace its own processes (ptrace refused by the host)",
    ),
    (
        re.compile(r"Out of memory|invoked oom-killer|Killed process|deadlocked on memory|Failed to allocate"),
        "the guest ran out of memory: give it more with --mem, or free memory (and /dev/shm) on the host",
    ),
    (re.compile(r"^lvslab guest: "), "the lab's guest init stopped (the line says why)"),
    (re.compile(r"modprobe: |insmod: "), "a kernel module is missing or would not load"),
    (re.compile(r"Kernel panic|Attempted to kill init"), ""),
    (re.compile(r"Unable to mount|VFS: "), "the guest could not mount its root file system (hostfs)"),
)
BACKTRACE = re.compile(r"^\s*\[<[0-9a-f]+>\]")
PRINTK_LEVEL = re.compile(r"^<\d>")


def boot_failure(lines: list[str]) -> tuple[list[str], list[str]]:
    """(the lines of a boot log that name a cause, what to do about them), in log order."""
    found, hints = [], []
    for raw in lines:
        line = PRINTK_LEVEL.sub("", raw.rstrip("\n"))
        if BACKTRACE.match(line):
            continue
        for pattern, hint in CAUSES:
            if pattern.search(line):
                if line not in found:
                    found.append(line)
                if hint and hint not in hints:
                    hints.append(hint)
                break
    return found, hints


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
    boot_seconds = run_dir / "boot-seconds"
    boot_seconds.unlink(missing_ok=True)
    (run_dir / NOT_RUN).unlink(missing_ok=True)
    try:
        cmd = _command(kernel, run_dir, mem)
        proc_env = xstate.uml_env(run_dir) if kernel == "uml" else None
    except (LabError, xstate.ShimError) as exc:
        _not_run(run_dir, f"the lab did not run: {exc}")
    started = time.monotonic()
    proc = subprocess.Popen(
        cmd,
        env=proc_env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        cwd=run_dir,
    )
    boot_log = []
    # The last lines of the command's output: a kernel that panics while the
    # command runs prints the reason there, not in the boot log.
    tail: collections.deque[str] = collections.deque(maxlen=200)
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
                boot_seconds.write_text(f"{time.monotonic() - started:.2f}\n")
                continue
            if line.rstrip("\n") == END:
                inside = False
                continue
            if inside or verbose:
                out.write(line)
                out.flush()
            if inside:
                tail.append(line)
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
    began = boot_seconds.exists()
    if expired.is_set():
        if not began:
            _not_run(run_dir, not_run_message(kernel, run_dir, boot_log, started=False, timeout=timeout))
        out.write(f"lvslab: timed out after {timeout:.0f}s; run directory {run_dir}\n")
        return 124, run_dir
    # The guest's init writes an exit status of its own (125) when it cannot
    # set the lab up: that is a lab that did not run, not a failed command.
    if not rc_file.exists() or not began:
        _not_run(run_dir, not_run_message(kernel, run_dir, boot_log + list(tail), started=began))
    return int(rc_file.read_text().strip() or 125), run_dir


NOT_RUN = "not-run"  # in a run directory: the lab did not run the command, and why


def _not_run(run_dir: Path, message: str) -> NoReturn:
    """Raise LabError; leave the message in the run directory, for scripts that tell 'did not run' from 'failed'."""
    (run_dir / NOT_RUN).write_text(message + "\n")
    raise LabError(message)


def not_run_message(
    kernel: str, run_dir: Path, boot_log: list[str], *, started: bool, timeout: float | None = None
) -> str:
    """Why a lab run ended without the command's exit status, for a person to act on."""
    causes, hints = boot_failure(boot_log)
    if started:
        head = f"the {kernel} kernel stopped while the command ran, before it could pass its exit status out"
    elif timeout:
        head = f"the {kernel} kernel did not start the command within {timeout:.0f} s: the lab did not run"
    else:
        head = f"the {kernel} kernel stopped before the command started: the lab did not run"
    lines = [head]
    if causes:
        lines.append("the boot log says why:")
        lines += [f"    {line}" for line in causes[:12]]
    else:
        lines.append("no line of the boot log names a cause; its last lines:")
        lines += [f"    {line.rstrip()}" for line in boot_log[-10:] if line.strip()]
    lines += [f"  -> {hint}" for hint in hints]
    if kernel == "uml":
        lines.append(f"  (FPU buffer: {xstate.describe(xstate.read_report(run_dir))})")
    lines.append(f"whole log: {run_dir}/boot.log; check the machine with: lvslab doctor")
    return "\n".join(lines)
