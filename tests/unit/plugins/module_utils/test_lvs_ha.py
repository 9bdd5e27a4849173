# Copyright (c) 2026 lvs.ipvs developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Director groups and health checks in the roles' model: plans, and the errors for bad input."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_validate import ValidationError
from ansible_collections.lvs.ipvs.plugins.module_utils._lvs_drain import drain_plan
from ansible_collections.lvs.ipvs.plugins.module_utils._lvs_topology import (
    director_plan,
    not_in_inventory,
    real_server_plan,
)

GROUP = {
    "name": "front",
    "virtual_router_id": 51,
    "advert_interval": 0.2,
    "directors": [{"host": "d1", "priority": 150}, {"host": "d2", "priority": 100}],
    "inside_addresses": ["192.0.2.3/24"],
}


def web(name="web", mode="dr", address="203.0.113.101", port=80, **extra):
    servers = [{"host": "rs1", "address": "192.0.2.21"}, {"host": "rs2", "address": "192.0.2.22", "weight": 3}]
    return {"name": name, "mode": mode, "address": address, "port": port, "real_servers": servers, **extra}


def grouped(**extra):
    return web(**{"director_group": "front", **extra})


def test_a_group_service_is_keepalived_s_and_its_vip_is_vrrp_s():
    standalone = web(name="other", address="203.0.113.111")
    plan = director_plan([grouped(health_check={"type": "tcp"}), standalone], "d1", [GROUP])
    # ipvs_table owns only the other service, and the script adds only its VIP.
    assert [s["address"] for s in plan["services"]] == ["203.0.113.111"]
    assert [v["address"] for v in plan["vips"]] == ["203.0.113.111"]
    assert plan["addresses"] == ["203.0.113.111"] and plan["group_vips"] == ["203.0.113.101"]
    (instance,) = plan["keepalived"]["instances"]
    assert (instance["priority"], instance["advert_interval"], instance["version"]) == (150, 0.2, 3)
    assert [a["address"] for a in instance["addresses"] + instance["excluded"]] == ["203.0.113.101", "192.0.2.3"]
    (server,) = plan["keepalived"]["virtual_servers"]
    assert [(r["address"], r["weight"], r["lvs_method"]) for r in server["real_servers"]] == [
        ("192.0.2.21", 1, "DR"),
        ("192.0.2.22", 3, "DR"),
    ]
    assert plan["keepalived"]["sync"] == {"id": 51}
    assert director_plan([grouped()], "d3", [GROUP])["keepalived"] is None


def test_the_standby_gets_its_own_priority_and_the_same_services():
    first = director_plan([grouped()], "d1", [GROUP])["keepalived"]
    second = director_plan([grouped()], "d2", [GROUP])["keepalived"]
    assert second["instances"][0]["priority"] == 100
    assert first["virtual_servers"] == second["virtual_servers"]


def test_drained_servers_get_weight_0_in_ipvs_table_services():
    plan = director_plan([web(), grouped(name="g", address="203.0.113.102")], "d1", [GROUP], ["rs2"])
    assert [d["weight"] for d in plan["services"][0]["destinations"]] == [1, 0]
    # The script sets drained keepalived weights from the model's, tagged by host.
    assert [
        (r["host"], r["weight"], r["drained"]) for r in plan["keepalived"]["virtual_servers"][0]["real_servers"]
    ] == [
        ("rs1", 1, False),
        ("rs2", 3, True),
    ]


def test_full_nat_in_a_group_snats_to_the_floating_inside_address():
    plan = director_plan([grouped(mode="fullnat")], "d1", [GROUP])
    assert {rule["to"] for rule in plan["snat"]} == {"192.0.2.3"}


def test_nat_real_servers_of_a_group_route_through_its_inside_address():
    assert real_server_plan([grouped(mode="nat")], "rs1", [GROUP])["nat_gateway"] == {"ipv4": "192.0.2.3"}
    assert real_server_plan([web(mode="nat")], "rs1", [GROUP])["nat_gateway"] == {}


def test_preempt_waits_for_the_sync_daemon_by_default():
    instance = director_plan([grouped()], "d1", [GROUP])["keepalived"]["instances"][0]
    assert (instance["preempt"], instance["preempt_delay"]) == (True, 15)
    instance = director_plan([grouped()], "d1", [_group(preempt=False)])["keepalived"]["instances"][0]
    assert (instance["preempt"], instance["preempt_delay"]) == (False, 0)


