"""Traffic with exact accounting, from a lab host: proves failover, draining and reconfiguration under load.

Runs in the background inside a lab host until SIGTERM or SIGINT, a stop
file, or ``--duration``; then writes a JSON summary (``--out``, atomically;
stdout without it) and exits 0. Two workloads at once, either or both:

requests     ``--http URL``: ``--rate`` requests per second, each a new TCP
             connection and an HTTP/1.0 GET that must be answered in full
             within ``--timeout`` (connect included). Request i starts at
             i / rate seconds on a fixed clock, and there are enough worker
             threads (rate x timeout + 2) that a stalled request never delays
             the next: an outage shows as failed requests, never as missing
             ones. ok: status 200 and a one-word body, the server's name.
connections  ``--echo HOST:PORT`` (``lvslab.serve --proto echo``): ``--conns``
             long-lived TCP connections, each sending a numbered line every
             ``--interval`` and expecting ``<server> <line>`` back within
             ``--timeout``. A connection that breaks is not reopened: the
             summary counts the survivors.

Failure kinds: refused, reset, timeout, closed (the peer closed before a full
reply), unreachable (no route, host unreachable), bad-reply (HTTP: not 200, or
no server name), wrong-reply (echo: not our line, or another server than the
one the connection is attached to), other; each failure keeps its error text.

Every time in the summary and the progress file is in seconds since
``started`` (the Unix time the load generator started), on a monotonic clock.

The summary: ``started``, ``ended``, ``stopped_by`` (SIGTERM, SIGINT,
stop-file, duration), ``first``/``last`` (the earliest and latest time
recorded), ``markers`` [{t, label}], and per workload (null when not run):
``requests``: url, rate, timeout, workers, total, ok, failed,
failures_by_kind, failures [{t, seq, kind, error, local}] (the first 200;
``local`` is the client's ADDRESS:PORT, to find in ``ipvsadm -Lnc``),
failures_omitted, servers {name: ok requests}, longest_interruption (seconds),
longest_interruption_at and interruptions [{from, to, seconds, failed,
ongoing}], first, last (request starts), lag_max (the latest start against
the fixed clock); ``echo``: target, conns, interval, timeout, survived,
broken, broken_by_kind, servers and survivors_by_server {name: connections},
sent, answered, connections [{id, opened, local, server, sent, answered,
last_answer, rtt_max, broken: null or {t, kind, error}}].

The longest interruption of the requests: take the requests in the order
they were scheduled; a failure run is a maximal run of consecutive failed
requests. Its interruption lasts from the start of the last good request
before it to the start of the first good request after it. A run with no good
request before it counts from the start of its own first request; one with no
good request after it lasts until the load generator stopped (``ongoing``).
The longest interruption is the longest of these, 0 when nothing failed.

Markers, to put "drain started" or "director killed" on the timeline: every
line appended to ``--mark-file`` becomes a marker, seen within 100 ms. SIGUSR1
takes the new lines at once (the marker gets the signal's time), or adds a
marker labelled ``SIGUSR1`` when there are none.

``--progress FILE`` is rewritten (atomically) every second: requests, ok,
failed, connections live and broken, so a test can wait for traffic to flow
before it acts. ``--stop-file FILE``: stop once FILE exists (polled every
100 ms); use a fresh path, as a file already there stops it at once.

Stopping through ``lvslab exec``: that command runs the program as a child and
does not pass signals on, so signal the whole process group (SIGTERM: the
wrapper dies, the load generator writes its summary; SIGINT makes the wrapper
kill it) or, simplest, use the stop file. ``start``/``stop`` below do that for
a Python test::

    handle = loadgen.start(loadgen.netns("client1"),
                           ["--http", "http://203.0.113.101/", "--echo", "203.0.113.101:9000"])
    loadgen.wait_flowing(handle)
    ...  # loadgen.mark(handle, "director killed"), then the action
    summary = loadgen.stop(handle)

The load generator's files must be where the lab host sees them: /tmp is
shared with the lab's hosts, /run is private to each.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import errno
import json
import math
import os
import queue
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit

FAILURES_KEPT = 200
INTERRUPTIONS_KEPT = 50
POLL = 0.1


class ClosedError(Exception):
    """The peer closed the connection before a full reply."""


class BadReplyError(Exception):
    """A reply that is not the one expected: kind names which workload's."""

    def __init__(self, text: str, kind: str = "bad-reply"):
        super().__init__(text)
        self.kind = kind


