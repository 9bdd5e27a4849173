import json
import signal
import socket
import threading
import time

import pytest

from lvslab import loadgen, serve
from lvslab.loadgen import Conn, Marker, Request


def reqs(pattern: str, rate: float = 10.0, server: str = "rs1") -> list[Request]:
    """Requests on a fixed clock from a pattern: '.' ok, 'x' failed (timeout)."""
    out = []
    for seq, c in enumerate(pattern):
        r = Request(seq=seq, due=seq / rate, start=seq / rate, end=seq / rate + 0.01)
        if c == ".":
            r.server = server
        else:
            r.kind, r.error = "timeout", "TimeoutError: timed out"
        out.append(r)
    return out


def test_no_failures_no_interruption():
    assert loadgen.interruptions(reqs("....."), end=0.5) == []
    assert loadgen.summarize_requests(reqs("....."), 0.5, "http://x/", 10, 1, 4)["longest_interruption"] == 0.0


def test_interruption_runs_from_the_last_good_start_to_the_next_good_start():
    # ok at 0.0 0.1 0.2, failed 0.3 0.4 0.5, ok 0.6: from 0.2 to 0.6.
    (run,) = loadgen.interruptions(reqs("...xxx."), end=1.0)
    assert run == {"from": 0.2, "to": 0.6, "failed": 3, "ongoing": False, "seconds": 0.4}


def test_a_single_failure_between_good_requests_is_two_periods():
    (run,) = loadgen.interruptions(reqs("..x.."), end=1.0)
    assert run["seconds"] == 0.2


def test_failures_from_the_first_request_count_from_its_start():
    (run,) = loadgen.interruptions(reqs("xx..."), end=1.0)
    assert (run["from"], run["to"], run["failed"]) == (0.0, 0.2, 2)


def test_failures_to_the_end_last_until_the_stop():
    (run,) = loadgen.interruptions(reqs("..xx"), end=0.45)
    assert run == {"from": 0.1, "to": 0.45, "failed": 2, "ongoing": True, "seconds": 0.35}


def test_all_failed():
    (run,) = loadgen.interruptions(reqs("xxx"), end=0.3)
    assert (run["from"], run["to"], run["ongoing"]) == (0.0, 0.3, True)


def test_scheduled_order_not_completion_order():
    # Requests complete out of order (slow ones time out late): the runs follow seq.
    rs = reqs(".x.xx.")
    runs = loadgen.interruptions(list(reversed(rs)), end=1.0)
    assert [(r["from"], r["to"], r["failed"]) for r in runs] == [(0.0, 0.2, 1), (0.2, 0.5, 2)]


def test_summary_of_requests():
    rs = reqs("..xx.....x..", server="rs1")
    for r in rs[5:]:
        r.server = "rs2" if r.ok else None
    rs[3].kind, rs[3].error = "refused", "ConnectionRefusedError: refused"
    rs[-1].start += 0.05  # started late
    s = loadgen.summarize_requests(rs, end=1.2, url="http://x/", rate=10, timeout=1.0, workers=12)
    assert (s["total"], s["ok"], s["failed"]) == (12, 9, 3)
    assert s["failures_by_kind"] == {"timeout": 2, "refused": 1}
    assert s["servers"] == {"rs1": 3, "rs2": 6}
    assert [f["seq"] for f in s["failures"]] == [2, 3, 9]
    assert s["failures"][1] == {
        "t": 0.3,
        "seq": 3,
        "kind": "refused",
        "error": "ConnectionRefusedError: refused",
        "local": None,
    }
    assert s["longest_interruption"] == 0.3
    assert s["longest_interruption_at"]["from"] == 0.1
    assert len(s["interruptions"]) == 2
    assert (s["first"], s["last"], s["lag_max"]) == (0.0, 1.15, 0.05)


def test_failure_list_is_capped(monkeypatch):
    monkeypatch.setattr(loadgen, "FAILURES_KEPT", 5)
    s = loadgen.summarize_requests(reqs("." + "x" * 12 + "."), end=2, url="u", rate=10, timeout=1, workers=4)
    assert s["failed"] == 12
    assert len(s["failures"]) == 5
    assert s["failures_omitted"] == 7
    assert s["failures_by_kind"] == {"timeout": 12}


