# Copyright (c) 2026 lvs.ipvs developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Desired state of the IPVS table and the plan that gets the kernel there.

Plain Python (no Ansible, no pyroute2 of its own) so modules and tests share it.
The dict shapes are the netlink layer's (_ipvs_netlink): a canonical service is
what decode_service() returns, without statistics, plus "destinations" (a list
of canonical destinations as decode_dest() returns them) and, on the desired
side, "destinations_mode". Every Op carries service and destination dicts that
the IPVSClient method of the same name accepts as they are.

Steps: normalize_table() checks the user's input and fills defaults, raising a
ValidationError before anything is changed; diff() compares it with the table
read from the kernel (from_kernel()) and returns an ordered plan; apply_plan()
simulates the kernel on that plan; summarize() describes it for a human.
"""

from __future__ import annotations

import collections
import errno
import ipaddress

from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_netlink import (
    DEFAULT_FORWARD,
    DEFAULT_SCHEDULER,
    DEFAULT_WEIGHT,
    DEST_FIELDS,
    FORWARD_METHODS,
    PROTOCOLS,
    SERVICE_FIELDS,
    U16_MAX,
    U32_MAX,
    WEIGHT_MAX,
    address_family,
    dest_text,
    family_name,
    normalize_address,
    service_key,
    service_text,
)

# The kernel's schedulers (net/netfilter/ipvs/ip_vs_*.c); "none" binds no
# scheduler, so only existing connections (e.g. synced ones) are served.
# twos came with Linux 6.6; an older kernel answers ENOENT, which the netlink
# layer turns into "no scheduler 'twos'".
SCHEDULERS = (
    "rr",
    "wrr",
    "lc",
    "wlc",
    "lblc",
    "lblcr",
    "dh",
    "sh",
    "sed",
    "nq",
    "fo",
    "ovf",
    "mh",
    "twos",
    "none",
)
DEFAULT_PROTOCOL = "tcp"
# ipvsadm's default for -p without a value.
DEFAULT_PERSISTENT_TIMEOUT = 300
# The kernel keeps the persistence timeout in jiffies in an unsigned int
# (svc->timeout = u->timeout * HZ) and reports timeout / HZ: anything above
# U32_MAX / 1000 wraps on a HZ=1000 kernel and would never read back equal.
TIMEOUT_MAX = U32_MAX // 1000
DEFAULT_NETMASK = {"ipv4": "255.255.255.255", "ipv6": 128}

SERVICE_FLAGS = ("persistent", "one-packet", "sh-fallback", "sh-port", "mh-fallback", "mh-port")
_FLAG_ALIASES = {"ops": "one-packet"}
# The scheduler that gives meaning to a scheduler flag (same bits, other names).
_FLAG_SCHEDULER = {"sh-fallback": "sh", "sh-port": "sh", "mh-fallback": "mh", "mh-port": "mh"}
PERSISTENCE_ENGINES = ("sip",)
TUNNEL_TYPES = ("ipip", "gue", "gre")
TUNNEL_FLAGS = ("nocsum", "csum", "remcsum")
DESTINATIONS_MODES = ("exact", "merge")
SCOPE_MODES = ("managed", "addresses", "all")

_SERVICE_SETTINGS = ("scheduler", "flags", "timeout", "netmask", "pe_name")
_DEST_SETTINGS = ("forward", "weight", "u_threshold", "l_threshold", "tunnel")
_SERVICE_INPUT_KEYS = (*SERVICE_FIELDS, "destinations", "destinations_mode")
_IDENTITY_KEYS = ("protocol", "address", "port", "fwmark", "family")
_TUNNEL_KEYS = ("type", "port", "flags")

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


class _Missing:
    def __repr__(self):
        return "<missing>"


MISSING = _Missing()


class ValidationError(ValueError):
    """Bad input, located: 'services[2].destinations[0].weight: -1: must be between 0 and 2147483647'."""

    def __init__(self, path, value, reason):
        # A path built from an empty root (the options of a module that takes
        # one service or destination) starts with a dot: 'weight', not '.weight'.
        path = path.lstrip(".")
        super().__init__(path, value, reason)
        self.path = path
        self.value = value
        self.reason = reason

    def __str__(self):
        where = [self.path] if self.path else []
        if self.value is not MISSING:
            where.append(repr(self.value) if isinstance(self.value, str) else str(self.value))
        return ": ".join([*where, self.reason])


class PlanError(Exception):
    """apply_plan() met what the kernel would refuse: errno is EEXIST, ESRCH or ENOENT like the kernel's."""

    def __init__(self, code, message):
        super().__init__(code, message)
        self.errno = code
        self.message = message

    def __str__(self):
        return f"{self.message} [{errno.errorcode.get(self.errno, self.errno)}]"