def classify(exc: BaseException) -> tuple[str, str]:
    """The failure kind of an exception, and its text."""
    text = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, BadReplyError):
        return exc.kind, text
    if isinstance(exc, ClosedError):
        return "closed", text
    if isinstance(exc, ConnectionRefusedError):
        return "refused", text
    if isinstance(exc, ConnectionResetError | ConnectionAbortedError | BrokenPipeError):
        return "reset", text
    if isinstance(exc, TimeoutError):
        return "timeout", text
    if isinstance(exc, OSError) and exc.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH):
        return "unreachable", text
    return "other", text


def host_port(target: str, default_port: int | None = None) -> tuple[str, int]:
    """(host, port) of HOST:PORT or a URL; IPv6 addresses in brackets."""
    parts = urlsplit(target if "//" in target else f"//{target}")
    port = parts.port or default_port
    if not parts.hostname or port is None:
        raise ValueError(f"{target!r}: expected HOST:PORT ([ADDRESS]:PORT for IPv6)")
    return parts.hostname, port


class Clock:
    """Seconds since the start, on the monotonic clock; ``started`` is the Unix time of that start."""

    def __init__(self) -> None:
        self.started = time.time()
        self._t0 = time.monotonic()

    def now(self) -> float:
        return time.monotonic() - self._t0


@dataclass
class Request:
    seq: int
    due: float
    start: float = 0.0
    end: float = 0.0
    server: str | None = None
    kind: str | None = None
    error: str = ""
    local: str | None = None

    @property
    def ok(self) -> bool:
        return self.kind is None


@dataclass
class Conn:
    id: int
    opened: float | None = None
    local: str | None = None
    server: str | None = None
    sent: int = 0
    answered: int = 0
    last_answer: float | None = None
    rtt_max: float = 0.0
    broken: dict | None = None


@dataclass
class Marker:
    t: float
    label: str


def parse_http_reply(data: bytes) -> str:
    """The server's name from a whole HTTP reply; raise ClosedError or BadReplyError."""
    if not data:
        raise ClosedError("no reply")
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        raise ClosedError(f"reply cut short after {len(data)} bytes")
    lines = head.decode("latin-1").split("\r\n")
    status = lines[0].split()
    if len(status) < 2 or status[1] != "200":
        raise BadReplyError(f"status line {lines[0]!r}")
    for line in lines[1:]:
        key, _sep, value = line.partition(":")
        if key.strip().lower() == "content-length" and len(body) < int(value):
            raise ClosedError(f"body cut short: {len(body)} of {int(value)} bytes")
    name = body.decode(errors="replace").strip()
    if not name or len(name.split()) != 1:
        raise BadReplyError(f"body {name!r} is not a server name")
    return name


