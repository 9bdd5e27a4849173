import shlex
from pathlib import Path

import pytest

from lvslab import kernel


@pytest.mark.parametrize("value", ["", "AUTO", "qemu", None])
def test_choose_kernel_rejects_unknown(value):
    with pytest.raises(kernel.LabError, match="auto, host or uml"):
        kernel.choose_kernel(value)


@pytest.mark.parametrize("value", ["uml", "host"])
def test_choose_kernel_explicit(value, monkeypatch):
    monkeypatch.setattr(kernel, "host_has_ipvs", lambda: pytest.fail("must not probe the host"))
    assert kernel.choose_kernel(value) == value


@pytest.mark.parametrize(("has_ipvs", "chosen"), [(True, "host"), (False, "uml")])
def test_choose_kernel_auto(has_ipvs, chosen, monkeypatch):
    monkeypatch.setattr(kernel, "host_has_ipvs", lambda: has_ipvs)
    assert kernel.choose_kernel() == chosen


TRICKY = {
    "LVS_SPACES": "a b  c",
    "LVS_QUOTES": """it's "quoted" $HOME `x` \\n""",
    "LVS_EMPTY": "",
    "LVS_NEWLINE": "one\ntwo",
}


def test_job_script_quotes_exports():
    script = kernel._job_script(["true"], Path("/tmp"), TRICKY)
    # The newline value spans two lines, so split the whole export block as the shell would.
    block = script.split("set -e\n", 1)[1].split("\ncd ", 1)[0]
    words = shlex.split(block)
    assert words[::2] == ["export"] * len(TRICKY)
    pairs = [w.partition("=") for w in words[1::2]]
    assert [pair[0] for pair in pairs] == sorted(TRICKY)
    assert {pair[0]: pair[2] for pair in pairs} == TRICKY


def test_job_script_cds_and_execs(tmp_path):
    workdir = tmp_path / "work dir"
    script = kernel._job_script(["ansible-playbook", "site.yml", "-e", "x=a b"], workdir, {})
    lines = script.splitlines()
    assert lines[0] == "#!/bin/sh"
    assert shlex.split(lines[-3]) == ["cd", str(workdir)]
    assert lines[-2] == "set +e"
    assert shlex.split(lines[-1]) == ["exec", "ansible-playbook", "site.yml", "-e", "x=a b"]
    assert script.endswith("\n")


def test_guest_env_filters_and_sets_results(monkeypatch, tmp_path):
    for key in ("ANSIBLE_CONFIG", "LVS_LAB_THING", "CI", "SECRET_TOKEN", "XDG_RUNTIME_DIR", "MY_ANSIBLE_X"):
        monkeypatch.setenv(key, f"value of {key}")
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    monkeypatch.setenv("HOME", "/home/someone")
    run_dir = tmp_path / "run"
    env = kernel.guest_env(run_dir, {"LVS_EXTRA": "1"})
    assert env["ANSIBLE_CONFIG"] == "value of ANSIBLE_CONFIG"
    assert env["LVS_LAB_THING"] == "value of LVS_LAB_THING"
    assert env["CI"] == "value of CI"
    for dropped in ("SECRET_TOKEN", "XDG_RUNTIME_DIR", "MY_ANSIBLE_X"):
        assert dropped not in env
    assert env["LVS_LAB_RUN_DIR"] == str(run_dir)
    assert env["LVS_LAB_RESULTS"] == str(run_dir / "results.jsonl")
    assert env["PATH"].startswith("/usr/bin:/bin:")
    assert "/usr/sbin" in env["PATH"].split(":")
    assert env["HOME"] == "/home/someone"
    assert env["LVS_EXTRA"] == "1"


def test_guest_env_results_not_inherited(monkeypatch, tmp_path):
    monkeypatch.setenv("LVS_LAB_RESULTS", "/elsewhere/results.jsonl")
    assert kernel.guest_env(tmp_path)["LVS_LAB_RESULTS"] == str(tmp_path / "results.jsonl")


def test_default_runs_root(monkeypatch, tmp_path):
    monkeypatch.setenv("LVS_LAB_RUNS", str(tmp_path))
    assert kernel.default_runs_root() == tmp_path
    monkeypatch.delenv("LVS_LAB_RUNS")
    root = kernel.default_runs_root()
    assert root.parts[-2:] == (".lab", "runs")
    assert (root.parent.parent / "galaxy.yml").exists()
