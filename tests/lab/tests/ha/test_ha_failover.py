"""Failover under load, in the ha lab: a real server dies, then the active director, then it comes back.

Two load generators run from client1 during each step, one per VIP: the DR
service (203.0.113.101) and the NAT one (203.0.113.100), each with a steady
HTTP stream (a new connection each: 50 requests per second with a 1 s
timeout while a director dies and returns; 10 per second with 3 s while a
real server restarts, see GENTLE) and long-lived echo connections sending a
line every 100 ms. A step starts the
load, waits until traffic flows, acts, waits a few seconds, stops the load
and reads its summary (lvslab.loadgen).

The tests run in order and share the lab: after test_director_failover,
director2 is the master and director1 is cut off; test_director_return
brings director1 back.
"""

from __future__ import annotations

import collections
import concurrent.futures
import json
import os
import re
import signal
import time
from pathlib import Path

import pytest
from conftest import STATE

from lvslab import checks, loadgen, topology
from lvslab.labtest import outcome, run_in, wait_for

# What each load generator aims at: the label used in the table, the VIP, the real servers.
SERVICES = {
    "DR": {"vip": "203.0.113.101", "servers": ("rs1", "rs2")},
    "NAT": {"vip": "203.0.113.100", "servers": ("nat1", "nat2")},
}
ADDRESS = {"rs1": "192.0.2.21", "rs2": "192.0.2.22", "nat1": "192.0.2.11", "nat2": "192.0.2.12"}
# What the director group "front" holds on its master: both VIPs and the NAT servers' gateway.
GROUP_ADDRESSES = {"203.0.113.101", "203.0.113.100", "192.0.2.3"}
LOAD_ARGS = ("--rate", "50", "--timeout", "1", "--conns", "10", "--interval", "0.1")
# While something else costs the guest seconds of CPU (Ansible's tasks, a
# Python server starting), a gentler stream, with a timeout that a CPU stall
# of the emulated kernel does not turn into a failure: a lost request still
# fails (its connection is reset, refused, or never answered). Measured: with
# LOAD_ARGS, a real server's restart (9 s of Python start-up) made the other
# server's requests time out at 1 s.
GENTLE = ("--rate", "10", "--timeout", "3", "--conns", "5", "--interval", "0.1")
# How long after the action the load keeps running, so the summary shows that traffic is back.
SETTLE = 5.0
# The health check is every 1 s, times out after 1 s, and retries once after
# 0.5 s: a dead server goes within about 2.5 s. Generous, for the emulated kernel.
REMOVAL_BOUND = 5.0
# VRRPv3 adverts every 0.2 s: the backup takes over after 3 missed adverts
# plus its skew, about 0.7 s, then gratuitous ARP moves the VIPs' traffic.
INTERRUPTION_BOUND = 3.0

# Where the load generators' summaries and the directors' logs are kept for later reading.
KEEP = Path(os.environ.get("LVS_LAB_RUN_DIR", "/tmp")) / "ha"


# Lab hosts.


def ipvs_table(director: str) -> dict[str, set[str]]:
    """The director's IPVS table: {service ADDRESS:PORT: {real server ADDRESS:PORT}}."""
    table: dict[str, set[str]] = {}
    service = None
    for line in run_in(director, "ipvsadm", "-Ln").splitlines():
        fields = line.split()
        if fields and fields[0] in ("TCP", "UDP", "SCTP"):
            service = fields[1]
            table[service] = set()
        elif service and fields[:1] == ["->"]:
            table[service].add(fields[1])
    return table


def in_table(director: str, vip: str, host: str) -> bool:
    return f"{ADDRESS[host]}:80" in ipvs_table(director).get(f"{vip}:80", set())


def addresses(host: str) -> set[str]:
    """The host's IPv4 addresses, without their prefixes."""
    out = run_in(host, "ip", "-o", "-4", "addr", "show")
    return {line.split()[3].split("/")[0] for line in out.splitlines()}


def holds_group(host: str) -> bool:
    """The host holds every address of the director group (it is the master)."""
    return addresses(host) >= GROUP_ADDRESSES


def holds_none(host: str) -> bool:
    return not GROUP_ADDRESSES & addresses(host)


def echo_entries(director: str) -> dict[tuple[str, str], str]:
    """The director's connection-table entries for the echo services: {(client, virtual): state}."""
    entries = {}
    for line in run_in(director, "ipvsadm", "-Lnc").splitlines():
        fields = line.split()
        # pro expire state source virtual destination
        if len(fields) == 6 and fields[4].endswith(":9000"):
            entries[fields[3], fields[4]] = fields[2]
    return entries


def established_per_vip(entries: dict) -> collections.Counter:
    return collections.Counter(virtual.rsplit(":", 1)[0] for (_c, virtual), s in entries.items() if s == "ESTABLISHED")


