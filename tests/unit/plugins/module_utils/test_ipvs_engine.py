# Copyright (c) 2026 lvs.ipvs developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The shared run (read, plan, apply in batches) over an in-memory stand-in for the client.

The stand-in carries steps out with the model's own apply_plan(); that the
kernel does the same is for the lab tier to show.
"""

from __future__ import annotations

import errno

import pytest

from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_client import BatchError
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_engine import (
    ApplyError,
    converge,
    current_table,
    read_table,
)
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_errors import IPVSError
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_plan import Op, apply_plan
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_validate import (
    normalize_service_identity,
    normalize_table,
    service_key,
)

WEB = {"protocol": "tcp", "address": "203.0.113.1", "port": 80}


class FakeClient:
    """The kernel's table in memory. refuse: the indexes of the steps of each run to refuse, run by run."""

    def __init__(self, table=(), refuse=()):
        self.table = [dict(entry, destinations=list(entry["destinations"])) for entry in table]
        self.refuse = [set(indexes) for indexes in refuse]
        self.runs = []

    def services(self, stats=True):
        return [{key: value for key, value in entry.items() if key != "destinations"} for entry in self.table]

    def get_service(self, service):
        wanted = service_key(service)
        return next((s for s in self.services() if service_key(s) == wanted), None)

    def destinations(self, service, stats=True):
        wanted = service_key(service)
        entry = next(e for e in self.table if service_key(e) == wanted)
        return [dict(dest, stats={"conns": 1}) for dest in entry["destinations"]]

    def run(self, steps):
        refuse = self.refuse[len(self.runs)] if len(self.runs) < len(self.refuse) else set()
        self.runs.append(steps)
        applied, failed = [], []
        for index, (action, service, dest) in enumerate(steps):
            if index in refuse:
                failed.append((index, IPVSError(errno.EINVAL, f"IPVS {action}: refused")))
                continue
            self.table = apply_plan(self.table, [Op(action, service, dest, None, None)])
            applied.append(index)
        if failed:
            raise BatchError(applied, failed, [])
        return applied


def desired(*dests, scheduler="rr"):
    return normalize_table([dict(WEB, scheduler=scheduler, destinations=[{"address": a} for a in dests])])


def test_converge_applies_the_plan_in_one_run_and_reports_the_result():
    client = FakeClient()
    outcome = converge(client, current_table(client), desired("192.0.2.11", "192.0.2.12"))
    assert [op.action for op in outcome.plan] == ["add_service", "add_destination", "add_destination"]
    assert len(client.runs) == 1
    assert outcome.changes[0] == "add service tcp 203.0.113.1:80: scheduler rr"
    assert current_table(client) == outcome.after
    again = converge(client, current_table(client), desired("192.0.2.11", "192.0.2.12"))
    assert again.plan == [] and again.changes == [] and len(client.runs) == 1


def test_check_mode_plans_without_running():
    client = FakeClient()
    outcome = converge(client, [], desired("192.0.2.11"), check_mode=True)
    assert client.runs == [] and client.table == []
    assert [service_key(entry) for entry in outcome.after] == [("ipv4", "tcp", "203.0.113.1", 80)]


def test_a_refused_step_is_undone_with_what_was_applied_before_it():
    start = desired("192.0.2.11")
    client = FakeClient(start, refuse=[{0}])
    with pytest.raises(ApplyError) as caught:
        converge(client, current_table(client), desired("192.0.2.11", "192.0.2.12", scheduler="wrr"))
    error = caught.value
    assert error.errno == errno.EINVAL
    assert str(error).startswith("IPVS edit_service: refused [EINVAL] (at step 1 of 2: edit service tcp 203.0.113.1:80")
    assert str(error).endswith("the 1 steps already applied were undone: the table is as it was before")
    assert error.undone == ["add destination 192.0.2.12:80 to tcp 203.0.113.1:80 (masq, weight 1)"]
    assert error.applied == []
    assert error.refused[0].endswith("IPVS edit_service: refused [EINVAL]")
    assert len(error.changes) == 2
    # The second run took the added destination back out.
    assert [step[0] for step in client.runs[1]] == ["delete_destination"]
    assert current_table(client) == current_table(FakeClient(start))