def test_unicast_peers_are_the_other_directors():
    group = copy.deepcopy(GROUP)
    group.update(
        unicast=True,
        directors=[
            {"host": "d1", "address": "203.0.113.2"},
            {"host": "d2", "address": "203.0.113.3"},
            {"host": "d3", "address": "203.0.113.4"},
        ],
    )
    instance = director_plan([grouped()], "d2", [group])["keepalived"]["instances"][0]
    assert instance["unicast_src"] == "203.0.113.3"
    assert instance["unicast_peers"] == ["203.0.113.2", "203.0.113.4"]
    # Listed first is preferred when priorities are left out.
    assert instance["priority"] == 190


def test_health_check_url_gives_path_host_and_port():
    check = {"type": "http", "url": "http://www.example.com:8080/health?full=1", "status": ["200-299", 301]}
    server = director_plan([grouped(health_check=check)], "d1", [GROUP])["keepalived"]["virtual_servers"][0]
    assert server["check"]["path"] == "/health?full=1"
    assert server["check"]["virtualhost"] == "www.example.com:8080"
    assert server["check"]["status"] == ["200-299", "301"]
    assert {r["connect_port"] for r in server["real_servers"]} == {8080}


def test_script_check_gets_each_real_server_s_address():
    check = {"type": "script", "script": "/usr/local/bin/check {address} {port}"}
    server = director_plan([grouped(health_check=check)], "d1", [GROUP])["keepalived"]["virtual_servers"][0]
    assert [r["script"] for r in server["real_servers"]] == [
        "/usr/local/bin/check 192.0.2.21 80",
        "/usr/local/bin/check 192.0.2.22 80",
    ]


def test_drain_plan_names_each_director_and_what_to_put_back():
    services = [grouped(), web(name="solo", address="203.0.113.111", directors=["d9"])]
    plan = drain_plan(services, "rs2", [GROUP], ["d1", "d2", "d9"])
    assert [(p["director"], p["keepalived"]) for p in plan] == [("d1", True), ("d2", True), ("d9", False)]
    assert plan[2]["services"] == [
        {
            "service": {"protocol": "tcp", "address": "203.0.113.111", "port": 80, "fwmark": 0, "family": "ipv4"},
            "address": "192.0.2.22",
            "port": 80,
            "weight": 3,
        }
    ]


def test_group_directors_not_in_the_inventory_are_warned_about():
    found = not_in_inventory([grouped()], ["d1", "rs1", "rs2"], [GROUP])
    assert found == [
        "lvs_director_groups[0].directors[1].host: 'd2': is not a host of this inventory, so nothing here acts on it"
    ]


def _group(**changes):
    group = copy.deepcopy(GROUP)
    group.update(changes)
    return group


