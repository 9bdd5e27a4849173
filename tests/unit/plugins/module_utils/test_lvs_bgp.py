# Copyright (c) 2026 lvs.ipvs developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Active-active director groups in the roles' model: the plan of each director, and the errors for bad input."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_validate import ValidationError
from ansible_collections.lvs.ipvs.plugins.module_utils._lvs_topology import director_plan, real_server_plan

GROUP = {
    "name": "edge",
    "mode": "active_active",
    "directors": [
        {"host": "d1", "address": "10.0.1.11"},
        {"host": "d2", "address": "10.0.1.12"},
        {"host": "d3", "address": "10.0.1.13"},
    ],
    "bgp": {"asn": 65001, "peers": [{"address": "10.0.1.1", "asn": 65000}]},
}
CHECK = {"type": "tcp", "interval": 1, "timeout": 1}


def web(name="web", mode="dr", address="203.0.113.10", port=80, **extra):
    servers = [{"host": f"rs{i}", "address": f"192.0.2.{20 + i}"} for i in range(1, 5)]
    base = {"name": name, "mode": mode, "address": address, "port": port, "real_servers": servers}
    return {**base, "director_group": "edge", "scheduler": "mh", "health_check": dict(CHECK), **extra}


def error(services, groups=None, host="d1"):
    with pytest.raises(ValidationError) as caught:
        director_plan(services, host, [GROUP] if groups is None else groups)
    return str(caught.value)


def group(**changes):
    result = copy.deepcopy(GROUP)
    result.update(changes)
    return result


def test_every_director_holds_the_vips_on_lo_and_announces_them():
    plan = director_plan([web(), web(name="tls", port=443)], "d2", [GROUP])
    # ipvs_table owns nothing of the group: keepalived does, with its checks.
    assert plan["services"] == [] and plan["group_vips"] == []
    assert plan["vips"] == [{"address": "203.0.113.10", "prefix": 32, "family": "ipv4", "device": "lo"}]
    assert plan["sysctls"]["net.ipv4.vs.sloppy_tcp"] == 1 and plan["sysctls"]["net.ipv4.vs.sloppy_sctp"] == 1
    assert plan["sysctls"]["net.ipv4.conf.all.arp_ignore"] == 1
    assert plan["sysctls"]["net.ipv4.conf.all.arp_announce"] == 2
    assert "ip_vs_mh" in plan["modules"]
    bgp = plan["bgp"]
    assert (bgp["router_id"], bgp["asn"], bgp["hold_time"]) == ("10.0.1.12", 65001, 9)
    assert bgp["bfd"] == {"interval": 0.3, "multiplier": 3}
    assert [(p["address"], p["asn"], p["family"]) for p in bgp["peers"]] == [("10.0.1.1", 65000, "ipv4")]
    (vip,) = bgp["vips"]
    # Both services of the VIP must be fit; half of 4 real servers by default.
    assert [(s["key"], s["quorum"]) for s in vip["services"]] == [
        ("tcp-203.0.113.10-80", 2),
        ("tcp-203.0.113.10-443", 2),
    ]
    keepalived = plan["keepalived"]
    assert keepalived["instances"] == [] and keepalived["sync"] is None
    assert [s["announce_key"] for s in keepalived["virtual_servers"]] == ["tcp-203.0.113.10-80", "tcp-203.0.113.10-443"]
    # A failed real server stays in mh's list, at weight 0.
    assert all(s["check"]["inhibit_on_failure"] for s in keepalived["virtual_servers"])


def test_min_healthy_is_a_share_of_the_weight_and_quorum_wins_when_given():
    plan = director_plan([web()], "d1", [group(announce={"min_healthy": 75})])
    assert plan["bgp"]["vips"][0]["services"][0]["quorum"] == 3
    plan = director_plan([web(quorum=1)], "d1", [GROUP])
    assert plan["bgp"]["vips"][0]["services"][0]["quorum"] == 1


def test_a_director_outside_the_group_announces_nothing_and_real_servers_are_dr_ones():
    assert director_plan([web()], "elsewhere", [GROUP])["bgp"] is None
    assert real_server_plan([web()], "rs1", [GROUP])["modes"] == ["dr"]


def test_bfd_and_hold_time_can_be_set_or_bfd_turned_off():
    plan = director_plan([web()], "d1", [group(bgp={**GROUP["bgp"], "bfd": {"interval": 0.1}, "hold_time": 3})])
    assert plan["bgp"]["bfd"] == {"interval": 0.1, "multiplier": 3} and plan["bgp"]["hold_time"] == 3
    plan = director_plan([web()], "d1", [group(bgp={**GROUP["bgp"], "bfd": False})])
    assert plan["bgp"]["bfd"] is None


