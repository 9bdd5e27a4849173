"""Bad input, as a careless user gives it, against a running director: refused, named, and nothing changed.

A table of bad inputs for every module and filter. Each module case runs the
module's own main() in this process, against the lab kernel's own table, the
way Ansible runs it (arguments through AnsibleModule, the result as the JSON
that fail_json() prints); each filter case calls the filter as Jinja would.
For every case:
  - the task fails (the module's result says failed; the filter raises);
  - the message names the field and the value;
  - `ipvsadm -Sn`, the timeouts and the sync daemons are byte-identical before
    and after.
The director has a table, timeouts of its own and a master and a backup sync
daemon running, so that a module that changed anything before it refused
would be seen. The roles' entry points, which only Ansible itself can run,
are in test_bad_input_roles.py.
"""

from __future__ import annotations

import subprocess

import pytest
from ansible.errors import AnsibleFilterError
from conftest import ipvs_state, run_module

MISSING = None  # no value to name: the field was left out

WEB = {"protocol": "tcp", "address": "203.0.113.1", "port": 80}


def svc(**given):
    return [{**WEB, "destinations": [{"address": "192.0.2.11"}], **given}]


def dest(**given):
    return svc(destinations=[{"address": "192.0.2.11", **given}])


def tun(**tunnel):
    return dest(forward="tunnel", tunnel=tunnel)