BAD = [
    pytest.param(
        [grouped()],
        [GROUP, _group(name="back")],
        "lvs_director_groups[1].virtual_router_id: 51: is also the VRRP id of lvs_director_groups[0] (front);"
        " each group needs its own",
        id="vrrp-id-clash",
    ),
    pytest.param(
        [grouped(), web(name="b", port=443, director_group="back")],
        [GROUP, _group(name="back", virtual_router_id=52, inside_addresses=[])],
        "lvs_virtual_services[1].address: '203.0.113.101': is also the VIP of lvs_virtual_services[0] in front,"
        " here in back: one address, one holder",
        id="two-groups-one-vip",
    ),
    pytest.param(
        [grouped(), web(name="b", port=443)],
        [GROUP],
        "lvs_virtual_services[1].address: '203.0.113.101': is also the VIP of lvs_virtual_services[0] in front,"
        " here in (no director group): one address, one holder",
        id="group-and-standalone-one-vip",
    ),
    pytest.param(
        [grouped(health_check={"type": "http", "url": "http:///health"})],
        [GROUP],
        "lvs_virtual_services[0].health_check.url: 'http:///health': has no host; the host is the Host header of"
        " the check (keepalived connects to the real server's address): give http://www.example.com/health,"
        " or path alone",
        id="url-without-host",
    ),
    pytest.param(
        [grouped()],
        [_group(directors=[{"host": "d1", "priority": 300}])],
        "lvs_director_groups[0].directors[0].priority: 300: must be between 1 and 254",
        id="priority-out-of-range",
    ),
    pytest.param(
        [grouped()],
        [_group(directors=[{"host": "d1", "priority": 255}])],
        "lvs_director_groups[0].directors[0].priority: 255: 255 is for the owner of the address;"
        " a director's VIPs are virtual",
        id="priority-255",
    ),
    pytest.param(
        [grouped()],
        [_group(directors=[{"host": "d1", "priority": 100}, {"host": "d2", "priority": 100}])],
        "lvs_director_groups[0].directors[1].priority: 100:"
        " is also the priority of lvs_director_groups[0].directors[0]",
        id="equal-priorities",
    ),
    pytest.param(
        [grouped(director_group="nope")],
        [GROUP],
        "lvs_virtual_services[0].director_group: 'nope': is not a director group (known: front)",
        id="unknown-group",
    ),
    pytest.param(
        [web(health_check={"type": "tcp"})],
        [],
        "lvs_virtual_services[0].health_check: {'type': 'tcp'}: is keepalived's, which runs for a director group:"
        " set director_group",
        id="health-check-without-group",
    ),
    pytest.param(
        [grouped()],
        [_group(version=2, advert_interval=0.5)],
        "lvs_director_groups[0].advert_interval: 0.5: VRRP version 2 counts whole seconds; use version 3",
        id="subsecond-v2",
    ),
    pytest.param(
        [grouped()],
        [_group(authentication={"password": "secret"})],
        "lvs_director_groups[0].authentication: '(hidden)': VRRP version 3 has no authentication",
        id="auth-with-v3",
    ),
    pytest.param(
        [grouped()],
        [_group(version=2, advert_interval=1, authentication={"password": "much too long"})],
        "lvs_director_groups[0].authentication.password: '(hidden)': must be 1 to 8 characters,"
        " without spaces or quotes",
        id="password-never-shown",
    ),
    pytest.param(
        [grouped()],
        [_group(unicast=True)],
        "lvs_director_groups[0].directors[0].address: unicast VRRP needs each director's own address",
        id="unicast-without-address",
    ),
    pytest.param(
        [grouped(health_check={"type": "tcp", "path": "/x"})],
        [GROUP],
        "lvs_virtual_services[0].health_check.path: '/x': is not a setting of a tcp health check",
        id="path-on-tcp",
    ),
    pytest.param(
        [grouped(health_check={"type": "script", "script": "check.sh"})],
        [GROUP],
        "lvs_virtual_services[0].health_check.script: 'check.sh': must start with the program's absolute path",
        id="relative-script",
    ),
    pytest.param(
        [grouped(sorry_server={"address": "2001:db8::9"})],
        [GROUP],
        "lvs_virtual_services[0].sorry_server.address: '2001:db8::9': is not an ipv4 address, as the service's"
        " family is",
        id="sorry-server-family",
    ),
    pytest.param(
        [grouped()],
        [_group(inside_addresses=["203.0.113.101/24"])],
        "lvs_director_groups[0].inside_addresses[0]: '203.0.113.101': is the VIP of lvs_virtual_services[0]",
        id="inside-address-is-a-vip",
    ),
    pytest.param(
        [grouped()],
        [_group(inside_addresses=["192.0.2.3"])],
        "lvs_director_groups[0].inside_addresses[0]: '192.0.2.3': must be an address with its prefix length,"
        " such as 192.0.2.3/24",
        id="inside-address-without-prefix",
    ),
]


@pytest.mark.parametrize(("services", "groups", "message"), BAD)
def test_bad_input_names_the_field_and_the_value(services, groups, message):
    with pytest.raises(ValidationError) as caught:
        director_plan(services, "d1", groups)
    assert str(caught.value) == message


def test_keepalived_gets_each_service_in_its_own_terms():
    services = [
        grouped(mode="tun", tunnel={"type": "gue", "port": 6080}, scheduler="mh", flags=["mh-port"]),
        grouped(name="dns", protocol="udp", port=53, scheduler="sh", flags=["one-packet"]),
        {
            **grouped(name="mark", port=None, fwmark=3, ports=[80, 443], address="2001:db8::1", family="ipv6"),
            "real_servers": [{"host": "rs1", "address": "2001:db8:2::21"}],
            "health_check": {"type": "tcp"},
        },
    ]
    tun, dns, mark = director_plan(services, "d1", [GROUP])["keepalived"]["virtual_servers"]
    assert (tun["scheduler"], tun["flags"], tun["real_servers"][0]["lvs_method"]) == (
        "mh",
        ["mh-port"],
        "TUN type gue port 6080",
    )
    assert (dns["protocol"], dns["flags"]) == ("UDP", ["ops"])
    # A fwmark service's real servers have no port: the check connects to the first marked one.
    assert (mark["fwmark"], mark["family"], mark["real_servers"][0]["connect_port"]) == (3, "ipv6", 80)


def test_a_scheduler_keepalived_cannot_set_is_refused():
    with pytest.raises(ValidationError) as caught:
        director_plan([grouped(scheduler="none")], "d1", [GROUP])
    assert str(caught.value) == "lvs_virtual_services[0].scheduler: 'none': keepalived cannot set this scheduler"