def address(sockaddr: tuple) -> str:
    """ADDRESS:PORT, IPv6 in brackets."""
    host, port = sockaddr[0], sockaddr[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def http_get(host: str, port: int, path: str, host_header: str, timeout: float, notes: dict | None = None) -> str:
    """One GET on a new connection, answered in full within timeout: the server's name.

    notes["local"] gets the client's address and port as soon as the connection
    is tried, also when it fails: it finds the connection in ipvsadm -Lnc."""
    deadline = time.monotonic() + timeout
    family, kind, proto, _dummy, sockaddr = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    with socket.socket(family, kind, proto) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect(sockaddr)
        finally:
            if notes is not None:
                with contextlib.suppress(OSError):
                    notes["local"] = address(sock.getsockname())
        sock.sendall(f"GET {path} HTTP/1.0\r\nHost: {host_header}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("no full reply within the timeout")
            sock.settimeout(remaining)
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    return parse_http_reply(data)


def _readline(sock: socket.socket, buf: bytes, deadline: float) -> tuple[str, bytes]:
    while b"\n" not in buf:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("no reply within the timeout")
        sock.settimeout(remaining)
        chunk = sock.recv(4096)
        if not chunk:
            raise ClosedError("closed by the peer")
        buf += chunk
    line, _sep, rest = buf.partition(b"\n")
    return line.decode(errors="replace"), rest


def interruptions(requests: list[Request], end: float) -> list[dict]:
    """The failure runs of requests (in scheduled order), as defined in the module's docstring."""
    runs = []
    last_ok: float | None = None
    run: dict | None = None
    for req in sorted(requests, key=lambda r: r.seq):
        if req.ok:
            if run is not None:
                run["to"] = req.start
                runs.append(run)
                run = None
            last_ok = req.start
        elif run is None:
            run = {"from": req.start if last_ok is None else last_ok, "to": None, "failed": 1, "ongoing": False}
        else:
            run["failed"] += 1
    if run is not None:
        run["to"] = max(end, run["from"])
        run["ongoing"] = True
        runs.append(run)
    for run in runs:
        run["seconds"] = round(run["to"] - run["from"], 3)
        run["from"], run["to"] = round(run["from"], 3), round(run["to"], 3)
    return runs


def summarize_requests(requests: list[Request], end: float, url: str, rate: float, timeout: float, workers: int):
    """The request workload's part of the summary."""
    requests = sorted(requests, key=lambda r: r.seq)
    failed = [r for r in requests if not r.ok]
    runs = interruptions(requests, end)
    longest = max(runs, key=lambda run: run["seconds"], default=None)
    return {
        "url": url,
        "rate": rate,
        "timeout": timeout,
        "workers": workers,
        "total": len(requests),
        "ok": len(requests) - len(failed),
        "failed": len(failed),
        "failures_by_kind": dict(collections.Counter(r.kind for r in failed)),
        "failures": [
            {"t": round(r.start, 3), "seq": r.seq, "kind": r.kind, "error": r.error, "local": r.local}
            for r in failed[:FAILURES_KEPT]
        ],
        "failures_omitted": max(0, len(failed) - FAILURES_KEPT),
        "servers": dict(sorted(collections.Counter(r.server for r in requests if r.ok).items())),
        "longest_interruption": longest["seconds"] if longest else 0.0,
        "longest_interruption_at": longest,
        "interruptions": runs[:INTERRUPTIONS_KEPT],
        "interruptions_omitted": max(0, len(runs) - INTERRUPTIONS_KEPT),
        "first": round(requests[0].start, 3) if requests else None,
        "last": round(requests[-1].start, 3) if requests else None,
        # How late the latest request started against its fixed-clock time:
        # large values mean the generator itself could not keep the rate.
        "lag_max": round(max((r.start - r.due for r in requests), default=0.0), 3),
    }


def summarize_conns(conns: list[Conn], target: str, interval: float, timeout: float) -> dict:
    """The long-lived connections' part of the summary."""
    broken = [c for c in conns if c.broken]
    alive = [c for c in conns if not c.broken]
    rows = []
    for c in conns:
        row = asdict(c)
        for key in ("opened", "last_answer", "rtt_max"):
            if row[key] is not None:
                row[key] = round(row[key], 3)
        rows.append(row)
    return {
        "target": target,
        "conns": len(conns),
        "interval": interval,
        "timeout": timeout,
        "survived": len(alive),
        "broken": len(broken),
        "broken_by_kind": dict(collections.Counter(c.broken["kind"] for c in broken)),
        "servers": dict(sorted(collections.Counter(c.server for c in conns if c.server).items())),
        "survivors_by_server": dict(sorted(collections.Counter(c.server for c in alive if c.server).items())),
        "sent": sum(c.sent for c in conns),
        "answered": sum(c.answered for c in conns),
        "connections": rows,
    }


def summarize(
    *,
    clock_started: float,
    ended: float,
    stopped_by: str,
    requests: dict | None,
    conns: dict | None,
    markers: list[Marker],
) -> dict:
    """The whole summary; requests and conns are the parts made by summarize_requests and summarize_conns."""
    times = [m.t for m in markers]
    if requests and requests["total"]:
        times += [requests["first"], requests["last"]]
    if conns:
        times += [c["opened"] for c in conns["connections"] if c["opened"] is not None]
    return {
        "version": 1,
        "started": round(clock_started, 3),
        "ended": round(ended, 3),
        "stopped_by": stopped_by,
        "first": round(min(times), 3) if times else None,
        "last": round(max(times), 3) if times else None,
        "markers": [asdict(m) for m in markers],
        "requests": requests,
        "echo": conns,
    }


def write_json(path: Path, data: dict) -> None:
    """Write atomically: a reader sees the old file or the new one, never half of one."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=1) + "\n")
    os.replace(tmp, path)


class LoadGen:
    """The running workloads; threads record into it, the main thread watches for the end."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.clock = Clock()
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.requests: list[Request] = []
        self.conns = [Conn(i) for i in range(args.conns)] if args.echo else []
        self.markers: list[Marker] = []
        self.mark_lines = 0
        self.stopped_by = ""
        self.threads: list[threading.Thread] = []
        self.workers = args.workers or max(4, math.ceil(args.rate * args.timeout) + 2)
        self.jobs: queue.SimpleQueue = queue.SimpleQueue()

    # The request stream.

    def _schedule(self) -> None:
        seq = 0
        while True:
            due = seq / self.args.rate
            delay = due - self.clock.now()
            if (delay > 0 and self.stop.wait(delay)) or self.stop.is_set():
                break
            self.jobs.put((seq, due))
            seq += 1
        for _dummy in range(self.workers):
            self.jobs.put(None)

    def _work(self) -> None:
        url = urlsplit(self.args.http)
        host, port = host_port(self.args.http, 80)
        path = (url.path or "/") + (f"?{url.query}" if url.query else "")
        while (job := self.jobs.get()) is not None:
            req = Request(seq=job[0], due=job[1], start=self.clock.now())
            notes: dict = {}
            try:
                req.server = http_get(host, port, path, url.netloc, self.args.timeout, notes)
            # Every outcome must be counted, whatever went wrong.
            except Exception as exc:
                req.kind, req.error = classify(exc)
                req.local = notes.get("local")
            req.end = self.clock.now()
            with self.lock:
                self.requests.append(req)

    # The long-lived connections.

    def _echo(self, conn: Conn) -> None:
        host, port = host_port(self.args.echo)
        try:
            sock = socket.create_connection((host, port), timeout=self.args.timeout)
        except Exception as exc:
            kind, text = classify(exc)
            conn.broken = {"t": round(self.clock.now(), 3), "kind": kind, "error": text}
            return
        with sock:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn.local = address(sock.getsockname())
            conn.opened = next_send = self.clock.now()
            buf = b""
            while not self.stop.is_set():
                line = f"{conn.id} {conn.sent + 1}"
                try:
                    sock.settimeout(self.args.timeout)
                    sock.sendall(line.encode() + b"\n")
                    conn.sent += 1
                    sent_at = time.monotonic()
                    reply, buf = _readline(sock, buf, sent_at + self.args.timeout)
                    name, _sep, echoed = reply.partition(" ")
                    if echoed != line:
                        raise BadReplyError(f"sent {line!r}, got {reply!r}", "wrong-reply")
                    if conn.server not in (None, name):
                        raise BadReplyError(f"answered by {name}, attached to {conn.server}", "wrong-reply")
                except Exception as exc:
                    kind, text = classify(exc)
                    conn.broken = {"t": round(self.clock.now(), 3), "kind": kind, "error": text}
                    return
                conn.server = name
                conn.answered += 1
                conn.last_answer = self.clock.now()
                conn.rtt_max = max(conn.rtt_max, time.monotonic() - sent_at)
                # Keep the pace, but never send a burst to catch up after a slow reply.
                next_send = max(next_send + self.args.interval, self.clock.now())
                self.stop.wait(next_send - self.clock.now())

    # Markers, progress, the end.

    def take_marks(self, when: float | None = None) -> int:
        """Turn the mark file's new whole lines into markers; how many."""
        path = self.args.mark_file
        if not path:
            return 0
        try:
            text = path.read_text(errors="replace")
        except FileNotFoundError:
            return 0
        # A line still being written (no newline yet) waits for the next look.
        lines = text[: text.rfind("\n") + 1].splitlines()
        new = [line.strip() for line in lines[self.mark_lines :]]
        self.mark_lines = len(lines)
        t = self.clock.now() if when is None else when
        with self.lock:
            self.markers += [Marker(round(t, 3), label) for label in new if label]
        return len(new)

    def _on_usr1(self, _signum, _frame) -> None:
        t = self.clock.now()
        if not self.take_marks(t):
            with self.lock:
                self.markers.append(Marker(round(t, 3), "SIGUSR1"))

    def _on_stop(self, signum, _frame) -> None:
        self.stopped_by = self.stopped_by or signal.Signals(signum).name
        self.stop.set()

    def progress(self) -> dict:
        with self.lock:
            ok = sum(1 for r in self.requests if r.ok)
            total = len(self.requests)
            markers = len(self.markers)
        return {
            "t": round(self.clock.now(), 3),
            "running": not self.stop.is_set(),
            "http": bool(self.args.http),
            "requests": total,
            "ok": ok,
            "failed": total - ok,
            "conns": len(self.conns),
            "conns_live": sum(1 for c in self.conns if c.opened is not None and not c.broken),
            "conns_broken": sum(1 for c in self.conns if c.broken),
            "markers": markers,
        }

    def run(self) -> dict:
        args = self.args
        signal.signal(signal.SIGTERM, self._on_stop)
        signal.signal(signal.SIGINT, self._on_stop)
        signal.signal(signal.SIGUSR1, self._on_usr1)
        if args.http:
            self.threads.append(threading.Thread(target=self._schedule, name="schedule"))
            self.threads += [threading.Thread(target=self._work, name=f"work{i}") for i in range(self.workers)]
        self.threads += [threading.Thread(target=self._echo, args=(c,), name=f"echo{c.id}") for c in self.conns]
        for thread in self.threads:
            thread.daemon = True
            thread.start()
        next_progress = 0.0
        while not self.stop.is_set():
            now = self.clock.now()
            if args.stop_file and args.stop_file.exists():
                self.stopped_by = "stop-file"
            elif args.duration and now >= args.duration:
                self.stopped_by = "duration"
            if self.stopped_by:
                break
            self.take_marks()
            if args.progress and now >= next_progress:
                write_json(args.progress, self.progress())
                next_progress += 1.0
            self.stop.wait(POLL)
        ended = self.clock.now()
        self.stop.set()
        self.take_marks()
        # In-flight requests and replies end within the timeout; allow that and a margin.
        deadline = time.monotonic() + args.timeout + 5
        for thread in self.threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        with self.lock:
            requests, markers = list(self.requests), list(self.markers)
        summary = summarize(
            clock_started=self.clock.started,
            ended=ended,
            stopped_by=self.stopped_by,
            requests=summarize_requests(requests, ended, args.http, args.rate, args.timeout, self.workers)
            if args.http
            else None,
            conns=summarize_conns(self.conns, args.echo, args.interval, args.timeout) if args.echo else None,
            markers=sorted(markers, key=lambda m: m.t),
        )
        if args.progress:
            write_json(args.progress, self.progress())
        return summary


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--http", metavar="URL", help="request stream: http://ADDR[:PORT]/PATH")
    parser.add_argument("--rate", type=float, default=50.0, help="requests per second (default 50)")
    parser.add_argument("--workers", type=int, default=0, help="request threads (default: rate x timeout + 2)")
    parser.add_argument("--echo", metavar="HOST:PORT", help="long-lived connections to an echo server")
    parser.add_argument("--conns", type=int, default=10, help="long-lived connections (default 10)")
    parser.add_argument("--interval", type=float, default=0.1, help="seconds between a connection's lines")
    parser.add_argument("--timeout", type=float, default=1.0, help="seconds for a request or an echo (default 1)")
    parser.add_argument("--duration", type=float, default=0.0, help="stop after this many seconds (default: never)")
    parser.add_argument("--out", type=Path, help="summary JSON file (default: stdout)")
    parser.add_argument("--progress", type=Path, help="JSON file rewritten every second")
    parser.add_argument("--stop-file", type=Path, help="stop once this file exists")
    parser.add_argument("--mark-file", type=Path, help="each line appended becomes a marker; SIGUSR1 takes it at once")


def run(args: argparse.Namespace) -> int:
    if not args.http and not args.echo:
        print("loadgen: nothing to do: give --http URL, --echo HOST:PORT or both", file=sys.stderr)
        return 2
    try:
        if args.http:
            host_port(args.http, 80)
        if args.echo:
            host_port(args.echo)
    except ValueError as exc:
        print(f"loadgen: {exc}", file=sys.stderr)
        return 2
    if args.rate <= 0 or args.timeout <= 0 or args.interval <= 0 or args.conns < 0:
        print("loadgen: --rate, --timeout and --interval must be positive, --conns not negative", file=sys.stderr)
        return 2
    summary = LoadGen(args).run()
    if args.out:
        write_json(args.out, summary)
    else:
        json.dump(summary, sys.stdout, indent=1)
        print()
    return 0


# For Python tests: start in a lab host, wait for traffic, mark, stop.


@dataclass
class Handle:
    """A load generator started by start(): its process and the directory of its files."""

    workdir: Path
    proc: subprocess.Popen | None = None

    @property
    def out(self) -> Path:
        return self.workdir / "summary.json"

    @property
    def progress(self) -> Path:
        return self.workdir / "progress.json"

    @property
    def stop_file(self) -> Path:
        return self.workdir / "stop"

    @property
    def mark_file(self) -> Path:
        return self.workdir / "marks"

    @property
    def log(self) -> Path:
        return self.workdir / "loadgen.log"


def netns(host: str) -> list[str]:
    """The prefix that runs a program in a lab host's network namespace (as the probes do).

    nsenter replaces itself with the program, so the process started is the
    load generator itself and signals reach it."""
    return ["nsenter", f"--net=/run/netns/{host}", "--"]


def start(host_exec_prefix: list[str], args: list[str], workdir: Path | None = None) -> Handle:
    """Start the load generator behind a prefix (netns(HOST), or ["lvslab", "exec", HOST, "--"]).

    Its files (summary, progress, stop and mark files, log) go to workdir,
    by default a new directory under /tmp, which lab hosts share."""
    handle = Handle(Path(workdir or tempfile.mkdtemp(prefix="loadgen-", dir="/tmp")))
    handle.workdir.mkdir(parents=True, exist_ok=True)
    argv = [
        *host_exec_prefix,
        sys.executable,
        "-m",
        "lvslab.loadgen",
        *("--out", str(handle.out), "--progress", str(handle.progress)),
        *("--stop-file", str(handle.stop_file), "--mark-file", str(handle.mark_file)),
        *args,
    ]
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent))
    with open(handle.log, "ab") as log:
        # A session of its own: stop() can signal the wrapper and the load generator together.
        handle.proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env, start_new_session=True
        )
    return handle


