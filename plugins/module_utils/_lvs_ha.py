# Copyright (c) 2026 lvs.ipvs developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""High availability in the roles' model: director groups (VRRP) and health checks (keepalived).

lvs_director_groups lists groups of directors that share virtual services: one
holds the group's VIPs at a time (VRRP), all of them keep the same IPVS table,
and keepalived health-checks the real servers. A virtual service joins a group
with director_group; its health_check, sorry_server and quorum are keepalived's.
Everything here is checked before any host is changed, and every error names
the field and the value (lvs_director_groups[1].directors[0].priority: 255: ...).
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from ansible_collections.lvs.ipvs.plugins.module_utils import _lvs_bgp
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_validate import (
    MISSING,
    ValidationError,
    address,
    check_list,
    check_mapping,
    family_of,
    given,
    integer,
)

_GROUP_KEYS = (
    "name",
    "mode",
    "virtual_router_id",
    "directors",
    "version",
    "advert_interval",
    "preempt",
    "preempt_delay",
    "unicast",
    "authentication",
    "garp",
    "inside_addresses",
    "sync",
)
_DIRECTOR_KEYS = ("host", "priority", "address")
_GARP_KEYS = (
    "master_delay",
    "master_repeat",
    "master_refresh",
    "master_refresh_repeat",
    "lower_prio_delay",
    "lower_prio_repeat",
)
_SYNC_KEYS = ("enabled", "id")
_CHECK_KEYS = (
    "type",
    "port",
    "path",
    "url",
    "virtualhost",
    "status",
    "script",
    "interval",
    "timeout",
    "retries",
    "retry_delay",
    "inhibit_on_failure",
)
CHECK_TYPES = ("tcp", "http", "https", "script", "none")
# A VRRP instance name in keepalived.conf, and a file name: plain words.
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")
_STATUS_RE = re.compile(r"^([1-5][0-9][0-9])(?:-([1-5][0-9][0-9]))?$")
# Characters keepalived.conf would read as the end of a word or a comment.
_UNSAFE = re.compile(r"[\s\"'#!{}]")
# What an operator expects of a health check, not keepalived's defaults
# (delay_loop 60 s would leave a dead server in rotation for a minute).
PREEMPT_DELAY = 15
CHECK_DEFAULTS = {"interval": 2.0, "timeout": 2.0, "retries": 1, "retry_delay": 1.0}


def _bool(raw, key, path, default):
    value = raw.get(key)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise ValidationError(f"{path}.{key}", value, "must be true or false")
    return value


def _seconds(value, path, low, high):
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValidationError(path, value, "must be a number of seconds")
    try:
        number = float(value)
    except ValueError:
        raise ValidationError(path, value, "must be a number of seconds") from None
    if not low <= number <= high:
        raise ValidationError(path, value, f"must be between {low:g} and {high:g} seconds")
    return number


def _word(value, path, what):
    if not isinstance(value, str) or not value or _UNSAFE.search(value):
        raise ValidationError(path, value, f"must be {what}, without spaces, quotes, #, ! or braces")
    return value


# --- Director groups -----------------------------------------------------------------


def _advert_interval(raw, version, path):
    if not given(raw, "advert_interval"):
        return 1.0
    where = f"{path}.advert_interval"
    if version == 2:
        # VRRPv2 counts whole seconds (RFC 3768); sub-second adverts need VRRPv3.
        seconds = _seconds(raw["advert_interval"], where, 0.01, 255)
        if seconds != int(seconds):
            raise ValidationError(where, raw["advert_interval"], "VRRP version 2 counts whole seconds; use version 3")
        return seconds
    # VRRPv3 counts centiseconds in 12 bits (RFC 5798).
    seconds = _seconds(raw["advert_interval"], where, 0.01, 40.95)
    if abs(round(seconds * 100) - seconds * 100) > 1e-6:
        raise ValidationError(where, raw["advert_interval"], "VRRP version 3 counts hundredths of a second")
    return round(seconds, 2)