# --- Validation helpers ------------------------------------------------------------


def _given(raw, key):
    # Ansible hands unset suboptions over as None.
    return raw.get(key) is not None


def _check_mapping(raw, path, allowed):
    if not isinstance(raw, dict):
        raise ValidationError(path, raw, "must be a mapping")
    for key in sorted(raw, key=str):
        if key not in allowed:
            raise ValidationError(path, key, f"unknown key; valid keys are {', '.join(allowed)}")


def _check_list(value, path, what):
    if not isinstance(value, (list, tuple)):
        raise ValidationError(path, value, f"must be a list of {what}")
    return value


def _integer(value, path, low, high):
    # Templated values often arrive as strings; booleans are never numbers here.
    number = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str):
        try:
            number = int(value.strip(), 10)
        except ValueError:
            number = None
    if number is None:
        raise ValidationError(path, value, "must be an integer")
    if not low <= number <= high:
        raise ValidationError(path, value, f"must be between {low} and {high}")
    return number


def _choice(value, path, choices, what):
    if not isinstance(value, str) or value not in choices:
        raise ValidationError(path, value, f"unknown {what}; expected one of: {', '.join(choices)}")
    return value


def _address(value, path):
    if isinstance(value, str):
        try:
            return normalize_address(value)
        except ValueError:
            pass
    raise ValidationError(path, value, "is not an IPv4 or IPv6 address")


def _family_of(address):
    return family_name(address_family(address))


def _check_family(raw, path, family, what):
    if _given(raw, "family") and raw["family"] != family:
        _choice(raw["family"], f"{path}.family", ("ipv4", "ipv6"), "address family")
        raise ValidationError(f"{path}.family", raw["family"], f"does not match the {what}, an {family} address")


# --- Services -------------------------------------------------------------------


def _service_identity(raw, path):
    mark = _integer(raw["fwmark"], f"{path}.fwmark", 0, U32_MAX) if _given(raw, "fwmark") else 0
    if mark:
        for key in ("protocol", "address", "port"):
            if _given(raw, key):
                raise ValidationError(f"{path}.{key}", raw[key], "a fwmark service has no protocol, address or port")
        family = _choice(raw.get("family") or "ipv4", f"{path}.family", ("ipv4", "ipv6"), "address family")
        return {"family": family, "protocol": None, "address": None, "port": None, "fwmark": mark}
    if not _given(raw, "address"):
        raise ValidationError(path, MISSING, "a service needs an address (with protocol and port) or a fwmark")
    address = _address(raw["address"], f"{path}.address")
    family = _family_of(address)
    _check_family(raw, path, family, f"address {address}")
    protocol = _choice(raw.get("protocol") or DEFAULT_PROTOCOL, f"{path}.protocol", tuple(PROTOCOLS), "protocol")
    if not _given(raw, "port"):
        raise ValidationError(f"{path}.port", MISSING, "is required for a service with an address")
    port = _integer(raw["port"], f"{path}.port", 0, U16_MAX)
    return {"family": family, "protocol": protocol, "address": address, "port": port, "fwmark": 0}


def _service_flags(raw, scheduler, path):
    if not _given(raw, "flags"):
        return []
    names = set()
    for index, flag in enumerate(_check_list(raw["flags"], f"{path}.flags", "flag names")):
        where = f"{path}.flags[{index}]"
        name = _FLAG_ALIASES.get(flag, flag) if isinstance(flag, str) else flag
        _choice(name, where, SERVICE_FLAGS + tuple(_FLAG_ALIASES), "service flag")
        owner = _FLAG_SCHEDULER.get(name)
        if owner and owner != scheduler:
            # The kernel would take the bit, but for another scheduler it means something else.
            raise ValidationError(where, flag, f"needs scheduler {owner}, not {scheduler}")
        names.add(name)
    return sorted(names)


