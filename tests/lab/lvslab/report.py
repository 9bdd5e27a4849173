"""Results of lab checks: appended as JSON lines during a run, printed as a table after it."""

from __future__ import annotations

import json
import os
from pathlib import Path


def record(check: str, ok: bool, detail: str, path: str | None = None) -> None:
    path = path or os.environ.get("LVS_LAB_RESULTS")
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"check": check, "ok": ok, "detail": detail}) + "\n")


def read(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def table(rows: list[dict], title: str = "What the lab proved") -> str:
    if not rows:
        return f"{title}: nothing was recorded\n"
    width = max(len(r["check"]) for r in rows)
    lines = [title, f"  {'check':<{width}}  result  detail", f"  {'-' * width}  ------  ------"]
    for r in rows:
        lines.append(f"  {r['check']:<{width}}  {'PASS' if r['ok'] else 'FAIL':<6}  {r['detail']}")
    passed = sum(r["ok"] for r in rows)
    lines.append(f"{passed} passed, {len(rows) - passed} failed")
    return "\n".join(lines) + "\n"