def known(summary: dict, entries: dict) -> int:
    """How many of the load generator's long-lived connections these entries hold, established."""
    target = summary["echo"]["target"]
    return sum(entries.get((c["local"], target)) == "ESTABLISHED" for c in summary["echo"]["connections"])


def wait_each(predicates: dict, timeout: float, interval: float = 0.1) -> dict:
    """{key: Unix time when predicates[key]() first held, or None}, all polled together."""
    when: dict = dict.fromkeys(predicates)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and None in when.values():
        for key, predicate in predicates.items():
            if when[key] is None and predicate():
                when[key] = time.time()
        time.sleep(interval)
    return when


def netns_inode(host: str) -> int:
    return os.stat(f"/run/netns/{host}").st_ino


def keepalived_pids(host: str) -> list[int]:
    """keepalived's processes (parent, VRRP and checker children) in this host's network namespace.

    Lab hosts share the guest's process table, so `pkill keepalived` inside a
    host would kill every director's keepalived: they are told apart by
    their network namespace."""
    inode, pids = netns_inode(host), []
    for proc in Path("/proc").iterdir():
        try:
            if (
                proc.name.isdigit()
                and (proc / "comm").read_text().strip() == "keepalived"
                and os.stat(proc / "ns" / "net").st_ino == inode
            ):
                pids.append(int(proc.name))
        except OSError:
            continue
    return pids


def crash_keepalived(host: str) -> list[int]:
    """SIGKILL every keepalived process of the host, as a crash would: all at once.

    keepalived's children get SIGTERM when their parent dies, and would then
    shut down cleanly (taking the virtual servers out of the table, the
    VIPs off the interfaces): stopping them all first makes the kill a crash."""
    pids = keepalived_pids(host)
    for sig in (signal.SIGSTOP, signal.SIGKILL):
        for pid in pids:
            os.kill(pid, sig)
    return pids


def links(host: str, state: str) -> None:
    for link in ("eth0", "eth1"):
        run_in(host, "ip", "link", "set", link, state)


def http_server_pid(host: str) -> int:
    """The pid of the HTTP server that `lvslab up` started on host (its pid file)."""
    pid = int((STATE / host / "serve-tcp-80.pid").read_text())
    # The pid file could be stale: make sure it is this host's HTTP server.
    argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    assert b"lvslab.serve" in argv and argv[argv.index(b"--name") + 1] == host.encode(), argv
    assert argv[argv.index(b"--port") + 1] == b"80", argv
    return pid


def kill_http_server(host: str) -> None:
    os.kill(http_server_pid(host), signal.SIGKILL)


def restart_http_server(topo: topology.Topology, host: str) -> tuple[float, float]:
    """Start host's HTTP server again, as `lvslab up` did: (Unix time of the start, of its listening)."""
    started = time.time()
    # topology's own starter, which waits for the server's ready file: the old one must go first.
    (STATE / host / "serve-tcp-80.ready").unlink(missing_ok=True)
    topology._serve(topo.hosts[host], STATE, {"port": 80})
    return started, time.time()


def keep(name: str, text: str) -> None:
    KEEP.mkdir(parents=True, exist_ok=True)
    (KEEP / name).write_text(text)


def keep_director_logs(step: str) -> None:
    for director in ("director1", "director2"):
        keep(f"{step}-{director}-keepalived.log", run_in(director, "cat", "/run/keepalived.log", check=False))


# The load.


class Load:
    """Both load generators, from client1: started and flowing on enter, stopped on exit.

    summaries[kind] holds each one's summary after the block; at(kind, t) turns
    a Unix time into the load generator's own timeline."""

    def __init__(self, step: str, args: tuple[str, ...] = LOAD_ARGS) -> None:
        self.step = step
        self.args = list(args)
        self.handles: dict[str, loadgen.Handle] = {}
        self.summaries: dict[str, dict] = {}

    def __enter__(self) -> Load:
        for kind, svc in SERVICES.items():
            vip = svc["vip"]
            self.handles[kind] = loadgen.start(
                loadgen.netns("client1"), ["--http", f"http://{vip}/", "--echo", f"{vip}:9000", *self.args]
            )
        try:
            for handle in self.handles.values():
                loadgen.wait_flowing(handle)
        except BaseException:
            self.__exit__()
            raise
        return self

    def mark(self, label: str) -> float:
        """Put label on both timelines; the Unix time of the event."""
        now = time.time()
        for handle in self.handles.values():
            loadgen.mark(handle, label)
        return now

    def __exit__(self, *exc) -> None:
        for kind, handle in self.handles.items():
            self.summaries[kind] = loadgen.stop(handle)
            keep(f"{self.step}-{kind}.json", json.dumps(self.summaries[kind], indent=1))

    def at(self, kind: str, unix_time: float) -> float:
        return unix_time - self.summaries[kind]["started"]