# (module, arguments, the field the message must name, the value it must show)
MODULE_CASES = [
    # ipvs_table: every field of a service and of a destination
    ("ipvs_table", {"services": svc(address="203.0.113.300")}, "services[0].address", "203.0.113.300"),
    ("ipvs_table", {"services": svc(address="2001:db8:1::5%dum0")}, "services[0].address", "2001:db8:1::5%dum0"),
    ("ipvs_table", {"services": svc(address="")}, "services[0].address", "''"),
    ("ipvs_table", {"services": svc(port=65536)}, "services[0].port", "65536"),
    ("ipvs_table", {"services": svc(port=-1)}, "services[0].port", "-1"),
    ("ipvs_table", {"services": svc(port="http")}, "port", "http"),
    ("ipvs_table", {"services": svc(port=0)}, "services[0].port", "0"),
    ("ipvs_table", {"services": svc(protocol="icmp")}, "protocol", "icmp"),
    ("ipvs_table", {"services": svc(scheduler="fast")}, "scheduler", "fast"),
    ("ipvs_table", {"services": svc(scheduler="twos ")}, "scheduler", "twos "),
    ("ipvs_table", {"services": svc(flags=["sticky"])}, "flags", "sticky"),
    ("ipvs_table", {"services": svc(flags=["one-packet"])}, "services[0].flags[0]", "one-packet"),
    ("ipvs_table", {"services": svc(flags=["sh-port"], scheduler="rr")}, "services[0].flags[0]", "sh-port"),
    ("ipvs_table", {"services": svc(flags=["mh-fallback"], scheduler="sh")}, "services[0].flags[0]", "mh-fallback"),
    ("ipvs_table", {"services": svc(timeout=60)}, "services[0].timeout", "60"),
    ("ipvs_table", {"services": svc(flags=["persistent"], timeout=4294968)}, "services[0].timeout", "4294968"),
    ("ipvs_table", {"services": svc(flags=["persistent"], timeout=0)}, "services[0].timeout", "0"),
    (
        "ipvs_table",
        {"services": svc(flags=["persistent"], netmask="255.0.255.0")},
        "services[0].netmask",
        "255.0.255.0",
    ),
    ("ipvs_table", {"services": svc(flags=["persistent"], netmask="/64")}, "services[0].netmask", "/64"),
    ("ipvs_table", {"services": svc(netmask="255.255.255.0")}, "services[0].netmask", "255.255.255.0"),
    ("ipvs_table", {"services": svc(pe_name="sip")}, "services[0].pe_name", "sip"),
    ("ipvs_table", {"services": svc(pe_name="http", flags=["persistent"])}, "pe_name", "http"),
    ("ipvs_table", {"services": [{"fwmark": 4294967296}]}, "services[0].fwmark", "4294967296"),
    ("ipvs_table", {"services": [{"fwmark": -3}]}, "services[0].fwmark", "-3"),
    ("ipvs_table", {"services": [{"fwmark": 5, "port": 80}]}, "services[0].port", "80"),
    ("ipvs_table", {"services": [{"fwmark": 5, "family": "ipx"}]}, "family", "ipx"),
    ("ipvs_table", {"services": svc(family="ipv6")}, "services[0].family", "ipv6"),
    ("ipvs_table", {"services": [{"port": 80}]}, "services[0]", MISSING),
    ("ipvs_table", {"services": [{"address": "203.0.113.1"}]}, "services[0].port", MISSING),
    ("ipvs_table", {"services": svc(sched="rr")}, "sched", MISSING),
    ("ipvs_table", {"services": svc(destinations_mode="replace")}, "destinations_mode", "replace"),
    ("ipvs_table", {"services": svc() + svc(scheduler="rr")}, "services[1]", "tcp 203.0.113.1:80"),
    ("ipvs_table", {"services": dest(address="nowhere")}, "services[0].destinations[0].address", "nowhere"),
    ("ipvs_table", {"services": dest(address="224.0.0.5")}, "services[0].destinations[0].address", "224.0.0.5"),
    ("ipvs_table", {"services": dest(address="0.0.0.0")}, "services[0].destinations[0].address", "0.0.0.0"),
    (
        "ipvs_table",
        {"services": dest(address="fe80::1%eth0", forward="tunnel")},
        "services[0].destinations[0].address",
        "fe80::1%eth0",
    ),
    ("ipvs_table", {"services": dest(weight=-1)}, "services[0].destinations[0].weight", "-1"),
    ("ipvs_table", {"services": dest(weight=2147483648)}, "services[0].destinations[0].weight", "2147483648"),
    ("ipvs_table", {"services": dest(weight="heavy")}, "weight", "heavy"),
    ("ipvs_table", {"services": dest(u_threshold=4294967296)}, "services[0].destinations[0].u_threshold", "4294967296"),
    ("ipvs_table", {"services": dest(u_threshold=-5)}, "services[0].destinations[0].u_threshold", "-5"),
    ("ipvs_table", {"services": dest(l_threshold=10, u_threshold=5)}, "services[0].destinations[0].l_threshold", "10"),
    ("ipvs_table", {"services": dest(l_threshold=10)}, "services[0].destinations[0].l_threshold", "10"),
    ("ipvs_table", {"services": dest(forward="nat")}, "forward", "nat"),
    ("ipvs_table", {"services": dest(port=8080, forward="droute")}, "services[0].destinations[0].port", "8080"),
    ("ipvs_table", {"services": dest(port=70000)}, "services[0].destinations[0].port", "70000"),
    (
        "ipvs_table",
        {"services": dest(address="2001:db8:2::11", forward="masq")},
        "services[0].destinations[0].address",
        "2001:db8:2::11",
    ),
    ("ipvs_table", {"services": dest(tunnel={"type": "gre"})}, "services[0].destinations[0].tunnel", "gre"),
    ("ipvs_table", {"services": tun(type="gue")}, "services[0].destinations[0].tunnel.port", MISSING),
    ("ipvs_table", {"services": tun(type="gue", port=0)}, "services[0].destinations[0].tunnel.port", "0"),
    ("ipvs_table", {"services": tun(type="gue", port=65536)}, "services[0].destinations[0].tunnel.port", "65536"),
    ("ipvs_table", {"services": tun(type="ipip", port=6080)}, "services[0].destinations[0].tunnel.port", "6080"),
    (
        "ipvs_table",
        {"services": tun(type="gre", flags=["remcsum"])},
        "services[0].destinations[0].tunnel.flags[0]",
        "remcsum",
    ),
    (
        "ipvs_table",
        {"services": tun(type="ipip", flags=["csum"])},
        "services[0].destinations[0].tunnel.flags[0]",
        "csum",
    ),
    (
        "ipvs_table",
        {"services": tun(type="gue", port=6080, flags=["nocsum", "csum"])},
        "services[0].destinations[0].tunnel.flags",
        "nocsum",
    ),
    ("ipvs_table", {"services": tun(type="vxlan")}, "type", "vxlan"),
    ("ipvs_table", {"services": tun(type="gue", port=6080, flags=["gso"])}, "flags", "gso"),
    (
        "ipvs_table",
        {"services": svc(destinations=[{"address": "192.0.2.11"}, {"address": "192.0.2.11", "weight": 2}])},
        "services[0].destinations[1]",
        "192.0.2.11:80",
    ),
    ("ipvs_table", {"services": svc(destinations=[{"port": 80}])}, "address", MISSING),
    ("ipvs_table", {"services": svc(), "scope": "everything"}, "scope", "everything"),
    ("ipvs_table", {"services": [], "scope": "addresses", "scope_addresses": ["nope"]}, "scope_addresses[0]", "nope"),
    (
        "ipvs_table",
        {"services": [], "scope": "addresses", "scope_addresses": ["2001:db8::1%eth0"]},
        "scope_addresses[0]",
        "2001:db8::1%eth0",
    ),
    ("ipvs_table", {"services": [], "scope": "addresses", "scope_fwmarks": [0]}, "scope_fwmarks[0]", "0"),
    ("ipvs_table", {"services": "web"}, "services", "web"),
    ("ipvs_table", {"services": svc(), "lock_timeout": "soon"}, "lock_timeout", "soon"),
    ("ipvs_table", {"services": svc(), "rollback": "maybe"}, "rollback", "maybe"),
    # ipvs_service
    ("ipvs_service", {"scheduler": "rr"}, "address", MISSING),
    ("ipvs_service", {"fwmark": 5, "address": "203.0.113.1"}, "fwmark", MISSING),
    ("ipvs_service", {"address": "203.0.113.1%eth0", "port": 80}, "address", "203.0.113.1%eth0"),
    ("ipvs_service", {"protocol": "sctp", "address": "203.0.113.1", "port": 80, "flags": ["ops"]}, "flags[0]", "ops"),
    ("ipvs_service", {**WEB, "scheduler": "random"}, "scheduler", "random"),
    ("ipvs_service", {**WEB, "flags": ["persistent"], "timeout": -5}, "timeout", "-5"),
    (
        "ipvs_service",
        {**WEB, "destinations": [{"address": "192.0.2.11", "weight": -1}]},
        "destinations[0].weight",
        "-1",
    ),
    ("ipvs_service", {**WEB, "state": "gone"}, "state", "gone"),
    ("ipvs_service", {**WEB, "flags": ["persistent"], "netmask": "x"}, "netmask", "x"),
    ("ipvs_service", {"address": "203.0.113.1", "port": 70000}, "port", "70000"),
    ("ipvs_service", {"address": "2001:db8::1", "port": 80, "flags": ["persistent"], "netmask": 129}, "netmask", "129"),
    ("ipvs_service", {**WEB, "state": "absent", "scheduler": "quick"}, "scheduler", "quick"),
    # ipvs_destination: checked before the kernel is read, services named or not, whatever the state
    ("ipvs_destination", {"address": "192.0.2.11", "weight": -1}, "weight", "-1"),
    ("ipvs_destination", {"address": "192.0.2.11", "port": 65536}, "port", "65536"),
    ("ipvs_destination", {"address": "192.0.2.11", "weight": -1, "state": "absent"}, "weight", "-1"),
    ("ipvs_destination", {"address": "192.0.2.11", "u_threshold": -1, "state": "absent"}, "u_threshold", "-1"),
    ("ipvs_destination", {"address": "192.0.2.11%eth0"}, "address", "192.0.2.11%eth0"),
    ("ipvs_destination", {"address": "fe80::11%eth0", "weight": 0}, "address", "fe80::11%eth0"),
    ("ipvs_destination", {"address": "not-an-ip"}, "address", "not-an-ip"),
    ("ipvs_destination", {"address": "192.0.2.11", "l_threshold": 10, "u_threshold": 5}, "l_threshold", "10"),
    ("ipvs_destination", {"address": "192.0.2.11", "tunnel": {"type": "gue"}}, "tunnel.port", MISSING),
    ("ipvs_destination", {"address": "192.0.2.11", "forward": "masq", "tunnel": {"type": "gre"}}, "tunnel", "gre"),
    ("ipvs_destination", {"address": "192.0.2.11", "state": "drain"}, "state", "drain"),
    (
        "ipvs_destination",
        {"address": "192.0.2.11", "services": [{"address": "203.0.113.300", "port": 80}]},
        "services[0].address",
        "203.0.113.300",
    ),
    (
        "ipvs_destination",
        {"address": "192.0.2.11", "services": [{"fwmark": 9, "address": "203.0.113.1"}]},
        "services[0].address",
        "203.0.113.1",
    ),
    (
        "ipvs_destination",
        {"address": "192.0.2.13", "services": [{"protocol": "tcp", "address": "203.0.113.9", "port": 80}]},
        "services[0]",
        "tcp 203.0.113.9:80",
    ),
    ("ipvs_destination", {"address": "192.0.2.11", "services": [WEB], "weight": 2**31}, "weight", "2147483648"),
    ("ipvs_destination", {"address": "192.0.2.11", "lock_timeout": "x"}, "lock_timeout", "x"),
    # ipvs_timeouts
    ("ipvs_timeouts", {"tcp": 0}, "tcp", "0"),
    ("ipvs_timeouts", {"udp": -1}, "udp", "-1"),
    ("ipvs_timeouts", {"tcpfin": 2147484}, "tcpfin", "2147484"),
    ("ipvs_timeouts", {"tcp": 2147483647}, "tcp", "2147483647"),
    ("ipvs_timeouts", {"tcp": 900, "udp": 4294967296}, "udp", "4294967296"),
    ("ipvs_timeouts", {"tcp": "long"}, "tcp", "long"),
    ("ipvs_timeouts", {}, "tcp, tcpfin, udp", MISSING),
    # ipvs_sync_daemon: checked before the running daemon is stopped
    ("ipvs_sync_daemon", {"role": "master", "interface": "nosuch0"}, "interface", "nosuch0"),
    ("ipvs_sync_daemon", {"role": "master", "interface": "\u00e9th0"}, "interface", "\u00e9th0"),
    ("ipvs_sync_daemon", {"role": "master", "interface": "lvsync\x000"}, "interface", "lvsync"),
    ("ipvs_sync_daemon", {"role": "master", "interface": "x" * 16}, "interface", "x" * 16),
    ("ipvs_sync_daemon", {"role": "master", "interface": "lvsync0/x"}, "interface", "lvsync0/x"),
    ("ipvs_sync_daemon", {"role": "master", "interface": "lvsync0", "ttl": 0}, "ttl", "0"),
    ("ipvs_sync_daemon", {"role": "master", "interface": "lvsync0", "ttl": 256}, "ttl", "256"),
    ("ipvs_sync_daemon", {"role": "master", "interface": "lvsync0", "port": 0}, "port", "0"),
    ("ipvs_sync_daemon", {"role": "master", "interface": "lvsync0", "port": 65536}, "port", "65536"),
    ("ipvs_sync_daemon", {"role": "master", "interface": "lvsync0", "max_len": 0}, "max_len", "0"),
    ("ipvs_sync_daemon", {"role": "master", "interface": "lvsync0", "max_len": 70000}, "max_len", "70000"),
    ("ipvs_sync_daemon", {"role": "master", "interface": "lvsync0", "group": "192.0.2.1"}, "group", "192.0.2.1"),
    (
        "ipvs_sync_daemon",
        {"role": "master", "interface": "lvsync0", "group": "ff02::1%lvsync0"},
        "group",
        "ff02::1%lvsync0",
    ),
    ("ipvs_sync_daemon", {"role": "master", "interface": "lvsync0", "sync_id": 256}, "sync_id", "256"),
    ("ipvs_sync_daemon", {"role": "primary", "interface": "lvsync0"}, "role", "primary"),
    ("ipvs_sync_daemon", {"role": "backup"}, "interface", MISSING),
    ("ipvs_sync_daemon", {"role": "backup", "interface": "lvsync1", "ttl": "one"}, "ttl", "one"),
    # ipvs_info
    ("ipvs_info", {"stats": "maybe"}, "stats", "maybe"),
]