def read_progress(handle: Handle) -> dict | None:
    try:
        return json.loads(handle.progress.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def wait_flowing(handle: Handle, timeout: float = 30.0) -> dict:
    """Wait until a request has succeeded (with --http) and every connection is up (with --echo); the progress."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if handle.proc.poll() is not None:
            raise RuntimeError(f"loadgen exited ({handle.proc.returncode}): {handle.log.read_text()[-2000:]}")
        prog = read_progress(handle)
        if prog and (not prog["http"] or prog["ok"] > 0) and prog["conns_live"] == prog["conns"]:
            return prog
        time.sleep(POLL)
    raise TimeoutError(f"loadgen: traffic not flowing after {timeout} s: {read_progress(handle)}")


def mark(handle: Handle, label: str) -> None:
    """Put a marker on the timeline (within 100 ms)."""
    with open(handle.mark_file, "a", encoding="utf-8") as fh:
        fh.write(label.replace("\n", " ") + "\n")


def stop(handle: Handle, grace: float = 15.0) -> dict:
    """Stop the load generator (stop file; SIGTERM to its process group if that fails) and return its summary."""
    handle.stop_file.touch()
    try:
        handle.proc.wait(grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(handle.proc.pid, signal.SIGTERM)
        handle.proc.wait(grace)
    if not handle.out.exists():
        raise RuntimeError(f"loadgen wrote no summary ({handle.proc.returncode}): {handle.log.read_text()[-2000:]}")
    return json.loads(handle.out.read_text())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="lvslab loadgen", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