def test_summary_of_connections():
    conns = [
        Conn(0, opened=0.01, server="rs1", sent=50, answered=50, last_answer=4.9),
        Conn(1, opened=0.01, server="rs2", sent=21, answered=20, last_answer=2.0),
        Conn(2, opened=0.01, server="rs2", sent=50, answered=50, last_answer=4.9),
        Conn(3),
    ]
    conns[1].broken = {"t": 3.0, "kind": "timeout", "error": "TimeoutError: no reply"}
    conns[3].broken = {"t": 1.0, "kind": "refused", "error": "ConnectionRefusedError"}
    s = loadgen.summarize_conns(conns, "203.0.113.101:9000", 0.1, 1.0)
    assert (s["conns"], s["survived"], s["broken"]) == (4, 2, 2)
    assert s["broken_by_kind"] == {"timeout": 1, "refused": 1}
    assert s["servers"] == {"rs1": 1, "rs2": 2}
    assert s["survivors_by_server"] == {"rs1": 1, "rs2": 1}
    assert (s["sent"], s["answered"]) == (121, 120)
    assert s["connections"][1]["broken"]["kind"] == "timeout"


def test_whole_summary_first_last_and_markers():
    r = loadgen.summarize_requests(reqs("...."), end=0.4, url="u", rate=10, timeout=1, workers=4)
    c = loadgen.summarize_conns([Conn(0, opened=0.05)], "h:1", 0.1, 1.0)
    s = loadgen.summarize(
        clock_started=1000.0,
        ended=0.5,
        stopped_by="SIGTERM",
        requests=r,
        conns=c,
        markers=[Marker(0.45, "drain started")],
    )
    assert (s["started"], s["ended"], s["first"], s["last"]) == (1000.0, 0.5, 0.0, 0.45)
    assert s["markers"] == [{"t": 0.45, "label": "drain started"}]
    assert s["stopped_by"] == "SIGTERM"
    json.dumps(s)
    empty = loadgen.summarize(clock_started=1, ended=0, stopped_by="x", requests=None, conns=None, markers=[])
    assert empty["first"] is None


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (ConnectionRefusedError(111, "Connection refused"), "refused"),
        (ConnectionResetError(104, "Connection reset by peer"), "reset"),
        (BrokenPipeError(32, "Broken pipe"), "reset"),
        (TimeoutError("timed out"), "timeout"),
        (OSError(113, "No route to host"), "unreachable"),
        (OSError(101, "Network is unreachable"), "unreachable"),
        (loadgen.ClosedError("no reply"), "closed"),
        (loadgen.BadReplyError("status 503"), "bad-reply"),
        (loadgen.BadReplyError("not ours", "wrong-reply"), "wrong-reply"),
        (OSError(99, "Cannot assign requested address"), "other"),
        (ValueError("x"), "other"),
    ],
)
def test_classify(exc, kind):
    got, text = loadgen.classify(exc)
    assert got == kind
    assert type(exc).__name__ in text


def test_parse_http_reply():
    ok = b"HTTP/1.0 200 OK\r\nContent-Length: 4\r\n\r\nrs1\n"
    assert loadgen.parse_http_reply(ok) == "rs1"
    with pytest.raises(loadgen.ClosedError):
        loadgen.parse_http_reply(b"")
    with pytest.raises(loadgen.ClosedError):
        loadgen.parse_http_reply(b"HTTP/1.0 200 OK\r\nContent-Len")
    with pytest.raises(loadgen.ClosedError, match="cut short"):
        loadgen.parse_http_reply(b"HTTP/1.0 200 OK\r\nContent-Length: 10\r\n\r\nrs1\n")
    with pytest.raises(loadgen.BadReplyError, match="503"):
        loadgen.parse_http_reply(b"HTTP/1.0 503 Unavailable\r\n\r\nrs1\n")
    with pytest.raises(loadgen.BadReplyError, match="server name"):
        loadgen.parse_http_reply(b"HTTP/1.0 200 OK\r\n\r\n<html>it works</html>\n")


def test_host_port():
    assert loadgen.host_port("[2001:db8::1]:9000") == ("2001:db8::1", 9000)
    assert loadgen.host_port("203.0.113.101:9000") == ("203.0.113.101", 9000)
    assert loadgen.host_port("http://[2001:db8::1]/", 80) == ("2001:db8::1", 80)
    with pytest.raises(ValueError, match="HOST:PORT"):
        loadgen.host_port("203.0.113.101")