# (filter, its input, its arguments, the field, the value)
RULES_NO_PORT = "-A -t 203.0.113.1 -s rr\n"
FILTER_CASES = [
    ("ipvsadm_rules", RULES_NO_PORT, (), "line 1", "203.0.113.1"),
    ("ipvsadm_rules", "-X foo\n", (), "line 1", "-X"),
    ("ipvsadm_rules", "-a -t 203.0.113.1:80 -r 192.0.2.1:80 -m\n", (), "line 1", "203.0.113.1:80"),
    (
        "ipvsadm_rules",
        "-A -t 203.0.113.1:80 -s rr\n-a -t 203.0.113.1:80 -r 192.0.2.1:80 -w heavy\n",
        (),
        "line 2",
        "heavy",
    ),
    ("ipvsadm_rules", "-A -f five -s rr\n", (), "line 1", "five"),
    ("to_ipvsadm_rules", [{**WEB, "scheduler": "fast"}], (), "services[0].scheduler", "fast"),
    ("to_ipvsadm_rules", [{"address": "203.0.113.1%eth0", "port": 80}], (), "services[0].address", "203.0.113.1%eth0"),
    ("to_ipvsadm_rules", [{**WEB, "flags": ["one-packet"]}], (), "services[0].flags[0]", "one-packet"),
]