def _netmask(raw, family, path):
    where = f"{path}.netmask"
    value = raw["netmask"]
    if family == "ipv6":
        text = value.lstrip("/") if isinstance(value, str) else value
        if isinstance(text, str) and not text.strip().isdigit():
            raise ValidationError(where, value, "an IPv6 persistence netmask is a prefix length 1-128, such as 64")
        return _integer(text, where, 1, 128)
    reason = "an IPv4 persistence netmask is a dotted mask such as 255.255.255.0"
    if not isinstance(value, str):
        raise ValidationError(where, value, reason)
    try:
        mask = int(ipaddress.IPv4Address(value))
    except ValueError:
        raise ValidationError(where, value, reason) from None
    inverted = mask ^ 0xFFFFFFFF
    if inverted & (inverted + 1):
        raise ValidationError(where, value, "is not a contiguous netmask")
    return str(ipaddress.IPv4Address(mask))


def _persistence(raw, service, path):
    """timeout, netmask and pe_name, which only a persistent service uses."""
    persistent = "persistent" in service["flags"]
    family = service["family"]
    if persistent:
        timeout = raw["timeout"] if _given(raw, "timeout") else DEFAULT_PERSISTENT_TIMEOUT
        timeout = _integer(timeout, f"{path}.timeout", 1, TIMEOUT_MAX)
    else:
        timeout = _integer(raw.get("timeout") or 0, f"{path}.timeout", 0, TIMEOUT_MAX)
        if timeout:
            raise ValidationError(f"{path}.timeout", raw["timeout"], "a persistence timeout needs flag persistent")
    netmask = _netmask(raw, family, path) if _given(raw, "netmask") else DEFAULT_NETMASK[family]
    if netmask != DEFAULT_NETMASK[family] and not persistent:
        raise ValidationError(f"{path}.netmask", raw["netmask"], "a persistence netmask needs flag persistent")
    pe_name = None
    if _given(raw, "pe_name"):
        pe_name = _choice(raw["pe_name"], f"{path}.pe_name", PERSISTENCE_ENGINES, "persistence engine")
        if not persistent:
            raise ValidationError(f"{path}.pe_name", pe_name, "a persistence engine needs flag persistent")
    if service["port"] == 0 and not persistent:
        # ip_vs_schedule() refuses every packet of a non-persistent port-0 service.
        raise ValidationError(f"{path}.port", raw["port"], "port 0 (all ports) needs flag persistent")
    return {"timeout": timeout, "netmask": netmask, "pe_name": pe_name}


def normalize_service_identity(raw, path):
    """The identity fields alone (family, protocol, address, port, fwmark) of a service named by raw."""
    _check_mapping(raw, path, _IDENTITY_KEYS)
    return _service_identity(raw, path)


def normalize_service(raw, path):
    """The canonical service for one input entry, its destinations included."""
    _check_mapping(raw, path, _SERVICE_INPUT_KEYS)
    service = _service_identity(raw, path)
    scheduler = raw["scheduler"] if _given(raw, "scheduler") else DEFAULT_SCHEDULER
    service["scheduler"] = _choice(scheduler, f"{path}.scheduler", SCHEDULERS, "scheduler")
    service["flags"] = _service_flags(raw, service["scheduler"], path)
    service.update(_persistence(raw, service, path))
    mode = raw["destinations_mode"] if _given(raw, "destinations_mode") else "exact"
    mode = _choice(mode, f"{path}.destinations_mode", DESTINATIONS_MODES, "destinations_mode")
    raw_dests = _check_list(raw.get("destinations") or [], f"{path}.destinations", "destinations")
    dests = [normalize_destination(d, service, f"{path}.destinations[{i}]") for i, d in enumerate(raw_dests)]
    _check_unique(dests, dest_identity, dest_text, f"{path}.destinations", "destination")
    service["destinations"] = sorted(dests, key=lambda dest: _dest_order(dest_identity(dest)))
    service["destinations_mode"] = mode
    return service


# --- Destinations -------------------------------------------------------------


def _dest_address(raw, path):
    if not _given(raw, "address"):
        raise ValidationError(path, MISSING, "a destination needs an address")
    address = _address(raw["address"], f"{path}.address")
    parsed = ipaddress.ip_address(address)
    if parsed.is_multicast or parsed.is_unspecified or address == "255.255.255.255":
        # The kernel answers EINVAL for anything but a unicast or local address.
        raise ValidationError(f"{path}.address", raw["address"], "must be a unicast address")
    return address


