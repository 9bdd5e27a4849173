# Copyright (c) 2026 lvs.ipvs developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The run shared by the modules that change services: read, plan, apply in batches, undo on refusal.

Plain Python over the netlink client and the diff engine, so that the modules
stay thin and the lab benchmark times exactly what a module does.
"""

from __future__ import annotations

from collections import namedtuple

from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_client import BatchError
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_errors import IPVSError
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_plan import (
    apply_plan,
    diff,
    from_kernel,
    plain_service,
    summarize,
    undo,
)
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_validate import dest_key, normalize_scope, service_key

Outcome = namedtuple("Outcome", "plan changes diff before after")


class ApplyError(Exception):
    """The kernel refused steps of a plan; what is left of it in the kernel is in the fields.

    applied: steps carried out and still in effect (after a rollback, those
    that could not be undone); refused: steps the kernel refused, each with
    its reason; not_sent: steps never sent; undone: steps carried out, then
    taken back.
    """

    def __init__(self, message, errno_code, changes, applied, refused, not_sent, undone):
        super().__init__(message)
        self.errno = errno_code
        self.changes = changes
        self.applied = applied
        self.refused = refused
        self.not_sent = not_sent
        self.undone = undone


def read_table(client, stats=True):
    """Every service with its destinations, as the kernel reports them, in its dump order."""
    services = []
    for service, dests in read_services(client, stats=stats):
        if not stats:
            service.pop("stats", None)
            for dest in dests:
                dest.pop("stats", None)
        services.append(dict(service, destinations=dests))
    return services


def read_services(client, services=None, stats=True):
    """(service, destinations) as the kernel reports them, for every service or for these where they exist."""
    return list(_each_service(client, services, stats))


def _each_service(client, services, stats):
    # One service at a time: a caller that keeps less than the kernel's
    # answer lets each go before the next is read.
    if services is None:
        found = client.services(stats)
    else:
        found = [entry for entry in (client.get_service(plain_service(s)) for s in services) if entry]
    for service in found:
        yield service, client.destinations(service, stats)


def current_table(client, services=None, like=None):
    """Canonical entries (from_kernel()) of every service, or of these services where they exist.

    like: the desired table. A destination read that equals the desired one
    is replaced by it, so that a table in place is held in memory once, not
    twice (110,000 rules take about 45 MiB each time).
    """
    # By service, and each service's destinations only when the kernel has
    # it: an index of every desired destination would be 22 MiB at 110,000
    # rules, for a kernel that may have none of them.
    wanted = {service_key(entry): entry for entry in like or ()}
    table = []
    for service, dests in _each_service(client, services, stats=False):
        entry = from_kernel(service, dests)
        desired = wanted.get(service_key(entry))
        if desired:
            same = {dest_key(dest): dest for dest in desired.get("destinations") or ()}
            entry["destinations"] = [_same(same.get(dest_key(dest)), dest) for dest in entry["destinations"]]
        table.append(entry)
    return table


def _same(desired, read):
    return desired if desired == read else read


class _Steps:
    """The plan as the client's steps, (action, service, destination), made one at a time when asked.

    A list of them would hold a tuple per step for the whole run (8 MiB for
    110,000 steps) beside the plan it repeats.
    """

    __slots__ = ("_ops",)

    def __init__(self, ops):
        self._ops = ops

    def __len__(self):
        return len(self._ops)

    def __getitem__(self, index):
        op = self._ops[index]
        return op.action, op.service, op.destination


def _roll_back(client, plan, applied):
    """Undo the applied steps, latest first: (plan indexes undone, {plan index: why it could not be undone})."""
    owners, back = [], []
    for index in sorted(applied, reverse=True):
        for step in undo(plan[index]):
            owners.append(index)
            back.append(step)
    try:
        client.run(_Steps(back))
    except BatchError as exc:
        stuck = {owners[i]: str(error) for i, error in exc.failed}
        stuck.update((owners[i], "not sent") for i in exc.not_sent if owners[i] not in stuck)
        return [i for i in applied if i not in stuck], stuck
    return list(applied), {}


def _failure(client, current, plan, changes, exc, rollback):
    index, first = exc.failed[0]
    refused = [f"{changes[i]}: {error}" for i, error in exc.failed]
    not_sent = [changes[i] for i in exc.not_sent]
    where = f"{first} (at step {index + 1} of {len(plan)}: {changes[index]})"
    if not rollback or not exc.applied:
        applied = [changes[i] for i in exc.applied]
        state = (
            "nothing was changed"
            if not exc.applied
            else f"{len(exc.applied)} steps were applied and left in place (rollback is off)"
        )
        message = f"{where}; {state}, {len(exc.failed)} refused, {len(exc.not_sent)} not sent"
        return ApplyError(message, first.errno, changes, applied, refused, not_sent, [])
    undone, stuck = _roll_back(client, plan, exc.applied)
    if not stuck:
        message = f"{where}; the {len(undone)} steps already applied were undone: the table is as it was before"
        left = []
    else:
        left = _still_different(client, plan, current)
        if left is None:
            detail = "; ".join(f"{changes[i]} ({why})" for i, why in sorted(stuck.items()))
            state = f"these may still be in effect: {detail}"
        elif not left:
            state = "the table is as it was before all the same"
        else:
            state = f"the table still differs from before; these steps would restore it: {'; '.join(left)}"
        message = f"{where}; undoing the {len(exc.applied)} steps already applied failed for {len(stuck)}: {state}"
    # Unreadable (None) or still different: the steps whose undo failed are taken to be in effect.
    in_effect = [changes[i] for i in sorted(stuck)] if left is None or left else []
    return ApplyError(message, first.errno, changes, in_effect, refused, not_sent, [changes[i] for i in undone])


def _still_different(client, plan, current):
    """After a failed undo, the steps that would restore the services the plan touched; None if unreadable."""
    touched = {}
    for op in plan:
        touched.setdefault(service_key(op.service), op.service)
    originals = [entry for entry in current if service_key(entry) in touched]
    try:
        now = current_table(client, list(touched.values()))
    except IPVSError:
        return None
    return summarize(diff(now, originals, normalize_scope("all")))["changes"]


def converge(client, current, desired, scope=None, check_mode=False, rollback=True, with_diff=True, lean=False):
    """Turn current (canonical, as read) into desired within scope; in check mode only plan.

    Raises ApplyError when the kernel refuses a step. With rollback (the
    default) the steps already applied are then undone, so that the table is
    as it was read; ApplyError says which could not be. Without with_diff,
    the outcome's diff is None. lean (without with_diff): the outcome's plan
    keeps its length but not its steps (None each), for a caller that needs
    only to know whether anything changed; it saves memory at the peak.
    """
    plan = diff(current, desired, scope)
    if plan and not check_mode:
        try:
            client.run(_Steps(plan))
        except BatchError as exc:
            changes = summarize(plan, with_diff=False)["changes"]
            raise _failure(client, current, plan, changes, exc, rollback) from None
    # The kernel did exactly what the plan says (the lab tests read it back): no second dump needed.
    after = apply_plan(current, plan) if plan else current
    # Described last, so that the lines and the plan are held together only
    # when the plan is kept.
    summary = summarize(plan, with_diff, consume=lean)
    return Outcome(plan, summary["changes"], summary["diff"], current, after)
