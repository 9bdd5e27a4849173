"""Tests that run inside a kernel with IPVS, as root: `lvslab run -- pytest tests/lab/tests/guest`."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

LAB = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(LAB))
# The collection as installed from its tarball, for tests that call its Python code directly.
COLLECTIONS = LAB.parents[1] / ".build" / "collections"
sys.path.insert(0, str(COLLECTIONS))
EXAMPLES = LAB.parents[1] / "docs" / "examples"
# ipvsadm-save text shared with the unit tests of the ipvsadm filters.
RULES = (LAB.parent / "data" / "ipvsadm-save.rules").read_text()

from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_client import IPVSClient  # noqa: E402
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


def nat_director(*ipvsadm: str) -> None:
    """Reset director1 to a NAT director for the lab's VIP: an empty table plus
    the given ipvsadm commands, forwarding on, and the real servers routing through it."""
    commands = [
        "set -e",
        "modprobe ip_vs",
        "sysctl -qw net.ipv4.ip_forward=1",
        "ip addr replace 203.0.113.100/32 dev eth0",
        "ipvsadm -C",
        *(f"ipvsadm {c}" for c in ipvsadm),
    ]
    sh("director1", "\n".join(commands))
    for rs in ("rs1", "rs2"):
        sh(rs, "ip route replace default via 192.0.2.1")


def playbook(path: Path, *extra: str) -> subprocess.CompletedProcess:
    """ansible-playbook on the lab's inventory, output captured, status left to the caller."""
    return subprocess.run(
        ["ansible-playbook", "-i", str(STATE / "inventory.yml"), str(path), *extra],
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def ipvs():
    """A netlink client on the guest's own (root namespace) table, flushed before and after."""
    subprocess.run(["modprobe", "ip_vs"], check=True)
    with IPVSClient(timeout=10) as client:
        client.flush()
        yield client
        client.flush()


def ipvsadm_save() -> list[str]:
    """The guest's own table as sorted `ipvsadm -Sn` lines."""
    return sorted(subprocess.run(["ipvsadm", "-Sn"], capture_output=True, text=True, check=True).stdout.splitlines())