def _tunnel(raw, path):
    _check_mapping(raw, path, _TUNNEL_KEYS)
    kind = _choice(raw.get("type") or "ipip", f"{path}.type", TUNNEL_TYPES, "tunnel type")
    if kind == "gue":
        if not raw.get("port"):
            shown = MISSING if raw.get("port") is None else raw["port"]
            raise ValidationError(f"{path}.port", shown, "a GUE tunnel needs a port (1-65535)")
        port = _integer(raw["port"], f"{path}.port", 1, U16_MAX)
    elif raw.get("port"):
        raise ValidationError(f"{path}.port", raw["port"], f"only a GUE tunnel has a port, not {kind}")
    else:
        port = 0
    flags = set()
    raw_flags = _check_list(raw.get("flags") or [], f"{path}.flags", "tunnel flags")
    for index, flag in enumerate(raw_flags):
        where = f"{path}.flags[{index}]"
        _choice(flag, where, TUNNEL_FLAGS, "tunnel flag")
        # GRE encapsulation knows csum only, IPIP neither (ip_vs_xmit.c); the kernel stores them regardless.
        if (flag == "remcsum" and kind != "gue") or (flag == "csum" and kind == "ipip"):
            raise ValidationError(where, flag, f"does not apply to a {kind} tunnel")
        flags.add(flag)
    if "nocsum" in flags and len(flags) > 1:
        raise ValidationError(f"{path}.flags", raw["flags"], "nocsum contradicts csum and remcsum")
    # nocsum is the absence of the other bits: decode_dest() never reports it.
    return {"type": kind, "port": port, "flags": sorted(flags - {"nocsum"})}


def normalize_destination(raw, service, path):
    """The canonical destination for one input entry of a canonical service."""
    _check_mapping(raw, path, DEST_FIELDS)
    address = _dest_address(raw, path)
    family = _family_of(address)
    _check_family(raw, path, family, f"address {address}")
    forward = raw["forward"] if _given(raw, "forward") else DEFAULT_FORWARD
    forward = _choice(forward, f"{path}.forward", tuple(FORWARD_METHODS), "forwarding method")
    if family != service["family"] and forward != "tunnel":
        raise ValidationError(
            f"{path}.address",
            raw["address"],
            f"is {family} in an {service['family']} service: mixed families need forward tunnel (kernel 5.3+)",
        )
    service_port = service["port"] or 0
    port = _integer(raw["port"], f"{path}.port", 0, U16_MAX) if _given(raw, "port") else service_port
    if port != service_port and forward != "masq":
        # Only masq rewrites the packet; the others deliver it to the service port as it came.
        raise ValidationError(
            f"{path}.port",
            raw["port"],
            f"differs from the service port {service_port}: port mapping needs forward masq",
        )
    # The kernel's limit (the weight is an int there), not ipvsadm's 65535.
    weight = _integer(raw["weight"] if _given(raw, "weight") else DEFAULT_WEIGHT, f"{path}.weight", 0, WEIGHT_MAX)
    upper = _integer(raw.get("u_threshold") or 0, f"{path}.u_threshold", 0, U32_MAX)
    lower = _integer(raw.get("l_threshold") or 0, f"{path}.l_threshold", 0, U32_MAX)
    if lower > upper:
        raise ValidationError(
            f"{path}.l_threshold", raw["l_threshold"], f"must not be above u_threshold ({upper}), even when that is 0"
        )
    tunnel_raw = raw.get("tunnel")
    if isinstance(tunnel_raw, dict) and all(value is None for value in tunnel_raw.values()):
        # What Ansible makes of an unset tunnel option with suboptions.
        tunnel_raw = None
    tunnel = None
    if forward == "tunnel":
        tunnel = _tunnel({} if tunnel_raw is None else tunnel_raw, f"{path}.tunnel")
    elif tunnel_raw is not None:
        raise ValidationError(f"{path}.tunnel", tunnel_raw, f"tunnel settings need forward tunnel, not {forward}")
    return {
        "family": family,
        "address": address,
        "port": port,
        "forward": forward,
        "weight": weight,
        "u_threshold": upper,
        "l_threshold": lower,
        "tunnel": tunnel,
    }


# --- Tables ------------------------------------------------------------------


def _check_unique(entries, identity, describe, path, what):
    seen = {}
    for index, entry in enumerate(entries):
        key = identity(entry)
        if key in seen:
            raise ValidationError(
                f"{path}[{index}]", describe(entry), f"same {what} as {path}[{seen[key]}]; list each {what} once"
            )
        seen[key] = index