def _group_directors(raw, unicast, path):
    if not given(raw, "directors"):
        raise ValidationError(f"{path}.directors", MISSING, "a director group needs its directors")
    entries = check_list(raw["directors"], f"{path}.directors", "directors")
    if not entries:
        raise ValidationError(f"{path}.directors", entries, "a director group needs at least one director")
    directors, hosts, priorities = [], {}, {}
    for index, entry in enumerate(entries):
        where = f"{path}.directors[{index}]"
        if isinstance(entry, str):
            entry = {"host": entry}
        check_mapping(entry, where, _DIRECTOR_KEYS)
        host = entry.get("host", MISSING)
        if not isinstance(host, str) or not host.strip():
            raise ValidationError(f"{where}.host", host, "must be the inventory name of a director")
        if host in hosts:
            raise ValidationError(f"{where}.host", host, f"is also {path}.directors[{hosts[host]}]")
        hosts[host] = index
        # Listed first is preferred: 200, 190, ... unless given.
        default = max(1, 200 - 10 * index)
        priority = entry.get("priority", default) if given(entry, "priority") else default
        if priority == 255 and not isinstance(priority, bool):
            raise ValidationError(
                f"{where}.priority", priority, "255 is for the owner of the address; a director's VIPs are virtual"
            )
        priority = integer(priority, f"{where}.priority", 1, 254)
        if priority in priorities:
            # Equal priorities are broken by the highest address: who holds
            # the VIPs would depend on addressing, not on this list.
            raise ValidationError(
                f"{where}.priority", priority, f"is also the priority of {path}.directors[{priorities[priority]}]"
            )
        priorities[priority] = index
        where_address = f"{where}.address"
        own = address(entry["address"], where_address) if given(entry, "address") else None
        if unicast and own is None:
            raise ValidationError(where_address, MISSING, "unicast VRRP needs each director's own address")
        directors.append({"host": host, "priority": priority, "address": own})
    return directors


def _inside_addresses(raw, path):
    entries = check_list(raw.get("inside_addresses") or [], f"{path}.inside_addresses", "addresses with a prefix")
    result = []
    for index, value in enumerate(entries):
        where = f"{path}.inside_addresses[{index}]"
        try:
            interface = ipaddress.ip_interface(value.strip()) if isinstance(value, str) else None
        except ValueError:
            interface = None
        if interface is None or "/" not in value:
            raise ValidationError(where, value, "must be an address with its prefix length, such as 192.0.2.3/24")
        result.append(
            {
                "address": str(interface.ip),
                "prefix": interface.network.prefixlen,
                "family": family_of(str(interface.ip)),
            }
        )
    return result


def normalize_group(raw, path):
    if not isinstance(raw, dict):
        check_mapping(raw, path, _GROUP_KEYS)
    name = raw.get("name", MISSING)
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise ValidationError(
            f"{path}.name", name, "must be a name of letters, digits, '.', '_' or '-' (at most 32 characters)"
        )
    try:
        mode = _lvs_bgp.mode_of(raw)
    except ValidationError as error:
        raise ValidationError(f"{path}.mode", raw["mode"], error.reason) from None
    if mode == "active_active":
        for key in _GROUP_KEYS:
            if key not in _lvs_bgp.GROUP_KEYS and given(raw, key):
                raise ValidationError(f"{path}.{key}", raw[key], "is VRRP's; an active_active group has no VRRP")
        return _lvs_bgp.normalize_group(raw, path)
    check_mapping(raw, path, _GROUP_KEYS)
    if not given(raw, "virtual_router_id"):
        raise ValidationError(f"{path}.virtual_router_id", MISSING, "a director group needs its VRRP id (1-255)")
    vrid = integer(raw["virtual_router_id"], f"{path}.virtual_router_id", 1, 255)
    version = raw.get("version") if given(raw, "version") else 3
    if version not in (2, 3) or isinstance(version, bool):
        raise ValidationError(f"{path}.version", version, "must be 2 or 3 (the VRRP version)")
    unicast = _bool(raw, "unicast", path, False)
    preempt = _bool(raw, "preempt", path, True)
    # A director that takes the VIPs back at once resets every connection
    # opened while it was away that the sync daemon has not sent it yet (busy
    # ones are re-sent every 50 packets). Measured in the lab: 0 of 10 such
    # connections survived with no delay, 10 of 10 with 10 s.
    preempt_delay = PREEMPT_DELAY if preempt else 0
    if given(raw, "preempt_delay"):
        if not preempt:
            raise ValidationError(f"{path}.preempt_delay", raw["preempt_delay"], "needs preempt: true")
        preempt_delay = integer(raw["preempt_delay"], f"{path}.preempt_delay", 0, 1000)
    password = None
    if given(raw, "authentication"):
        auth = raw["authentication"]
        check_mapping(auth, f"{path}.authentication", ("password",))
        if version != 2:
            # RFC 5798 removed authentication from VRRP; keepalived ignores it in version 3.
            raise ValidationError(f"{path}.authentication", "(hidden)", "VRRP version 3 has no authentication")
        password = auth.get("password")
        if not isinstance(password, str) or not 1 <= len(password) <= 8 or _UNSAFE.search(password):
            # The value is a secret: never in a message.
            raise ValidationError(
                f"{path}.authentication.password", "(hidden)", "must be 1 to 8 characters, without spaces or quotes"
            )
    garp = {}
    if given(raw, "garp"):
        check_mapping(raw["garp"], f"{path}.garp", _GARP_KEYS)
        for key in _GARP_KEYS:
            if given(raw["garp"], key):
                garp[key] = integer(raw["garp"][key], f"{path}.garp.{key}", 0, 86400)
    sync = {"enabled": True, "id": vrid}
    if given(raw, "sync"):
        check_mapping(raw["sync"], f"{path}.sync", _SYNC_KEYS)
        sync["enabled"] = _bool(raw["sync"], "enabled", f"{path}.sync", True)
        if given(raw["sync"], "id"):
            sync["id"] = integer(raw["sync"]["id"], f"{path}.sync.id", 0, 255)
    return {
        "name": name,
        "virtual_router_id": vrid,
        "version": version,
        "advert_interval": _advert_interval(raw, version, path),
        "preempt": preempt,
        "preempt_delay": preempt_delay,
        "unicast": unicast,
        "password": password,
        "garp": garp,
        "directors": _group_directors(raw, unicast, path),
        "inside_addresses": _inside_addresses(raw, path),
        "sync": sync,
        "mode": "active_standby",
    }


