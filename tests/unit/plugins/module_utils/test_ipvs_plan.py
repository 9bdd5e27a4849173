# Copyright (c) 2026 lvs.ipvs developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The diff engine and its plans, the simulation of the kernel, the undo of each step, the summaries.

Small explicit cases pin each rule; property tests over random tables (drawn
from small address and port pools so that identities collide) check that a
plan, simulated by apply_plan, reaches the desired table without touching
anything out of scope, without delete-then-add, that a second diff is empty,
and that undoing a plan's steps gives back the table it started from.
"""

from __future__ import annotations

import copy
import errno
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_attrs import dest_attrs, service_attrs
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_plan import (
    Op,
    PlanError,
    apply_plan,
    diff,
    from_kernel,
    plain_destination,
    plain_service,
    summarize,
    undo_plan,
)
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_validate import (
    dest_key,
    normalize_destination,
    normalize_scope,
    normalize_service,
    normalize_table,
    service_key,
)
from ansible_collections.lvs.ipvs.tests.unit.plugins.module_utils.user_input import (
    WEB,
    WEB6,
    actions,
    svc,
    table,
    with_dest,
)


def owned(mode, addresses=(), fwmarks=()):
    """A scope, as the modules' options give it."""
    return normalize_scope(mode, addresses, fwmarks)


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
    desired = table(svc(protocol="udp", flags=["persistent", "one-packet"], destinations=[{"address": "192.0.2.11"}]))
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
        ({"flags": ["one-packet"], "protocol": "udp"}, "flags none -> one-packet"),
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
    plan = diff(current, desired, owned("addresses", ["203.0.113.1"]))
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
    plan = diff(current, desired, owned("all"))
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
        (owned("managed"), []),
        (owned("addresses", ["203.0.113.1"]), [("ipv4", "tcp", "203.0.113.1", 443)]),
        (owned("addresses", [], [2, 1]), [("ipv4", "fwmark", 1), ("ipv6", "fwmark", 2)]),
        (
            owned("all"),
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
    assert [service_key(op.service) for op in plan if op.action == "delete_service"] == deleted
    assert actions(plan) == ["edit_service"] + ["delete_service"] * len(deleted)


def test_a_desired_service_is_managed_whatever_the_scope_lists():
    plan = diff([], table({"address": "198.51.100.1", "port": 80}), owned("addresses", ["203.0.113.1"]))
    assert actions(plan) == ["add_service"]


def test_scope_addresses_are_compared_normalized():
    current = table({"address": "2001:db8::1", "port": 80})
    plan = diff(current, [], owned("addresses", ["2001:DB8:0::1"]))
    assert actions(plan) == ["delete_service"]


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
    plan = diff(current, desired, owned("all"))
    shuffler = random.Random(7)
    for _dummy in range(5):
        shuffled_current = copy.deepcopy(current)
        shuffled_desired = copy.deepcopy(desired)
        for entries in (shuffled_current, shuffled_desired):
            shuffler.shuffle(entries)
            for entry in entries:
                shuffler.shuffle(entry["destinations"])
        assert diff(shuffled_current, shuffled_desired, owned("all")) == plan


def test_plan_entries_are_what_the_netlink_client_takes():
    current = table(svc(destinations=[{"address": "192.0.2.1"}]), {"fwmark": 4})
    desired = table(
        svc(scheduler="sh", flags=["sh-port"], destinations=[{"address": "192.0.2.2", "forward": "droute"}]),
        {**WEB6, "destinations": [{"address": "192.0.2.1", "forward": "tunnel", "tunnel": {"type": "gue", "port": 9}}]},
    )
    plan = diff(current, desired, owned("all"))
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
    result = apply_plan(current, diff(current, desired, owned("all")))
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
    summary = summarize(diff(current, desired, owned("all")))
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
    return {dest_key(dest) for dest in entry["destinations"]}


def check_plan(current, desired, scope):
    """Every property of one diff; returns nothing, asserts everything."""
    plan = diff(current, desired, scope)
    result = apply_plan(current, plan)
    before = {service_key(s): s for s in current}
    after = {service_key(s): s for s in result}
    wanted = {service_key(s): s for s in desired}

    for key, entry in before.items():
        if not in_scope(key, wanted, scope):
            assert after[key] == entry and repr(after[key]) == repr(entry)
    assert set(after) == set(wanted) | {key for key in before if not in_scope(key, wanted, scope)}
    for key, entry in wanted.items():
        assert plain_service(after[key]) == plain_service(entry)
        got = {dest_key(d): plain_destination(d) for d in after[key]["destinations"]}
        want = {dest_key(d): d for d in entry["destinations"]}
        if entry["destinations_mode"] == "merge" and key in before:
            kept = {dest_key(d): plain_destination(d) for d in before[key]["destinations"]}
            want = {**{k: v for k, v in kept.items() if k not in want}, **want}
        assert got == want

    added, deleted = set(), set()
    for op in plan:
        ident = (service_key(op.service),)
        if op.destination is not None:
            ident += (dest_key(op.destination),)
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

    for key in {service_key(op.service) for op in plan}:
        steps = [op.action for op in plan if service_key(op.service) == key]
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
    # One-packet scheduling is for UDP (and firewall-mark) services only.
    one_packet = [] if raw.get("protocol") == "tcp" else ["one-packet"]
    flags = ["persistent", *one_packet, *SCHEDULER_FLAGS[raw["scheduler"]]]
    raw["flags"] = draw(st.lists(st.sampled_from(flags), unique=True, max_size=2))
    if "persistent" in raw["flags"]:
        raw["timeout"] = draw(st.sampled_from((60, 300)))
    raw["destinations_mode"] = draw(st.sampled_from(("exact", "exact", "merge")))
    service = normalize_service(raw, "s")
    dests = {}
    for index, dest in enumerate(draw(raw_destinations(service))):
        entry = normalize_destination(dest, service, f"s.destinations[{index}]")
        dests.setdefault(dest_key(entry), entry)
    raw["destinations"] = list(dests.values())
    return normalize_service(raw, "s")


def tables():
    return st.lists(services(), max_size=5, unique_by=service_key)


@st.composite
def scopes(draw):
    mode = draw(st.sampled_from(("managed", "addresses", "all")))
    if mode != "addresses":
        return owned(mode)
    addresses = draw(st.lists(st.sampled_from(VIPS), unique=True))
    fwmarks = draw(st.lists(st.sampled_from(FWMARKS), unique=True))
    return owned(mode, addresses, fwmarks)


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


# --- Undo ----------------------------------------------------------------------------


def content(table_entries):
    """A table as the kernel would dump it, in a form that compares: services and their destinations."""
    return sorted(
        (
            service_key(entry),
            repr(sorted(plain_service(entry).items())),
            sorted(repr(sorted(plain_destination(d).items())) for d in entry.get("destinations") or ()),
        )
        for entry in table_entries
    )


def test_each_step_has_its_undo():
    current = table(
        svc(scheduler="rr", destinations=[{"address": "192.0.2.1", "weight": 3}, {"address": "192.0.2.2"}]),
        svc(port=443, destinations=[{"address": "192.0.2.9"}]),
    )
    desired = table(
        svc(scheduler="wrr", destinations=[{"address": "192.0.2.1", "weight": 5}, {"address": "192.0.2.3"}]),
        svc(port=8080, destinations=[{"address": "192.0.2.4"}]),
    )
    plan = diff(current, desired, owned("all"))
    assert sorted({op.action for op in plan}) == sorted(
        ["add_service", "edit_service", "add_destination", "edit_destination", "delete_destination", "delete_service"]
    )
    back = undo_plan(plan, range(len(plan)))
    # Latest first: the deleted service comes back first, with its destination, the added one goes last.
    assert [op.action for op in back][:2] == ["add_service", "add_destination"]
    assert back[-1].action == "delete_service" and back[-1].service["port"] == 8080
    assert content(apply_plan(apply_plan(current, plan), back)) == content(current)


@PROPERTY_SETTINGS
@given(current=tables(), desired=tables(), scope=scopes(), data=st.data())
def test_undoing_what_was_applied_gives_back_the_table(current, desired, scope, data):
    # The kernel carries out a plan's steps but some; a step that depends on a
    # refused one (a destination of a service that was not added) fails too.
    plan = diff(current, desired, scope)
    refused = data.draw(st.sets(st.integers(0, max(len(plan) - 1, 0))))
    now, applied = current, []
    for index, op in enumerate(plan):
        if index in refused:
            continue
        try:
            now = apply_plan(now, [op])
        except PlanError:
            continue
        applied.append(index)
    assert content(apply_plan(now, undo_plan(plan, applied))) == content(current)