def test_marks_take_whole_lines_only(tmp_path):
    marks = tmp_path / "marks"
    gen = loadgen.LoadGen(loadgen_args(mark_file=marks, echo="h:1", conns=0))
    assert gen.take_marks() == 0
    marks.write_text("drain started\ndirector ki")
    assert gen.take_marks(1.5) == 1
    marks.write_text("drain started\ndirector killed\n\n")
    assert gen.take_marks(2.0) == 2
    assert [(m.t, m.label) for m in gen.markers] == [(1.5, "drain started"), (2.0, "director killed")]


def test_nothing_to_do(capsys):
    assert loadgen.main([]) == 2
    assert loadgen.main(["--echo", "nowhere"]) == 2
    assert "HOST:PORT" in capsys.readouterr().err


def loadgen_args(**kw):
    parser = loadgen.argparse.ArgumentParser()
    loadgen.add_arguments(parser)
    args = parser.parse_args([])
    for key, value in kw.items():
        setattr(args, key, value)
    return args


# The whole load generator against the lab's own servers on the loopback: no namespaces needed.


@pytest.fixture
def servers():
    http_handler = type("H", (serve._Handler,), {"name": "rs1"})
    echo_handler = type("E", (serve._EchoHandler,), {"name": "rs1"})
    made = [serve._DualStackHTTP(("::", 0), http_handler), serve._DualStackEcho(("::", 0), echo_handler)]
    for server in made:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    yield [server.server_address[1] for server in made]
    for server in made:
        server.shutdown()
        server.server_close()


def test_start_mark_stop(servers, tmp_path):
    http_port, echo_port = servers
    args = ["--http", f"http://127.0.0.1:{http_port}/", "--rate", "20", "--echo", f"[::1]:{echo_port}", "--conns", "3"]
    handle = loadgen.start([], args, workdir=tmp_path)
    prog = loadgen.wait_flowing(handle, timeout=20)
    assert prog["conns_live"] == 3
    loadgen.mark(handle, "halfway")
    time.sleep(1.0)
    summary = loadgen.stop(handle)
    assert handle.proc.returncode == 0
    assert summary["stopped_by"] == "stop-file"
    req = summary["requests"]
    assert req["total"] >= 20
    assert req["ok"] == req["total"]
    assert req["servers"] == {"rs1": req["total"]}
    assert req["longest_interruption"] == 0.0
    echo = summary["echo"]
    assert (echo["survived"], echo["broken"], echo["servers"]) == (3, 0, {"rs1": 3})
    assert all(c["answered"] == c["sent"] > 5 for c in echo["connections"])
    (marker,) = summary["markers"]
    assert marker["label"] == "halfway"
    assert req["first"] < marker["t"] < req["last"]
    assert json.loads(handle.progress.read_text())["running"] is False


def test_sigterm_and_failures(servers, tmp_path):
    """Nothing listens on the HTTP port: every request is refused, and SIGTERM still yields the summary."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    _dummy, echo_port = servers
    args = ["--http", f"http://127.0.0.1:{closed_port}/", "--echo", f"127.0.0.1:{echo_port}", "--conns", "2"]
    handle = loadgen.start([], args, workdir=tmp_path)
    deadline = time.monotonic() + 20
    while not ((p := loadgen.read_progress(handle)) and p["failed"] >= 10 and p["conns_live"] == 2):
        assert time.monotonic() < deadline, p
        time.sleep(0.1)
    handle.proc.send_signal(signal.SIGUSR1)
    handle.proc.send_signal(signal.SIGTERM)
    assert handle.proc.wait(10) == 0
    summary = json.loads(handle.out.read_text())
    assert summary["stopped_by"] == "SIGTERM"
    req = summary["requests"]
    assert req["ok"] == 0
    assert req["failures_by_kind"] == {"refused": req["total"]}
    assert req["longest_interruption_at"]["ongoing"] is True
    assert all(f["local"].startswith("127.0.0.1:") for f in req["failures"])
    assert req["longest_interruption"] == pytest.approx(summary["ended"] - req["first"], abs=0.01)
    assert [m["label"] for m in summary["markers"]] == ["SIGUSR1"]
    assert summary["echo"]["survived"] == 2