def normalize_table(services, path="services"):
    """Canonical services (sorted by identity) for the user's list; raises ValidationError."""
    if services is None:
        return []
    _check_list(services, path, "services")
    table = [normalize_service(raw, f"{path}[{index}]") for index, raw in enumerate(services)]
    _check_unique(table, service_identity, lambda s: service_text(plain_service(s)), path, "service")
    return sorted(table, key=lambda service: _service_order(service_identity(service)))


def from_kernel(service, destinations):
    """A canonical current entry from decode_service() and decode_dest() output (statistics dropped)."""
    entry = plain_service(service)
    entry["destinations"] = sorted(
        (plain_destination(dest) for dest in destinations), key=lambda dest: _dest_order(dest_identity(dest))
    )
    return entry


# --- Identities and settings --------------------------------------------------------


def plain_service(service):
    """The service's netlink fields alone, in canonical form: what IPVSClient methods take."""
    entry = {key: service.get(key) for key in SERVICE_FIELDS}
    entry["fwmark"] = entry["fwmark"] or 0
    entry.update(_service_settings(service))
    return entry


def plain_destination(dest):
    entry = {"family": dest.get("family") or _family_of(dest["address"])}
    entry["address"] = normalize_address(dest["address"])
    entry["port"] = dest.get("port") or 0
    entry.update(_dest_settings(dest))
    return entry


def _service_settings(service):
    # Order-insensitive flags: decode_service() lists them in bit order, the model sorted.
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
            "type": raw.get("type") or "ipip",
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


def service_identity(service):
    """The netlink layer's service_key() of any service dict (extra keys ignored)."""
    return service_key({key: service.get(key) for key in SERVICE_FIELDS})


def dest_identity(dest):
    """(address, port): how the kernel tells a service's destinations apart."""
    return (normalize_address(dest["address"]), dest.get("port") or 0)


def _service_order(key):
    # Addresses sort numerically; the family comes first, so one sort never compares IPv4 with IPv6.
    if key[1] == "fwmark":
        return (key[0], 1, "", key[2], 0)
    return (key[0], 0, key[1], int(ipaddress.ip_address(key[2])), key[3])


def _dest_order(key):
    address = ipaddress.ip_address(key[0])
    return (address.version, int(address), key[1])


def _index(entries, identity, what):
    index = {}
    for entry in entries:
        key = identity(entry)
        if key in index:
            raise ValueError(f"{what} {key} is listed twice")
        index[key] = entry
    return index


# --- Diff --------------------------------------------------------------------------


def _scope(scope):
    """(mode, owned addresses, owned fwmarks) of a validated scope."""
    scope = scope or {"mode": "managed"}
    _check_mapping(scope, "scope", ("mode", "addresses", "fwmarks"))
    mode = _choice(scope.get("mode") or "managed", "scope.mode", SCOPE_MODES, "scope mode")
    addresses, fwmarks = set(), set()
    if mode == "addresses":
        raw_addresses = _check_list(scope.get("addresses") or [], "scope.addresses", "addresses")
        addresses = {_address(a, f"scope.addresses[{i}]") for i, a in enumerate(raw_addresses)}
        raw_marks = _check_list(scope.get("fwmarks") or [], "scope.fwmarks", "fwmarks")
        fwmarks = {_integer(m, f"scope.fwmarks[{i}]", 1, U32_MAX) for i, m in enumerate(raw_marks)}
    return mode, addresses, fwmarks


def _owned(key, mode, addresses, fwmarks):
    """Whether a service that is not desired is to be deleted."""
    if mode == "all":
        return True
    if mode == "addresses":
        return key[2] in (fwmarks if key[1] == "fwmark" else addresses)
    return False


def _destinations_mode(service):
    mode = service.get("destinations_mode") or "exact"
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
    old_dests = _index(old.get("destinations") or () if old else (), dest_identity, "destination")
    new_dests = _index(new.get("destinations") or (), dest_identity, "destination")
    for key in sorted(new_dests, key=_dest_order):
        wanted = plain_destination(new_dests[key])
        if key not in old_dests:
            phases["add_destination"].append(Op("add_destination", target, wanted, None, wanted))
            continue
        present = plain_destination(old_dests[key])
        if _dest_settings(present) != _dest_settings(wanted):
            # Forward, weight, thresholds and tunnel all change in place: no dropped connections.
            phases["edit_destination"].append(Op("edit_destination", target, wanted, present, wanted))
    if _destinations_mode(new) == "merge":
        return
    for key in sorted(set(old_dests) - set(new_dests), key=_dest_order):
        present = plain_destination(old_dests[key])
        phases["delete_destination"].append(Op("delete_destination", target, present, present, None))


