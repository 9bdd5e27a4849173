# Copyright (c) 2026 lvs.ipvs developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The run shared by the modules that change services: read, plan, apply in batches.

Plain Python over the netlink client and the desired-state model, so that the
modules stay thin and the lab benchmark times exactly what a module does.
"""

from __future__ import annotations

from collections import namedtuple

from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_client import BatchError
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_model import (
    apply_plan,
    diff,
    from_kernel,
    plain_service,
    summarize,
)

Outcome = namedtuple("Outcome", "plan changes diff before after")


class ApplyError(Exception):
    """The kernel refused steps of a plan: what was applied, what failed, what was never sent."""

    def __init__(self, message, errno_code, changes, applied, failed, not_sent):
        super().__init__(message)
        self.errno = errno_code
        self.changes = changes
        self.applied = applied
        self.failed = failed
        self.not_sent = not_sent


def read_table(client, stats=True):
    """Every service with its destinations, as the kernel reports them, in its dump order."""
    services = []
    for service, dests in read_services(client):
        if not stats:
            service.pop("stats", None)
            for dest in dests:
                dest.pop("stats", None)
        services.append(dict(service, destinations=dests))
    return services


def read_services(client, services=None):
    """(service, destinations) as the kernel reports them, for every service or for these where they exist."""
    if services is None:
        found = client.services()
    else:
        found = [entry for entry in (client.get_service(plain_service(s)) for s in services) if entry]
    return [(service, client.destinations(service)) for service in found]


def current_table(client, services=None):
    """Canonical entries (from_kernel()) of every service, or of these services where they exist."""
    return [from_kernel(service, dests) for service, dests in read_services(client, services)]


def converge(client, current, desired, scope=None, check_mode=False):
    """Turn current (canonical, as read) into desired within scope; in check mode only plan.

    Raises the model's ValidationError for a bad scope or desired table, and
    ApplyError when the kernel refuses a step; the kernel's table is then
    exactly current plus ApplyError.applied.
    """
    plan = diff(current, desired, scope)
    summary = summarize(plan)
    if plan and not check_mode:
        try:
            client.run([(op.action, op.service, op.destination) for op in plan])
        except BatchError as exc:
            changes = summary["changes"]
            index, first = exc.failed[0]
            message = (
                f"{first} (at step {index + 1} of {len(plan)}: {changes[index]}; "
                f"{len(exc.applied)} steps were applied, {len(exc.failed)} failed, {len(exc.not_sent)} not sent)"
            )
            raise ApplyError(
                message,
                first.errno,
                changes,
                [changes[i] for i in exc.applied],
                [f"{changes[i]}: {error}" for i, error in exc.failed],
                [changes[i] for i in exc.not_sent],
            ) from None
    # The kernel did exactly what the plan says (the lab tests read it back): no second dump needed.
    after = apply_plan(current, plan)
    return Outcome(plan, summary["changes"], summary["diff"], current, after)
