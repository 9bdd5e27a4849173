# Copyright (c) 2026 lvs.ipvs developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The roles' data model: each host's plan from lvs_virtual_services, and the errors for bad entries."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_validate import ValidationError
from ansible_collections.lvs.ipvs.plugins.module_utils._lvs_topology import (
    director_plan,
    not_in_inventory,
    real_server_plan,
)

WEB = {"name": "web", "address": "203.0.113.100", "port": 80, "scheduler": "rr"}


def service(mode, *hosts, **extra):
    servers = [{"host": host, "address": f"192.0.2.{11 + i}"} for i, host in enumerate(hosts)]
    return {**WEB, "name": f"web-{mode}", "mode": mode, "real_servers": servers, **extra}


def test_each_mode_forwards_its_own_way():
    forwards = {
        mode: [d["forward"] for d in director_plan([service(mode, "rs1")])["services"][0]["destinations"]]
        for mode in ("nat", "dr", "tun", "fullnat")
    }
    assert forwards == {"nat": ["masq"], "dr": ["droute"], "tun": ["tunnel"], "fullnat": ["masq"]}


def test_director_plan_has_vips_modules_sysctls_and_full_nat_snat():
    plan = director_plan(
        [
            service("fullnat", "rs1", "rs2"),
            {**service("dr", "rs3"), "name": "dns", "protocol": "udp", "port": 53, "scheduler": "sh"},
            {**service("nat", "rs4"), "name": "mark", "port": None, "fwmark": 7, "ports": [443, 80]},
        ]
    )
    assert plan["vips"] == [{"address": "203.0.113.100", "prefix": 32, "family": "ipv4"}]
    assert plan["modules"] == ["ip_vs", "ip_vs_rr", "ip_vs_sh"]
    assert plan["sysctls"]["net.ipv4.vs.conntrack"] == 1 and plan["sysctls"]["net.ipv4.ip_forward"] == 1
    assert plan["sysctls"]["net.ipv4.vs.expire_quiescent_template"] == 1
    assert plan["snat"] == [
        {"family": "ipv4", "protocol": "tcp", "address": "192.0.2.11", "ports": [80], "to": None},
        {"family": "ipv4", "protocol": "tcp", "address": "192.0.2.12", "ports": [80], "to": None},
    ]
    assert plan["marks"] == [
        {"fwmark": 7, "family": "ipv4", "address": "203.0.113.100", "protocol": "tcp", "ports": [80, 443]}
    ]
    assert (plan["addresses"], plan["fwmarks"]) == (["203.0.113.100"], [7])


def test_a_director_serves_only_the_services_that_name_it():
    services = [service("nat", "rs1", directors=["d1"]), {**service("nat", "rs1"), "name": "all", "port": 81}]
    assert [s["port"] for s in director_plan(services, "d2")["services"]] == [81]
    assert len(director_plan(services, "d1")["services"]) == 2


def test_real_server_plan_per_mode():
    services = [
        service("dr", "rs1"),
        {**service("tun", "rs1"), "name": "tun", "address": "203.0.113.102"},
        {**service("tun", "rs1"), "name": "gue", "address": "203.0.113.103", "tunnel": {"type": "gue", "port": 6080}},
        {**service("nat", "rs2"), "port": 8080},
    ]
    plan = real_server_plan(services, "rs1")
    assert plan["modes"] == ["dr", "tun"]
    assert [(v["address"], v["device"]) for v in plan["vips"]] == [
        ("203.0.113.100", "lo"),
        ("203.0.113.102", "tunl0"),
        ("203.0.113.103", "tunl0"),
    ]
    assert plan["sysctls"] == {
        "net.ipv4.conf.all.arp_ignore": 1,
        "net.ipv4.conf.all.arp_announce": 2,
        "net.ipv4.conf.all.rp_filter": 0,
        "net.ipv4.conf.tunl0.rp_filter": 0,
    }
    assert (plan["modules"], plan["fou_ports"]) == (["fou", "ipip"], [{"port": 6080, "family": "ipv4"}])
    assert real_server_plan(services, "rs2") == {
        "modes": ["nat"],
        "nat_gateway": {},
        "vips": [],
        "tunnels": [],
        "fou_ports": [],
        "sysctls": {},
        "modules": [],
    }


def tun6(name, vip, **extra):
    servers = [{"host": "rs1", "address": "2001:db8:2::21"}]
    return {**WEB, "name": name, "mode": "tun", "address": vip, "real_servers": servers, **extra}


