"""Active-active directors under load: spread, maintenance, a director killed and back, a real server lost, mh vs wrr.

client1 reaches the VIP through router1, which spreads flows over
director1..3 with ECMP (an L4 hash) on the routes they announce over BGP.
Every director schedules with mh over the same four real servers, with
sloppy_tcp: a flow that the router moves to another director mid-stream goes
on to the same real server. A load generator on client1 runs a steady HTTP
stream (a new connection each) and long-lived echo connections sending a
line every 100 ms (lvslab.loadgen); a step starts it, waits until traffic
flows, acts, waits a few seconds, and reads its summary.

The tests run in order and share the deployment of the Molecule scenario
scale_out; each one leaves the lab as it found it.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import yaml
from conftest import ROOT, playbook

from lvslab import loadgen
from lvslab.labtest import outcome, run_in, wait_for

VIP = "198.51.100.10"
DIRECTORS = ("director1", "director2", "director3")
REAL_SERVERS = {"rs1": "192.0.2.21", "rs2": "192.0.2.22", "rs3": "192.0.2.23", "rs4": "192.0.2.24"}
LOAD_ARGS = ("--rate", "20", "--timeout", "2", "--conns", "24", "--interval", "0.1")
SETTLE = 4.0
# The router's next hops and the directors' weights are read every 50 ms.
POLL = 0.05
# A dead director leaves the router's ECMP set when BFD misses 3 packets of
# 0.3 s: new connections hashed to it fail for about a second.
INTERRUPTION_BOUND = 3.0
KEEP = Path(os.environ.get("LVS_LAB_RUN_DIR", "/tmp")) / "scale_out"


def next_hops() -> list[str]:
    """The router's next hops for the VIP: the directors it sends to now."""
    words = run_in("router1", "ip", "-4", "route", "show", f"{VIP}/32").split()
    return sorted(words[i + 1] for i, word in enumerate(words[:-1]) if word == "via")


DIRECTOR_OF = {"10.0.1.11": "director1", "10.0.1.12": "director2", "10.0.1.13": "director3"}


def announcing() -> list[str]:
    return sorted(DIRECTOR_OF[hop] for hop in next_hops())


def web_conns(director: str) -> int:
    """How many connections the director's web service has scheduled since it was created."""
    out = run_in(director, "ipvsadm", "-Ln", "--stats", "-t", f"{VIP}:80")
    for line in out.splitlines():
        fields = line.split()
        if fields[:1] == ["TCP"]:
            return int(fields[2])
    raise AssertionError(f"{director}: no web service in {out}")


def echo_clients(director: str) -> set[str]:
    """The clients (ADDRESS:PORT) of the echo connections established through the director."""
    clients = set()
    for line in run_in(director, "ipvsadm", "-Lnc", check=False).splitlines():
        fields = line.split()
        if len(fields) == 6 and fields[4] == f"{VIP}:9000" and fields[2] == "ESTABLISHED":
            clients.add(fields[3])
    return clients


def through(summary: dict, clients: set[str]) -> int:
    return sum(c["local"] in clients for c in summary["echo"]["connections"])


class Load:
    """The load generator on client1, started and flowing on enter, stopped on exit (its summary in .summary)."""

    def __init__(self, step: str, args: tuple[str, ...] = LOAD_ARGS) -> None:
        self.step, self.args = step, list(args)
        self.summary: dict = {}

    def __enter__(self) -> Load:
        self.handle = loadgen.start(
            loadgen.netns("client1"), ["--http", f"http://{VIP}/", "--echo", f"{VIP}:9000", *self.args]
        )
        try:
            loadgen.wait_flowing(self.handle)
        except BaseException:
            loadgen.stop(self.handle)
            raise
        return self

    def mark(self, label: str) -> float:
        loadgen.mark(self.handle, label)
        return time.time()

    def __exit__(self, *exc) -> None:
        self.summary = loadgen.stop(self.handle)
        KEEP.mkdir(parents=True, exist_ok=True)
        (KEEP / f"{self.step}.json").write_text(json.dumps(self.summary, indent=1))