def test_without_rollback_the_applied_steps_stay_and_are_listed():
    client = FakeClient(desired("192.0.2.11"), refuse=[{0}])
    with pytest.raises(ApplyError) as caught:
        converge(client, current_table(client), desired("192.0.2.11", "192.0.2.12", scheduler="wrr"), rollback=False)
    error = caught.value
    assert "1 steps were applied and left in place (rollback is off), 1 refused, 0 not sent" in str(error)
    assert error.applied == ["add destination 192.0.2.12:80 to tcp 203.0.113.1:80 (masq, weight 1)"]
    assert error.undone == []
    assert len(client.runs) == 1


def test_an_undo_that_fails_says_exactly_what_is_left():
    start = desired("192.0.2.11", "192.0.2.12")
    client = FakeClient(start, refuse=[{2}, {0}])
    with pytest.raises(ApplyError) as caught:
        converge(client, current_table(client), desired("192.0.2.11", "192.0.2.13", scheduler="wrr"))
    error = caught.value
    # Steps: edit the service, add .13, delete .12 (refused). Undo, latest
    # first: delete .13 (refused), set the scheduler back (done).
    assert "undoing the 2 steps already applied failed for 1: the table still differs from before" in str(error)
    assert str(error).endswith("these steps would restore it: delete destination 192.0.2.13:80 from tcp 203.0.113.1:80")
    assert error.applied == ["add destination 192.0.2.13:80 to tcp 203.0.113.1:80 (masq, weight 1)"]
    assert error.undone == ["edit service tcp 203.0.113.1:80: scheduler rr -> wrr"]


def test_an_undo_that_fails_where_nothing_is_left_says_so():
    client = FakeClient([], refuse=[{2}, {0}])
    with pytest.raises(ApplyError) as caught:
        converge(client, [], desired("192.0.2.11", "192.0.2.12"))
    # Undo: delete .11 (refused), delete the service (done: .11 goes with it).
    assert str(caught.value).endswith("failed for 1: the table is as it was before all the same")
    assert caught.value.applied == []
    assert client.table == []


def test_a_refusal_before_anything_was_applied_needs_no_undo():
    client = FakeClient([], refuse=[{0, 1}])
    with pytest.raises(ApplyError) as caught:
        converge(client, [], desired("192.0.2.11"))
    assert "nothing was changed, 2 refused, 0 not sent" in str(caught.value)
    assert len(client.runs) == 1


def test_read_table_keeps_or_drops_statistics():
    client = FakeClient(desired("192.0.2.11"))
    assert read_table(client)[0]["destinations"][0]["stats"] == {"conns": 1}
    assert "stats" not in read_table(client, stats=False)[0]["destinations"][0]
    gone = normalize_service_identity({"protocol": "tcp", "address": "203.0.113.9", "port": 80}, "")
    assert current_table(client, [gone]) == []


class UnreadableAfterUndo(FakeClient):
    """Refuses what FakeClient refuses, and then cannot read the table any more."""

    def get_service(self, service):
        if len(self.runs) > 1:
            raise IPVSError(errno.EIO, "IPVS get service: unreadable")
        return super().get_service(service)


def test_an_undo_that_fails_where_the_table_cannot_be_read_lists_what_may_be_left():
    start = desired("192.0.2.11", "192.0.2.12")
    client = UnreadableAfterUndo(start, refuse=[{2}, {0}])
    with pytest.raises(ApplyError) as caught:
        converge(client, current_table(client), desired("192.0.2.11", "192.0.2.13", scheduler="wrr"))
    assert "these may still be in effect: add destination 192.0.2.13:80" in str(caught.value)
    assert caught.value.applied == ["add destination 192.0.2.13:80 to tcp 203.0.113.1:80 (masq, weight 1)"]


def test_lean_keeps_the_plans_length_and_the_same_changes_but_not_its_steps():
    kept = converge(FakeClient(), [], desired("192.0.2.11", "192.0.2.12"), with_diff=False)
    client = FakeClient()
    lean = converge(client, [], desired("192.0.2.11", "192.0.2.12"), with_diff=False, lean=True)
    assert lean.changes == kept.changes and lean.after == kept.after == current_table(client)
    assert lean.plan == [None, None, None]
    # With a diff, the plan is needed for its views and is kept.
    assert all(converge(FakeClient(), [], desired("192.0.2.11"), lean=True).plan)


def test_the_client_is_given_the_plans_steps_as_they_are_asked_for():
    client = FakeClient()
    outcome = converge(client, [], desired("192.0.2.11"))
    (steps,) = client.runs
    assert len(steps) == len(outcome.plan) == 2
    assert [steps[i] for i in range(len(steps))] == [(op.action, op.service, op.destination) for op in outcome.plan]
