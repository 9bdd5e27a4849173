"""Active-active scale-out proofs, on the deployment of the Molecule scenario scale_out.

`molecule converge -s scale_out` (in a kernel with IPVS: `lvslab run`) builds
tests/lab/topologies/scale_out.yml and deploys docs/examples/inventories/
scale_out.yml into it; its verify runs these tests on that deployment. Every
figure becomes a row of one table, printed at the end of the session.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

LAB = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(LAB))

from lvslab import labtest, report  # noqa: E402

STATE = Path("/run/lvslab")
ROOT = LAB.parents[1]
ROWS: list[dict] = []


def pytest_collection_modifyitems(config, items):
    if os.geteuid() != 0 or not Path("/proc/net/ip_vs").exists():
        raise pytest.UsageError("these tests need root and a kernel with IPVS: run them through `lvslab run`")
    if not (STATE / "inventory.yml").exists():
        raise pytest.UsageError("no lab is up: run them from `molecule verify -s scale_out`, after converge")


def pytest_terminal_summary(terminalreporter):
    if ROWS:
        table = report.table(ROWS, "What the active-active directors proved under load")
        terminalreporter.write("\n" + table)
        # For the test command's summary: the guest's run directory is the host's.
        run_dir = os.environ.get("LVS_LAB_RUN_DIR")
        if run_dir:
            Path(run_dir, "scale_out-table.txt").write_text(table)


@pytest.fixture
def proof():
    return labtest.Proof(ROWS)


def playbook(*args: str) -> subprocess.CompletedProcess:
    """ansible-playbook on the lab's inventory and the scenario's example inventory, output captured."""
    inventories = ["-i", str(STATE / "inventory.yml"), "-i", str(ROOT / "docs/examples/inventories/scale_out.yml")]
    return subprocess.run(
        ["ansible-playbook", *inventories, *args], capture_output=True, text=True, check=False, cwd=ROOT
    )