def bird_rss_kib(director: str) -> int:
    pid = run_in(director, "cat", "/run/bird/bird.pid").strip()
    for line in run_in(director, "cat", f"/proc/{pid}/status").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def kill_director(director: str) -> None:
    """Hard, as a power loss: every link cut first, so that nothing (not even the TCP close of BIRD's
    sessions) reaches the router, which must notice by BFD; then BIRD killed."""
    for link in ("eth0", "eth1"):
        run_in(director, "ip", "link", "set", link, "down")
    run_in(director, "kill", "-9", run_in(director, "cat", "/run/bird/bird.pid").strip())


def revive_director(director: str) -> str:
    """Links up, then the director's script starts BIRD again, as its unit would at boot."""
    for link in ("eth0", "eth1"):
        run_in(director, "ip", "link", "set", link, "up")
    return run_in(director, "/etc/lvs-director", "bgp")


def test_every_director_announces_and_connections_spread(proof):
    """1. Spread: new connections over the three directors (counted by each) and the four real servers."""
    took = wait_for(lambda: announcing() == list(DIRECTORS), 30, POLL)
    proof.check("the router has a next hop per director", took is not None, f"next hops {next_hops()}")
    before = {d: web_conns(d) for d in DIRECTORS}
    with Load("spread", ("--rate", "20", "--timeout", "2", "--conns", "24", "--interval", "0.1", "--duration", "12")):
        time.sleep(13)
    after = {d: web_conns(d) for d in DIRECTORS}
    per_director = {d: after[d] - before[d] for d in DIRECTORS}
    total = sum(per_director.values())
    proof.check(
        "new connections spread over every director",
        total > 100 and all(n >= total / 10 for n in per_director.values()),
        " / ".join(f"{d} {n}" for d, n in per_director.items()) + f" of {total}",
    )
    # docs/scale-out.md, "Why BIRD": what the BGP speaker costs a director.
    rss = {d: bird_rss_kib(d) for d in DIRECTORS}
    proof.check(
        "BIRD's memory on each director (RSS, under 32 MiB)",
        all(0 < kib < 32 * 1024 for kib in rss.values()),
        " / ".join(f"{d} {kib / 1024:.1f} MiB" for d, kib in rss.items()),
    )
    summary = json.loads((KEEP / "spread.json").read_text())
    servers = summary["requests"]["servers"]
    proof.check(
        "and over every real server",
        set(servers) == set(REAL_SERVERS) and min(servers.values()) >= summary["requests"]["ok"] / 10,
        " / ".join(f"{s} {servers.get(s, 0)}" for s in REAL_SERVERS) + f"; {outcome(summary)}",
    )
    proof.verify()


def test_maintenance_playbook_takes_a_director_out_and_back_without_a_failure(proof):
    """4. lvs.ipvs.director_maintenance on director2: withdraw, wait, act, announce; nothing fails or breaks."""
    seen: list[list[str]] = []
    running = threading.Event()
    running.set()

    def watch() -> None:
        # What the router does while the playbook runs: each change of its next hops.
        while running.is_set():
            hops = announcing()
            if not seen or seen[-1] != hops:
                seen.append(hops)
            time.sleep(0.1)

    watcher = threading.Thread(target=watch)
    with Load("maintenance") as load:
        load.mark("director_maintenance on director2")
        watcher.start()
        try:
            run = playbook("lvs.ipvs.director_maintenance", "-e", "lvs_maintenance_hosts=director2")
        finally:
            running.clear()
            watcher.join()
        back = wait_for(lambda: announcing() == list(DIRECTORS), 10, POLL)
        time.sleep(SETTLE)
    KEEP.joinpath("maintenance.log").write_text(run.stdout + run.stderr)
    summary = load.summary
    proof.check(
        "maintenance playbook on director2: the router left it out, then took it back",
        run.returncode == 0 and ["director1", "director3"] in seen and back is not None,
        f"exit {run.returncode}; next hops while it ran: {' -> '.join('+'.join(h) for h in seen)}"
        + ("" if run.returncode == 0 else f"; {run.stdout[-1500:]}"),
    )
    proof.check(
        "maintenance under load: no request failed, no connection broke",
        summary["requests"]["failed"] == 0 and summary["echo"]["broken"] == 0,
        outcome(summary),
    )
    proof.verify()