def test_each_tunnel_type_and_family_has_its_own_device():
    services = [
        {**service("tun", "rs1"), "name": "ipip4", "address": "203.0.113.102"},
        {**service("tun", "rs1"), "name": "gue4", "address": "203.0.113.105", "tunnel": {"type": "gue", "port": 6080}},
        {**service("tun", "rs1"), "name": "gre4", "address": "203.0.113.106", "tunnel": {"type": "gre"}},
        tun6("ipip6", "2001:db8:113::102"),
        tun6("gue6", "2001:db8:113::105", tunnel={"type": "gue", "port": 6080}),
        tun6("gre6", "2001:db8:113::106", tunnel={"type": "gre"}),
    ]
    plan = real_server_plan(services, "rs1")
    assert [(v["address"], v["prefix"], v["device"]) for v in plan["vips"]] == [
        ("203.0.113.102", 32, "tunl0"),
        ("203.0.113.105", 32, "tunl0"),
        ("203.0.113.106", 32, "gre0"),
        ("2001:db8:113::102", 128, "ip6tnl0"),
        ("2001:db8:113::105", 128, "ip6tnl0"),
        ("2001:db8:113::106", 128, "ip6gre0"),
    ]
    assert plan["tunnels"] == ["gre0", "ip6gre0", "ip6tnl0", "tunl0"]
    assert plan["modules"] == ["fou", "ip6_gre", "ip6_tunnel", "ip_gre", "ipip"]
    # One port, one GUE socket per family.
    assert plan["fou_ports"] == [{"port": 6080, "family": "ipv4"}, {"port": 6080, "family": "ipv6"}]
    # rp_filter is IPv4's alone: only the IPv4 devices are relaxed.
    assert {key for key in plan["sysctls"] if key.endswith("rp_filter")} == {
        "net.ipv4.conf.all.rp_filter",
        "net.ipv4.conf.tunl0.rp_filter",
        "net.ipv4.conf.gre0.rp_filter",
    }


@pytest.mark.parametrize(
    ("kind", "device", "module"),
    [({"type": "ipip"}, "ip6tnl0", "ip6_tunnel"), ({"type": "gre"}, "ip6gre0", "ip6_gre")],
)
def test_ipv6_tunnels_need_no_ipv4_settings(kind, device, module):
    plan = real_server_plan([tun6("v6", "2001:db8:113::102", tunnel=kind)], "rs1")
    assert (plan["tunnels"], plan["modules"], plan["fou_ports"]) == ([device], [module], [])
    assert plan["sysctls"] == {"net.ipv4.conf.all.arp_ignore": 1, "net.ipv4.conf.all.arp_announce": 2}


@pytest.mark.parametrize(
    ("vip", "server", "message"),
    [
        (
            "2001:db8:113::102",
            "192.0.2.21",
            "lvs_virtual_services[0].real_servers[0].address: '192.0.2.21': is ipv4 in an ipv6 tun service",
        ),
        (
            "203.0.113.102",
            "2001:db8:2::21",
            "lvs_virtual_services[0].real_servers[0].address: '2001:db8:2::21': is ipv6 in an ipv4 tun service",
        ),
    ],
)
def test_a_tunnel_across_families_is_refused(vip, server, message):
    entry = {**WEB, "name": "x", "mode": "tun", "address": vip, "real_servers": [{"host": "rs1", "address": server}]}
    with pytest.raises(ValidationError) as caught:
        real_server_plan([entry], "rs1")
    assert str(caught.value).startswith(message)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"mode": "bridge"}, "lvs_virtual_services[0].mode: 'bridge': must be one of nat, dr, tun, fullnat"),
        (
            {"mode": "dr", "real_servers": [{"host": "rs1", "address": "192.0.2.11", "port": 8080}]},
            "lvs_virtual_services[0].real_servers[0].port: 8080: differs from the service port 80",
        ),
        ({"mode": "nat", "tunnel": {"type": "gre"}}, "lvs_virtual_services[0].tunnel"),
        (
            {"mode": "nat", "real_servers": [{"address": "192.0.2.11"}]},
            "lvs_virtual_services[0].real_servers[0].host: must be the inventory name of the real server",
        ),
        ({"mode": "nat", "port": None, "fwmark": 3}, "lvs_virtual_services[0].ports: a fwmark service needs"),
        ({"mode": "nat", "fwmark": 3, "ports": [80]}, "lvs_virtual_services[0].port: 80: a fwmark service takes"),
        ({"mode": "nat", "scheduler": "fastest"}, "lvs_virtual_services[0].scheduler: 'fastest': unknown scheduler"),
        # directors: a list of inventory names, matched whole.
        ({"mode": "nat", "directors": 10}, "lvs_virtual_services[0].directors: 10: must be a list"),
        ({"mode": "nat", "directors": "director10"}, "lvs_virtual_services[0].directors: 'director10': must be a list"),
        ({"mode": "nat", "directors": ["d1", 2]}, "lvs_virtual_services[0].directors[1]: 2: must be an inventory host"),
        ({"mode": "nat", "directors": []}, "lvs_virtual_services[0].directors: []: names no director"),
        (
            {"mode": "nat", "real_servers": [{"host": ["rs1", "rs2"], "address": "192.0.2.11"}]},
            "lvs_virtual_services[0].real_servers[0].host: ['rs1', 'rs2']: must be the inventory name",
        ),
        ({"mode": "nat", "ports": [80, 443]}, "lvs_virtual_services[0].ports: [80, 443]: only a fwmark service"),
        ({"mode": "nat", "address": "2001:db8::5%eth0"}, "lvs_virtual_services[0].address: '2001:db8::5%eth0'"),
        ({"mode": "nat", "protocol": "tcp", "flags": ["one-packet"]}, "lvs_virtual_services[0].flags[0]"),
    ],
)
def test_bad_entries_are_named(entry, message):
    with pytest.raises(ValidationError) as caught:
        director_plan([{**WEB, **entry}])
    assert str(caught.value).startswith(message)