NAT = {
    "name": "web",
    "mode": "nat",
    "address": "203.0.113.100",
    "port": 80,
    "real_servers": [{"host": "rs1", "address": "192.0.2.11"}],
}
TOPOLOGY_CASES = [
    ({"directors": 10}, "lvs_virtual_services[0].directors", "10"),
    ({"directors": "director10"}, "lvs_virtual_services[0].directors", "director10"),
    ({"directors": ["director1", 7]}, "lvs_virtual_services[0].directors[1]", "7"),
    ({"directors": []}, "lvs_virtual_services[0].directors", "[]"),
    ({"ports": [80, 443]}, "lvs_virtual_services[0].ports", "[80, 443]"),
    (
        {"real_servers": [{"host": ["rs1", "rs2"], "address": "192.0.2.11"}]},
        "lvs_virtual_services[0].real_servers[0].host",
        "['rs1', 'rs2']",
    ),
    ({"real_servers": [{"address": "192.0.2.11"}]}, "lvs_virtual_services[0].real_servers[0].host", MISSING),
    ({"mode": "bridge"}, "lvs_virtual_services[0].mode", "bridge"),
    (
        {"mode": "dr", "real_servers": [{"host": "rs1", "address": "192.0.2.11", "port": 8080}]},
        "lvs_virtual_services[0].real_servers[0].port",
        "8080",
    ),
    ({"name": None}, "lvs_virtual_services[0].name", "None"),
    ({"tunnel": {"type": "gre"}}, "lvs_virtual_services[0].tunnel", "gre"),
    ({"address": "203.0.113.100%eth0"}, "lvs_virtual_services[0].address", "203.0.113.100%eth0"),
    ({"protocol": "tcp", "flags": ["one-packet"]}, "lvs_virtual_services[0].flags[0]", "one-packet"),
    ({"fwmark": 3, "ports": [80], "port": None, "protocol": "icmp"}, "lvs_virtual_services[0].protocol", "icmp"),
    ({"mode": "tun", "address": "2001:db8:113::100"}, "lvs_virtual_services[0].real_servers[0].address", "192.0.2.11"),
]


