"""What the lab's proofs under load share (tests/lab/tests/ha, tests/lab/tests/scale_out).

A Proof records each check as a row of the table its suite prints at the
end (and for `lvslab report`), and asserts them together, so that one
failed check does not hide the figures of the others; run_in runs a command
in a lab host; wait_for times a condition; outcome says how a load
generator's traffic went (lvslab.loadgen's summary).
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from lvslab import report, topology


class Proof:
    """Checks recorded as rows of rows (the suite's table) first, and asserted together by verify()."""

    def __init__(self, rows: list[dict]) -> None:
        self.rows = rows
        self.failed: list[str] = []

    def check(self, name: str, ok: bool, detail: str) -> bool:
        row = {"check": name, "ok": bool(ok), "detail": detail}
        self.rows.append(row)
        report.record(name, row["ok"], detail)
        print(f"{'PASS' if ok else 'FAIL'}  {name}: {detail}")
        if not ok:
            self.failed.append(f"{name}: {detail}")
        return bool(ok)

    def verify(self) -> None:
        assert not self.failed, "failed checks:\n  " + "\n  ".join(self.failed)


def run_in(host: str, *argv: str, check: bool = True, state: Path = topology.DEFAULT_STATE) -> str:
    """A command's output, run inside a lab host."""
    proc = subprocess.run([*topology.enter(state, host), *argv], capture_output=True, text=True, check=False)
    if check and proc.returncode:
        raise AssertionError(f"{host}: {' '.join(argv)}: {proc.returncode}: {proc.stderr.strip()}")
    return proc.stdout


def wait_for(predicate, timeout: float, interval: float = 0.1) -> float | None:
    """Seconds until predicate() held, None if it did not within timeout."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if predicate():
            return time.monotonic() - start
        time.sleep(interval)
    return None


def outcome(summary: dict) -> str:
    """How the load went: requests failed, longest interruption, survivors, and the generator's own lag."""
    req, echo = summary["requests"], summary["echo"]
    text = f"interruption {req['longest_interruption'] * 1000:.0f} ms, {req['failed']}/{req['total']} requests failed"
    if req["failures_by_kind"]:
        text += " (" + ", ".join(f"{k} {v}" for k, v in sorted(req["failures_by_kind"].items())) + ")"
    text += f", {echo['survived']}/{echo['conns']} long-lived connections survived"
    if echo["broken_by_kind"]:
        text += " (broken: " + ", ".join(f"{k} {v}" for k, v in sorted(echo["broken_by_kind"].items())) + ")"
    return text + f"; load generator lag {req['lag_max'] * 1000:.0f} ms"
