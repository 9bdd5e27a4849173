# Copyright (c) 2026 lvs.ipvs developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The desired-state model: input validation, defaults, the diff engine and its plans.

Small explicit cases pin each rule; property tests over random tables (drawn
from small address and port pools so that identities collide) check that a
plan, simulated by apply_plan, reaches the desired table without touching
anything out of scope, without delete-then-add, and that a second diff is empty.
"""

from __future__ import annotations

import copy
import errno
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_model import (
    DEFAULT_NETMASK,
    TIMEOUT_MAX,
    Op,
    PlanError,
    ValidationError,
    apply_plan,
    dest_identity,
    diff,
    from_kernel,
    normalize_destination,
    normalize_service,
    normalize_service_identity,
    normalize_table,
    plain_destination,
    plain_service,
    service_identity,
    summarize,
)
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_netlink import (
    AF_INET,
    AF_INET6,
    dest_attrs,
    netmask_from_raw,
    netmask_to_raw,
    service_attrs,
    service_flags_from_bits,
    service_flags_to_bits,
)

WEB = {"address": "203.0.113.1", "port": 80}
WEB6 = {"address": "2001:db8::1", "port": 80}


def svc(**kwargs):
    return {**WEB, **kwargs}


def with_dest(service=None, **kwargs):
    return {**(service or WEB), "destinations": [{"address": "192.0.2.11", **kwargs}]}


def table(*services):
    return normalize_table(list(services))


def actions(plan):
    return [op.action for op in plan]


# --- Validation errors ----------------------------------------------------------

MISSING_VALUE = object()
PERSISTENT = {"flags": ["persistent"]}

ERROR_CASES = [
    # (input services, path, value, a fragment of the reason)
    ([svc(wieght=1)], "services[0]", "wieght", "unknown key"),
    ([with_dest(wieght=1)], "services[0].destinations[0]", "wieght", "unknown key"),
    (
        [with_dest(forward="tunnel", tunnel={"kind": "gue"})],
        "services[0].destinations[0].tunnel",
        "kind",
        "unknown key",
    ),
    (["web"], "services[0]", "web", "must be a mapping"),
    ([svc(address="203.0.113.300")], "services[0].address", "203.0.113.300", "not an IPv4 or IPv6 address"),
    ([svc(address=5)], "services[0].address", 5, "not an IPv4 or IPv6 address"),
    ([{"port": 80}], "services[0]", MISSING_VALUE, "needs an address (with protocol and port) or a fwmark"),
    ([{"address": "203.0.113.1"}], "services[0].port", MISSING_VALUE, "is required"),
    ([svc(port=0)], "services[0].port", 0, "port 0 (all ports) needs flag persistent"),
    ([svc(port=65536)], "services[0].port", 65536, "must be between 0 and 65535"),
    ([svc(port="http")], "services[0].port", "http", "must be an integer"),
    ([svc(port=True)], "services[0].port", True, "must be an integer"),
    ([svc(port=8.5)], "services[0].port", 8.5, "must be an integer"),
    ([svc(family="ipv6")], "services[0].family", "ipv6", "does not match the address 203.0.113.1"),
    ([svc(protocol="icmp")], "services[0].protocol", "icmp", "unknown protocol"),
    ([{"fwmark": 5, "address": "203.0.113.1"}], "services[0].address", "203.0.113.1", "a fwmark service has no"),
    ([{"fwmark": 5, "port": 80}], "services[0].port", 80, "a fwmark service has no"),
    ([{"fwmark": 5, "protocol": "tcp"}], "services[0].protocol", "tcp", "a fwmark service has no"),
    ([{"fwmark": 2**32}], "services[0].fwmark", 2**32, "must be between 0 and 4294967295"),
    ([{"fwmark": 5, "family": "inet"}], "services[0].family", "inet", "unknown address family"),
    ([svc(scheduler="fastest")], "services[0].scheduler", "fastest", "unknown scheduler"),
    ([svc(flags="persistent")], "services[0].flags", "persistent", "must be a list"),
    ([svc(flags=["sticky"])], "services[0].flags[0]", "sticky", "unknown service flag"),
    ([svc(flags=["hashed"])], "services[0].flags[0]", "hashed", "unknown service flag"),
    ([svc(scheduler="wrr", flags=["persistent", "sh-port"])], "services[0].flags[1]", "sh-port", "needs scheduler sh"),
    ([svc(scheduler="sh", flags=["mh-fallback"])], "services[0].flags[0]", "mh-fallback", "needs scheduler mh, not sh"),
    ([svc(timeout=60)], "services[0].timeout", 60, "needs flag persistent"),
    ([svc(timeout=-1)], "services[0].timeout", -1, f"must be between 0 and {TIMEOUT_MAX}"),
    ([svc(timeout=0, **PERSISTENT)], "services[0].timeout", 0, f"must be between 1 and {TIMEOUT_MAX}"),
    ([svc(timeout=TIMEOUT_MAX + 1, **PERSISTENT)], "services[0].timeout", TIMEOUT_MAX + 1, "must be between 1 and"),
    ([{**WEB6, **PERSISTENT, "netmask": "255.255.255.0"}], "services[0].netmask", "255.255.255.0", "prefix length"),
    ([{**WEB6, **PERSISTENT, "netmask": 129}], "services[0].netmask", 129, "must be between 1 and 128"),
    ([{**WEB6, **PERSISTENT, "netmask": 0}], "services[0].netmask", 0, "must be between 1 and 128"),
    ([svc(netmask=24, **PERSISTENT)], "services[0].netmask", 24, "dotted mask"),
    ([svc(netmask="/24", **PERSISTENT)], "services[0].netmask", "/24", "dotted mask"),
    ([svc(netmask="255.0.255.0", **PERSISTENT)], "services[0].netmask", "255.0.255.0", "not a contiguous netmask"),
    ([svc(netmask="255.255.255.0")], "services[0].netmask", "255.255.255.0", "needs flag persistent"),
    ([svc(pe_name="http", **PERSISTENT)], "services[0].pe_name", "http", "unknown persistence engine"),
    ([svc(pe_name="sip")], "services[0].pe_name", "sip", "needs flag persistent"),
    ([svc(destinations_mode="replace")], "services[0].destinations_mode", "replace", "unknown destinations_mode"),
    ([svc(destinations={"address": "192.0.2.11"})], "services[0].destinations", {"address": "192.0.2.11"}, "list"),
    ([svc(destinations=[{"weight": 1}])], "services[0].destinations[0]", MISSING_VALUE, "needs an address"),
    ([with_dest(address="nope")], "services[0].destinations[0].address", "nope", "not an IPv4 or IPv6"),
    ([with_dest(address="224.0.0.1")], "services[0].destinations[0].address", "224.0.0.1", "unicast"),
    ([with_dest(address="0.0.0.0")], "services[0].destinations[0].address", "0.0.0.0", "unicast"),
    ([with_dest(family="ipv6")], "services[0].destinations[0].family", "ipv6", "does not match"),
    ([with_dest(port=70000)], "services[0].destinations[0].port", 70000, "must be between 0 and 65535"),
    ([with_dest(weight=-1)], "services[0].destinations[0].weight", -1, "must be between 0 and 2147483647"),
    ([with_dest(weight=2**31)], "services[0].destinations[0].weight", 2**31, "must be between 0 and 2147483647"),
    ([with_dest(u_threshold=2**32)], "services[0].destinations[0].u_threshold", 2**32, "must be between 0 and"),
    ([with_dest(l_threshold=5)], "services[0].destinations[0].l_threshold", 5, "must not be above u_threshold (0)"),
    ([with_dest(u_threshold=5, l_threshold=6)], "services[0].destinations[0].l_threshold", 6, "u_threshold (5)"),
    ([with_dest(forward="nat")], "services[0].destinations[0].forward", "nat", "unknown forwarding method"),
    ([with_dest(WEB6)], "services[0].destinations[0].address", "192.0.2.11", "mixed families need forward tunnel"),
    (
        [{**WEB6, "destinations": [{"address": "192.0.2.11", "forward": "droute"}]}],
        "services[0].destinations[0].address",
        "192.0.2.11",
        "is ipv4 in an ipv6 service",
    ),
    ([with_dest(port=8080, forward="droute")], "services[0].destinations[0].port", 8080, "port mapping needs"),
    ([with_dest(port=8080, forward="tunnel")], "services[0].destinations[0].port", 8080, "port mapping needs"),
    ([with_dest(port=8080, forward="local")], "services[0].destinations[0].port", 8080, "differs from the service"),
    ([with_dest(tunnel={"type": "gre"})], "services[0].destinations[0].tunnel", {"type": "gre"}, "need forward"),
    ([with_dest(tunnel="gre", forward="tunnel")], "services[0].destinations[0].tunnel", "gre", "must be a mapping"),
    (
        [with_dest(forward="tunnel", tunnel={"type": "gue"})],
        "services[0].destinations[0].tunnel.port",
        MISSING_VALUE,
        "a GUE tunnel needs a port",
    ),
    (
        [with_dest(forward="tunnel", tunnel={"type": "ipip", "port": 6080})],
        "services[0].destinations[0].tunnel.port",
        6080,
        "only a GUE tunnel has a port",
    ),
    (
        [with_dest(forward="tunnel", tunnel={"type": "vxlan"})],
        "services[0].destinations[0].tunnel.type",
        "vxlan",
        "unknown tunnel type",
    ),
    (
        [with_dest(forward="tunnel", tunnel={"type": "gre", "flags": ["checksum"]})],
        "services[0].destinations[0].tunnel.flags[0]",
        "checksum",
        "unknown tunnel flag",
    ),
    (
        [with_dest(forward="tunnel", tunnel={"type": "gre", "flags": ["remcsum"]})],
        "services[0].destinations[0].tunnel.flags[0]",
        "remcsum",
        "does not apply to a gre tunnel",
    ),
    (
        [with_dest(forward="tunnel", tunnel={"flags": ["csum"]})],
        "services[0].destinations[0].tunnel.flags[0]",
        "csum",
        "does not apply to a ipip tunnel",
    ),
    (
        [with_dest(forward="tunnel", tunnel={"type": "gue", "port": 6080, "flags": ["nocsum", "csum"]})],
        "services[0].destinations[0].tunnel.flags",
        ["nocsum", "csum"],
        "nocsum contradicts",
    ),
    (
        [svc(), {"address": "203.0.113.1", "port": "80"}],
        "services[1]",
        "tcp 203.0.113.1:80",
        "same service as services[0]",
    ),
    (
        [svc(), svc(port=443), {"address": "2001:DB8::1", "port": 80}, WEB6],
        "services[3]",
        "tcp [2001:db8::1]:80",
        "same service as services[2]",
    ),
    (
        [{"fwmark": 3}, {"fwmark": "3", "family": "ipv4"}],
        "services[1]",
        "fwmark 3 (ipv4)",
        "same service as services[0]",
    ),
    (
        [
            svc(
                destinations=[
                    {"address": "192.0.2.11"},
                    {"address": "192.0.2.12"},
                    {"address": "192.0.2.11", "port": 80},
                ]
            )
        ],
        "services[0].destinations[2]",
        "192.0.2.11:80",
        "same destination as services[0].destinations[0]",
    ),
]


@pytest.mark.parametrize(("services", "path", "value", "reason"), ERROR_CASES)
def test_each_invalid_input_is_refused_with_its_path_and_value(services, path, value, reason):
    with pytest.raises(ValidationError) as info:
        normalize_table(services)
    error = info.value
    assert error.path == path
    assert reason in error.reason
    if value is MISSING_VALUE:
        assert str(error) == f"{path}: {error.reason}"
    else:
        assert error.value == value
        shown = repr(value) if isinstance(value, str) else str(value)
        assert str(error) == f"{path}: {shown}: {error.reason}"


def test_error_message_reads_as_path_value_reason():
    services = [
        svc(),
        svc(port=443),
        svc(port=8080, destinations=[{"address": "192.0.2.11", "port": 80, "weight": -5}]),
    ]
    with pytest.raises(ValidationError) as info:
        normalize_table(services)
    assert str(info.value) == "services[2].destinations[0].weight: -5: must be between 0 and 2147483647"


def test_the_table_must_be_a_list_and_its_path_is_the_callers():
    with pytest.raises(ValidationError) as info:
        normalize_table({"address": "203.0.113.1"}, path="ipvs")
    assert info.value.path == "ipvs"
    with pytest.raises(ValidationError) as info:
        normalize_table([svc(port=-1)], path="ipvs")
    assert str(info.value).startswith("ipvs[0].port: -1:")


# --- What is accepted, and the defaults ----------------------------------------------


def test_a_minimal_service_gets_every_default():
    [service] = table({**WEB, "destinations": [{"address": "192.0.2.11"}]})
    assert service == {
        "family": "ipv4",
        "protocol": "tcp",
        "address": "203.0.113.1",
        "port": 80,
        "fwmark": 0,
        "scheduler": "wlc",
        "flags": [],
        "timeout": 0,
        "netmask": "255.255.255.255",
        "pe_name": None,
        "destinations": [
            {
                "family": "ipv4",
                "address": "192.0.2.11",
                "port": 80,
                "forward": "masq",
                "weight": 1,
                "u_threshold": 0,
                "l_threshold": 0,
                "tunnel": None,
            }
        ],
        "destinations_mode": "exact",
    }


def test_fwmark_and_ipv6_services_get_their_family_defaults():
    mark, six = table({"fwmark": 7}, {**WEB6, "protocol": "udp", "flags": ["persistent"]})
    assert (mark["family"], mark["protocol"], mark["address"], mark["port"], mark["fwmark"]) == (
        "ipv4",
        None,
        None,
        None,
        7,
    )
    assert mark["netmask"] == "255.255.255.255"
    assert (six["family"], six["protocol"], six["netmask"], six["timeout"]) == ("ipv6", "udp", 128, 300)
    [mark6] = table({"fwmark": 7, "family": "ipv6"})
    assert mark6["netmask"] == 128


def test_default_netmasks_are_what_the_kernel_reports_for_a_service_created_without_one():
    # The netlink layer sends /32 or /128 when no netmask is given; its decoder reads them back as these.
    assert netmask_from_raw(AF_INET, netmask_to_raw(AF_INET, None)) == DEFAULT_NETMASK["ipv4"]
    assert netmask_from_raw(AF_INET6, netmask_to_raw(AF_INET6, None)) == DEFAULT_NETMASK["ipv6"]


def test_values_are_normalized():
    [service] = table(
        {
            "address": "2001:DB8:0::1",
            "port": "443",
            "scheduler": "sh",
            "flags": ["sh-port", "persistent", "ops", "one-packet", "persistent"],
            "timeout": "60",
            "netmask": "/64",
            "destinations": [
                {"address": "2001:db8:2::b", "weight": "3"},
                {"address": "2001:db8:2::a", "port": 8443},
                {"address": "192.0.2.9", "forward": "tunnel", "tunnel": {"type": "gue", "port": "6080"}},
            ],
        }
    )
    assert service["address"] == "2001:db8::1"
    assert (service["port"], service["timeout"], service["netmask"]) == (443, 60, 64)
    assert service["flags"] == ["one-packet", "persistent", "sh-port"]
    # Sorted by family, then numerically by address, then port.
    assert [(d["address"], d["port"]) for d in service["destinations"]] == [
        ("192.0.2.9", 443),
        ("2001:db8:2::a", 8443),
        ("2001:db8:2::b", 443),
    ]
    assert service["destinations"][0]["tunnel"] == {"type": "gue", "port": 6080, "flags": []}
    assert service["destinations"][2]["weight"] == 3


def test_destination_port_defaults_to_the_service_port_and_to_0_for_fwmark():
    [web, mark] = table(with_dest(forward="droute"), {"fwmark": 1, "destinations": [{"address": "192.0.2.11"}]})
    assert web["destinations"][0]["port"] == 80
    assert mark["destinations"][0]["port"] == 0


def test_what_the_kernel_allows_is_accepted():
    [service] = table(
        {
            **WEB6,
            "destinations": [
                # An IPv4 real server behind an IPv6 VIP: forward tunnel only.
                {"address": "192.0.2.11", "forward": "tunnel"},
                {"address": "2001:db8:2::1", "port": 8080, "forward": "masq", "weight": 70000},
                {"address": "2001:db8:2::2", "u_threshold": 100, "l_threshold": 100},
            ],
        }
    )
    dests = {d["address"]: d for d in service["destinations"]}
    assert dests["192.0.2.11"]["tunnel"] == {"type": "ipip", "port": 0, "flags": []}
    assert dests["2001:db8:2::1"]["weight"] == 70000  # Above ipvsadm's 65535: the kernel takes an int.
    [persistent_all_ports] = table(svc(port=0, flags=["persistent"], destinations=[{"address": "192.0.2.11"}]))
    assert persistent_all_ports["destinations"][0]["port"] == 0


def test_unset_options_as_ansible_passes_them_are_defaults():
    raw = {
        "family": None,
        "protocol": None,
        "address": "203.0.113.1",
        "port": 80,
        "fwmark": None,
        "scheduler": None,
        "flags": None,
        "timeout": None,
        "netmask": None,
        "pe_name": None,
        "destinations_mode": None,
        "destinations": [
            {
                "address": "192.0.2.11",
                "port": None,
                "forward": None,
                "weight": None,
                "u_threshold": None,
                "l_threshold": None,
                "tunnel": {"type": None, "port": None, "flags": None},
            }
        ],
    }
    assert table(raw) == table(with_dest())


def test_tunnel_flags_are_canonical_and_a_sip_engine_is_kept():
    [service] = table(
        svc(
            protocol="udp",
            flags=["persistent"],
            pe_name="sip",
            destinations=[
                {
                    "address": "192.0.2.11",
                    "forward": "tunnel",
                    "tunnel": {"type": "gue", "port": 6080, "flags": ["remcsum", "csum"]},
                },
                {"address": "192.0.2.12", "forward": "tunnel", "tunnel": {"type": "gre", "flags": ["nocsum"]}},
            ],
        )
    )
    assert service["pe_name"] == "sip"
    assert service["destinations"][0]["tunnel"]["flags"] == ["csum", "remcsum"]
    assert service["destinations"][1]["tunnel"] == {"type": "gre", "port": 0, "flags": []}


@pytest.mark.parametrize(
    ("scheduler", "flags"),
    [("sh", ["sh-fallback", "sh-port"]), ("mh", ["mh-fallback", "persistent"]), ("rr", ["one-packet", "persistent"])],
)
def test_canonical_flags_are_the_decoders_names(scheduler, flags):
    [service] = table(svc(scheduler=scheduler, flags=flags))
    decoded = service_flags_from_bits(service_flags_to_bits(service["flags"]), scheduler)
    assert sorted(decoded) == service["flags"]


def test_normalize_service_and_destination_can_be_called_alone():
    service = normalize_service(svc(scheduler="rr"), "web")
    assert service["scheduler"] == "rr"
    dest = normalize_destination({"address": "192.0.2.1", "weight": 2}, service, "web.destinations[0]")
    assert (dest["port"], dest["weight"]) == (80, 2)
    with pytest.raises(ValidationError, match=r"^web\.destinations\[0\]\.weight: "):
        normalize_destination({"address": "192.0.2.1", "weight": "x"}, service, "web.destinations[0]")


def test_canonical_entries_are_accepted_by_the_netlink_encoders():
    services = table(
        svc(scheduler="sh", flags=["persistent", "sh-port"], netmask="255.255.0.0"),
        {
            **WEB6,
            "flags": ["persistent"],
            "netmask": 48,
            "destinations": [{"address": "192.0.2.1", "forward": "tunnel"}],
        },
        {"fwmark": 9, "family": "ipv6"},
    )
    for service in services:
        assert service_attrs(plain_service(service), full=True)
        for dest in service["destinations"]:
            assert dest_attrs(dest, full=True)


def test_from_kernel_drops_statistics_and_orders_flags():
    decoded = {
        **WEB,
        "family": "ipv4",
        "protocol": "tcp",
        "fwmark": 0,
        "scheduler": "rr",
        "flags": ["persistent", "one-packet"],
        "timeout": 300,
        "netmask": "255.255.255.255",
        "pe_name": None,
        "stats": {"conns": 4},
    }
    dest = {**table(with_dest())[0]["destinations"][0], "active_conns": 3, "stats": {"conns": 4}}
    entry = from_kernel(decoded, [dest])
    assert "stats" not in entry and "stats" not in entry["destinations"][0]
    assert entry["flags"] == ["one-packet", "persistent"]
    assert entry["destinations"][0]["address"] == "192.0.2.11"


# --- Diff: explicit cases ------------------------------------------------------------


def test_a_new_service_is_added_before_its_destinations():
    desired = table(svc(destinations=[{"address": "192.0.2.12"}, {"address": "192.0.2.11"}]))
    plan = diff([], desired)
    assert actions(plan) == ["add_service", "add_destination", "add_destination"]
    assert [op.destination["address"] for op in plan[1:]] == ["192.0.2.11", "192.0.2.12"]
    assert plan[0].before is None and plan[0].after == plan[0].service
    assert "destinations" not in plan[0].service and "destinations_mode" not in plan[0].service


def test_an_identical_table_gives_an_empty_plan():
    desired = table(with_dest(), {"fwmark": 1})
    assert diff(copy.deepcopy(desired), desired) == []


def test_the_kernels_view_of_the_same_table_gives_an_empty_plan():
    desired = table(svc(flags=["persistent", "one-packet"], destinations=[{"address": "192.0.2.11"}]))
    service = {key: value for key, value in desired[0].items() if key not in ("destinations", "destinations_mode")}
    kernel = {**service, "flags": ["persistent", "one-packet"], "stats": {"conns": 1}}
    dests = [{**desired[0]["destinations"][0], "active_conns": 2, "stats": {"conns": 1}}]
    assert diff([from_kernel(kernel, dests)], desired) == []
    # Decoder output used directly, statistics and all, compares the same.
    assert diff([{**kernel, "destinations": dests}], desired) == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"scheduler": "wrr"}, "scheduler rr -> wrr"),
        ({"flags": ["one-packet"]}, "flags none -> one-packet"),
        ({"flags": ["persistent"]}, "flags none -> persistent, timeout 0 -> 300"),
        (
            {"flags": ["persistent"], "timeout": 60, "netmask": "255.255.255.0"},
            "netmask 255.255.255.255 -> 255.255.255.0",
        ),
        ({"flags": ["persistent"], "pe_name": "sip", "protocol": "udp"}, "pe_name none -> sip"),
    ],
)
def test_service_settings_change_in_place(change, message):
    base = {**WEB, "scheduler": "rr", "destinations": [{"address": "192.0.2.11"}]}
    if "protocol" in change:
        base["protocol"] = change["protocol"]
    plan = diff(table(base), table({**base, **change}))
    assert actions(plan) == ["edit_service"]
    assert plan[0].before["scheduler"] == "rr" and plan[0].after["scheduler"] == change.get("scheduler", "rr")
    [text] = summarize(plan)["changes"]
    assert text.startswith(f"edit service {base.get('protocol', 'tcp')} 203.0.113.1:80: ")
    assert message in text


def test_scheduler_change_is_described_as_in_the_brief():
    plan = diff(table(svc(scheduler="rr")), table(svc(scheduler="wrr")))
    assert summarize(plan)["changes"] == ["edit service tcp 203.0.113.1:80: scheduler rr -> wrr"]


@pytest.mark.parametrize(
    ("before", "after", "message"),
    [
        ({"weight": 1}, {"weight": 5}, "weight 1 -> 5"),
        ({"forward": "masq"}, {"forward": "droute"}, "forward masq -> droute"),
        ({"forward": "droute"}, {"forward": "tunnel"}, "forward droute -> tunnel, tunnel none -> ipip"),
        ({"u_threshold": 0}, {"u_threshold": 10, "l_threshold": 5}, "u_threshold 0 -> 10, l_threshold 0 -> 5"),
        (
            {"forward": "tunnel"},
            {"forward": "tunnel", "tunnel": {"type": "gue", "port": 6080, "flags": ["csum"]}},
            "tunnel ipip -> gue port 6080 csum",
        ),
    ],
)
def test_destination_settings_change_in_place(before, after, message):
    plan = diff(table(with_dest(**before)), table(with_dest(**after)))
    assert actions(plan) == ["edit_destination"]
    assert plan[0].before["address"] == plan[0].after["address"] == "192.0.2.11"
    assert summarize(plan)["changes"] == [f"edit destination 192.0.2.11:80 in tcp 203.0.113.1:80: {message}"]


def test_a_new_destination_port_is_added_before_the_old_one_goes():
    plan = diff(table(with_dest(port=8080)), table(with_dest(port=8081)))
    assert [(op.action, op.destination["port"]) for op in plan] == [
        ("add_destination", 8081),
        ("delete_destination", 8080),
    ]
    assert plan[1].before == plan[1].destination and plan[1].after is None


def test_a_new_service_identity_is_added_before_the_old_one_goes():
    current = table(svc(port=80, destinations=[{"address": "192.0.2.11"}]))
    desired = table(svc(port=8080, destinations=[{"address": "192.0.2.11"}]))
    plan = diff(current, desired, {"mode": "addresses", "addresses": ["203.0.113.1"]})
    assert [(op.action, op.service["port"]) for op in plan] == [
        ("add_service", 8080),
        ("add_destination", 8080),
        ("delete_service", 80),
    ]
    assert summarize(plan)["changes"][-1] == "delete service tcp 203.0.113.1:80 with its 1 destination"


def test_phases_follow_the_documented_order():
    current = table(
        svc(port=1, scheduler="rr", destinations=[{"address": "192.0.2.1"}, {"address": "192.0.2.2"}]),
        svc(port=2),
    )
    desired = table(
        svc(port=1, scheduler="wrr", destinations=[{"address": "192.0.2.1", "weight": 2}, {"address": "192.0.2.3"}]),
        svc(port=3, destinations=[{"address": "192.0.2.4"}]),
    )
    plan = diff(current, desired, {"mode": "all"})
    assert [(op.action, op.service["port"], (op.destination or {}).get("address")) for op in plan] == [
        ("add_service", 3, None),
        ("edit_service", 1, None),
        ("add_destination", 1, "192.0.2.3"),
        ("add_destination", 3, "192.0.2.4"),
        ("edit_destination", 1, "192.0.2.1"),
        ("delete_destination", 1, "192.0.2.2"),
        ("delete_service", 2, None),
    ]


def test_merge_mode_never_removes_destinations():
    current = table(svc(destinations=[{"address": "192.0.2.1"}, {"address": "192.0.2.2"}]))
    desired = table(
        svc(destinations_mode="merge", destinations=[{"address": "192.0.2.2", "weight": 3}, {"address": "192.0.2.3"}])
    )
    plan = diff(current, desired)
    assert [(op.action, op.destination["address"]) for op in plan] == [
        ("add_destination", "192.0.2.3"),
        ("edit_destination", "192.0.2.2"),
    ]


def test_exact_mode_removes_unlisted_destinations_even_all_of_them():
    current = table(svc(destinations=[{"address": "192.0.2.1"}, {"address": "192.0.2.2"}]))
    plan = diff(current, table(svc()))
    assert actions(plan) == ["delete_destination", "delete_destination"]


SCOPE_CURRENT = [
    svc(),
    svc(port=443),
    {"address": "203.0.113.2", "port": 80},
    {"fwmark": 1},
    {"fwmark": 2, "family": "ipv6"},
]


@pytest.mark.parametrize(
    ("scope", "deleted"),
    [
        (None, []),
        ({"mode": "managed"}, []),
        ({"mode": "addresses", "addresses": ["203.0.113.1"]}, [("ipv4", "tcp", "203.0.113.1", 443)]),
        ({"mode": "addresses", "addresses": [], "fwmarks": [2, 1]}, [("ipv4", "fwmark", 1), ("ipv6", "fwmark", 2)]),
        (
            {"mode": "all"},
            [
                ("ipv4", "tcp", "203.0.113.1", 443),
                ("ipv4", "tcp", "203.0.113.2", 80),
                ("ipv4", "fwmark", 1),
                ("ipv6", "fwmark", 2),
            ],
        ),
    ],
)
def test_scope_decides_which_undesired_services_are_deleted(scope, deleted):
    desired = table(svc(scheduler="rr"))
    plan = diff(table(*SCOPE_CURRENT), desired, scope)
    assert plan[0].action == "edit_service"
    assert [service_identity(op.service) for op in plan if op.action == "delete_service"] == deleted
    assert actions(plan) == ["edit_service"] + ["delete_service"] * len(deleted)


def test_a_desired_service_is_managed_whatever_the_scope_lists():
    plan = diff([], table({"address": "198.51.100.1", "port": 80}), {"mode": "addresses", "addresses": ["203.0.113.1"]})
    assert actions(plan) == ["add_service"]


def test_scope_addresses_are_compared_normalized():
    current = table({"address": "2001:db8::1", "port": 80})
    plan = diff(current, [], {"mode": "addresses", "addresses": ["2001:DB8:0::1"]})
    assert actions(plan) == ["delete_service"]


@pytest.mark.parametrize(
    ("scope", "path"),
    [
        ({"mode": "everything"}, "scope.mode"),
        ({"mode": "addresses", "addresses": ["nope"]}, "scope.addresses[0]"),
        ({"mode": "addresses", "fwmarks": [0]}, "scope.fwmarks[0]"),
        ({"mode": "addresses", "addresses": "203.0.113.1"}, "scope.addresses"),
        ({"mode": "all", "vips": []}, "scope"),
    ],
)
def test_a_bad_scope_is_refused(scope, path):
    with pytest.raises(ValidationError) as info:
        diff([], [], scope)
    assert info.value.path == path


def test_the_plan_does_not_depend_on_input_order():
    current = table(*SCOPE_CURRENT, with_dest({"address": "203.0.113.9", "port": 80}))
    desired = table(
        svc(
            destinations=[
                {"address": "192.0.2.3"},
                {"address": "192.0.2.1"},
                {"address": "2001:db8::5", "forward": "tunnel"},
            ]
        ),
        {"fwmark": 1, "scheduler": "rr"},
        {"address": "203.0.113.7", "port": 80},
    )
    plan = diff(current, desired, {"mode": "all"})
    shuffler = random.Random(7)
    for _dummy in range(5):
        shuffled_current = copy.deepcopy(current)
        shuffled_desired = copy.deepcopy(desired)
        for entries in (shuffled_current, shuffled_desired):
            shuffler.shuffle(entries)
            for entry in entries:
                shuffler.shuffle(entry["destinations"])
        assert diff(shuffled_current, shuffled_desired, {"mode": "all"}) == plan


def test_plan_entries_are_what_the_netlink_client_takes():
    current = table(svc(destinations=[{"address": "192.0.2.1"}]), {"fwmark": 4})
    desired = table(
        svc(scheduler="sh", flags=["sh-port"], destinations=[{"address": "192.0.2.2", "forward": "droute"}]),
        {**WEB6, "destinations": [{"address": "192.0.2.1", "forward": "tunnel", "tunnel": {"type": "gue", "port": 9}}]},
    )
    plan = diff(current, desired, {"mode": "all"})
    assert set(actions(plan)) == {
        "add_service",
        "edit_service",
        "add_destination",
        "delete_destination",
        "delete_service",
    }
    for op in plan:
        assert service_attrs(op.service, full=True)
        if op.destination is not None:
            assert dest_attrs(op.destination, full=True)


# --- apply_plan ------------------------------------------------------------------


def test_apply_plan_reaches_the_desired_table_and_leaves_its_input_alone():
    current = table(with_dest(weight=1), {"fwmark": 1})
    snapshot = copy.deepcopy(current)
    desired = table(with_dest(weight=2))
    result = apply_plan(current, diff(current, desired, {"mode": "all"}))
    assert current == snapshot
    assert [plain_service(s) for s in result] == [plain_service(s) for s in desired]
    assert result[0]["destinations"] == desired[0]["destinations"]


@pytest.mark.parametrize(
    ("action", "destination", "code"),
    [
        ("add_service", None, errno.EEXIST),
        ("add_destination", {"address": "192.0.2.11", "port": 80}, errno.EEXIST),
        ("edit_destination", {"address": "192.0.2.99", "port": 80}, errno.ENOENT),
        ("delete_destination", {"address": "192.0.2.11", "port": 8080}, errno.ENOENT),
    ],
)
def test_apply_plan_refuses_what_the_kernel_refuses(action, destination, code):
    current = table(with_dest())
    service = plain_service(current[0])
    with pytest.raises(PlanError) as info:
        apply_plan(current, [Op(action, service, destination, None, None)])
    assert info.value.errno == code


@pytest.mark.parametrize("action", ["edit_service", "delete_service", "add_destination", "delete_destination"])
def test_apply_plan_refuses_a_missing_service(action):
    service = plain_service(table(svc(port=81))[0])
    dest = {"address": "192.0.2.11", "port": 81} if "destination" in action else None
    with pytest.raises(PlanError) as info:
        apply_plan(table(with_dest()), [Op(action, service, dest, None, None)])
    assert info.value.errno == errno.ESRCH
    assert "tcp 203.0.113.1:81" in str(info.value) and "[ESRCH]" in str(info.value)


# --- summarize --------------------------------------------------------------------


def test_summary_shows_only_what_changes():
    current = table(
        svc(destinations=[{"address": "192.0.2.1"}, {"address": "192.0.2.2"}, {"address": "192.0.2.3"}]),
        svc(port=443, destinations=[{"address": "192.0.2.1", "port": 443}]),
        svc(port=8080),
    )
    desired = table(
        svc(destinations=[{"address": "192.0.2.1"}, {"address": "192.0.2.2", "weight": 4}, {"address": "192.0.2.4"}]),
        svc(port=8080, scheduler="rr"),
        {"fwmark": 6, "destinations": [{"address": "192.0.2.9"}]},
    )
    summary = summarize(diff(current, desired, {"mode": "all"}))
    before, after = summary["diff"]["before"], summary["diff"]["after"]
    assert set(before) == {"tcp 203.0.113.1:80", "tcp 203.0.113.1:443", "tcp 203.0.113.1:8080"}
    assert set(after) == {"tcp 203.0.113.1:80", "tcp 203.0.113.1:8080", "fwmark 6 (ipv4)"}
    assert before["tcp 203.0.113.1:80"] == {
        "destinations": {
            "192.0.2.2:80": {"forward": "masq", "weight": 1, "u_threshold": 0, "l_threshold": 0, "tunnel": None},
            "192.0.2.3:80": {"forward": "masq", "weight": 1, "u_threshold": 0, "l_threshold": 0, "tunnel": None},
        }
    }
    assert set(after["tcp 203.0.113.1:80"]["destinations"]) == {"192.0.2.2:80", "192.0.2.4:80"}
    assert after["tcp 203.0.113.1:80"]["destinations"]["192.0.2.2:80"]["weight"] == 4
    assert (before["tcp 203.0.113.1:8080"]["scheduler"], after["tcp 203.0.113.1:8080"]["scheduler"]) == ("wlc", "rr")
    assert set(before["tcp 203.0.113.1:443"]["destinations"]) == {"192.0.2.1:443"}
    assert set(after["fwmark 6 (ipv4)"]["destinations"]) == {"192.0.2.9:0"}
    assert summary["changes"] == [
        "add service fwmark 6 (ipv4): scheduler wlc",
        "edit service tcp 203.0.113.1:8080: scheduler wlc -> rr",
        "add destination 192.0.2.4:80 to tcp 203.0.113.1:80 (masq, weight 1)",
        "add destination 192.0.2.9:0 to fwmark 6 (ipv4) (masq, weight 1)",
        "edit destination 192.0.2.2:80 in tcp 203.0.113.1:80: weight 1 -> 4",
        "delete destination 192.0.2.3:80 from tcp 203.0.113.1:80",
        "delete service tcp 203.0.113.1:443 with its 1 destination",
    ]


def test_summary_of_an_empty_plan_is_empty():
    assert summarize([]) == {"diff": {"before": {}, "after": {}}, "changes": []}


def test_summary_brackets_ipv6_and_lists_persistence():
    plan = diff([], table({**WEB6, "flags": ["persistent"], "destinations": [{"address": "2001:db8:2::1"}]}))
    assert summarize(plan)["changes"] == [
        "add service tcp [2001:db8::1]:80: scheduler wlc, flags persistent, timeout 300",
        "add destination [2001:db8:2::1]:80 to tcp [2001:db8::1]:80 (masq, weight 1)",
    ]


# --- Properties over random tables ------------------------------------------------------

VIPS = ("203.0.113.1", "203.0.113.2", "2001:db8::1")
SERVICE_PORTS = (80, 443)
FWMARKS = (1, 2)
REAL_SERVERS = ("192.0.2.1", "192.0.2.2", "192.0.2.3", "2001:db8:2::1", "2001:db8:2::2")
DEST_PORTS = (80, 8080)
TUNNELS = (None, {"type": "gre", "flags": ["csum"]}, {"type": "gue", "port": 6080}, {"type": "gue", "port": 6081})
SCHEDULER_FLAGS = {"rr": [], "wlc": [], "sh": ["sh-fallback", "sh-port"], "mh": ["mh-port"]}


def _family(address):
    return "ipv6" if ":" in address else "ipv4"


def in_scope(key, desired_keys, scope):
    if key in desired_keys or scope["mode"] == "all":
        return True
    if scope["mode"] == "addresses":
        return key[2] in (scope["fwmarks"] if key[1] == "fwmark" else scope["addresses"])
    return False


def kernel_view(entry, shuffler):
    """The entry as the netlink decoders give it: statistics, flags in bit order, no destinations_mode."""
    view = {key: copy.deepcopy(value) for key, value in entry.items() if key != "destinations_mode"}
    view["stats"] = {"conns": shuffler.randrange(100)}
    shuffler.shuffle(view["flags"])
    for dest in view["destinations"]:
        dest.update(active_conns=shuffler.randrange(5), stats={"conns": 1})
    shuffler.shuffle(view["destinations"])
    return view


def dest_keys(entry):
    return {dest_identity(dest) for dest in entry["destinations"]}


def check_plan(current, desired, scope):
    """Every property of one diff; returns nothing, asserts everything."""
    plan = diff(current, desired, scope)
    result = apply_plan(current, plan)
    before = {service_identity(s): s for s in current}
    after = {service_identity(s): s for s in result}
    wanted = {service_identity(s): s for s in desired}

    for key, entry in before.items():
        if not in_scope(key, wanted, scope):
            assert after[key] == entry and repr(after[key]) == repr(entry)
    assert set(after) == set(wanted) | {key for key in before if not in_scope(key, wanted, scope)}
    for key, entry in wanted.items():
        assert plain_service(after[key]) == plain_service(entry)
        got = {dest_identity(d): plain_destination(d) for d in after[key]["destinations"]}
        want = {dest_identity(d): d for d in entry["destinations"]}
        if entry["destinations_mode"] == "merge" and key in before:
            kept = {dest_identity(d): plain_destination(d) for d in before[key]["destinations"]}
            want = {**{k: v for k, v in kept.items() if k not in want}, **want}
        assert got == want

    added, deleted = set(), set()
    for op in plan:
        ident = (service_identity(op.service),)
        if op.destination is not None:
            ident += (dest_identity(op.destination),)
        if op.action.startswith("delete"):
            deleted.add(ident)
        elif op.action.startswith("add"):
            assert ident not in deleted, f"{op.action} after a delete of {ident}"
            added.add(ident)
    # Nothing is both removed and re-added, in either order: that would be an edit.
    assert not added & deleted
    # Entries in both tables are only ever edited.
    for ident in added | deleted:
        in_both = ident[0] in before and ident[0] in wanted
        if in_both and len(ident) == 2:
            in_both = ident[1] in dest_keys(before[ident[0]]) and ident[1] in dest_keys(wanted[ident[0]])
        assert not in_both, f"{ident} is in both tables but was added or deleted"

    for key in {service_identity(op.service) for op in plan}:
        steps = [op.action for op in plan if service_identity(op.service) == key]
        if "delete_destination" in steps and "add_destination" in steps:
            assert max(i for i, a in enumerate(steps) if a == "add_destination") < steps.index("delete_destination")
    ranks = [
        "add_service",
        "edit_service",
        "add_destination",
        "edit_destination",
        "delete_destination",
        "delete_service",
    ]
    assert [ranks.index(op.action) for op in plan] == sorted(ranks.index(op.action) for op in plan)

    for op in plan:
        service_attrs(op.service, full=True)
        if op.destination is not None:
            dest_attrs(op.destination, full=True)

    assert diff(result, desired, scope) == []
    assert diff(copy.deepcopy(current), copy.deepcopy(desired), scope) == plan


PROPERTY_SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def raw_destinations(draw, service):
    entries = []
    for _dummy in range(draw(st.integers(0, 4))):
        forward = draw(st.sampled_from(("masq", "droute", "tunnel")))
        pool = [a for a in REAL_SERVERS if forward == "tunnel" or _family(a) == service["family"]]
        raw = {
            "address": draw(st.sampled_from(pool)),
            "forward": forward,
            "weight": draw(st.sampled_from((0, 1, 5))),
        }
        if forward == "masq":
            raw["port"] = draw(st.sampled_from(DEST_PORTS))
        upper = draw(st.sampled_from((0, 100)))
        raw.update(u_threshold=upper, l_threshold=draw(st.sampled_from((0, 10))) if upper else 0)
        if forward == "tunnel":
            raw["tunnel"] = draw(st.sampled_from(TUNNELS))
        entries.append(raw)
    return entries


@st.composite
def services(draw):
    kind = draw(st.sampled_from(("address", "fwmark")))
    if kind == "fwmark":
        raw = {"fwmark": draw(st.sampled_from(FWMARKS)), "family": draw(st.sampled_from(("ipv4", "ipv6")))}
    else:
        raw = {"address": draw(st.sampled_from(VIPS)), "port": draw(st.sampled_from(SERVICE_PORTS))}
        raw["protocol"] = draw(st.sampled_from(("tcp", "udp")))
    raw["scheduler"] = draw(st.sampled_from(sorted(SCHEDULER_FLAGS)))
    flags = ["persistent", "one-packet", *SCHEDULER_FLAGS[raw["scheduler"]]]
    raw["flags"] = draw(st.lists(st.sampled_from(flags), unique=True, max_size=2))
    if "persistent" in raw["flags"]:
        raw["timeout"] = draw(st.sampled_from((60, 300)))
    raw["destinations_mode"] = draw(st.sampled_from(("exact", "exact", "merge")))
    service = normalize_service(raw, "s")
    dests = {}
    for index, dest in enumerate(draw(raw_destinations(service))):
        entry = normalize_destination(dest, service, f"s.destinations[{index}]")
        dests.setdefault(dest_identity(entry), entry)
    raw["destinations"] = list(dests.values())
    return normalize_service(raw, "s")


def tables():
    return st.lists(services(), max_size=5, unique_by=service_identity)


@st.composite
def scopes(draw):
    mode = draw(st.sampled_from(("managed", "addresses", "all")))
    if mode != "addresses":
        return {"mode": mode}
    addresses = draw(st.lists(st.sampled_from(VIPS), unique=True))
    fwmarks = draw(st.lists(st.sampled_from(FWMARKS), unique=True))
    return {"mode": mode, "addresses": addresses, "fwmarks": fwmarks}


@PROPERTY_SETTINGS
@given(current=tables(), desired=tables(), scope=scopes())
def test_plans_reach_the_desired_table_within_scope(current, desired, scope):
    check_plan(current, desired, scope)


@PROPERTY_SETTINGS
@given(current=tables(), desired=tables(), scope=scopes(), seed=st.integers(0, 2**16))
def test_plans_from_the_kernels_view_reach_the_desired_table(current, desired, scope, seed):
    shuffler = random.Random(seed)
    check_plan([kernel_view(entry, shuffler) for entry in current], desired, scope)


@PROPERTY_SETTINGS
@given(desired=tables())
def test_canonical_entries_normalize_to_themselves(desired):
    for index, service in enumerate(desired):
        assert normalize_service(copy.deepcopy(service), f"services[{index}]") == service
    assert normalize_table(desired) == normalize_table(list(reversed(desired)))


def test_odd_inputs_to_the_engine_are_refused_loudly():
    assert normalize_table(None) == []
    twice = table(svc()) * 2
    with pytest.raises(ValueError, match="listed twice"):
        diff(twice, [])
    with pytest.raises(ValueError, match="destinations_mode"):
        diff([], [dict(table(svc())[0], destinations_mode="replace")])
    with pytest.raises(ValueError, match="unknown plan action"):
        apply_plan(table(svc()), [Op("rename_service", plain_service(table(svc())[0]), None, None, None)])


def test_options_of_a_single_service_module_are_named_without_a_prefix():
    with pytest.raises(ValidationError) as caught:
        normalize_service({"address": "203.0.113.1", "port": 80, "scheduler": "fast"}, "")
    assert str(caught.value).startswith("scheduler: 'fast': unknown scheduler")
    with pytest.raises(ValidationError) as whole:
        normalize_service({"scheduler": "rr"}, "")
    assert str(whole.value) == "a service needs an address (with protocol and port) or a fwmark"


def test_a_service_is_named_by_its_identity_alone():
    assert normalize_service_identity({"fwmark": 7, "family": "ipv6"}, "services[0]") == {
        "family": "ipv6",
        "protocol": None,
        "address": None,
        "port": None,
        "fwmark": 7,
    }
    assert normalize_service_identity({"address": "2001:DB8::1", "port": 80}, "s")["address"] == "2001:db8::1"
    with pytest.raises(ValidationError, match=r"^services\[1\]: 'scheduler': unknown key"):
        normalize_service_identity({"address": "203.0.113.1", "port": 80, "scheduler": "rr"}, "services[1]")
