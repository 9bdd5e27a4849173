"""The XSAVE shim against the real host kernel, driven the way UML drives it.

xstate_regset.c traces a child whose ymm0 holds a pattern, reads its XSTATE
into a buffer shorter than the host's XSAVE area (576 bytes: the legacy area
and the header, shorter than any AVX host's), changes xmm0 inside it and
writes it back. The host kernel refuses that write (EFAULT), as it refuses
UML 6.1's on hosts with a larger XSAVE area than UML's buffer; through the
shim it succeeds, and the part of the state beyond the buffer survives.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import pytest

from lvslab import xstate

HERE = Path(__file__).resolve().parent
SHORT = "576"


@pytest.fixture(scope="module")
def regset(tmp_path_factory):
    binary = tmp_path_factory.mktemp("xstate") / "xstate_regset"
    subprocess.run(["gcc", "-O2", "-o", str(binary), str(HERE / "xstate_regset.c")], check=True)
    return binary


@pytest.fixture(scope="module")
def shim(tmp_path_factory):
    os.environ["LVS_LAB_BUILD"] = str(tmp_path_factory.mktemp("build"))
    try:
        return xstate.shim_path()
    finally:
        del os.environ["LVS_LAB_BUILD"]


def drive(binary: Path, length: str, shim: Path | None = None, **env) -> dict[str, str]:
    full_env = {**os.environ, **env}
    if shim:
        full_env["LD_PRELOAD"] = str(shim)
    out = subprocess.run([str(binary), length], capture_output=True, text=True, env=full_env, check=True)
    return dict(word.split("=", 1) for word in out.stdout.split())


def test_the_host_refuses_a_short_xstate_write(regset):
    assert drive(regset, SHORT) == {"get": "0", "set": "-1", "errno": "14", "low": "old", "high": "kept"}


def test_through_the_shim_the_write_lands_and_the_rest_survives(regset, shim):
    assert drive(regset, SHORT, shim) == {"get": "0", "set": "0", "errno": "0", "low": "new", "high": "kept"}


def test_the_shim_reports_what_it_found(regset, shim, tmp_path):
    drive(regset, SHORT, shim, LVSLAB_XSTATE_REPORT=str(tmp_path / xstate.REPORT))
    found = xstate.read_report(tmp_path)
    assert found["uml"] == SHORT
    assert int(found["host"]) > int(SHORT)
    assert found["action"] == "widen"


def test_a_buffer_as_large_as_the_host_passes_through(regset, shim, tmp_path):
    report = tmp_path / "report"
    result = drive(regset, "65536", shim, LVSLAB_XSTATE_REPORT=str(report))
    assert result == {"get": "0", "set": "0", "errno": "0", "low": "new", "high": "kept"}
    assert report.read_text().split()[-1] == "action=pass"


def test_fix_off_sends_the_short_buffer_as_it_is(regset, shim):
    result = drive(regset, SHORT, shim, LVSLAB_XSTATE_FIX="0")
    assert (result["set"], result["errno"]) == ("-1", "14")


def test_emulate_makes_a_full_buffer_act_short(regset, shim, tmp_path):
    report = tmp_path / "report"
    result = drive(
        regset, "65536", shim, LVSLAB_XSTATE_EMULATE=SHORT, LVSLAB_XSTATE_FIX="0", LVSLAB_XSTATE_REPORT=str(report)
    )
    assert (result["set"], result["errno"]) == ("-1", "14")
    assert report.read_text().split()[1:] == [f"uml={SHORT}", "action=short"]


def test_the_build_is_named_after_its_source(shim):
    digest = hashlib.sha256(xstate.SOURCE.read_bytes()).hexdigest()[:12]
    assert shim.name == f"uml-xstate-{digest}.so"
