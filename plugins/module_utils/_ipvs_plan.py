# Copyright (c) 2026 lvs.ipvs developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The diff engine: the ordered plan that turns the kernel's table into the desired one, and its undo.

Both sides are canonical dicts: the desired one from the validator
(_ipvs_validate), the current one as the netlink layer decodes the kernel's
(from_kernel() drops the counters). Every Op carries service and destination
dicts that the IPVSClient method of the same name accepts as they are.

diff() makes the plan; apply_plan() simulates the kernel on it; undo() gives
the steps that take an applied step back; summarize() describes a plan for a
human and for Ansible's diff. Plain Python.
"""

from __future__ import annotations

import collections
import errno

from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_attrs import DEST_FIELDS, SERVICE_FIELDS
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_validate import (
    dest_key,
    dest_order,
    service_key,
    service_order,
)
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_vocabulary import (
    DEFAULT_DESTINATIONS_MODE,
    DEFAULT_TUNNEL_TYPE,
    DESTINATIONS_MODES,
    dest_text,
    service_text,
)

_SERVICE_SETTINGS = ("scheduler", "flags", "timeout", "netmask", "pe_name")
_DEST_SETTINGS = ("forward", "weight", "u_threshold", "l_threshold", "tunnel")

ACTIONS = (
    "add_service",
    "edit_service",
    "delete_service",
    "add_destination",
    "edit_destination",
    "delete_destination",
)

# One step of a plan. action names the IPVSClient method; service (and, for
# destination actions, destination) are what to pass it. before is the current
# entry (a service's with its destinations) or None; after is the entry written
# (a service's settings without destinations) or None.
Op = collections.namedtuple("Op", ["action", "service", "destination", "before", "after"])


class PlanError(Exception):
    """apply_plan() met what the kernel would refuse: errno is EEXIST, ESRCH or ENOENT like the kernel's."""

    def __init__(self, code, message):
        super().__init__(code, message)
        self.errno = code
        self.message = message

    def __str__(self):
        return f"{self.message} [{errno.errorcode.get(self.errno, self.errno)}]"


def from_kernel(service, destinations):
    """A canonical current entry from decode_service() and decode_dest() output (counters dropped)."""
    entry = plain_service(service)
    entry["destinations"] = sorted(
        (plain_destination(dest) for dest in destinations), key=lambda dest: dest_order(dest_key(dest))
    )
    return entry


# --- Identities and settings --------------------------------------------------------


def plain_service(service):
    """The service's netlink fields alone: what IPVSClient methods take."""
    entry = {key: service.get(key) for key in SERVICE_FIELDS}
    entry["fwmark"] = entry["fwmark"] or 0
    entry.update(_service_settings(service))
    return entry


def plain_destination(dest):
    entry = {key: dest.get(key) for key in DEST_FIELDS}
    entry["port"] = entry["port"] or 0
    entry.update(_dest_settings(dest))
    return entry


def _service_settings(service):
    # Order-insensitive flags: the decoder lists them in bit order, the validator sorted.
    return {
        "scheduler": service.get("scheduler"),
        "flags": sorted(set(service.get("flags") or ())),
        "timeout": service.get("timeout") or 0,
        "netmask": service.get("netmask"),
        "pe_name": service.get("pe_name") or None,
    }


def _dest_settings(dest):
    tunnel = None
    if dest.get("forward") == "tunnel":
        raw = dest.get("tunnel") or {}
        tunnel = {
            "type": raw.get("type") or DEFAULT_TUNNEL_TYPE,
            "port": raw.get("port") or 0,
            "flags": sorted(set(raw.get("flags") or ()) - {"nocsum"}),
        }
    return {
        "forward": dest.get("forward"),
        "weight": dest.get("weight") or 0,
        "u_threshold": dest.get("u_threshold") or 0,
        "l_threshold": dest.get("l_threshold") or 0,
        "tunnel": tunnel,
    }


def _index(entries, identity, what):
    index = {}
    for entry in entries:
        key = identity(entry)
        if key in index:
            raise ValueError(f"{what} {key} is listed twice")
        index[key] = entry
    return index


# --- Diff --------------------------------------------------------------------------


def _owned(key, mode, addresses, fwmarks):
    """Whether a service that is not desired is to be deleted."""
    if mode == "all":
        return True
    if mode == "addresses":
        return key[2] in (fwmarks if key[1] == "fwmark" else addresses)
    return False


def _destinations_mode(service):
    mode = service.get("destinations_mode") or DEFAULT_DESTINATIONS_MODE
    if mode not in DESTINATIONS_MODES:
        raise ValueError(f"destinations_mode {mode!r} is not one of {', '.join(DESTINATIONS_MODES)}")
    return mode


def _current_view(service):
    entry = plain_service(service)
    entry["destinations"] = [plain_destination(dest) for dest in service.get("destinations") or ()]
    return entry


