"""Guests on hosts whose XSAVE area is larger than UML's FPU buffer, and guests that cannot boot.

Debian 12's UML keeps a guest task's FPU state in a 2696-byte buffer; hosts
with AMX have an XSAVE area of about 11 KB and refuse UML's short writes, so
every guest panicked there. The lab's shim (tests/lab/lvslab/uml-xstate.c)
widens those requests. LVSLAB_XSTATE_EMULATE=N makes the shim treat UML's
buffer as N bytes, which puts this host in the same position as an AMX host:
the widening path runs here for real; adding LVSLAB_XSTATE_FIX=0 sends the
short buffers to the host as UML would, and reproduces the panic.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from lvslab import kernel, xstate

ROOT = Path(__file__).resolve().parents[4]
LVSLAB = str(ROOT / "tests" / "lab" / "bin" / "lvslab")
SHORT = "576"  # the legacy area and the header: shorter than any AVX host's XSAVE area


@pytest.fixture
def threads_program(run_dir):
    binary = run_dir / "xstate_threads"
    source = Path(__file__).with_name("xstate_threads.c")
    subprocess.run(["gcc", "-O2", "-pthread", "-o", str(binary), str(source)], check=True)
    return binary


@pytest.fixture
def cannot_boot(monkeypatch):
    """This host as an AMX host without the shim's help: every guest panics."""
    monkeypatch.setenv("LVSLAB_XSTATE_EMULATE", "832")
    monkeypatch.setenv("LVSLAB_XSTATE_FIX", "0")


def test_the_shim_says_whether_this_host_needs_it(run):
    rc, out, run_dir = run("true")
    assert rc == 0, out
    found = xstate.read_report(run_dir)
    host, uml = int(found["host"]), int(found["uml"])
    assert found["action"] == ("pass" if uml >= host else "widen")


def test_vector_registers_survive_task_switches(run, run_dir, threads_program):
    rc, out, _dummy = run(f"{threads_program} 4 300", run_dir=run_dir)
    assert rc == 0, out
    assert out.startswith("ok 4 threads"), out


def test_widened_guest_boots_and_keeps_each_tasks_registers(run, run_dir, threads_program, monkeypatch):
    monkeypatch.setenv("LVSLAB_XSTATE_EMULATE", SHORT)
    rc, out, _dummy = run(f"{threads_program} 4 300 && modprobe ip_vs && ansible --version", run_dir=run_dir)
    assert rc == 0, out
    assert "ok 4 threads" in out
    assert "ansible [core " in out
    assert xstate.read_report(run_dir)["action"] == "widen"


def test_a_guest_that_cannot_boot_says_why(run, cannot_boot):
    with pytest.raises(kernel.LabError) as caught:
        run("true")
    message = str(caught.value)
    assert message.startswith("the uml kernel stopped before the command started: the lab did not run")
    assert "    userspace - ptrace set fp regs failed, errno = 14" in message
    assert "XSAVE area" in message
    run_dirs = re.findall(r"whole log: (\S+)/boot.log", message)
    assert (Path(run_dirs[0]) / kernel.NOT_RUN).read_text().strip() == message


def test_lvslab_run_names_the_cause(cannot_boot):
    out = subprocess.run([LVSLAB, "run", "--", "true"], capture_output=True, text=True, check=False)
    assert out.returncode == 2
    assert "ptrace set fp regs failed, errno = 14" in out.stderr
    assert "Kernel panic" in out.stderr
    assert "[<" not in out.stderr, "a backtrace is not a cause"


def test_doctor_shows_what_the_guest_kernel_offers():
    out = subprocess.run([LVSLAB, "doctor"], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    lines = {line.split()[0]: line for line in out.stdout.splitlines() if line.startswith("    ")}
    assert "ok" in lines["IPVS"].split()
    assert "13 of 13: rr wrr lc wlc lblc lblcr dh sh sed nq fo ovf mh" in lines["schedulers"]
    assert "ipip ip6_tunnel fou ip_gre ip6_gre" in lines["tunnels"]
    assert lines["nf_tables"].split()[1] in ("ok", "absent")
    assert out.stdout.splitlines()[-1].startswith("verdict: the lab can run here")


def test_doctor_fails_loudly_where_no_guest_can_boot(cannot_boot):
    out = subprocess.run([LVSLAB, "doctor"], capture_output=True, text=True, check=False)
    assert out.returncode == 1
    assert "ptrace set fp regs failed, errno = 14" in out.stdout
    assert "verdict: the lab CANNOT run on this machine:" in out.stdout


def test_the_demo_cannot_look_like_a_pass_when_the_lab_did_not_run(cannot_boot):
    out = subprocess.run(
        [str(ROOT / "scripts" / "demo.sh")], capture_output=True, text=True, check=False, env=dict(os.environ)
    )
    assert out.returncode == 1
    last = out.stdout.strip().splitlines()[-4:]
    assert last[-1].startswith("==> demo FAILED: the lab did not run"), last
    assert any(line.startswith("THE LAB DID NOT RUN") for line in out.stdout.splitlines())
    assert not re.search(r"\d+ passed, 0 failed", out.stdout)