def nothing_broke(summary: dict) -> bool:
    """Traffic came back (no interruption lasting to the end) and every long-lived connection survived."""
    longest = summary["requests"]["longest_interruption_at"]
    ongoing = bool(longest and longest["ongoing"])
    return not ongoing and summary["echo"]["survived"] == summary["echo"]["conns"]


def broken_detail(summary: dict, event: float | None = None) -> str:
    """When and how the long-lived connections broke (seconds from event, on the load's timeline, if given)."""
    broken = [c for c in summary["echo"]["connections"] if c["broken"]]
    if not broken:
        return ""
    times = [c["broken"]["t"] - (event or 0) for c in broken]
    when = f" {min(times):+.2f} to {max(times):+.2f} s from the takeover" if event is not None else ""
    return f"; broke{when}: " + re.sub(r"\s+", " ", broken[0]["broken"]["error"])


@pytest.fixture(scope="module")
def lab(ha_lab):
    """The deployed lab once director1 is the master and its table has every real server."""
    assert wait_for(lambda: holds_group("director1"), 30), addresses("director1")
    for kind, svc in SERVICES.items():
        for host in svc["servers"]:
            assert wait_for(lambda h=host, v=svc["vip"]: in_table("director1", v, h), 30), (kind, host)
    yield ha_lab
    for director in ("director1", "director2"):
        for pid in keepalived_pids(director):
            os.kill(pid, signal.SIGTERM)


def test_real_server_failure(lab, proof):
    """A. A real server's HTTP server dies: keepalived takes it out of the table, and back once it returns."""
    victims = {kind: svc["servers"][0] for kind, svc in SERVICES.items()}

    def listed(kind: str, host: str, present: bool):
        return lambda: in_table("director1", SERVICES[kind]["vip"], host) == present

    with Load("A-real-server", GENTLE) as load:
        killed_at = load.mark("HTTP servers killed")
        for host in victims.values():
            kill_http_server(host)
        removed = wait_each({k: listed(k, h, False) for k, h in victims.items()}, 15)
        load.mark("HTTP servers out of the table")
        # A while with the server out of the table: no request may fail then.
        time.sleep(3)
        load.mark("HTTP servers restarted")
        # Python starts slowly in the emulated kernel under load (seconds):
        # the servers start in the background while the table is watched, and
        # each one's return is timed from the moment it listens again. One at
        # a time: two starting at once starved the guest's CPU so much that
        # rs2, alone with all the DR traffic, failed its own health check.
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            starting = {k: pool.submit(restart_http_server, lab, h) for k, h in victims.items()}
            returned = wait_each({k: listed(k, h, True) for k, h in victims.items()}, 45)
            ready = {k: future.result() for k, future in starting.items()}
        time.sleep(2)
    keep_director_logs("A")

    for kind, host in victims.items():
        summary, vip = load.summaries[kind], SERVICES[kind]["vip"]
        took = None if removed[kind] is None else removed[kind] - killed_at
        proof.check(
            f"{kind}: {host} HTTP server killed: out of the table",
            took is not None and took <= REMOVAL_BOUND,
            "not within 15 s" if took is None else f"after {took:.1f} s (bound {REMOVAL_BOUND:.0f} s)",
        )
        # Requests may fail from the kill (one that was under way then, too)
        # until keepalived took the server out, and a second after.
        window = (
            load.at(kind, killed_at) - summary["requests"]["timeout"],
            load.at(kind, removed[kind] or killed_at + 15) + 1,
        )
        failures = summary["requests"]["failures"]
        late = [f for f in failures if not window[0] <= f["t"] <= window[1]]
        kinds = collections.Counter(f["kind"] for f in failures)
        proof.check(
            f"{kind}: {host} HTTP server killed: failed requests only until removal + 1 s",
            not late and not summary["requests"]["failures_omitted"],
            f"{len(failures)} failed ("
            + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))
            + f"), {len(late)} outside the window"
            + (f": first at {late[0]['t'] - load.at(kind, killed_at):+.1f} s from the kill" if late else ""),
        )
        started, listening = ready[kind]
        back = None if returned[kind] is None else returned[kind] - listening
        proof.check(
            f"{kind}: {host} HTTP server restarted: back in the table",
            back is not None and back <= REMOVAL_BOUND,
            f"listening {listening - started:.1f} s after its start, "
            + ("not in the table within 45 s" if back is None else f"in the table {back:.1f} s later"),
        )
        ok, detail, _tally = checks.probe("client1", f"http://{vip}/", count=8, expect=SERVICES[kind]["servers"])
        proof.check(f"{kind}: {host} HTTP server restarted: requests reach it again", ok, detail)
        echo = summary["echo"]
        proof.check(
            f"{kind}: {host} HTTP server killed: long-lived (echo) connections untouched",
            echo["survived"] == echo["conns"],
            f"{echo['survived']}/{echo['conns']} survived",
        )
    proof.verify()


