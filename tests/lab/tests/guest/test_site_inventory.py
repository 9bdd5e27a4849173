"""lvs.ipvs.site and lvs.ipvs.drain on an inventory of the user's own: groups with
other names than directors and real_servers, tags, extra real-server sysctls,
and a drain through the same host pattern."""

from __future__ import annotations

import json
import re
import subprocess

import pytest
import yaml

from lvslab import topology

# Host and network names of their own, so that this lab can stand beside the session's NAT lab.
TOPOLOGY = {
    "name": "own-groups",
    "networks": {"front": {"ipv4": "198.51.100.0/24"}, "back": {"ipv4": "192.0.2.128/25"}},
    "hosts": {
        "cl1": {"groups": ["clients"], "interfaces": [{"network": "front", "ipv4": "198.51.100.10"}]},
        "lb1": {
            "groups": ["lb"],
            "interfaces": [
                {"network": "front", "ipv4": "198.51.100.2"},
                {"network": "back", "ipv4": "192.0.2.129"},
            ],
        },
        "web1": {
            "groups": ["web"],
            "interfaces": [{"network": "back", "ipv4": "192.0.2.141"}],
            "serve": [{"port": 80}],
        },
        "web2": {
            "groups": ["web"],
            "interfaces": [{"network": "back", "ipv4": "192.0.2.142"}],
            "serve": [{"port": 80}],
        },
    },
}
VARS = {
    # The lab kernel has no nf_tables (as in tests/lab/topologies/roles.yml).
    "director_firewall": "iptables",
    "director_iptables": "iptables-legacy",
    "director_ip6tables": "ip6tables-legacy",
    "director_vip_interface": "eth0",
    "real_server_nat_gateway": {"ipv4": "192.0.2.129"},
    # Loose reverse-path filtering, as for a real server whose replies leave by another interface.
    "real_server_sysctls": {"net.ipv4.conf.all.rp_filter": 2},
    "lvs_virtual_services": [
        {
            "name": "web",
            "mode": "nat",
            "address": "198.51.100.100",
            "port": 80,
            "scheduler": "rr",
            "real_servers": [{"host": "web1", "address": "192.0.2.141"}, {"host": "web2", "address": "192.0.2.142"}],
        }
    ],
}
GROUPS = ["-e", "lvs_director_hosts=lb", "-e", "lvs_real_server_hosts=web"]


@pytest.fixture(scope="module")
def own_lab(tmp_path_factory):
    state = tmp_path_factory.mktemp("own-groups")
    inventory = topology.up(topology.parse(TOPOLOGY), state)
    # No directors or real_servers group anywhere: only lb, web and clients.
    inventory["all"]["vars"].update(VARS)
    path = state / "own-inventory.yml"
    path.write_text(yaml.safe_dump(inventory))
    yield state, path
    topology.down(state)


def run(inventory, playbook, *extra, output=None):
    done = subprocess.run(
        ["ansible-playbook", "-i", str(inventory), playbook, *extra], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    if output is not None:
        output.append(done.stdout)
    return {m[0]: (int(m[1]), int(m[2])) for m in re.findall(r"^(\S+)\s+: ok=(\d+)\s+changed=(\d+)", done.stdout, re.M)}


def shown_changes(stdout, host):
    """The changes shown for host without -v (by the action plugins of lvs_script and ipvs_table)."""
    return re.findall(r"^    " + re.escape(host) + r": (.*)$", stdout, re.M)


def table(state, host):
    done = subprocess.run([*topology.enter(state, host), "ipvsadm", "-Sn"], capture_output=True, text=True, check=True)
    return sorted(done.stdout.splitlines())


def answers(state):
    out = subprocess.run(
        ["lvslab", "--state", str(state), "probe", "cl1", "http://198.51.100.100/", "--count", "4"],
        capture_output=True,
        text=True,
        check=False,
    )
    return json.loads(out.stdout)["servers"] if out.stdout else out.stderr


def test_site_deploys_groups_named_otherwise_and_tags_limit_it_to_the_ipvs_table(own_lab):
    state, inventory = own_lab
    output = []
    recap = run(inventory, "lvs.ipvs.site", *GROUPS, "--diff", output=output)
    assert {"lb1", "web1", "web2"} <= set(recap) and all(changed for _ok, changed in recap.values()), recap
    # What changed on each host is in the output at default verbosity, and in
    # the diff: the NAT real servers' route, the director's VIP and table.
    for host, change in (
        ("web1", "default route via 192.0.2.129"),
        ("lb1", "VIP 198.51.100.100"),
        ("lb1", "add destination 192.0.2.141:80 to tcp 198.51.100.100:80 (masq, weight 1)"),
    ):
        assert change in shown_changes(output[0], host), output[0][-4000:]
    for change in ("default route via 192.0.2.129", "VIP 198.51.100.100"):
        assert f"+{change}\n" in output[0], output[0][-4000:]
    assert answers(state) == {"web1": 2, "web2": 2}
    for host in ("web1", "web2"):
        rp_filter = subprocess.run(
            [*topology.enter(state, host), "sysctl", "-n", "net.ipv4.conf.all.rp_filter"],
            capture_output=True,
            text=True,
            check=True,
        )
        assert rp_filter.stdout.strip() == "2", host
    deployed = table(state, "lb1")

    # The table alone, after something else flushed it: only the director's ipvs tasks run.
    subprocess.run([*topology.enter(state, "lb1"), "ipvsadm", "-C"], check=True)
    recap = run(inventory, "lvs.ipvs.site", *GROUPS, "--tags", "ipvs", output=output)
    # On the real servers only Ansible's own check of the roles' arguments
    # runs (it is tagged always): two tasks, nothing changed.
    assert recap["lb1"][1] == 1 and recap["web1"] == recap["web2"] == (2, 0), recap
    # Only the table's steps, on the director.
    assert not shown_changes(output[1], "web1"), output[1][-3000:]
    assert "add service tcp 198.51.100.100:80: scheduler rr" in shown_changes(output[1], "lb1"), output[1][-3000:]
    assert table(state, "lb1") == deployed
    assert answers(state) == {"web1": 2, "web2": 2}


def test_drain_finds_the_directors_by_the_same_pattern(own_lab):
    state, inventory = own_lab
    drain = ["-e", "lvs_drain_hosts=web1", "-e", "lvs_director_hosts=lb", "-e", "lvs_drain_timeout=5"]
    run(inventory, "lvs.ipvs.drain", *drain, "-e", "lvs_drain_only=drain")
    assert "-a -t 198.51.100.100:80 -r 192.0.2.141:80 -m -w 0" in table(state, "lb1")
    run(inventory, "lvs.ipvs.drain", *drain, "-e", "lvs_drain_only=restore")
    assert "-a -t 198.51.100.100:80 -r 192.0.2.141:80 -m -w 1" in table(state, "lb1")