def _diff_destinations(old, new, phases):
    """Add to phases the destination ops that turn old's destinations (old may be None) into new's."""
    target = plain_service(new)
    old_dests = _index(old.get("destinations") or () if old else (), dest_key, "destination")
    new_dests = _index(new.get("destinations") or (), dest_key, "destination")
    for key in sorted(new_dests, key=dest_order):
        if old_dests.get(key) == new_dests[key]:
            continue  # the same entry: a no-change run of a large table spends most of its plan here
        wanted = plain_destination(new_dests[key])
        if wanted == new_dests[key]:
            wanted = new_dests[key]  # already canonical: one dict for both, at 110,000 rules that counts
        if key not in old_dests:
            phases["add_destination"].append(Op("add_destination", target, wanted, None, wanted))
            continue
        present = plain_destination(old_dests[key])
        if _dest_settings(present) != _dest_settings(wanted):
            # Forward, weight, thresholds and tunnel all change in place: no dropped connections.
            phases["edit_destination"].append(Op("edit_destination", target, wanted, present, wanted))
    if _destinations_mode(new) == "merge":
        return
    for key in sorted(set(old_dests) - set(new_dests), key=dest_order):
        present = plain_destination(old_dests[key])
        phases["delete_destination"].append(Op("delete_destination", target, present, present, None))


def diff(current, desired, scope=None):
    """The ordered plan that turns current into desired within scope.

    scope (the validator's normalize_scope()): mode managed (the default)
    touches only the desired services; mode addresses also deletes undesired
    services on its addresses and fwmarks; mode all deletes every undesired
    service. Order: service adds, service edits, destination adds,
    destination edits, destination deletes, service deletes, each sorted by
    identity, so new paths exist before old ones go.
    """
    scope = scope or {"mode": "managed", "addresses": set(), "fwmarks": set()}
    mode, addresses, fwmarks = scope["mode"], scope["addresses"], scope["fwmarks"]
    present = _index(current, service_key, "current service")
    wanted = _index(desired, service_key, "desired service")
    phases = {action: [] for action in ACTIONS}
    for key in sorted(wanted, key=service_order):
        new = wanted[key]
        old = present.get(key)
        target = plain_service(new)
        if old is None:
            phases["add_service"].append(Op("add_service", target, None, None, target))
        elif _service_settings(old) != _service_settings(new):
            # Scheduler, flags, timeout, netmask and pe_name all change in place.
            phases["edit_service"].append(Op("edit_service", target, None, _current_view(old), target))
        _diff_destinations(old, new, phases)
    for key in sorted(set(present) - set(wanted), key=service_order):
        if _owned(key, mode, addresses, fwmarks):
            old = _current_view(present[key])
            # The kernel drops a service's destinations with it.
            phases["delete_service"].append(Op("delete_service", plain_service(old), None, old, None))
    order = (
        "add_service",
        "edit_service",
        "add_destination",
        "edit_destination",
        "delete_destination",
        "delete_service",
    )
    return [op for action in order for op in phases[action]]


# --- Simulation --------------------------------------------------------------------


def _copy(value):
    """A deep copy of the model's plain data (dicts, lists, scalars): copy.deepcopy, several times faster."""
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    return value


def _find_dest(entry, dest):
    key = dest_key(dest)
    for position, present in enumerate(entry["destinations"]):
        if dest_key(present) == key:
            return position
    return None


def _apply_dest(entry, op, where):
    position = _find_dest(entry, op.destination)
    if op.action == "add_destination":
        if position is not None:
            raise PlanError(errno.EEXIST, f"{where}: the destination already exists")
        entry["destinations"].append(op.destination)
        return
    if position is None:
        raise PlanError(errno.ENOENT, f"{where}: the service has no such destination")
    if op.action == "edit_destination":
        entry["destinations"][position] = op.destination
    else:
        del entry["destinations"][position]


def apply_plan(table, plan):
    """The table after the kernel carried out plan (a new list; table and plan are left as they are).

    The result shares the entries that did not change with table and plan
    (a copy of a 110,000-rule table would double the memory it takes): read
    it, do not change it. Raises PlanError where the kernel would: EEXIST for
    an add of an existing entry, ESRCH for a missing service, ENOENT for a
    missing destination.
    """
    services = {}
    for entry in table:
        # A new dict and a new list of destinations, whose own dicts are shared.
        services[service_key(entry)] = dict(entry, destinations=list(entry.get("destinations") or ()))
    for op in plan:
        key = service_key(op.service)
        where = f"{op.action} {service_text(op.service)}"
        if op.destination is not None:
            where = f"{where} {dest_text(op.destination)}"
        if op.action == "add_service":
            if key in services:
                raise PlanError(errno.EEXIST, f"{where}: the service already exists")
            services[key] = dict(op.service, destinations=[])
            continue
        if key not in services:
            raise PlanError(errno.ESRCH, f"{where}: no such service")
        if op.action == "edit_service":
            # An edit keeps the service's destinations (and its place).
            services[key] = dict(op.service, destinations=services[key].get("destinations", []))
        elif op.action == "delete_service":
            del services[key]
        elif op.action in ("add_destination", "edit_destination", "delete_destination"):
            services[key].setdefault("destinations", [])
            _apply_dest(services[key], op, where)
        else:
            raise ValueError(f"unknown plan action {op.action!r}")
    return list(services.values())


