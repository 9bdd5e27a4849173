"""Schedulers under real traffic, through a NAT director of the lab.

Four destinations (rs1 and rs2, two addresses each) behind one VIP; clients
from up to 32 source addresses. Each request's destination is read from the
address the real server saw the request arrive on (X-Lab-Local).
"""

from __future__ import annotations

import collections
import json
import subprocess
import sys
import time

import pytest
from conftest import nat_director, sh

VIP = "203.0.113.100"
DESTS = ("192.0.2.11", "192.0.2.12", "192.0.2.13", "192.0.2.14")
SOURCES = [f"203.0.113.{50 + i}" for i in range(32)]

# Runs in client1: one request per [source, count] pair, in order; prints the destinations.
VISIT = r"""
import http.client, json, sys
out = []
for source, count in json.loads(sys.argv[1]):
    for _ in range(count):
        conn = http.client.HTTPConnection(sys.argv[2], 80, timeout=5, source_address=(source, 0) if source else None)
        conn.request("GET", "/")
        response = conn.getresponse()
        response.read()
        out.append([source, response.getheader("X-Lab-Local")])
        conn.close()
print(json.dumps(out))
"""

# Runs in client1: opens connections one after the other, half a request each, then waits for stdin.
HOLD = r"""
import socket, sys, time
held = []
for _ in range(int(sys.argv[1])):
    s = socket.create_connection((sys.argv[2], 80), timeout=10)
    s.sendall(b"GET / HTTP/1.0\r\n")
    held.append(s)
    time.sleep(0.3)
print("held", flush=True)
sys.stdin.readline()
"""


@pytest.fixture(scope="module")
def four_destinations(nat_lab):
    sh("rs1", "ip addr replace 192.0.2.13/24 dev eth0")
    sh("rs2", "ip addr replace 192.0.2.14/24 dev eth0")
    sh("client1", "\n".join(f"ip addr replace {s}/32 dev eth0" for s in SOURCES))
    yield
    sh("director1", "ipvsadm -C")


def service(scheduler, *extra, weights=(1, 1, 1, 1), dests=DESTS):
    nat_director(
        f"-A -t {VIP}:80 -s {scheduler} {' '.join(extra)}",
        *(f"-a -t {VIP}:80 -r {d}:80 -m -w {w}" for d, w in zip(dests, weights, strict=True)),
    )


def visit(pairs):
    out = subprocess.run(
        ["nsenter", "--net=/run/netns/client1", "--", sys.executable, "-c", VISIT, json.dumps(pairs), VIP],
        capture_output=True,
        text=True,
        check=True,
    )
    return [tuple(row) for row in json.loads(out.stdout)]


def active() -> dict[str, int]:
    """Active connections per destination, from the director's table."""
    counts = {}
    for line in sh("director1", f"ipvsadm -Ln -t {VIP}:80").stdout.splitlines():
        words = line.split()
        if words[:1] == ["->"] and words[1][0].isdigit():
            counts[words[1].split(":")[0]] = int(words[4])
    return counts


def test_rr_takes_each_destination_in_turn(four_destinations):
    service("rr")
    order = [dest for _source, dest in visit([[None, 8]])]
    assert sorted(order[:4]) == sorted(DESTS) and order[4:] == order[:4]


def test_wrr_follows_the_weights(four_destinations):
    service("wrr", weights=(3, 1), dests=DESTS[:2])
    counts = collections.Counter(dest for _source, dest in visit([[None, 12]]))
    assert counts == {DESTS[0]: 9, DESTS[1]: 3}


def test_sh_keeps_each_source_on_one_destination(four_destinations):
    service("sh")
    seen = collections.defaultdict(set)
    for source, dest in visit([[s, 3] for s in SOURCES[:16]]):
        seen[source].add(dest)
    assert all(len(dests) == 1 for dests in seen.values())
    assert len(set().union(*seen.values())) >= 3, "sources should spread over the destinations"


def test_dh_keeps_a_destination_address_on_one_destination(four_destinations):
    service("dh")
    assert len({dest for _source, dest in visit([[s, 1] for s in SOURCES[:12]])}) == 1


def test_mh_moves_only_the_sources_of_a_leaving_destination(four_destinations):
    service("mh")
    before = dict(visit([[s, 1] for s in SOURCES]))
    assert len(set(before.values())) == 4
    sh("director1", f"ipvsadm -d -t {VIP}:80 -r {DESTS[3]}:80")
    after = dict(visit([[s, 1] for s in SOURCES]))
    leaving = [s for s in SOURCES if before[s] == DESTS[3]]
    staying = [s for s in SOURCES if before[s] != DESTS[3]]
    assert all(after[s] != DESTS[3] for s in leaving)
    moved = [s for s in staying if after[s] != before[s]]
    # Maglev: about 1/N of the sources move (those of the leaving destination); the rest stay put.
    assert len(moved) <= 2, f"{len(moved)} of {len(staying)} sources moved without need"
    assert 0.1 <= len(leaving) / len(SOURCES) <= 0.45


@pytest.mark.parametrize("scheduler", ["lc", "wlc", "sed", "nq"])
def test_least_loaded_schedulers_pick_the_idle_destination(four_destinations, scheduler):
    service(scheduler)
    holder = subprocess.Popen(
        ["nsenter", "--net=/run/netns/client1", "--", sys.executable, "-c", HOLD, "3", VIP],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        busy = active()
        assert sorted(busy.values()) == [0, 1, 1, 1], busy
        idle = next(dest for dest, count in busy.items() if count == 0)
        assert visit([[None, 1]]) == [(None, idle)]
    finally:
        holder.stdin.write("go\n")
        holder.stdin.flush()
        holder.wait(timeout=30)


def test_persistence_keeps_a_client_on_one_destination(four_destinations):
    service("rr", "-p 60")
    first = {dest for _source, dest in visit([[SOURCES[0], 6]])}
    time.sleep(1)
    again = {dest for _source, dest in visit([[SOURCES[0], 2]])}
    assert len(first) == 1 and again == first
    # Without persistence the same client would have gone round all four.
    service("rr")
    assert len({dest for _source, dest in visit([[SOURCES[0], 4]])}) == 4
