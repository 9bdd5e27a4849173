"""The XSAVE shim for User-Mode Linux guests (see uml-xstate.c for why it exists).

The shim is compiled on first use, from its source in this directory, into
the lab's build directory, under a name that carries a hash of the source so
an edited shim is never confused with an old build. It is preloaded into
every UML guest; where the host needs no help it passes every call through.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

SOURCE = Path(__file__).resolve().parent / "uml-xstate.c"
REPORT = "xstate"  # the file in a run directory where the shim says what it found


class ShimError(RuntimeError):
    pass


def build_dir() -> Path:
    env = os.environ.get("LVS_LAB_BUILD")
    if env:
        return Path(env)
    return SOURCE.parents[3] / ".lab" / "build"


def shim_path() -> Path:
    """The compiled shim, built now if it is not there yet."""
    digest = hashlib.sha256(SOURCE.read_bytes()).hexdigest()[:12]
    target = build_dir() / f"uml-xstate-{digest}.so"
    if target.exists():
        return target
    compiler = shutil.which("cc") or shutil.which("gcc")
    if not compiler:
        raise ShimError(
            "no C compiler: the lab builds a small shim for linux.uml (tests/lab/lvslab/uml-xstate.c); "
            "install gcc and libc6-dev (scripts/setup.sh does)"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    # Built beside its final name and renamed, so that two lab runs starting
    # at once never load a half-written file.
    fd, tmp = tempfile.mkstemp(prefix=".uml-xstate-", suffix=".so", dir=target.parent)
    os.close(fd)
    try:
        out = subprocess.run(
            [compiler, "-O2", "-Wall", "-shared", "-fPIC", "-o", tmp, str(SOURCE), "-ldl"],
            capture_output=True,
            text=True,
            check=False,
        )
        if out.returncode:
            raise ShimError(f"cannot build the linux.uml shim from {SOURCE}:\n{out.stderr.strip()}")
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


def uml_env(run_dir: Path) -> dict[str, str]:
    """The environment of a linux.uml process: the shim preloaded, its report in the run directory."""
    env = dict(os.environ)
    preload = [str(shim_path())]
    if env.get("LD_PRELOAD"):
        preload.append(env["LD_PRELOAD"])
    env["LD_PRELOAD"] = " ".join(preload)
    env["LVSLAB_XSTATE_REPORT"] = str(run_dir / REPORT)
    return env


def read_report(run_dir: Path) -> dict[str, str]:
    """What the shim found in a run: host and UML sizes, and whether it widened the buffers."""
    path = run_dir / REPORT
    if not path.exists():
        return {}
    fields = {}
    for word in path.read_text().split():
        key, _sep, value = word.partition("=")
        fields[key] = value
    return fields


def describe(report: dict[str, str]) -> str:
    if not report:
        return "the shim saw no FPU state request"
    host, uml = report.get("host", "?"), report.get("uml", "?")
    if report.get("action") == "widen":
        return (
            f"host XSAVE area {host} bytes, larger than UML's FPU buffer of {uml} bytes: the shim widens each request"
        )
    if report.get("action") == "short":
        return f"host XSAVE area {host} bytes, UML's buffer {uml} bytes, sent short (LVSLAB_XSTATE_FIX=0)"
    return f"host XSAVE area {host} bytes, UML's FPU buffer {uml} bytes: no help needed, every request passes through"