def test_a_director_is_matched_by_its_whole_name():
    services = [service("nat", "rs1", directors=["director10"])]
    assert director_plan(services, "director1")["services"] == []
    assert len(director_plan(services, "director10")["services"]) == 1


def test_one_service_under_two_names_is_refused():
    with pytest.raises(ValidationError) as caught:
        director_plan([service("nat", "rs1"), {**service("dr", "rs2"), "name": "again"}])
    assert str(caught.value) == (
        "lvs_virtual_services[1]: 'again': same service as lvs_virtual_services[0]; list each service once"
    )


def test_hosts_not_in_the_inventory_are_listed_not_refused():
    services = [
        {**service("nat", "rs1"), "directors": ["director10"]},
        {**service("dr", "rs9"), "name": "dns", "protocol": "udp", "port": 53},
    ]
    reason = "is not a host of this inventory, so nothing here acts on it"
    assert not_in_inventory(services, ["director1", "rs1"]) == [
        f"lvs_virtual_services[0].directors[0]: 'director10': {reason}",
        f"lvs_virtual_services[1].real_servers[0].host: 'rs9': {reason}",
    ]
    assert not_in_inventory(services, ["director10", "rs1", "rs9"]) == []
    # The list is checked as a whole all the same.
    with pytest.raises(ValidationError, match="same service as"):
        not_in_inventory([service("nat", "rs1"), {**service("dr", "rs1"), "name": "x"}], ["rs1"])


def test_names_are_unique():
    with pytest.raises(ValidationError, match=r"lvs_virtual_services\[1\].name: 'web-nat': is also the name of"):
        director_plan([service("nat", "rs1"), {**service("nat", "rs1"), "port": 81}])


def test_the_lab_topology_of_every_mode_is_a_valid_model():
    path = Path(__file__).resolve().parents[4] / "tests" / "lab" / "topologies" / "modes.yml"
    services = yaml.safe_load(path.read_text())["vars"]["lvs_virtual_services"]
    plan = director_plan(services)
    assert plan["modes"] == ["dr", "fullnat", "nat", "tun"]
    rs1 = real_server_plan(services, "rs1")
    assert rs1["modes"] == ["dr", "fullnat", "tun"]
    assert {(vip["address"], vip["device"]) for vip in rs1["vips"]} == {
        ("203.0.113.101", "lo"),
        ("2001:db8:113::101", "lo"),
        ("203.0.113.102", "tunl0"),
        ("2001:db8:113::102", "ip6tnl0"),
        ("203.0.113.105", "tunl0"),
        ("2001:db8:113::105", "ip6tnl0"),
        ("203.0.113.106", "gre0"),
        ("2001:db8:113::106", "ip6gre0"),
    }
    assert rs1["fou_ports"] == [{"port": 6080, "family": "ipv4"}, {"port": 6080, "family": "ipv6"}]
    # Full NAT over IPv6: the director masquerades to each IPv6 real server and forwards IPv6.
    assert {"family": "ipv6", "protocol": "tcp", "address": "2001:db8:2::21", "ports": [80], "to": None} in plan["snat"]
    assert plan["sysctls"]["net.ipv6.conf.all.forwarding"] == 1
    assert real_server_plan(services, "nat1")["vips"] == []