def diff(current, desired, scope=None):
    """The ordered plan that turns current into desired within scope.

    scope: {"mode": "managed"} (default) touches only the desired services;
    {"mode": "addresses", "addresses": [...], "fwmarks": [...]} also deletes
    undesired services on those VIPs and marks; {"mode": "all"} deletes every
    undesired service. Order: service adds, service edits, destination adds,
    destination edits, destination deletes, service deletes, each sorted by
    identity, so new paths exist before old ones go.
    """
    mode, addresses, fwmarks = _scope(scope)
    present = _index(current, service_identity, "current service")
    wanted = _index(desired, service_identity, "desired service")
    phases = {action: [] for action in ACTIONS}
    for key in sorted(wanted, key=_service_order):
        new = wanted[key]
        old = present.get(key)
        target = plain_service(new)
        if old is None:
            phases["add_service"].append(Op("add_service", target, None, None, target))
        elif _service_settings(old) != _service_settings(new):
            # Scheduler, flags, timeout, netmask and pe_name all change in place.
            phases["edit_service"].append(Op("edit_service", target, None, _current_view(old), target))
        _diff_destinations(old, new, phases)
    for key in sorted(set(present) - set(wanted), key=_service_order):
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
    key = dest_identity(dest)
    for position, present in enumerate(entry["destinations"]):
        if dest_identity(present) == key:
            return position
    return None


def _apply_dest(entry, op, where):
    position = _find_dest(entry, op.destination)
    if op.action == "add_destination":
        if position is not None:
            raise PlanError(errno.EEXIST, f"{where}: the destination already exists")
        entry["destinations"].append(_copy(op.destination))
        return
    if position is None:
        raise PlanError(errno.ENOENT, f"{where}: the service has no such destination")
    if op.action == "edit_destination":
        entry["destinations"][position] = _copy(op.destination)
    else:
        del entry["destinations"][position]


def apply_plan(table, plan):
    """The table after the kernel carried out plan (a new list; table is left as it is).

    Raises PlanError where the kernel would: EEXIST for an add of an existing
    entry, ESRCH for a missing service, ENOENT for a missing destination.
    """
    services = {}
    for entry in table:
        services[service_identity(entry)] = _copy(entry)
    for op in plan:
        key = service_identity(op.service)
        where = f"{op.action} {service_text(plain_service(op.service))}"
        if op.destination is not None:
            where = f"{where} {dest_text(op.destination)}"
        if op.action == "add_service":
            if key in services:
                raise PlanError(errno.EEXIST, f"{where}: the service already exists")
            services[key] = dict(_copy(op.service), destinations=[])
            continue
        if key not in services:
            raise PlanError(errno.ESRCH, f"{where}: no such service")
        if op.action == "edit_service":
            # An edit keeps the service's destinations (and its place).
            services[key] = dict(_copy(op.service), destinations=services[key].get("destinations", []))
        elif op.action == "delete_service":
            del services[key]
        elif op.action in ("add_destination", "edit_destination", "delete_destination"):
            services[key].setdefault("destinations", [])
            _apply_dest(services[key], op, where)
        else:
            raise ValueError(f"unknown plan action {op.action!r}")
    return list(services.values())


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
    name = service_text(plain_service(op.service))
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


def summarize(plan):
    """{"diff": {"before": ..., "after": ...}, "changes": [...]} for Ansible's diff and result.

    The views hold only what changes, keyed by service_text() and dest_text():
    an edited service shows its settings, every service shows the destinations
    that are added (after only), edited (both) or deleted (before only).
    """
    before, after = {}, {}
    added = {service_identity(op.service) for op in plan if op.action == "add_service"}
    for op in plan:
        name = service_text(plain_service(op.service))
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
            if service_identity(op.service) not in added:
                sides.append((before, op.before))
            for side, value in sides:
                dests = side.setdefault(name, {}).setdefault("destinations", {})
                if value is not None:
                    dests[dest] = _dest_view(value)
    return {"diff": {"before": before, "after": after}, "changes": [_describe(op) for op in plan]}