def undo(op):
    """The steps that take one applied step back, in order.

    A deleted service comes back with its settings and destinations (its
    counters and connections do not); an edit goes back to the settings
    read before it.
    """
    service = op.service
    if op.action == "add_service":
        return [Op("delete_service", service, None, op.after, None)]
    if op.action == "edit_service":
        before = plain_service(op.before)
        return [Op("edit_service", before, None, op.after, before)]
    if op.action == "delete_service":
        before = plain_service(op.before)
        steps = [Op("add_service", before, None, None, before)]
        for dest in op.before.get("destinations") or ():
            dest = plain_destination(dest)
            steps.append(Op("add_destination", before, dest, None, dest))
        return steps
    if op.action == "add_destination":
        return [Op("delete_destination", service, op.destination, op.after, None)]
    if op.action == "edit_destination":
        return [Op("edit_destination", service, op.before, op.after, op.before)]
    if op.action == "delete_destination":
        return [Op("add_destination", service, op.before, None, op.before)]
    raise ValueError(f"unknown plan action {op.action!r}")


def undo_plan(plan, applied):
    """The steps that take back the applied steps of plan (their indexes), latest first."""
    return [step for index in sorted(applied, reverse=True) for step in undo(plan[index])]


# --- Summaries ------------------------------------------------------------------


def _show(value):
    if value is None or value == []:
        return "none"
    if isinstance(value, list):
        return ",".join(str(item) for item in value)
    if isinstance(value, dict):
        parts = [value["type"]]
        if value.get("port"):
            parts.append(f"port {value['port']}")
        parts.extend(value.get("flags") or ())
        return " ".join(parts)
    return str(value)


def _changes(before, after, fields):
    return [
        f"{field} {_show(before.get(field))} -> {_show(after.get(field))}"
        for field in fields
        if before.get(field) != after.get(field)
    ]


def _settings_view(service):
    return {field: _copy(service.get(field)) for field in _SERVICE_SETTINGS}


def _dest_view(dest):
    return {field: _copy(dest.get(field)) for field in _DEST_SETTINGS}


def _describe(op):
    name = service_text(op.service)
    if op.action == "add_service":
        details = [f"scheduler {op.after['scheduler']}"]
        if op.after["flags"]:
            details.append(f"flags {_show(op.after['flags'])}")
        if op.after["timeout"]:
            details.append(f"timeout {op.after['timeout']}")
        return f"add service {name}: {', '.join(details)}"
    if op.action == "edit_service":
        return f"edit service {name}: {', '.join(_changes(_service_settings(op.before), op.after, _SERVICE_SETTINGS))}"
    if op.action == "delete_service":
        count = len(op.before.get("destinations") or ())
        return f"delete service {name} with its {count} destination{'' if count == 1 else 's'}"
    dest = dest_text(op.destination)
    if op.action == "add_destination":
        return f"add destination {dest} to {name} ({op.after['forward']}, weight {op.after['weight']})"
    if op.action == "edit_destination":
        return f"edit destination {dest} in {name}: {', '.join(_changes(op.before, op.after, _DEST_SETTINGS))}"
    return f"delete destination {dest} from {name}"


def summarize(plan, with_diff=True, consume=False):
    """{"diff": {"before": ..., "after": ...}, "changes": [...]} for Ansible's diff and result.

    The views hold only what changes, keyed by service_text() and dest_text():
    an edited service shows its settings, every service shows the destinations
    that are added (after only), edited (both) or deleted (before only).
    Without with_diff, "diff" is None: the views of a 110,000-step plan take
    more memory than the table. consume (without with_diff): each step is
    replaced by None once described, so that the plan's memory (16 MiB for
    110,000 steps) goes as the lines' comes.
    """
    if consume and not with_diff:
        changes = []
        for index, op in enumerate(plan):
            changes.append(_describe(op))
            plan[index] = None
        return {"diff": None, "changes": changes}
    changes = [_describe(op) for op in plan]
    if not with_diff:
        return {"diff": None, "changes": changes}
    before, after = {}, {}
    added = {service_key(op.service) for op in plan if op.action == "add_service"}
    for op in plan:
        name = service_text(op.service)
        if op.action == "add_service":
            after.setdefault(name, {}).update(_settings_view(op.after))
        elif op.action == "edit_service":
            before.setdefault(name, {}).update(_settings_view(op.before))
            after.setdefault(name, {}).update(_settings_view(op.after))
        elif op.action == "delete_service":
            entry = before.setdefault(name, {})
            entry.update(_settings_view(op.before))
            entry["destinations"] = {dest_text(d): _dest_view(d) for d in op.before.get("destinations") or ()}
        else:
            dest = dest_text(op.destination)
            sides = [(after, op.after)]
            if service_key(op.service) not in added:
                sides.append((before, op.before))
            for side, value in sides:
                dests = side.setdefault(name, {}).setdefault("destinations", {})
                if value is not None:
                    dests[dest] = _dest_view(value)
    return {"diff": {"before": before, "after": after}, "changes": changes}
