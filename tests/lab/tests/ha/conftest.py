"""Director-group failover tests, inside a kernel with IPVS: `lvslab run -- pytest tests/lab/tests/ha`.

The lab is tests/lab/topologies/ha.yml (or the topology file named by
$LVSLAB_HA_TOPOLOGY, to measure a variant such as a preempt_delay), deployed
once by playbooks/site.yml.
Every figure a test measures becomes a row of one table, printed at the end
of the session (and recorded for `lvslab report` when the run has a results
file), whether its check passed or not.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

LAB = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(LAB))

from lvslab import labtest, report, topology  # noqa: E402

STATE = Path("/run/lvslab")
ROOT = LAB.parents[1]
SITE = ROOT / "playbooks" / "site.yml"

# The rows of the final table, in the order the checks were made.
ROWS: list[dict] = []


def pytest_collection_modifyitems(config, items):
    if not Path("/proc/net/ip_vs").exists():
        subprocess.run(["modprobe", "ip_vs"], check=False)
    if os.geteuid() != 0 or not Path("/proc/net/ip_vs").exists():
        raise pytest.UsageError("these tests need root and a kernel with IPVS: run them through `lvslab run`")


def pytest_terminal_summary(terminalreporter):
    if ROWS:
        terminalreporter.write("\n" + report.table(ROWS, "What the director pair proved under load"))


@pytest.fixture
def proof():
    return labtest.Proof(ROWS)


def playbook(*extra: str, book: Path = SITE) -> subprocess.CompletedProcess:
    """A playbook (playbooks/site.yml by default) on the lab's inventory, output captured."""
    return subprocess.run(
        ["ansible-playbook", "-i", str(STATE / "inventory.yml"), str(book), *extra],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )


@pytest.fixture(scope="session")
def ha_lab():
    """The ha topology, deployed by the site playbook (about two minutes in the guest, so once per session)."""
    topo = topology.load(Path(os.environ.get("LVSLAB_HA_TOPOLOGY", LAB / "topologies" / "ha.yml")))
    topology.down(STATE)
    topology.up(topo, STATE)
    run = playbook()
    if run.returncode:
        pytest.fail(f"site.yml failed ({run.returncode}):\n{run.stdout[-6000:]}\n{run.stderr[-2000:]}")
    yield topo
    topology.down(STATE)