def normalize_groups(groups, path="lvs_director_groups"):
    """Every group checked, and the list as a whole: names and VRRP ids unique, no address in two groups."""
    check_list(groups, path, "director groups")
    result = [normalize_group(raw, f"{path}[{index}]") for index, raw in enumerate(groups)]
    names, vrids, inside = {}, {}, {}
    for index, group in enumerate(result):
        if group["name"] in names:
            raise ValidationError(
                f"{path}[{index}].name", group["name"], f"is also the name of {path}[{names[group['name']]}]"
            )
        names[group["name"]] = index
        # One VRID per group and network: two groups with one id would each
        # take the other's adverts for their own and fight over the VIPs.
        if group["virtual_router_id"] is not None and group["virtual_router_id"] in vrids:
            other = vrids[group["virtual_router_id"]]
            raise ValidationError(
                f"{path}[{index}].virtual_router_id",
                group["virtual_router_id"],
                f"is also the VRRP id of {path}[{other}] ({result[other]['name']}); each group needs its own",
            )
        vrids[group["virtual_router_id"]] = index
        for position, entry in enumerate(group["inside_addresses"]):
            if entry["address"] in inside:
                raise ValidationError(
                    f"{path}[{index}].inside_addresses[{position}]",
                    entry["address"],
                    f"is also an inside address of {inside[entry['address']]}",
                )
            inside[entry["address"]] = f"{path}[{index}]"
    return result


# --- Health checks -------------------------------------------------------------------


def _status(value, path):
    values = value if isinstance(value, list) else [value]
    result = []
    for index, item in enumerate(values):
        where = f"{path}[{index}]" if isinstance(value, list) else path
        match = _STATUS_RE.match(str(item)) if isinstance(item, (int, str)) and not isinstance(item, bool) else None
        if not match or (match.group(2) and int(match.group(2)) < int(match.group(1))):
            raise ValidationError(where, item, "must be an HTTP status (200) or a range (200-299)")
        result.append(str(item))
    if not result:
        raise ValidationError(path, value, "names no HTTP status")
    return result


