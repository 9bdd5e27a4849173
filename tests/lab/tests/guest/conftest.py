"""Tests that run inside a kernel with IPVS, as root: `lvslab run -- pytest tests/lab/tests/guest`."""

import contextlib
import importlib
import io
import json
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
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_plan import (  # noqa: E402
    plain_destination,
    plain_service,
)
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_validate import (  # noqa: E402
    normalize_destination,
    normalize_service,
)
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


def svc(**given):
    """A canonical service, what the netlink client takes, from the options a user would give."""
    return plain_service(normalize_service(given, ""))


def dest(service, **given):
    """A canonical destination of a canonical service."""
    return plain_destination(normalize_destination(given, service, ""))


def run_module(name: str, args: dict) -> dict:
    """A module's main(), in this process, as Ansible would run it: its JSON result."""
    from ansible.module_utils.testing import patch_module_args

    module = importlib.import_module(f"ansible_collections.lvs.ipvs.plugins.modules.{name}")
    out = io.StringIO()
    with patch_module_args(args), contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        module.main()
    return json.loads(out.getvalue().strip().splitlines()[-1])


def ipvs_state() -> str:
    """The IPVS state of this namespace as ipvsadm shows it: the table, the timeouts, the sync daemons."""
    return "\n".join(
        subprocess.run(["ipvsadm", *args], capture_output=True, text=True, check=True).stdout
        for args in (["-Sn"], ["-L", "--timeout"], ["-L", "--daemon"])
    )


@contextlib.contextmanager
def unloadable(module: str, keep=("ip_vs_rr", "ip_vs_wrr", "ip_vs_wlc")):
    """module listed in modules.dep but not loadable, as when its file is missing from disk: unloaded,
    and the kernel unable to load modules. The schedulers in keep are loaded first, while it still can."""
    modprobe = Path("/proc/sys/kernel/modprobe")
    subprocess.run(["modprobe", "-a", *keep], check=True)
    subprocess.run(["rmmod", module], check=False, capture_output=True)
    assert not Path(f"/sys/module/{module}").exists()
    saved = modprobe.read_text()
    modprobe.write_text("/bin/false\n")
    try:
        yield
    finally:
        modprobe.write_text(saved)
