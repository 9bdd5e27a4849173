import json
import subprocess

import pytest

import lvslab.__main__ as cli
from lvslab import checks, probe, report


@pytest.mark.parametrize(
    ("target", "default", "expected"),
    [
        ("http://[2001:db8::1]:8080/", 80, ("2001:db8::1", 8080)),
        ("http://203.0.113.1/", 80, ("203.0.113.1", 80)),
        ("udp://198.51.100.1:53", 53, ("198.51.100.1", 53)),
        ("udp://198.51.100.1", 53, ("198.51.100.1", 53)),
        ("192.0.2.7:8000", 80, ("192.0.2.7", 8000)),
    ],
)
def test_host_port(target, default, expected):
    assert probe._host_port(target, default) == expected


@pytest.fixture
def results(tmp_path, monkeypatch):
    path = tmp_path / "results.jsonl"
    monkeypatch.setenv("LVS_LAB_RESULTS", str(path))
    return path


def fake_probe(monkeypatch, servers, order, errors=None, returncode=0, stderr="", peers=None):
    calls = []

    def run(argv, **kwargs):
        calls.append(argv)
        out = {"target": argv[-2], "count": int(argv[-1]), "servers": servers, "order": order, "errors": errors or {}}
        out["peers"] = peers or {}
        return subprocess.CompletedProcess(argv, returncode, stdout=json.dumps(out), stderr=stderr)

    monkeypatch.setattr(checks.subprocess, "run", run)
    return calls


def probe_main(*extra):
    return cli.main(["probe", "client1", "http://x/", "--count", "4", "--expect", "rs1", "rs2", *extra])


def test_round_robin_pass(monkeypatch, results, capsys):
    calls = fake_probe(monkeypatch, {"rs1": 2, "rs2": 2}, ["rs1", "rs2", "rs1", "rs2"])
    assert probe_main("--round-robin") == 0
    assert calls[0][:2] == ["nsenter", "--net=/run/netns/client1"]
    assert calls[0][-3:] == ["lvslab.probe", "http://x/", "4"]
    (row,) = report.read(results)
    assert row == {"check": "client1 -> http://x/", "ok": True, "detail": "rs1=2 rs2=2 in turn"}
    assert json.loads(capsys.readouterr().out)["ok"] is True


def test_not_round_robin(monkeypatch, results):
    fake_probe(monkeypatch, {"rs1": 2, "rs2": 2}, ["rs1", "rs1", "rs2", "rs2"])
    assert probe_main("--round-robin", "--label", "rr") == 1
    (row,) = report.read(results)
    assert row["check"] == "rr"
    assert row["ok"] is False
    assert "not round robin: rs1,rs1,rs2,rs2" in row["detail"]


def test_same_order_passes_without_round_robin(monkeypatch, results):
    fake_probe(monkeypatch, {"rs1": 2, "rs2": 2}, ["rs1", "rs1", "rs2", "rs2"])
    assert probe_main() == 0
    assert report.read(results)[0]["detail"] == "rs1=2 rs2=2"


def test_missing_server(monkeypatch, results):
    fake_probe(monkeypatch, {"rs1": 4}, ["rs1"] * 4)
    assert probe_main("--round-robin") == 1
    (row,) = report.read(results)
    assert row["ok"] is False
    assert "missing=rs2" in row["detail"]
    assert "round robin" not in row["detail"]


def test_unexpected_server(monkeypatch, results):
    fake_probe(monkeypatch, {"rs1": 2, "rs2": 1, "rs3": 1}, ["rs1", "rs2", "rs3", "rs1"])
    assert probe_main() == 1
    assert "unexpected=rs3" in report.read(results)[0]["detail"]


def test_errors_fail(monkeypatch, results):
    fake_probe(monkeypatch, {"rs1": 2, "rs2": 1}, ["rs1", "rs2", "rs1", "!"], {"ConnectionRefusedError": 1})
    assert probe_main("--round-robin") == 1
    (row,) = report.read(results)
    assert row["ok"] is False
    assert "errors=ConnectionRefusedError:1" in row["detail"]


def test_no_answer(monkeypatch, results):
    fake_probe(monkeypatch, {}, ["!"] * 4, {"TimeoutError": 4})
    assert probe_main() == 1
    assert report.read(results)[0]["detail"].startswith("no answer errors=TimeoutError:4")


def test_probe_failure_is_lab_error(monkeypatch, results, capsys):
    fake_probe(monkeypatch, {}, [], returncode=1, stderr="nsenter: no such netns")
    assert probe_main() == 2
    assert "no such netns" in capsys.readouterr().err
    assert report.read(results) == []


def test_record_and_report_commands(tmp_path, capsys):
    path = tmp_path / "r.jsonl"
    assert cli.main(["record", "--label", "a", "--ok", "--results", str(path)]) == 0
    assert cli.main(["report", str(path)]) == 0
    assert cli.main(["record", "--label", "b", "--fail", "--detail", "d", "--results", str(path)]) == 0
    assert cli.main(["report", str(path), "--title", "T"]) == 1
    out = capsys.readouterr().out
    assert out.rstrip().endswith("1 passed, 1 failed")
    assert cli.main(["report", str(tmp_path / "none.jsonl")]) == 1


def test_round_robin_needs_the_servers_that_take_turns(monkeypatch, results, capsys):
    fake_probe(monkeypatch, {"rs1": 4}, ["rs1"] * 4)
    assert cli.main(["probe", "client1", "http://x/", "--round-robin"]) == 2
    assert "round robin needs the servers" in capsys.readouterr().err
    assert not results.exists()


def test_the_clients_the_servers_saw_must_be_the_expected_ones(monkeypatch, results):
    fake_probe(monkeypatch, {"rs1": 2, "rs2": 2}, ["rs1", "rs2"] * 2, peers={"192.0.2.1": 4})
    assert probe_main("--peer", "203.0.113.10") == 1
    assert report.read(results)[0]["detail"].endswith("servers saw 192.0.2.1")
    assert probe_main("--peer", "192.0.2.1") == 0