def _url(raw, kind, path):
    """path, virtualhost and port from url, which must name a host: the Host header keepalived sends."""
    where = f"{path}.url"
    value = raw["url"]
    parts = urlsplit(value) if isinstance(value, str) else None
    if parts is None or parts.scheme not in ("http", "https"):
        raise ValidationError(where, value, "must be an http:// or https:// URL")
    if parts.scheme != kind:
        raise ValidationError(where, value, f"is an {parts.scheme} URL in a health check of type {kind}")
    if not parts.hostname:
        raise ValidationError(
            where,
            value,
            "has no host; the host is the Host header of the check (keepalived connects to the real server's"
            " address): give http://www.example.com/health, or path alone",
        )
    try:
        port = parts.port
    except ValueError:
        raise ValidationError(where, value, "has a port that is not a number 1-65535") from None
    return {
        "path": _word(parts.path or "/", where, "a URL path") + (f"?{parts.query}" if parts.query else ""),
        "virtualhost": _word(parts.netloc.rsplit("@", 1)[-1], where, "a host"),
        "port": port,
    }


def normalize_health_check(raw, path):
    """One service's health check, for every one of its real servers."""
    check_mapping(raw, path, _CHECK_KEYS)
    kind = raw.get("type", MISSING)
    if kind not in CHECK_TYPES:
        raise ValidationError(f"{path}.type", kind, f"must be one of {', '.join(CHECK_TYPES)}")
    check = {"type": kind}
    for key, high in (("interval", 86400), ("timeout", 3600), ("retry_delay", 3600)):
        check[key] = _seconds(raw[key], f"{path}.{key}", 0.01, high) if given(raw, key) else CHECK_DEFAULTS[key]
    check["retries"] = integer(raw["retries"], f"{path}.retries", 0, 100) if given(raw, "retries") else 1
    # None when not given: an active_active group defaults it to true.
    check["inhibit_on_failure"] = _bool(raw, "inhibit_on_failure", path, None)
    own = {"tcp": ("port",), "http": ("port", "path", "url", "virtualhost", "status"), "script": ("script",)}
    own["https"] = own["http"]
    own["none"] = ()
    for key in ("port", "path", "url", "virtualhost", "status", "script"):
        if given(raw, key) and key not in own[kind]:
            raise ValidationError(f"{path}.{key}", raw[key], f"is not a setting of a {kind} health check")
    check["port"] = integer(raw["port"], f"{path}.port", 1, 65535) if given(raw, "port") else None
    if kind in ("http", "https"):
        if given(raw, "url") and (given(raw, "path") or given(raw, "virtualhost")):
            raise ValidationError(f"{path}.url", raw["url"], "give url, or path (and virtualhost), not both")
        if given(raw, "url"):
            parsed = _url(raw, kind, path)
            check["path"], check["virtualhost"] = parsed["path"], parsed["virtualhost"]
            if parsed["port"] and check["port"] and parsed["port"] != check["port"]:
                raise ValidationError(f"{path}.port", check["port"], f"differs from the URL's port {parsed['port']}")
            check["port"] = check["port"] or parsed["port"]
        else:
            value = raw.get("path", "/")
            if not isinstance(value, str) or not value.startswith("/"):
                raise ValidationError(f"{path}.path", value, "must be a URL path starting with /")
            check["path"] = _word(value, f"{path}.path", "a URL path")
            check["virtualhost"] = (
                _word(raw["virtualhost"], f"{path}.virtualhost", "a host name") if given(raw, "virtualhost") else None
            )
        check["status"] = _status(raw["status"], f"{path}.status") if given(raw, "status") else ["200"]
    if kind == "script":
        script = raw.get("script", MISSING)
        if not isinstance(script, str) or not script.strip():
            raise ValidationError(f"{path}.script", script, "a script check needs the command to run")
        if '"' in script or "\n" in script:
            raise ValidationError(f"{path}.script", script, "must be one line without double quotes")
        if not script.strip().startswith("/"):
            # keepalived runs it without a shell or a PATH search.
            raise ValidationError(f"{path}.script", script, "must start with the program's absolute path")
        check["script"] = script.strip()
    return check


def normalize_sorry_server(raw, path, family):
    if isinstance(raw, str):
        raw = {"address": raw}
    check_mapping(raw, path, ("address", "port"))
    where = f"{path}.address"
    text = address(raw.get("address", MISSING), where)
    if family_of(text) != family:
        raise ValidationError(where, raw["address"], f"is not an {family} address, as the service's family is")
    port = integer(raw["port"], f"{path}.port", 1, 65535) if given(raw, "port") else None
    return {"address": text, "port": port}