def test_director_failover(lab, proof):
    """B. The master director crashes (keepalived killed, links cut): director2 takes over."""
    assert holds_group("director1")
    daemons = {d: run_in(d, "ipvsadm", "-L", "--daemon") for d in ("director1", "director2")}
    proof.check(
        "sync daemons: a master and a backup on each director",
        all("master sync daemon" in out and "backup sync daemon" in out for out in daemons.values()),
        " / ".join(f"{d}: " + " ".join(out.split()) for d, out in daemons.items()),
    )
    with Load("B-failover") as load:
        # The sync daemon sends a connection after its third packet, in batches
        # about every second: wait until director2 knows every echo connection.
        want = collections.Counter({svc["vip"]: 10 for svc in SERVICES.values()})
        wait_for(lambda: established_per_vip(echo_entries("director2")) >= want, 10, 0.5)
        synced = echo_entries("director2")
        killed_at = load.mark("director1 killed")
        pids = crash_keepalived("director1")
        links("director1", "down")
        took = wait_for(lambda: holds_group("director2"), 15, 0.05)
        took_at = time.time() if took is not None else None
        time.sleep(SETTLE)
    keep_director_logs("B")
    keep("B-director2-connections.txt", run_in("director2", "ipvsadm", "-Lnc"))

    proof.check(
        "director1 killed: director2 holds the VIPs and the NAT gateway",
        took is not None,
        f"{len(pids)} keepalived processes killed; director2 had "
        + ", ".join(sorted(GROUP_ADDRESSES))
        + (f" {took_at - killed_at:.2f} s after the kill" if took_at else " ... not within 15 s"),
    )
    for kind in SERVICES:
        summary = load.summaries[kind]
        proof.check(
            f"{kind}: echo connections synced to director2 before the failover",
            known(summary, synced) == summary["echo"]["conns"],
            f"{known(summary, synced)}/{summary['echo']['conns']} in director2's connection table",
        )
        longest = summary["requests"]["longest_interruption"]
        proof.check(
            f"{kind}: director killed",
            nothing_broke(summary) and longest <= INTERRUPTION_BOUND,
            outcome(summary) + broken_detail(summary, load.at(kind, took_at) if took_at else None),
        )
    proof.verify()


def test_director_return(lab, proof):
    """B'. director1 comes back: keepalived first (its links still down), then its links; it takes the VIPs back."""
    assert holds_group("director2")
    # keepalived died by SIGKILL: the VIPs it held are still on director1's (down) interfaces.
    stale = GROUP_ADDRESSES & addresses("director1")
    proof.check(
        "director1 after the crash: the VIPs it held are still on its interfaces",
        stale == GROUP_ADDRESSES,
        "stale: " + (", ".join(sorted(stale)) or "none"),
    )
    with Load("C-return") as load:
        load.mark("keepalived started on director1")
        out = run_in("director1", "/etc/lvs-director", "keepalived")
        # keepalived starts in BACKUP (here FAULT: its interfaces are down), removing the VIPs.
        cleared = wait_for(lambda: holds_none("director1"), 10)
        left = GROUP_ADDRESSES & addresses("director1")
        returned_at = load.mark("director1 links up")
        links("director1", "up")
        took = wait_for(lambda: holds_group("director1") and holds_none("director2"), 30, 0.05)
        took_at = time.time() if took is not None else None
        # What director1 knew of the connections opened while it was away
        # (only the sync daemon could tell it) when it took the VIPs back.
        entries = echo_entries("director1")
        time.sleep(SETTLE)
    keep_director_logs("C")

    proof.check(
        "director1 keepalived restarted (links down): stale VIPs removed",
        cleared is not None,
        " ".join(out.split()) + "; VIPs left on director1: " + (", ".join(sorted(left)) or "none"),
    )
    proof.check(
        "director1 links up: it takes the VIPs back (preempt), director2 releases them",
        took is not None,
        f"after {took_at - returned_at:.2f} s" if took_at else "not within 30 s",
    )
    for kind in SERVICES:
        summary = load.summaries[kind]
        longest = summary["requests"]["longest_interruption"]
        proof.check(
            f"{kind}: echo connections synced to director1 when it took over",
            known(summary, entries) == summary["echo"]["conns"],
            f"{known(summary, entries)}/{summary['echo']['conns']} in director1's connection table "
            "(all were opened while it was away)",
        )
        proof.check(
            f"{kind}: director returned",
            nothing_broke(summary) and longest <= INTERRUPTION_BOUND,
            outcome(summary) + broken_detail(summary, load.at(kind, took_at) if took_at else None),
        )
    proof.verify()