def test_an_ipv6_vip_goes_to_an_ipv6_peer():
    peers = [{"address": "10.0.1.1", "asn": 65000}, {"address": "fd00::1", "asn": 65000}]
    servers = [{"host": f"rs{i}", "address": f"2001:db8:2::{20 + i}"} for i in range(1, 5)]
    v6 = web(address="2001:db8::10", real_servers=servers)
    plan = director_plan([v6], "d1", [group(bgp={"asn": 65001, "peers": peers})])
    assert plan["bgp"]["vips"][0]["prefix"] == 128 and plan["vips"][0]["device"] == "lo"
    assert error([v6]) == (
        "lvs_director_groups[0].bgp.peers: ['10.0.1.1']: has no ipv6 peer, and group edge has ipv6 VIPs to announce"
    )


@pytest.mark.parametrize(
    ("service", "message"),
    [
        (
            web(scheduler="wrr"),
            "lvs_virtual_services[0].scheduler: 'wrr': must be mh in active_active group edge: every director must pick"
            " the same real server for a flow, which only Maglev hashing over the same list does",
        ),
        (
            web(mode="nat"),
            "lvs_virtual_services[0].mode: 'nat': cannot be in active_active group edge: the replies would come back"
            " through whichever director the router picks, which has no state for the connection; use dr or tun",
        ),
        (web(mode="fullnat"), "lvs_virtual_services[0].mode: 'fullnat': cannot be in active_active group edge"),
        (
            web(health_check={"type": "none"}),
            "lvs_virtual_services[0].health_check: 'none': a service of active_active group edge needs a health check",
        ),
        (
            web(health_check={**CHECK, "inhibit_on_failure": False}),
            "lvs_virtual_services[0].health_check.inhibit_on_failure: False: must be true in an active_active group",
        ),
        (
            web(sorry_server="192.0.2.99"),
            "lvs_virtual_services[0].sorry_server: '192.0.2.99': cannot be in active_active",
        ),
    ],
)
def test_services_that_break_consistent_scheduling_are_refused(service, message):
    assert error([service]).startswith(message)


def test_a_service_without_a_health_check_is_refused():
    service = web()
    del service["health_check"]
    assert error([service]).startswith("lvs_virtual_services[0].health_check: a service of active_active group edge")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"bgp": {"asn": 0, "peers": GROUP["bgp"]["peers"]}},
            "lvs_director_groups[0].bgp.asn: 0: is reserved (RFC 7607)",
        ),
        ({"bgp": {"asn": 23456, "peers": GROUP["bgp"]["peers"]}}, "lvs_director_groups[0].bgp.asn: 23456: is AS_TRANS"),
        ({"bgp": {"asn": 4294967295, "peers": GROUP["bgp"]["peers"]}}, "lvs_director_groups[0].bgp.asn: 4294967295:"),
        ({"bgp": {"asn": "private", "peers": GROUP["bgp"]["peers"]}}, "lvs_director_groups[0].bgp.asn: 'private':"),
        (
            {"bgp": {"asn": 65001, "peers": [{"address": "router1", "asn": 65000}]}},
            "lvs_director_groups[0].bgp.peers[0].address: 'router1':",
        ),
        (
            {"bgp": {"asn": 65001, "peers": [{"address": "10.0.1.1"}]}},
            "lvs_director_groups[0].bgp.peers[0].asn: a BGP peer needs its AS number",
        ),
        (
            {"bgp": {"asn": 65001, "peers": [{"address": "10.0.1.1", "asn": 65536 * 65536}]}},
            "lvs_director_groups[0].bgp.peers[0].asn: 4294967296:",
        ),
        (
            {"bgp": {"asn": 65001, "peers": [{"address": "10.0.1.12", "asn": 65000}]}},
            "lvs_director_groups[0].bgp.peers[0].address: '10.0.1.12': is the address of the group's directors[1]",
        ),
        (
            {"bgp": {"asn": 65001, "peers": []}},
            "lvs_director_groups[0].bgp.peers: []: the directors need at least one router",
        ),
        (
            {"bgp": {**GROUP["bgp"], "hold_time": 1}},
            "lvs_director_groups[0].bgp.hold_time: 1: must be between 3 and 65535",
        ),
        (
            {"bgp": {**GROUP["bgp"], "bfd": {"interval": 0}}},
            "lvs_director_groups[0].bgp.bfd.interval: 0: must be between",
        ),
        ({"bgp": None}, "lvs_director_groups[0].bgp: an active_active group announces its VIPs over BGP"),
        (
            {"virtual_router_id": 51},
            "lvs_director_groups[0].virtual_router_id: 51: is VRRP's; an active_active group has no VRRP",
        ),
        (
            {"mode": "active-active"},
            "lvs_director_groups[0].mode: 'active-active': must be one of active_standby, active_active",
        ),
        ({"announce": {"min_healthy": 0}}, "lvs_director_groups[0].announce.min_healthy: 0: must be between 1 and 100"),
        (
            {"directors": [{"host": "d1"}]},
            "lvs_director_groups[0].directors[0].address: an active_active director needs",
        ),
        (
            {"directors": [{"host": "d1", "address": "10.0.1.11", "priority": 100}]},
            "lvs_director_groups[0].directors[0].priority: 100: is VRRP's",
        ),
        (
            {"directors": [{"host": "d1", "address": "fd00::11"}]},
            "lvs_director_groups[0].directors[0].router_id: 'fd00::11': a BGP router id is an IPv4 address",
        ),
        (
            {
                "directors": [
                    {"host": "d1", "address": "10.0.1.11"},
                    {"host": "d2", "address": "10.0.1.12", "router_id": "10.0.1.11"},
                ]
            },
            "lvs_director_groups[0].directors[1].router_id: '10.0.1.11': is also the router id of",
        ),
    ],
)
def test_bad_groups_are_refused_naming_the_field_and_the_value(changes, message):
    bad = group(**changes)
    if changes.get("bgp", ...) is None:
        del bad["bgp"]
    assert error([web()], [bad]).startswith(message)


