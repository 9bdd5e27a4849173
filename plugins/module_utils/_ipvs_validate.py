# Copyright (c) 2026 lvs.ipvs developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one validator: user input to canonical dicts, or a ValidationError that names the field and the value.

Every entry point (modules, filters, the roles' plan) goes through here before
anything is changed. The output is canonical: every field present, names from
_ipvs_vocabulary, defaults filled in, numbers in range; it is what the diff
engine (_ipvs_plan) compares and what the netlink layer (_ipvs_attrs)
translates without checking again. Plain Python.
"""

from __future__ import annotations

import functools
import ipaddress
import sys

from ansible_collections.lvs.ipvs.plugins.module_utils import _ipvs_vocabulary as vocab
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_vocabulary import dest_text, service_text

_IDENTITY_KEYS = ("protocol", "address", "port", "fwmark", "family")
_SERVICE_KEYS = (*_IDENTITY_KEYS, "scheduler", "flags", "timeout", "netmask", "pe_name")
_SERVICE_INPUT_KEYS = (*_SERVICE_KEYS, "destinations", "destinations_mode")
_DEST_KEYS = ("family", "address", "port", "forward", "weight", "u_threshold", "l_threshold", "tunnel")
_TUNNEL_KEYS = ("type", "port", "flags")


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


# --- Primitives ------------------------------------------------------------------------


def given(raw, key):
    """Whether raw sets key; Ansible hands unset suboptions over as None."""
    return raw.get(key) is not None


def check_mapping(raw, path, allowed):
    if not isinstance(raw, dict):
        raise ValidationError(path, raw, "must be a mapping")
    for key in sorted(raw, key=str):
        if key not in allowed:
            raise ValidationError(path, key, f"unknown key; valid keys are {', '.join(allowed)}")


def check_list(value, path, what):
    if not isinstance(value, (list, tuple)):
        raise ValidationError(path, value, f"must be a list of {what}")
    return value


def name_list(value, path, what):
    """A list of names, or one string of comma-separated names, as Ansible's list options take them."""
    if isinstance(value, str):
        return [name.strip() for name in value.split(",") if name.strip()]
    return check_list(value, path, what)


def integer(value, path, low, high):
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


def choice(value, path, choices, what):
    if not isinstance(value, str) or value not in choices:
        raise ValidationError(path, value, f"unknown {what}; expected one of: {', '.join(choices)}")
    # The one copy of the word, not the input's: 110,000 destinations read
    # from JSON each bring their own "droute" (6 MiB).
    return sys.intern(value)


# Parsing addresses dominates the validation of a large table, where each
# address is seen many times: one parse per distinct text.
@functools.lru_cache(maxsize=65536)
def _parse(text):
    return ipaddress.ip_address(text)


def address(value, path):
    """An IPv4 or IPv6 address in canonical text; zone ids (%eth0) are refused, IPVS has none."""
    if isinstance(value, str):
        try:
            parsed = _parse(value.strip())
        except ValueError:
            parsed = None
        if parsed is not None:
            if getattr(parsed, "scope_id", None):
                raise ValidationError(path, value, "has a zone id (%...): IPVS addresses have none")
            return str(parsed)
    raise ValidationError(path, value, "is not an IPv4 or IPv6 address")


def family_of(text):
    """'ipv4' or 'ipv6' for a canonical address."""
    return "ipv6" if ":" in text else "ipv4"


def _check_family(raw, path, family, what):
    if given(raw, "family") and raw["family"] != family:
        choice(raw["family"], f"{path}.family", vocab.FAMILIES, "address family")
        raise ValidationError(f"{path}.family", raw["family"], f"does not match the {what}, an {family} address")


def check_unique(entries, identity, describe, path, what):
    seen = {}
    for index, entry in enumerate(entries):
        key = identity(entry)
        if key in seen:
            raise ValidationError(
                f"{path}[{index}]", describe(entry), f"same {what} as {path}[{seen[key]}]; list each {what} once"
            )
        seen[key] = index


# --- Services --------------------------------------------------------------------------


def _service_identity(raw, path):
    mark = integer(raw["fwmark"], f"{path}.fwmark", 0, vocab.FWMARK_MAX) if given(raw, "fwmark") else 0
    if mark:
        for key in ("protocol", "address", "port"):
            if given(raw, key):
                raise ValidationError(f"{path}.{key}", raw[key], "a fwmark service has no protocol, address or port")
        family = choice(raw.get("family") or vocab.DEFAULT_FAMILY, f"{path}.family", vocab.FAMILIES, "address family")
        return {"family": family, "protocol": None, "address": None, "port": None, "fwmark": mark}
    if not given(raw, "address"):
        raise ValidationError(path, MISSING, "a service needs an address (with protocol and port) or a fwmark")
    vip = address(raw["address"], f"{path}.address")
    family = family_of(vip)
    _check_family(raw, path, family, f"address {vip}")
    protocol = choice(raw.get("protocol") or vocab.DEFAULT_PROTOCOL, f"{path}.protocol", vocab.PROTOCOLS, "protocol")
    if not given(raw, "port"):
        raise ValidationError(f"{path}.port", MISSING, "is required for a service with an address")
    port = integer(raw["port"], f"{path}.port", 0, vocab.PORT_MAX)
    return {"family": family, "protocol": protocol, "address": vip, "port": port, "fwmark": 0}


def _service_flags(raw, service, path):
    if not given(raw, "flags"):
        return []
    names = set()
    for index, flag in enumerate(name_list(raw["flags"], f"{path}.flags", "flag names")):
        where = f"{path}.flags[{index}]"
        name = vocab.FLAG_ALIASES.get(flag, flag) if isinstance(flag, str) else flag
        choice(name, where, vocab.SERVICE_FLAGS + tuple(vocab.FLAG_ALIASES), "service flag")
        owner = vocab.FLAG_SCHEDULER.get(name)
        if owner and owner != service["scheduler"]:
            # The kernel would take the bit, but for another scheduler it means something else.
            raise ValidationError(where, flag, f"needs scheduler {owner}, not {service['scheduler']}")
        if name == "one-packet" and service["protocol"] not in (None, *vocab.ONE_PACKET_PROTOCOLS):
            raise ValidationError(where, flag, f"one-packet scheduling is for UDP services, not {service['protocol']}")
        names.add(name)
    return sorted(names)


def _netmask(raw, family, path):
    where = f"{path}.netmask"
    value = raw["netmask"]
    if family == "ipv6":
        text = value.lstrip("/") if isinstance(value, str) else value
        if isinstance(text, str) and not text.strip().isdigit():
            raise ValidationError(where, value, "an IPv6 persistence netmask is a prefix length 1-128, such as 64")
        return integer(text, where, 1, 128)
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
        timeout = raw["timeout"] if given(raw, "timeout") else vocab.DEFAULT_PERSISTENT_TIMEOUT
        timeout = integer(timeout, f"{path}.timeout", 1, vocab.PERSISTENT_TIMEOUT_MAX)
    else:
        timeout = integer(raw.get("timeout") or 0, f"{path}.timeout", 0, vocab.PERSISTENT_TIMEOUT_MAX)
        if timeout:
            raise ValidationError(f"{path}.timeout", raw["timeout"], "a persistence timeout needs flag persistent")
    netmask = _netmask(raw, family, path) if given(raw, "netmask") else vocab.DEFAULT_NETMASK[family]
    if netmask != vocab.DEFAULT_NETMASK[family] and not persistent:
        raise ValidationError(f"{path}.netmask", raw["netmask"], "a persistence netmask needs flag persistent")
    pe_name = None
    if given(raw, "pe_name"):
        pe_name = choice(raw["pe_name"], f"{path}.pe_name", vocab.PERSISTENCE_ENGINES, "persistence engine")
        if not persistent:
            raise ValidationError(f"{path}.pe_name", pe_name, "a persistence engine needs flag persistent")
    if service["port"] == 0 and not persistent:
        # ip_vs_schedule() refuses every packet of a non-persistent port-0 service.
        raise ValidationError(f"{path}.port", raw["port"], "port 0 (all ports) needs flag persistent")
    return {"timeout": timeout, "netmask": netmask, "pe_name": pe_name}


def normalize_service_identity(raw, path):
    """The identity fields alone (family, protocol, address, port, fwmark) of a service named by raw."""
    check_mapping(raw, path, _IDENTITY_KEYS)
    return _service_identity(raw, path)


def normalize_service(raw, path):
    """The canonical service for one input entry, its destinations included."""
    check_mapping(raw, path, _SERVICE_INPUT_KEYS)
    service = _service_identity(raw, path)
    scheduler = raw["scheduler"] if given(raw, "scheduler") else vocab.DEFAULT_SCHEDULER
    service["scheduler"] = choice(scheduler, f"{path}.scheduler", vocab.SCHEDULERS, "scheduler")
    service["flags"] = _service_flags(raw, service, path)
    service.update(_persistence(raw, service, path))
    mode = raw["destinations_mode"] if given(raw, "destinations_mode") else vocab.DEFAULT_DESTINATIONS_MODE
    mode = choice(mode, f"{path}.destinations_mode", vocab.DESTINATIONS_MODES, "destinations_mode")
    raw_dests = check_list(raw.get("destinations") or [], f"{path}.destinations", "destinations")
    dests = [normalize_destination(d, service, f"{path}.destinations[{i}]") for i, d in enumerate(raw_dests)]
    check_unique(dests, dest_key, dest_text, f"{path}.destinations", "destination")
    service["destinations"] = sorted(dests, key=lambda dest: dest_order(dest_key(dest)))
    service["destinations_mode"] = mode
    return service


# --- Destinations ------------------------------------------------------------------------


def _dest_address(raw, path):
    if not given(raw, "address"):
        raise ValidationError(path, MISSING, "a destination needs an address")
    text = address(raw["address"], f"{path}.address")
    parsed = _parse(text)
    if parsed.is_multicast or parsed.is_unspecified or text == "255.255.255.255":
        # The kernel answers EINVAL for anything but a unicast or local address.
        raise ValidationError(f"{path}.address", raw["address"], "must be a unicast address")
    return text


def tunnel_settings(raw, path):
    """The canonical tunnel of a destination that forwards with tunnel: type, port, flags."""
    check_mapping(raw, path, _TUNNEL_KEYS)
    kind = choice(raw.get("type") or vocab.DEFAULT_TUNNEL_TYPE, f"{path}.type", vocab.TUNNEL_TYPES, "tunnel type")
    if kind == "gue":
        if not raw.get("port"):
            shown = MISSING if raw.get("port") is None else raw["port"]
            raise ValidationError(f"{path}.port", shown, "a GUE tunnel needs a port (1-65535)")
        port = integer(raw["port"], f"{path}.port", 1, vocab.PORT_MAX)
    elif raw.get("port"):
        raise ValidationError(f"{path}.port", raw["port"], f"only a GUE tunnel has a port, not {kind}")
    else:
        port = 0
    flags = set()
    for index, flag in enumerate(name_list(raw.get("flags") or [], f"{path}.flags", "tunnel flags")):
        where = f"{path}.flags[{index}]"
        choice(flag, where, vocab.TUNNEL_FLAGS, "tunnel flag")
        if kind not in vocab.TUNNEL_FLAG_TYPES[flag]:
            raise ValidationError(where, flag, f"does not apply to a {kind} tunnel")
        flags.add(flag)
    if "nocsum" in flags and len(flags) > 1:
        raise ValidationError(f"{path}.flags", raw["flags"], "nocsum contradicts csum and remcsum")
    # nocsum is the absence of the other bits: the decoder never reports it.
    return {"type": kind, "port": port, "flags": sorted(flags - {"nocsum"})}


def destination_settings(raw, path):
    """The checks of one destination that need no service: address, port, forward, weight, thresholds, tunnel.

    Returns the canonical destination with "port" None when not given; it
    takes the service's port in normalize_destination().
    """
    check_mapping(raw, path, _DEST_KEYS)
    text = _dest_address(raw, path)
    family = family_of(text)
    _check_family(raw, path, family, f"address {text}")
    forward = raw["forward"] if given(raw, "forward") else vocab.DEFAULT_FORWARD
    forward = choice(forward, f"{path}.forward", vocab.FORWARD_METHODS, "forwarding method")
    port = integer(raw["port"], f"{path}.port", 0, vocab.PORT_MAX) if given(raw, "port") else None
    weight = raw["weight"] if given(raw, "weight") else vocab.DEFAULT_WEIGHT
    weight = integer(weight, f"{path}.weight", 0, vocab.WEIGHT_MAX)
    upper = integer(raw.get("u_threshold") or 0, f"{path}.u_threshold", 0, vocab.THRESHOLD_MAX)
    lower = integer(raw.get("l_threshold") or 0, f"{path}.l_threshold", 0, vocab.THRESHOLD_MAX)
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
        tunnel = tunnel_settings({} if tunnel_raw is None else tunnel_raw, f"{path}.tunnel")
    elif tunnel_raw is not None:
        raise ValidationError(f"{path}.tunnel", tunnel_raw, f"tunnel settings need forward tunnel, not {forward}")
    return {
        "family": family,
        "address": text,
        "port": port,
        "forward": forward,
        "weight": weight,
        "u_threshold": upper,
        "l_threshold": lower,
        "tunnel": tunnel,
    }


def destination_options(raw, path=""):
    """Each option given for one destination, checked alone, before the service it goes to is known.

    For a module that edits destinations that exist, where the options left
    out keep their current values: a tunnel given without a forwarding
    method is checked as a tunnel, and the thresholds against each other only
    when both are given.
    """
    probe = {key: value for key, value in raw.items() if value is not None}
    for key in ("u_threshold", "l_threshold"):
        if key in probe:
            integer(probe[key], f"{path}.{key}", 0, vocab.THRESHOLD_MAX)
    if not ("u_threshold" in probe and "l_threshold" in probe):
        probe.pop("u_threshold", None)
        probe.pop("l_threshold", None)
    if "tunnel" in probe and "forward" not in probe:
        probe["forward"] = "tunnel"
    destination_settings(probe, path)


def normalize_destination(raw, service, path):
    """The canonical destination for one input entry of a canonical service."""
    dest = destination_settings(raw, path)
    if dest["family"] != service["family"] and dest["forward"] != "tunnel":
        raise ValidationError(
            f"{path}.address",
            raw["address"],
            f"is {dest['family']} in an {service['family']} service: mixed families need forward tunnel (kernel 5.3+)",
        )
    service_port = service["port"] or 0
    if dest["port"] is None:
        dest["port"] = service_port
    elif dest["port"] != service_port and dest["forward"] != "masq":
        # Only masq rewrites the packet; the others deliver it to the service port as it came.
        raise ValidationError(
            f"{path}.port",
            raw["port"],
            f"differs from the service port {service_port}: port mapping needs forward masq",
        )
    return dest


# --- Tables ----------------------------------------------------------------------------


def service_key(service):
    """A hashable identity of a canonical service: ("ipv4", "fwmark", 5) or ("ipv4", "tcp", "203.0.113.1", 80)."""
    if service.get("fwmark"):
        return (service["family"], "fwmark", service["fwmark"])
    return (service["family"], service["protocol"], service["address"], service["port"])


def dest_key(dest):
    """(address, port): how the kernel tells a service's destinations apart."""
    return (dest["address"], dest.get("port") or 0)


def service_order(key):
    # Addresses sort numerically; the family comes first, so one sort never compares IPv4 with IPv6.
    if key[1] == "fwmark":
        return (key[0], 1, "", key[2], 0)
    return (key[0], 0, key[1], vocab.packed_address(key[2]), key[3])


def dest_order(key):
    # Network-order bytes sort as the numbers do, within a family (4 or 16 bytes).
    packed = vocab.packed_address(key[0])
    return (len(packed), packed, key[1])


def normalize_services(services, path="services", consume=False):
    """Canonical services for the user's list, in its order; raises ValidationError.

    With consume, each entry of services is replaced by None once it is
    checked, so that a large input is let go while its canonical form grows
    (ipvs_table: 36 MiB of parsed JSON at 110,000 rules).
    """
    if services is None:
        return []
    check_list(services, path, "services")
    listed = []
    for index, raw in enumerate(services):
        listed.append(normalize_service(raw, f"{path}[{index}]"))
        if consume:
            services[index] = None
    check_unique(listed, service_key, service_text, path, "service")
    # The parsed addresses and the input's texts they are keyed by (12 MiB at
    # 65,536 addresses) are of no more use once the table is checked.
    _parse.cache_clear()
    return listed


def normalize_table(services, path="services"):
    """normalize_services(), sorted by identity."""
    return sorted(normalize_services(services, path), key=lambda service: service_order(service_key(service)))


def normalize_scope(mode, addresses=(), fwmarks=()):
    """{"mode", "addresses", "fwmarks"} of a scope; addresses and marks only count with mode addresses."""
    mode = choice(mode or vocab.DEFAULT_SCOPE, "scope", vocab.SCOPE_MODES, "scope")
    owned_addresses, owned_marks = set(), set()
    if mode == "addresses":
        for index, value in enumerate(check_list(addresses or [], "scope_addresses", "addresses")):
            owned_addresses.add(address(value, f"scope_addresses[{index}]"))
        for index, value in enumerate(check_list(fwmarks or [], "scope_fwmarks", "firewall marks")):
            owned_marks.add(integer(value, f"scope_fwmarks[{index}]", 1, vocab.FWMARK_MAX))
    return {"mode": mode, "addresses": owned_addresses, "fwmarks": owned_marks}


# --- Connection timeouts and the sync daemon ---------------------------------------------


def normalize_timeouts(raw):
    """{"tcp", "tcpfin", "udp"}: seconds, or None for a timeout left as it is."""
    timeouts = {}
    for name in vocab.TIMEOUTS:
        value = raw.get(name)
        # 0 is refused: the kernel reads it as "leave unchanged", which would never read back.
        timeouts[name] = None if value is None else integer(value, name, 1, vocab.CONNECTION_TIMEOUT_MAX)
    return timeouts


def interface_name(value, path):
    """A network interface name as the kernel accepts one (dev_valid_name(), IFNAMSIZ)."""
    if not isinstance(value, str) or not value:
        raise ValidationError(path, value, "must be an interface name")
    if len(value) > vocab.IFNAME_MAX:
        raise ValidationError(path, value, f"is longer than {vocab.IFNAME_MAX} characters, the kernel's limit")
    bad = [c for c in value if not c.isascii() or not c.isprintable() or c.isspace() or c in "/:"]
    if bad or value in (".", ".."):
        shown = repr(bad[0]) if bad else "its name"
        raise ValidationError(path, value, f"is not a valid interface name ({shown}: ASCII only, no spaces, / or :)")
    return value


def normalize_daemon(raw):
    """One sync daemon from the module's options (role, interface, sync_id, max_len, group, port, ttl).

    The result has the netlink layer's keys; a setting left out is None, the
    kernel's to choose, and is not compared with what the kernel reports.
    """
    role = choice(raw.get("role"), "role", vocab.DAEMON_ROLES, "sync daemon role")
    if not given(raw, "interface"):
        raise ValidationError("interface", MISSING, "is required to start a sync daemon")
    daemon = {
        "state": role,
        "mcast_interface": interface_name(raw["interface"], "interface"),
        "sync_id": integer(raw.get("sync_id") or vocab.DEFAULT_SYNC_ID, "sync_id", 0, vocab.SYNC_ID_MAX),
        "sync_maxlen": None,
        "mcast_group": None,
        "mcast_port": None,
        "mcast_ttl": None,
    }
    family = vocab.DEFAULT_FAMILY  # of the kernel's own group, 224.0.0.81
    if given(raw, "group"):
        group = address(raw["group"], "group")
        if not _parse(group).is_multicast:
            raise ValidationError("group", raw["group"], "is not a multicast address")
        daemon["mcast_group"] = group
        family = family_of(group)
    for option, key, high in (
        ("max_len", "sync_maxlen", vocab.SYNC_MAXLEN_MAX[family]),
        ("port", "mcast_port", vocab.PORT_MAX),
        ("ttl", "mcast_ttl", vocab.MCAST_TTL_MAX),
    ):
        if given(raw, option):
            try:
                daemon[key] = integer(raw[option], option, 1, high)
            except ValidationError as exc:
                # 0 would be sent as "not set" and never read back as 0.
                raise ValidationError(
                    option, raw[option], f"{exc.reason}; leave it out for the kernel's default"
                ) from None
    return daemon
