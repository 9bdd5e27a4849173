"""Tests that run inside a kernel with IPVS, as root: `lvslab run -- pytest tests/lab/tests/guest`."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

LAB = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(LAB))

from lvslab import topology  # noqa: E402

STATE = Path("/run/lvslab")


def pytest_collection_modifyitems(config, items):
    if not Path("/proc/net/ip_vs").exists():
        subprocess.run(["modprobe", "ip_vs"], check=False)
    if os.geteuid() != 0 or not Path("/proc/net/ip_vs").exists():
        raise pytest.UsageError("these tests need root and a kernel with IPVS: run them through `lvslab run`")


@pytest.fixture(scope="session")
def nat_lab():
    topo = topology.load(LAB / "topologies" / "nat.yml")
    topology.down(STATE)
    topology.up(topo, STATE)
    yield topo
    topology.down(STATE)


def sh(host: str, script: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run a shell script inside a lab host."""
    return subprocess.run(
        [*topology.enter(STATE, host), "/bin/sh", "-c", script], capture_output=True, text=True, check=check
    )
