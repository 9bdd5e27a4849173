import json

from lvslab import report


def test_record_appends_json_lines(tmp_path):
    path = tmp_path / "results.jsonl"
    report.record("first", True, "ok", str(path))
    report.record("second", False, "broke", str(path))
    lines = path.read_text().splitlines()
    assert [json.loads(line) for line in lines] == [
        {"check": "first", "ok": True, "detail": "ok"},
        {"check": "second", "ok": False, "detail": "broke"},
    ]
    assert report.read(path) == [json.loads(line) for line in lines]


def test_record_uses_env_var(tmp_path, monkeypatch):
    path = tmp_path / "env.jsonl"
    monkeypatch.setenv("LVS_LAB_RESULTS", str(path))
    report.record("from env", True, "")
    report.record("again", False, "x")
    assert [r["check"] for r in report.read(path)] == ["from env", "again"]


def test_record_without_path_or_env_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.delenv("LVS_LAB_RESULTS", raising=False)
    monkeypatch.chdir(tmp_path)
    report.record("nowhere", True, "")
    assert list(tmp_path.iterdir()) == []


def test_read_missing_file(tmp_path):
    assert report.read(tmp_path / "absent.jsonl") == []


def test_read_skips_blank_lines(tmp_path):
    path = tmp_path / "r.jsonl"
    path.write_text('{"check": "a", "ok": true, "detail": ""}\n\n  \n')
    assert report.read(path) == [{"check": "a", "ok": True, "detail": ""}]


def test_table():
    rows = [
        {"check": "short", "ok": True, "detail": "rs1=2 rs2=2"},
        {"check": "a longer check", "ok": False, "detail": "missing=rs2"},
        {"check": "third", "ok": True, "detail": ""},
    ]
    lines = report.table(rows, "Title").splitlines()
    assert lines[0] == "Title"
    assert lines[1].split() == ["check", "result", "detail"]
    assert lines[3] == "  short           PASS    rs1=2 rs2=2"
    assert lines[4] == "  a longer check  FAIL    missing=rs2"
    assert lines[5].split() == ["third", "PASS"]
    assert lines[-1] == "2 passed, 1 failed"


def test_table_empty():
    assert report.table([], "Proof") == "Proof: nothing was recorded\n"
