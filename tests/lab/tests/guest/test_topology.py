"""Lab hosts built from data: addresses, isolation of files, servers and teardown."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

from conftest import nat_director, sh

from lvslab import probe, topology


def test_each_host_sees_only_its_own_interfaces_and_addresses(nat_lab):
    links = json.loads(sh("director1", "ip -j addr show").stdout)
    assert sorted(link["ifname"] for link in links) == ["eth0", "eth1", "lo"]
    addrs = {a["local"] for link in links for a in link["addr_info"]}
    assert {"203.0.113.2", "2001:db8:113::2", "192.0.2.1", "2001:db8:2::1"} <= addrs
    assert sorted(Path(p).name for p in sh("rs1", "ls /sys/class/net").stdout.split()) == ["eth0", "lo"]


def test_hosts_on_one_network_reach_each_other_over_both_families(nat_lab):
    sh("rs1", "ping -c1 -W2 192.0.2.12 && ping -6 -c1 -W2 2001:db8:2::12")
    # Different networks with no route between them must not reach each other.
    assert sh("client1", "ping -c1 -W1 192.0.2.11", check=False).returncode != 0


def test_etc_var_lib_and_run_are_private_to_each_host(nat_lab):
    sh("rs1", "echo rs1 > /etc/lab-only && mkdir -p /var/lib/lab && echo rs1 > /var/lib/lab/f && echo rs1 > /run/f")
    for path in ("/etc/lab-only", "/var/lib/lab/f", "/run/f"):
        assert sh("rs1", f"cat {path}").stdout == "rs1\n"
        assert sh("rs2", f"test -e {path}", check=False).returncode == 1, f"rs2 sees rs1's {path}"
        assert not Path(path).exists(), f"the lab kernel's own root sees rs1's {path}"
    assert sh("rs2", "cat /etc/hostname").stdout == "rs2\n"


def test_real_servers_answer_with_their_name_over_ipv4_and_ipv6(nat_lab):
    out = subprocess.run(
        [
            "nsenter",
            "--net=/run/netns/director1",
            "--",
            "python3",
            "-c",
            "import sys; sys.path.insert(0, sys.argv[1]); from lvslab import probe;"
            "print(*probe.once('http://192.0.2.11/'), *probe.once('http://[2001:db8:2::12]/'))",
            str(Path(probe.__file__).parents[1]),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    # Each answers with its name and the client address it saw (IPv4-mapped on its dual-stack socket).
    assert out.stdout.split() == ["rs1", "::ffff:192.0.2.1", "rs2", "2001:db8:2::1"]


def test_lvs_nat_through_a_vip_alternates_between_real_servers(nat_lab):
    nat_director(
        "-A -t 203.0.113.100:80 -s rr",
        "-a -t 203.0.113.100:80 -r 192.0.2.11:80 -m",
        "-a -t 203.0.113.100:80 -r 192.0.2.12:80 -m",
    )
    out = subprocess.run(
        [
            "lvslab",
            "probe",
            "client1",
            "http://203.0.113.100/",
            "--count",
            "6",
            "--round-robin",
            "--expect",
            "rs1",
            "rs2",
            "--label",
            "guest test: NAT rr",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    result = json.loads(out.stdout)
    assert result["servers"] == {"rs1": 3, "rs2": 3}
    stats = sh("director1", "ipvsadm -Ln --stats -t 203.0.113.100:80").stdout
    assert "192.0.2.11:80" in stats and "192.0.2.12:80" in stats


def test_bad_topology_changes_nothing(nat_lab, tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("hosts:\n  x1:\n    interfaces: [{network: nowhere, ipv4: 10.9.9.9}]\n")
    try:
        topology.load(bad)
    except topology.LabError as exc:
        assert "hosts.x1.interfaces[0].network" in str(exc) and "nowhere" in str(exc)
    else:
        raise AssertionError("an interface on an unknown network was accepted")
    names = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout
    assert "x1" not in names


def test_down_removes_namespaces_bridges_and_servers(tmp_path):
    topo = topology.parse(
        {
            "networks": {"n1": {"ipv4": "198.51.100.0/24"}},
            "hosts": {"a1": {"interfaces": [{"network": "n1", "ipv4": "198.51.100.1"}], "serve": [{"port": 8080}]}},
        }
    )
    state = tmp_path / "state"
    topology.up(topo, state)
    pid = int((state / "a1" / "serve-tcp-8080.pid").read_text())
    assert Path(f"/proc/{pid}").exists()
    topology.down(state)
    assert "a1" not in subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout
    assert subprocess.run(["ip", "link", "show", "br-n1"], capture_output=True, check=False).returncode != 0
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.1)
    assert not _alive(pid), "the real server outlived the lab"


def _alive(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status")
    try:
        return "zombie" not in status.read_text()
    except FileNotFoundError:
        return False


def test_a_router_joins_two_networks_for_tcp_and_udp_over_both_families(tmp_path):
    """Routes and sysctls from the topology make a router; both server kinds answer through it."""
    state = tmp_path / "routed"
    topology.up(topology.load(Path(topology.__file__).parents[1] / "topologies" / "routed.yml"), state)
    try:
        forwarding = subprocess.run(
            ["ip", "netns", "exec", "router1", "sysctl", "-n", "net.ipv4.ip_forward"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        assert forwarding == "1"
        answers = {}
        for target in (
            "http://192.0.2.20:8080/",
            "http://[2001:db8:2::20]:8080/",
            "udp://192.0.2.20:5353",
            "udp://[2001:db8:2::20]:5353",
        ):
            out = subprocess.run(
                ["lvslab", "--state", str(state), "probe", "client2", target, "--count", "2", "--expect", "server2"],
                capture_output=True,
                text=True,
                check=False,
            )
            answers[target] = (out.returncode, json.loads(out.stdout)["servers"] if out.stdout else out.stderr)
        assert all(answer == (0, {"server2": 2}) for answer in answers.values()), answers
    finally:
        topology.down(state)


def who_answers(host: str, address: str, interface: str, *forbid: str) -> tuple[str, int]:
    """`lvslab neigh`'s detail and exit status."""
    out = subprocess.run(
        ["lvslab", "neigh", host, address, "--interface", interface, "--forbid", *forbid],
        capture_output=True,
        text=True,
        check=False,
    )
    return json.loads(out.stdout)["detail"], out.returncode


def test_neigh_tells_who_answers_arp_for_an_address_on_loopback(nat_lab):
    # What the DR checks rest on: with arp_ignore=0 a host answers ARP for an
    # address it holds on lo; with arp_ignore=1 it does not.
    sh("rs1", "ip addr replace 203.0.113.77/32 dev lo && sysctl -qw net.ipv4.conf.all.arp_ignore=0")
    try:
        answered = who_answers("director1", "203.0.113.77", "eth1", "rs1")
        assert answered == ("asked from director1 eth1: answered by rs1", 1)
        sh("rs1", "sysctl -qw net.ipv4.conf.all.arp_ignore=1")
        answered = who_answers("director1", "203.0.113.77", "eth1", "rs1")
        assert answered == ("asked from director1 eth1: answered by nobody", 0)
    finally:
        sh("rs1", "ip addr del 203.0.113.77/32 dev lo; sysctl -qw net.ipv4.conf.all.arp_ignore=0", check=False)
