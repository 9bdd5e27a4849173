# Copyright (c) 2026 lvs.ipvs developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The validator: every rule of the input, each refusal naming the field and the value, and the defaults.

Small explicit cases pin each rule. The diff engine's tests, which take the
validator's output, are in test_ipvs_plan.py.
"""

from __future__ import annotations

import pytest

from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_attrs import (
    dest_attrs,
    netmask_from_raw,
    netmask_to_raw,
    service_attrs,
    service_flags_from_bits,
    service_flags_to_bits,
)
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_plan import from_kernel, plain_service
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_uapi import AF_INET, AF_INET6
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_validate import (
    ValidationError,
    destination_options,
    normalize_daemon,
    normalize_destination,
    normalize_scope,
    normalize_service,
    normalize_service_identity,
    normalize_services,
    normalize_table,
    normalize_timeouts,
)
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_vocabulary import (
    CONNECTION_TIMEOUT_MAX,
    DEFAULT_NETMASK,
    PERSISTENT_TIMEOUT_MAX,
)
from ansible_collections.lvs.ipvs.tests.unit.plugins.module_utils.user_input import (
    WEB,
    WEB6,
    svc,
    table,
    with_dest,
)

# --- Validation errors ----------------------------------------------------------

MISSING_VALUE = object()
PERSISTENT = {"flags": ["persistent"]}

ERROR_CASES = [
    # (input services, path, value, a fragment of the reason)
    # IPv6 zone ids: the kernel has no place for them, and a run would add the
    # address without, then fail with EEXIST on the next.
    ([svc(address="2001:db8:1::5%dum0")], "services[0].address", "2001:db8:1::5%dum0", "has a zone id"),
    (
        [with_dest({**WEB6}, address="2001:db8:2::5%eth0")],
        "services[0].destinations[0].address",
        "2001:db8:2::5%eth0",
        "has a zone id",
    ),
    # One-packet scheduling only for UDP (and firewall marks, which may group UDP ports).
    ([svc(flags=["one-packet"])], "services[0].flags[0]", "one-packet", "for UDP services, not tcp"),
    ([svc(protocol="sctp", flags=["ops"])], "services[0].flags[0]", "ops", "for UDP services, not sctp"),
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
    ([svc(flags=5)], "services[0].flags", 5, "must be a list"),
    ([svc(flags="persistent,bogus")], "services[0].flags[1]", "bogus", "unknown service flag"),
    ([svc(flags=["sticky"])], "services[0].flags[0]", "sticky", "unknown service flag"),
    ([svc(flags=["hashed"])], "services[0].flags[0]", "hashed", "unknown service flag"),
    ([svc(scheduler="wrr", flags=["persistent", "sh-port"])], "services[0].flags[1]", "sh-port", "needs scheduler sh"),
    ([svc(scheduler="sh", flags=["mh-fallback"])], "services[0].flags[0]", "mh-fallback", "needs scheduler mh, not sh"),
    ([svc(timeout=60)], "services[0].timeout", 60, "needs flag persistent"),
    ([svc(timeout=-1)], "services[0].timeout", -1, f"must be between 0 and {PERSISTENT_TIMEOUT_MAX}"),
    ([svc(timeout=0, **PERSISTENT)], "services[0].timeout", 0, f"must be between 1 and {PERSISTENT_TIMEOUT_MAX}"),
    (
        [svc(timeout=PERSISTENT_TIMEOUT_MAX + 1, **PERSISTENT)],
        "services[0].timeout",
        PERSISTENT_TIMEOUT_MAX + 1,
        "must be between 1 and",
    ),
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


def test_one_packet_is_accepted_on_udp_and_fwmark_services():
    udp, mark = table(svc(protocol="udp", flags=["ops"]), {"fwmark": 3, "flags": ["one-packet"]})
    assert udp["flags"] == mark["flags"] == ["one-packet"]


# --- A destination's options before its service is known -----------------------------


@pytest.mark.parametrize(
    ("options", "path", "value"),
    [
        ({"address": "192.0.2.11", "weight": -1}, "weight", -1),
        ({"address": "192.0.2.11", "port": 65536}, "port", 65536),
        ({"address": "192.0.2.11", "u_threshold": -2}, "u_threshold", -2),
        ({"address": "192.0.2.11", "l_threshold": 2**32}, "l_threshold", 2**32),
        ({"address": "192.0.2.11", "u_threshold": 5, "l_threshold": 6}, "l_threshold", 6),
        ({"address": "192.0.2.11", "forward": "nat"}, "forward", "nat"),
        ({"address": "192.0.2.11", "tunnel": {"type": "gue"}}, "tunnel.port", MISSING_VALUE),
        ({"address": "192.0.2.11", "forward": "droute", "tunnel": {"type": "gre"}}, "tunnel", {"type": "gre"}),
        ({"address": "fe80::1%eth0"}, "address", "fe80::1%eth0"),
        ({"address": "224.0.0.1"}, "address", "224.0.0.1"),
    ],
)
def test_destination_options_are_checked_each_alone(options, path, value):
    with pytest.raises(ValidationError) as info:
        destination_options(options)
    assert info.value.path == path
    if value is not MISSING_VALUE:
        assert info.value.value == value


def test_destination_options_leave_what_depends_on_the_current_entry():
    # The current upper threshold may be above 10; the current forward may be tunnel.
    destination_options({"address": "192.0.2.11", "l_threshold": 10})
    destination_options({"address": "192.0.2.11", "tunnel": {"type": "gre", "flags": ["csum"]}})
    destination_options({"address": "192.0.2.11", "weight": None, "port": None})


# --- Connection timeouts and the sync daemon -----------------------------------------


def test_timeouts_are_seconds_within_what_every_kernel_takes():
    assert normalize_timeouts({"tcp": "900", "udp": CONNECTION_TIMEOUT_MAX}) == {
        "tcp": 900,
        "tcpfin": None,
        "udp": CONNECTION_TIMEOUT_MAX,
    }
    for name, value in (("tcp", 0), ("tcpfin", CONNECTION_TIMEOUT_MAX + 1), ("udp", 2**31 - 1), ("tcp", "x")):
        with pytest.raises(ValidationError) as info:
            normalize_timeouts({name: value})
        assert (info.value.path, info.value.value) == (name, value)


def test_a_daemon_gets_the_netlink_keys_and_leaves_the_rest_to_the_kernel():
    assert normalize_daemon({"role": "master", "interface": "eth1", "sync_id": 10}) == {
        "state": "master",
        "mcast_interface": "eth1",
        "sync_id": 10,
        "sync_maxlen": None,
        "mcast_group": None,
        "mcast_port": None,
        "mcast_ttl": None,
    }
    daemon = normalize_daemon(
        {"role": "backup", "interface": "eth1", "group": "FF02::1:81", "max_len": 65487, "port": 8849, "ttl": 2}
    )
    assert (daemon["mcast_group"], daemon["sync_maxlen"], daemon["mcast_port"], daemon["mcast_ttl"]) == (
        "ff02::1:81",
        65487,
        8849,
        2,
    )


@pytest.mark.parametrize(
    ("options", "path", "value", "reason"),
    [
        ({"role": "primary", "interface": "eth0"}, "role", "primary", "unknown sync daemon role"),
        ({"role": "master"}, "interface", MISSING_VALUE, "is required"),
        ({"role": "master", "interface": "eth\x000"}, "interface", "eth\x000", "not a valid interface name"),
        ({"role": "master", "interface": "\u00e9th0"}, "interface", "\u00e9th0", "ASCII only"),
        ({"role": "master", "interface": "eth 0"}, "interface", "eth 0", "not a valid interface name"),
        ({"role": "master", "interface": "x" * 16}, "interface", "x" * 16, "longer than 15"),
        ({"role": "master", "interface": "eth0", "sync_id": 256}, "sync_id", 256, "between 0 and 255"),
        ({"role": "master", "interface": "eth0", "group": "192.0.2.1"}, "group", "192.0.2.1", "not a multicast"),
        ({"role": "master", "interface": "eth0", "group": "lots"}, "group", "lots", "not an IPv4 or IPv6"),
        ({"role": "master", "interface": "eth0", "max_len": 0}, "max_len", 0, "leave it out for the kernel's default"),
        ({"role": "master", "interface": "eth0", "max_len": 65508}, "max_len", 65508, "between 1 and 65507"),
        (
            {"role": "master", "interface": "eth0", "group": "ff02::1:81", "max_len": 65490},
            "max_len",
            65490,
            "between 1 and 65487",
        ),
        ({"role": "master", "interface": "eth0", "port": 0}, "port", 0, "between 1 and 65535"),
        ({"role": "master", "interface": "eth0", "ttl": 0}, "ttl", 0, "between 1 and 255"),
        ({"role": "master", "interface": "eth0", "ttl": 256}, "ttl", 256, "between 1 and 255"),
    ],
)
def test_a_bad_daemon_setting_is_named(options, path, value, reason):
    with pytest.raises(ValidationError) as info:
        normalize_daemon(options)
    assert info.value.path == path
    assert reason in info.value.reason
    if value is not MISSING_VALUE:
        assert info.value.value == value


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
    # The kernel keeps /32 or /128 when no netmask is given, which its dump gives back as these.
    for family, af in (("ipv4", AF_INET), ("ipv6", AF_INET6)):
        assert netmask_from_raw(af, netmask_to_raw(family, DEFAULT_NETMASK[family])) == DEFAULT_NETMASK[family]
    assert netmask_to_raw("ipv4", DEFAULT_NETMASK["ipv4"]) == b"\xff\xff\xff\xff"


def test_values_are_normalized():
    [service] = table(
        {
            "protocol": "udp",
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
    [service] = table(svc(protocol="udp", scheduler=scheduler, flags=flags))
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


@pytest.mark.parametrize(
    ("args", "path", "value"),
    [
        (("everything",), "scope", "everything"),
        (("addresses", ["nope"]), "scope_addresses[0]", "nope"),
        (("addresses", ["2001:db8::1%eth0"]), "scope_addresses[0]", "2001:db8::1%eth0"),
        (("addresses", [], [0]), "scope_fwmarks[0]", 0),
        (("addresses", "203.0.113.1"), "scope_addresses", "203.0.113.1"),
    ],
)
def test_a_bad_scope_is_refused(args, path, value):
    with pytest.raises(ValidationError) as info:
        normalize_scope(*args)
    assert (info.value.path, info.value.value) == (path, value)


def test_scope_addresses_are_normalized_and_count_only_with_mode_addresses():
    assert normalize_scope("addresses", ["2001:DB8:0::1"], [3])["addresses"] == {"2001:db8::1"}
    assert normalize_scope("all", ["nope"]) == {"mode": "all", "addresses": set(), "fwmarks": set()}


def test_flags_may_be_one_comma_separated_string_as_ansible_lists_take_them():
    [service] = normalize_table([svc(flags="persistent, one-packet", protocol="udp", timeout=60)])
    assert service["flags"] == ["one-packet", "persistent"]


def test_consume_lets_go_of_each_entry_once_it_is_checked():
    given = [{"address": "192.0.2.1", "port": 80}, {"address": "192.0.2.2", "port": 80}]
    kept = [dict(entry) for entry in given]
    assert normalize_services(given, consume=True) == normalize_services(kept)
    assert given == [None, None]
    # Without consume the input is left as it was.
    assert kept == [{"address": "192.0.2.1", "port": 80}, {"address": "192.0.2.2", "port": 80}]