@pytest.fixture(scope="module")
def director():
    """The guest's own namespace as a director with a table, timeouts and two sync daemons."""
    setup = """
set -e
modprobe ip_vs
ipvsadm -C
ipvsadm -A -t 203.0.113.1:80 -s rr
ipvsadm -a -t 203.0.113.1:80 -r 192.0.2.11:80 -m -w 1
ipvsadm -a -t 203.0.113.1:80 -r 192.0.2.12:80 -m -w 3
ipvsadm -A -u 203.0.113.1:53 -s sh -b sh-port
ipvsadm -a -u 203.0.113.1:53 -r 192.0.2.11:53 -m -w 1
ipvsadm -A -f 7 -s wlc -p 120
ipvsadm --set 901 121 301
ip link add lvsync0 type veth peer name lvsync1
# A link-local address at once (and again after IPv6 is switched back on),
# which a daemon sending to an IPv6 group binds to.
sysctl -qw net.ipv6.conf.lvsync0.accept_dad=0 net.ipv6.conf.lvsync1.accept_dad=0
ip link set lvsync0 up
ip link set lvsync1 up
ipvsadm --start-daemon master --mcast-interface lvsync0 --syncid 3
ipvsadm --start-daemon backup --mcast-interface lvsync1 --syncid 4
"""
    subprocess.run(["sh", "-c", setup], check=True)
    before = ipvs_state()
    assert "master sync daemon" in before and "backup sync daemon" in before and "-A -f 7" in before
    yield before
    subprocess.run(
        "ipvsadm --stop-daemon master; ipvsadm --stop-daemon backup; ipvsadm -C; ip link del lvsync0",
        shell=True,
        check=False,
    )


