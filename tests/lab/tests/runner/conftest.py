import io
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from lvslab import kernel

RUNS = Path(__file__).resolve().parents[4] / ".lab" / "runs"


@pytest.fixture
def run_dir():
    """A new run directory, for a test that hands files to its job or reads them after."""
    return kernel.new_run_dir(RUNS)


@pytest.fixture
def run():
    """Run a shell script in a lab kernel: (exit status, output, run directory).

    Each call gets a new run directory unless one is given, so that calls can
    go side by side."""

    def _run(script: str, *, run_dir: Path | None = None, **kwargs):
        out = io.StringIO()
        rc, used = kernel.run(["/bin/sh", "-c", script], out=out, run_dir=run_dir or kernel.new_run_dir(RUNS), **kwargs)
        return rc, out.getvalue(), used

    return _run