def test_withdraw_and_announce_move_traffic_within_a_second(proof):
    """The router follows a withdrawal and an announcement; the figures."""
    run_in("director1", "/etc/lvs-director", "withdraw")
    gone = wait_for(lambda: "director1" not in announcing(), 10, POLL)
    run_in("director1", "/etc/lvs-director", "announce")
    back = wait_for(lambda: announcing() == list(DIRECTORS), 10, POLL)
    proof.check(
        "withdraw: the router drops the next hop",
        gone is not None,
        f"after {gone * 1000:.0f} ms" if gone is not None else f"still {announcing()}",
    )
    proof.check(
        "announce: the router takes it back",
        back is not None,
        f"after {back * 1000:.0f} ms" if back is not None else f"next hops {announcing()}",
    )
    proof.verify()


def test_a_dead_director_loses_no_connection(proof):
    """2 and 3. Kill a director hard, then bring it back: connections through it carry on, both times."""
    with Load("kill") as load:
        on_director3 = echo_clients("director3")
        load.mark("director3 killed")
        kill_director("director3")
        out = wait_for(lambda: "director3" not in announcing(), 10, POLL)
        time.sleep(SETTLE)
    killed = load.summary
    proof.check(
        "dead director: the router takes it out",
        out is not None,
        f"after {out * 1000:.0f} ms" if out is not None else f"next hops {announcing()}",
    )
    proof.check(
        "dead director: every long-lived connection survived, those through it too",
        killed["echo"]["broken"] == 0 and killed["requests"]["longest_interruption"] <= INTERRUPTION_BOUND,
        f"{through(killed, on_director3)} of {killed['echo']['conns']} went through director3; " + outcome(killed),
    )
    with Load("return") as load:
        load.mark("director3 back")
        script = revive_director("director3")
        back = wait_for(lambda: announcing() == list(DIRECTORS), 30, POLL)
        time.sleep(SETTLE)
    returned = load.summary
    proof.check(
        "its return: the router sends to it again",
        back is not None,
        f"after {back:.1f} s" if back is not None else f"next hops {announcing()}; {' '.join(script.split())}",
    )
    proof.check(
        "its return: connections moved back to it survive",
        returned["echo"]["broken"] == 0 and returned["requests"]["longest_interruption"] <= INTERRUPTION_BOUND,
        outcome(returned),
    )
    proof.verify()


def weights(director: str, port: int) -> dict[str, int]:
    """{real server address: weight} of the director's service on port."""
    out = run_in(director, "ipvsadm", "-Ln", "-t", f"{VIP}:{port}")
    return {
        f[1].rsplit(":", 1)[0]: int(f[3])
        for f in (line.split() for line in out.splitlines())
        if f[:1] == ["->"] and f[3].isdigit()
    }


def test_a_lost_real_server_breaks_only_its_own_connections(proof):
    """5. rs2 drops off the network: its connections break, no other does; every director takes it out."""
    with Load("real-server") as load:
        load.mark("rs2 link down")
        run_in("rs2", "ip", "link", "set", "eth0", "down")
        out = wait_for(lambda: all(weights(d, 9000).get("192.0.2.22") == 0 for d in DIRECTORS), 15, POLL)
        time.sleep(SETTLE)
    run_in("rs2", "ip", "link", "set", "eth0", "up")
    # A link going down takes its routes with it: rs2's way back to the clients.
    run_in("rs2", "ip", "route", "replace", "default", "via", "192.0.2.254")
    back = wait_for(lambda: all(weights(d, 9000).get("192.0.2.22") == 1 for d in DIRECTORS), 20, POLL)
    summary = load.summary
    conns = summary["echo"]["connections"]
    own = [c for c in conns if c["server"] == "rs2"]
    others_broken = [c for c in conns if c["server"] != "rs2" and c["broken"]]
    proof.check(
        "every director's health check put rs2 at weight 0",
        out is not None,
        f"after {out:.1f} s" if out is not None else f"weights {[weights(d, 9000) for d in DIRECTORS]}",
    )
    proof.check(
        "a removed real server: only its own connections broke",
        bool(own) and not others_broken,
        f"{len(own)} of {len(conns)} connections were on rs2, {sum(bool(c['broken']) for c in own)} of them broke;"
        f" {len(others_broken)} others broke; " + outcome(summary),
    )
    proof.check(
        "rs2 back: weight 1 on every director", back is not None, f"after {back:.1f} s" if back else "not within 20 s"
    )
    proof.verify()