def assert_named(message: str, field: str, value: str | None) -> None:
    assert field in message, f"the field {field!r} is not named in: {message}"
    if value is not None:
        assert value in message, f"the value {value!r} is not shown in: {message}"


def test_there_are_at_least_a_hundred_cases():
    assert len(MODULE_CASES) + len(FILTER_CASES) + len(TOPOLOGY_CASES) >= 100


@pytest.mark.parametrize(("module", "args", "field", "value"), MODULE_CASES)
def test_a_module_refuses_bad_input_and_changes_nothing(director, module, args, field, value):
    result = run_module(module, args)
    assert result.get("failed") is True, result
    assert result.get("changed") in (None, False), result
    assert_named(result["msg"], field, value)
    assert ipvs_state() == director


@pytest.mark.parametrize(("name", "given", "args", "field", "value"), FILTER_CASES)
def test_a_filter_refuses_bad_input(director, name, given, args, field, value):
    from ansible_collections.lvs.ipvs.plugins.filter.ipvsadm import FilterModule

    with pytest.raises(AnsibleFilterError) as caught:
        FilterModule().filters()[name](given, *args)
    assert_named(str(caught.value), field, value)
    assert ipvs_state() == director


@pytest.mark.parametrize(("entry", "field", "value"), TOPOLOGY_CASES)
@pytest.mark.parametrize("name", ["director_plan", "real_server_plan"])
def test_the_plan_filters_refuse_bad_input(director, name, entry, field, value):
    from ansible_collections.lvs.ipvs.plugins.filter.lvs_topology import FilterModule

    services = [{**NAT, **entry}]
    with pytest.raises(AnsibleFilterError) as caught:
        FilterModule().filters()[name](services, "rs1")
    assert str(caught.value).startswith(f"{name}: ")
    assert_named(str(caught.value), field, value)
    assert ipvs_state() == director


def test_one_service_under_two_names_is_refused(director):
    from ansible_collections.lvs.ipvs.plugins.filter.lvs_topology import FilterModule

    services = [NAT, {**NAT, "name": "web-again", "mode": "dr"}]
    with pytest.raises(AnsibleFilterError) as caught:
        FilterModule().filters()["director_plan"](services, "director1")
    assert_named(str(caught.value), "lvs_virtual_services[1]", "web-again")