def test_a_director_in_two_active_active_groups_is_refused():
    other = group(name="edge2", bgp={"asn": 65002, "peers": GROUP["bgp"]["peers"]})
    message = error([web(), web(name="b", address="203.0.113.20", director_group="edge2")], [GROUP, other])
    assert message.startswith(
        "lvs_director_groups[1].directors[0].host: 'd1': is also a director of active_active group"
        " lvs_director_groups[0]"
    )


def test_an_active_standby_group_is_unchanged():
    standby = {"name": "pair", "virtual_router_id": 51, "directors": ["d1", "d2"]}
    service = {**web(), "director_group": "pair", "scheduler": "wrr", "mode": "nat"}
    plan = director_plan([service], "d1", [standby])
    assert plan["bgp"] is None and plan["group_vips"] == ["203.0.113.10"] and plan["vips"] == []
    assert plan["keepalived"]["virtual_servers"][0]["announce_key"] is None
    assert plan["keepalived"]["virtual_servers"][0]["check"]["inhibit_on_failure"] is None


def test_directors_with_other_real_servers_are_refused():
    from ansible_collections.lvs.ipvs.plugins.module_utils._lvs_topology import check_active_active_views

    same = ([web()], [GROUP])
    check_active_active_views({"d1": same, "d2": same, "d3": same})
    # The model sorts real servers by address: every director's table has one order whatever the list's.
    other = web()
    other["real_servers"] = list(reversed(other["real_servers"]))
    check_active_active_views({"d1": same, "d2": ([other], [GROUP])})
    fewer = web()
    fewer["real_servers"] = fewer["real_servers"][1:]
    with pytest.raises(ValidationError) as caught:
        check_active_active_views({"d1": same, "d2": ([fewer], [GROUP])})
    assert str(caught.value).startswith("lvs_virtual_services of d2: 'web': has ['192.0.2.22:80 weight 1',")
    assert "where d1 has ['192.0.2.21:80 weight 1'," in str(caught.value)
    heavier = web()
    heavier["real_servers"][0]["weight"] = 2
    with pytest.raises(ValidationError, match="every director of active_active group edge needs the same"):
        check_active_active_views({"d1": same, "d2": ([heavier], [GROUP])})


def test_a_drained_real_server_is_the_right_one_whatever_the_order_of_real_servers():
    service = web()
    service["real_servers"] = list(reversed(service["real_servers"]))
    plan = director_plan([service], "d1", [GROUP], drained=["rs1"])
    (server,) = plan["keepalived"]["virtual_servers"]
    assert [(r["host"], r["address"], r["drained"]) for r in server["real_servers"]] == [
        ("rs1", "192.0.2.21", True),
        ("rs2", "192.0.2.22", False),
        ("rs3", "192.0.2.23", False),
        ("rs4", "192.0.2.24", False),
    ]
    standalone = {**web(), "director_group": None, "scheduler": "wrr"}
    del standalone["director_group"], standalone["health_check"]
    standalone["real_servers"] = list(reversed(standalone["real_servers"]))
    plan = director_plan([standalone], "d1", [], drained=["rs1"])
    assert [(d["address"], d["weight"]) for d in plan["services"][0]["destinations"]][:2] == [
        ("192.0.2.21", 0),
        ("192.0.2.22", 1),
    ]