def test_wrr_instead_of_mh_breaks_the_connections_of_a_dead_director(proof):
    """6. The same death with wrr (set behind the role's back, which refuses it): what mh saves."""
    for director in DIRECTORS:
        run_in(director, "ipvsadm", "-E", "-t", f"{VIP}:9000", "-s", "wrr")
    try:
        with Load("wrr-kill") as load:
            on_director1 = echo_clients("director1")
            load.mark("director1 killed (wrr)")
            kill_director("director1")
            wait_for(lambda: "director1" not in announcing(), 10, POLL)
            time.sleep(SETTLE)
    finally:
        for director in DIRECTORS:
            run_in(director, "ipvsadm", "-E", "-t", f"{VIP}:9000", "-s", "mh", "-b", "mh-port")
        revive_director("director1")
        wait_for(lambda: announcing() == list(DIRECTORS), 30, POLL)
    summary = load.summary
    moved = [c for c in summary["echo"]["connections"] if c["local"] in on_director1]
    broken = sum(bool(c["broken"]) for c in moved)
    mh = json.loads((KEEP / "kill.json").read_text())
    proof.check(
        "wrr against mh: connections of a dead director that broke",
        bool(moved) and broken > 0 and mh["echo"]["broken"] == 0,
        f"wrr {broken} of {len(moved)} broke; mh {mh['echo']['broken']} of {mh['echo']['conns']} broke"
        " (test_a_dead_director_loses_no_connection)",
    )
    proof.verify()


def director_state() -> dict[str, str]:
    """What a refused run must leave as it was: each director's table, addresses and announced routes."""
    return {
        d: run_in(d, "sh", "-c", "ipvsadm -Sn; ip -o addr; cat /etc/lvs/bird-vips4.conf /etc/bird/bird.conf")
        for d in DIRECTORS
    }


def test_bad_input_is_refused_before_any_host_changes(proof, tmp_path):
    """The roles refuse, naming the field and the value: another list on one director, NAT, wrr, a bad ASN."""
    inventory = yaml.safe_load((ROOT / "docs/examples/inventories/scale_out.yml").read_text())
    services, groups = inventory["all"]["vars"]["lvs_virtual_services"], inventory["all"]["vars"]["lvs_director_groups"]
    fewer = [{**s, "real_servers": s["real_servers"][:3]} for s in services]
    cases = {
        # A host variable gives director2 its own list: mh would pick other real servers there.
        "director2's own list": (
            {"all": {"hosts": {"director2": {"lvs_virtual_services": fewer}}}},
            None,
            "lvs_virtual_services of director2: 'echo': has ['192.0.2.21:9000 weight 1'",
        ),
        "NAT": (
            None,
            {"lvs_virtual_services": [{**services[0], "mode": "nat"}]},
            "lvs_virtual_services[0].mode: 'nat'",
        ),
        "wrr": (
            None,
            {"lvs_virtual_services": [{**services[0], "scheduler": "wrr", "flags": []}]},
            ".scheduler: 'wrr': must be mh",
        ),
        "ASN": (
            None,
            {"lvs_director_groups": [{**groups[0], "bgp": {**groups[0]["bgp"], "asn": 23456}}]},
            "lvs_director_groups[0].bgp.asn: 23456: is AS_TRANS",
        ),
    }
    before = director_state()
    for name, (extra_inventory, extra_vars, expected) in cases.items():
        args = ["lvs.ipvs.site"]
        if extra_inventory:
            path = tmp_path / f"{name.split()[0]}.yml"
            path.write_text(yaml.safe_dump(extra_inventory))
            args += ["-i", str(path)]
        if extra_vars:
            path = tmp_path / f"{name}-vars.yml"
            path.write_text(yaml.safe_dump(extra_vars))
            args += ["-e", f"@{path}"]
        run = playbook(*args)
        out = run.stdout + run.stderr
        found = next((line[line.index(expected) :] for line in out.splitlines() if expected in line), "")
        proof.check(
            f"bad input refused, named: {name}",
            run.returncode != 0 and bool(found),
            found[:240] if found else f"exit {run.returncode}; {out[-800:]}",
        )
    proof.check("nothing changed on the directors", director_state() == before, "tables, addresses and routes")
    proof.verify()