def test_a_director_name_is_matched_whole(director):
    from ansible_collections.lvs.ipvs.plugins.filter.lvs_topology import FilterModule

    services = [{**NAT, "directors": ["director10"]}]
    assert FilterModule().filters()["director_plan"](services, "director1")["services"] == []
    [warning] = FilterModule().filters()["lvs_not_in_inventory"](services, ["director1", "rs1"])
    assert_named(warning, "lvs_virtual_services[0].directors[0]", "director10")


def test_the_sync_daemon_settings_given_as_the_kernel_keeps_them_change_nothing(director):
    # A daemon started with a port, a TTL and a length is not restarted on the next run.
    args = {"role": "master", "interface": "lvsync0", "sync_id": 3, "port": 8848, "ttl": 1, "max_len": 1400}
    first = run_module("ipvs_sync_daemon", args)
    assert first["changed"] is True and first["daemon"]["sync_maxlen"] == 1400, first
    again = run_module("ipvs_sync_daemon", args)
    assert again["changed"] is False, again
    back = run_module("ipvs_sync_daemon", {"role": "master", "interface": "lvsync0", "sync_id": 3})
    assert back["changed"] is False, back
    # Put the original daemon back (it had the kernel's length).
    subprocess.run(
        "ipvsadm --stop-daemon master && ipvsadm --start-daemon master --mcast-interface lvsync0 --syncid 3",
        shell=True,
        check=True,
    )
    assert ipvs_state() == director


def test_the_kernels_refusal_of_a_daemon_restarts_the_old_one(director):
    # Every setting valid, but the kernel refuses an IPv6 group on an
    # interface whose IPv6 is disabled (ENETUNREACH), after the module
    # stopped the running daemon to restart it: the old one runs again.
    subprocess.run(["sysctl", "-qw", "net.ipv6.conf.lvsync0.disable_ipv6=1"], check=True)
    try:
        result = run_module(
            "ipvs_sync_daemon", {"role": "master", "interface": "lvsync0", "sync_id": 3, "group": "ff02::1:81"}
        )
    finally:
        subprocess.run(["sysctl", "-qw", "net.ipv6.conf.lvsync0.disable_ipv6=0"], check=True)
    assert result.get("failed") is True, result
    assert "IPVS start daemon master on lvsync0" in result["msg"]
    assert result["msg"].endswith("the daemon that ran before runs again, unchanged [ENETUNREACH]"), result["msg"]
    assert ipvs_state() == director


def test_when_the_old_daemon_cannot_start_again_either_the_report_says_so(director):
    # The running daemon sends to an IPv6 group; then the interface loses
    # IPv6, so the kernel refuses the new daemon and the old one alike.
    restore = "ipvsadm --start-daemon master --mcast-interface lvsync0 --syncid 3"
    subprocess.run(
        "ipvsadm --stop-daemon master && "
        "ipvsadm --start-daemon master --mcast-interface lvsync0 --syncid 3 --mcast-group ff02::1:81 && "
        "sysctl -qw net.ipv6.conf.lvsync0.disable_ipv6=1",
        shell=True,
        check=True,
    )
    try:
        result = run_module(
            "ipvs_sync_daemon", {"role": "master", "interface": "lvsync0", "sync_id": 5, "group": "ff02::1:81"}
        )
        assert result.get("failed") is True, result
        assert "could not be started again either" in result["msg"], result["msg"]
        assert "no master daemon runs now" in result["msg"]
        daemons = subprocess.run(["ipvsadm", "-L", "--daemon"], capture_output=True, text=True, check=True).stdout
        assert "master sync daemon" not in daemons and "backup sync daemon" in daemons
    finally:
        subprocess.run(
            f"sysctl -qw net.ipv6.conf.lvsync0.disable_ipv6=0; ipvsadm --stop-daemon master; {restore}",
            shell=True,
            check=False,
        )
    assert ipvs_state() == director
