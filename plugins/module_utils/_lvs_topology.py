# Copyright (c) 2026 lvs.ipvs developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The roles' data model: virtual services with their mode and real servers, and each host's plan.

One list, lvs_virtual_services, describes a topology. director_plan() turns
it into what a director needs (the IPVS table, VIPs, firewall marks, SNAT for
Full NAT, kernel modules, sysctls); real_server_plan() into what one real
server needs for each mode. Validation goes through the desired-state model,
so a bad entry is named by its path (lvs_virtual_services[2].real_servers[0].port)
and refused before any host is touched.
"""

from __future__ import annotations

from ansible_collections.lvs.ipvs.plugins.module_utils import _ipvs_vocabulary as vocab
from ansible_collections.lvs.ipvs.plugins.module_utils import _lvs_bgp, _lvs_ha, _lvs_keepalived
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_validate import (
    MISSING,
    ValidationError,
    address,
    check_list,
    check_mapping,
    check_unique,
    choice,
    dest_key,
    dest_order,
    family_of,
    given,
    integer,
    normalize_destination,
    normalize_service,
    service_key,
    tunnel_settings,
)

MODES = ("nat", "dr", "tun", "fullnat")
FORWARD = {"nat": "masq", "fullnat": "masq", "dr": "droute", "tun": "tunnel"}
_SERVICE_KEYS = (
    "name",
    "mode",
    "address",
    "protocol",
    "port",
    "fwmark",
    "family",
    "ports",
    "scheduler",
    "flags",
    "timeout",
    "netmask",
    "pe_name",
    "tunnel",
    "real_servers",
    "directors",
    "director_group",
    "health_check",
    "sorry_server",
    "quorum",
    "hysteresis",
)
_REAL_SERVER_KEYS = ("host", "address", "port", "weight", "u_threshold", "l_threshold")
# Kernel settings of a director, whatever its modes; why each: docs/roles.md.
DIRECTOR_SYSCTLS = {
    # A connection to a removed real server is dropped at its next packet
    # instead of hanging until its timeout: clients reconnect at once.
    "net.ipv4.vs.expire_nodest_conn": 1,
    # A quiesced (weight 0) server's persistence templates expire, so that
    # draining ends even for persistent clients.
    "net.ipv4.vs.expire_quiescent_template": 1,
    # A reused source port opens a new connection, rescheduled, rather than
    # following the old one to a server that may be draining (2 with DR or TUN:
    # see director_plan).
    "net.ipv4.vs.conn_reuse_mode": 1,
}


def _ports(raw, path):
    ports = raw.get("ports") or []
    if not isinstance(ports, list) or not ports:
        raise ValidationError(f"{path}.ports", raw.get("ports", MISSING), "a fwmark service needs the ports it marks")
    for index, port in enumerate(ports):
        if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= vocab.PORT_MAX:
            raise ValidationError(f"{path}.ports[{index}]", port, "must be a port number 1-65535")
    return sorted(set(ports))


def _name(raw, key, path, what):
    value = raw.get(key, MISSING)
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"{path}.{key}", value, what)
    return value


def _directors(raw, path):
    """The inventory names of the directors that serve a service, or None for every director."""
    if not given(raw, "directors"):
        return None
    names = check_list(raw["directors"], f"{path}.directors", "inventory host names")
    if not names:
        raise ValidationError(f"{path}.directors", names, "names no director; leave it out for every director")
    for index, name in enumerate(names):
        if not isinstance(name, str) or not name.strip():
            raise ValidationError(f"{path}.directors[{index}]", name, "must be an inventory host name")
    return list(names)


def _destinations(raw, mode, path):
    servers = check_list(raw.get("real_servers") or [], f"{path}.real_servers", "real servers")
    destinations = []
    for index, server in enumerate(servers):
        where = f"{path}.real_servers[{index}]"
        check_mapping(server, where, _REAL_SERVER_KEYS)
        _name(server, "host", where, "must be the inventory name of the real server")
        dest = {
            key: server[key]
            for key in ("address", "port", "weight", "u_threshold", "l_threshold")
            if given(server, key)
        }
        dest["forward"] = FORWARD[mode]
        if mode == "tun" and given(raw, "tunnel"):
            dest["tunnel"] = raw["tunnel"]
        destinations.append(dest)
    return servers, destinations


def normalize_virtual_service(raw, path):
    """One lvs_virtual_services entry, checked, with its IPVS service (normalize_service()) under "ipvs"."""
    check_mapping(raw, path, _SERVICE_KEYS)
    name = _name(raw, "name", path, "every virtual service needs a name")
    mode = raw.get("mode")
    if mode not in MODES:
        raise ValidationError(f"{path}.mode", raw.get("mode", MISSING), f"must be one of {', '.join(MODES)}")
    fwmark = raw.get("fwmark")
    if fwmark and not given(raw, "address"):
        raise ValidationError(f"{path}.address", MISSING, "a fwmark service needs the VIP whose packets it marks")
    if fwmark and given(raw, "port"):
        raise ValidationError(f"{path}.port", raw["port"], "a fwmark service takes the ports it groups in ports")
    if not fwmark and given(raw, "ports"):
        raise ValidationError(f"{path}.ports", raw["ports"], "only a fwmark service groups ports; give port instead")
    if given(raw, "tunnel") and mode != "tun":
        raise ValidationError(f"{path}.tunnel", raw["tunnel"], f"tunnel settings are for mode tun, not {mode}")
    directors = _directors(raw, path)
    ha = _high_availability(raw, path)
    servers, destinations = _destinations(raw, mode, path)
    ipvs = {key: raw[key] for key in ("scheduler", "flags", "timeout", "netmask", "pe_name") if given(raw, key)}
    if fwmark:
        ipvs.update(fwmark=fwmark, family=raw.get("family"))
    else:
        ipvs.update({key: raw[key] for key in ("address", "protocol", "port", "family") if given(raw, key)})
    try:
        service = normalize_service(dict(ipvs, destinations=destinations), path)
    except ValidationError as exc:
        # The validator names destinations; the user wrote real_servers.
        raise ValidationError(exc.path.replace(".destinations[", ".real_servers["), exc.value, exc.reason) from None
    # The protocol whose packets a fwmark service's rules mark (the IPVS service itself has none).
    protocol = choice(raw.get("protocol") or vocab.DEFAULT_PROTOCOL, f"{path}.protocol", vocab.PROTOCOLS, "protocol")
    tunnel = None
    if mode == "tun":
        tunnel = tunnel_settings(raw.get("tunnel") or {}, f"{path}.tunnel")
        _same_family_tunnels(servers, service["family"], path)
    entry = {
        "name": name,
        "mode": mode,
        "address": service["address"] or str(raw["address"]),
        "family": service["family"],
        "protocol": protocol,
        "ports": _ports(raw, path) if fwmark else [service["port"]],
        "fwmark": service["fwmark"],
        "tunnel": tunnel,
        "hosts": _hosts_in_table_order(servers, destinations, service, path),
        "directors": directors,
        "ipvs": service,
        **ha,
    }
    if fwmark:
        entry["address"] = _vip(raw["address"], f"{path}.address", service["family"])
    if ha["sorry_server"]:
        entry["sorry_server"] = _lvs_ha.normalize_sorry_server(
            ha["sorry_server"], f"{path}.sorry_server", entry["family"]
        )
    return entry


def _hosts_in_table_order(servers, destinations, service, path):
    """The real servers' host names in the order of service["destinations"], which the model sorts by address
    (and port): whatever the order of real_servers, hosts[i] is the host of destinations[i]."""
    keys = [
        dest_key(normalize_destination(dest, service, f"{path}.real_servers[{index}]"))
        for index, dest in enumerate(destinations)
    ]
    return [servers[index]["host"] for index in sorted(range(len(keys)), key=lambda index: dest_order(keys[index]))]


def _high_availability(raw, path):
    """director_group and what keepalived does for the service: health check, sorry server, quorum."""
    group = raw.get("director_group")
    if group is None:
        for key in ("health_check", "sorry_server", "quorum", "hysteresis"):
            if given(raw, key):
                raise ValidationError(
                    f"{path}.{key}", raw[key], "is keepalived's, which runs for a director group: set director_group"
                )
        return {"director_group": None, "health_check": None, "sorry_server": None, "quorum": None, "hysteresis": None}
    if not isinstance(group, str) or not group.strip():
        raise ValidationError(f"{path}.director_group", group, "must be the name of one of lvs_director_groups")
    if given(raw, "directors"):
        raise ValidationError(f"{path}.directors", raw["directors"], "a director_group's service runs on its directors")
    return {
        "director_group": group,
        "health_check": (
            _lvs_ha.normalize_health_check(raw["health_check"], f"{path}.health_check")
            if given(raw, "health_check")
            else None
        ),
        "sorry_server": raw.get("sorry_server"),
        "quorum": integer(raw["quorum"], f"{path}.quorum", 1, 2**31 - 1) if given(raw, "quorum") else None,
        "hysteresis": integer(raw["hysteresis"], f"{path}.hysteresis", 0, 2**31 - 1)
        if given(raw, "hysteresis")
        else None,
    }


def _same_family_tunnels(servers, family, path):
    # IPVS can tunnel an IPv6 VIP to an IPv4 real server (and back), but the
    # real server then needs sit0, or an ip6tnl device in another mode than
    # the fallback's ip6ip6: refused rather than set up on the wrong device.
    for index, server in enumerate(servers):
        where = f"{path}.real_servers[{index}].address"
        outer = family_of(address(server["address"], where))
        if outer != family:
            raise ValidationError(
                where,
                server["address"],
                f"is {outer} in an {family} tun service: the real_server role sets up tunnels"
                " whose outer and inner packets are of one family",
            )


def _vip(value, path, family):
    text = address(value, path)
    if family_of(text) != family:
        raise ValidationError(path, value, f"is not an {family} address, as the service's family is")
    return text


def normalize_virtual_services(services, path="lvs_virtual_services"):
    """Every entry checked, and the list as a whole."""
    check_list(services, path, "virtual services")
    entries = [normalize_virtual_service(raw, f"{path}[{index}]") for index, raw in enumerate(services)]
    seen = {}
    for index, entry in enumerate(entries):
        if entry["name"] in seen:
            raise ValidationError(
                f"{path}[{index}].name", entry["name"], f"is also the name of {path}[{seen[entry['name']]}]"
            )
        seen[entry["name"]] = index
    # One IPVS service under two names would be programmed once, with the
    # settings of whichever came last: refused instead.
    check_unique(entries, lambda entry: service_key(entry["ipvs"]), lambda entry: entry["name"], path, "service")
    return entries


def normalize_topology(services, groups=None):
    """The virtual services and the director groups, each checked, and checked against each other."""
    entries = normalize_virtual_services(services)
    groups = _lvs_ha.normalize_groups(groups or [])
    names = {group["name"]: group for group in groups}
    owners = {}
    for index, entry in enumerate(entries):
        where = f"lvs_virtual_services[{index}]"
        group = entry["director_group"]
        if group is not None and group not in names:
            known = ", ".join(sorted(names)) or "none: lvs_director_groups is empty"
            raise ValidationError(f"{where}.director_group", group, f"is not a director group (known: {known})")
        # A VIP is held by one VRRP instance, or by every director that
        # serves it without a group: never both, never two instances.
        owner = group or "(no director group)"
        previous = owners.setdefault(entry["address"], (owner, where))
        if previous[0] != owner:
            raise ValidationError(
                f"{where}.address",
                entry["address"],
                f"is also the VIP of {previous[1]} in {previous[0]}, here in {owner}: one address, one holder",
            )
    announcing = {}
    for index, group in enumerate(groups):
        if group["mode"] == "active_active":
            members = [(i, e) for i, e in enumerate(entries) if e["director_group"] == group["name"]]
            _lvs_bgp.check_services(members, group, f"lvs_director_groups[{index}]")
            # One BIRD per director, announcing one group's VIPs with its settings.
            for position, director in enumerate(group["directors"]):
                other = announcing.setdefault(director["host"], index)
                if other != index:
                    raise ValidationError(
                        f"lvs_director_groups[{index}].directors[{position}].host",
                        director["host"],
                        f"is also a director of active_active group lvs_director_groups[{other}]; one such group per"
                        " director",
                    )
        for position, inside in enumerate(group["inside_addresses"]):
            if inside["address"] in owners:
                raise ValidationError(
                    f"lvs_director_groups[{index}].inside_addresses[{position}]",
                    inside["address"],
                    f"is the VIP of {owners[inside['address']][1]}",
                )
    return entries, groups


def not_in_inventory(services, inventory, groups=None, path="lvs_virtual_services"):
    """The directors and real servers named that are not hosts of inventory, as messages.

    Not an error: one list may serve several inventories (a site each), and
    real servers may be set up by other means. But a name that is a typo
    leaves a service with no director, or a real server unconfigured, here.
    """
    inventory = set(inventory)
    found = []
    entries, groups = normalize_topology(services, groups)
    for index, group in enumerate(groups):
        for position, director in enumerate(group["directors"]):
            if director["host"] not in inventory:
                found.append(
                    f"lvs_director_groups[{index}].directors[{position}].host: {director['host']!r}:"
                    " is not a host of this inventory, so nothing here acts on it"
                )
    for index, entry in enumerate(entries):
        for place, names in (("directors", entry["directors"] or ()), ("real_servers", entry["hosts"])):
            for position, name in enumerate(names):
                if name not in inventory:
                    where = f"{path}[{index}].{place}[{position}]" + (".host" if place == "real_servers" else "")
                    found.append(f"{where}: {name!r}: is not a host of this inventory, so nothing here acts on it")
    return found


def compact(value):
    """value without its None entries: what a module's argument spec takes as "not given"."""
    if isinstance(value, dict):
        return {key: compact(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [compact(item) for item in value]
    return value


def _prefix(family):
    return 32 if family == "ipv4" else 128


def _serves(entry, host, groups):
    if entry["director_group"] is not None:
        group = next(g for g in groups if g["name"] == entry["director_group"])
        return host is None or any(d["host"] == host for d in group["directors"])
    return host is None or entry["directors"] is None or host in entry["directors"]


def director_plan(services, host=None, groups=None, drained=None):
    """What a director needs for the services it serves.

    Those of its director groups are keepalived's (under "keepalived"); the
    others, those without directors or that list host, are ipvs_table's. The
    real servers named in drained get weight 0 in both.
    """
    drained = set(drained or ())
    every, groups = normalize_topology(services, groups)
    entries = [e for e in every if _serves(e, host, groups)]
    modes_of_groups = {group["name"]: group["mode"] for group in groups}
    ipvs, vips, marks, snat = [], [], [], []
    modules = ["ip_vs"]
    for entry in entries:
        service = compact(entry["ipvs"])
        # destinations and hosts are in the order of real_servers.
        for index, dest in enumerate(service["destinations"]):
            if entry["hosts"][index] in drained:
                dest["weight"] = 0
        service.pop("destinations_mode", None)
        for dest in service["destinations"]:
            dest.pop("family", None)  # implied by the address
        grouped = entry["director_group"] is not None
        if not grouped:
            ipvs.append(service)
        # An active_active group's VIPs are the director's own, on lo, always:
        # BGP, not the address, decides which director receives their packets.
        announced = grouped and modes_of_groups[entry["director_group"]] == "active_active"
        vip = {"address": entry["address"], "prefix": _prefix(entry["family"]), "family": entry["family"]}
        if announced:
            vip["device"] = "lo"
        if vip not in vips and (announced or not grouped):
            vips.append(vip)
        for module in (
            vocab.scheduler_module(service["scheduler"]),
            vocab.pe_module(service["pe_name"]) if service.get("pe_name") else None,
        ):
            if module and module not in modules:
                modules.append(module)
        if entry["fwmark"]:
            marks.append({key: entry[key] for key in ("fwmark", "family", "address", "protocol", "ports")})
        if entry["mode"] == "fullnat":
            for dest in service["destinations"]:
                snat.append(
                    {
                        "family": entry["family"],
                        "protocol": entry["protocol"],
                        "address": dest["address"],
                        "ports": [dest["port"]] if dest.get("port") else entry["ports"],
                        # In a group, replies must come back to whichever
                        # director is active: its floating inside address.
                        "to": _floating_source(entry, groups),
                    }
                )
    modes = sorted({entry["mode"] for entry in entries})
    families = {entry["family"] for entry in entries if entry["mode"] in ("nat", "fullnat")}
    sysctls = dict(DIRECTOR_SYSCTLS)
    if "ipv4" in families:
        sysctls["net.ipv4.ip_forward"] = 1
    if "ipv6" in families:
        sysctls["net.ipv6.conf.all.forwarding"] = 1
    if {"dr", "tun"} & set(modes):
        # A director that sees only the client's half of a connection (DR,
        # TUN) leaves it in FIN_WAIT at its end: bit 2 reschedules a reused
        # port from there too, instead of sending the new SYN to the old
        # server, which may be gone (measured in the lab: requests lost after
        # a real server's removal with 1, none with 2).
        sysctls["net.ipv4.vs.conn_reuse_mode"] = 2
    if "fullnat" in modes:
        # IPVS connections go through conntrack, so that the SNAT rules apply to them.
        sysctls["net.ipv4.vs.conntrack"] = 1
    bgp = _lvs_bgp.bgp_plan(every, groups, host) if host is not None else None
    if bgp:
        sysctls.update(_lvs_bgp.SYSCTLS)
    return {
        "services": ipvs,
        "vips": vips,
        "marks": marks,
        "snat": snat,
        "modules": modules,
        "sysctls": sysctls,
        "modes": modes,
        "addresses": sorted({e["address"] for e in entries if not e["fwmark"] and e["director_group"] is None}),
        "fwmarks": sorted({e["fwmark"] for e in entries if e["fwmark"] and e["director_group"] is None}),
        # Every VIP of a group this host is in, held by keepalived: the
        # director's script leaves them alone.
        "group_vips": sorted(
            {
                e["address"]
                for e in entries
                if e["director_group"] is not None and modes_of_groups[e["director_group"]] == "active_standby"
            }
        ),
        "keepalived": _lvs_keepalived.keepalived_plan(every, groups, host, drained) if host is not None else None,
        "bgp": bgp,
    }


def _floating_source(entry, groups):
    if entry["director_group"] is None:
        return None
    group = next(g for g in groups if g["name"] == entry["director_group"])
    for inside in group["inside_addresses"]:
        if inside["family"] == entry["family"]:
            return inside["address"]
    return None


# The fallback device of each tunnel module catches every packet of its kind
# that no configured tunnel claims, so a real server needs no tunnel per
# director. Keyed by the service's family (the real servers' too: see
# normalize_virtual_service) and the tunnel type.
TUNNEL_DEVICES = {
    ("ipv4", "ipip"): ("tunl0", "ipip"),
    # GUE carries the IPIP packet in UDP: the fou port strips the UDP and GUE
    # headers and hands the inner packet to tunl0.
    ("ipv4", "gue"): ("tunl0", "ipip"),
    ("ipv4", "gre"): ("gre0", "ip_gre"),
    ("ipv6", "ipip"): ("ip6tnl0", "ip6_tunnel"),
    # IPv6 in GUE over IPv6: fou hands it to the ip6ip6 handler, ip6tnl0.
    ("ipv6", "gue"): ("ip6tnl0", "ip6_tunnel"),
    ("ipv6", "gre"): ("ip6gre0", "ip6_gre"),
}


def real_server_plan(services, host, groups=None):
    """What real server host needs: its VIPs per mode, which modes it serves, and its NAT gateway in a group."""
    vips, modes, tunnels, fou_ports = [], set(), set(), set()
    gateway = {}
    entries, groups = normalize_topology(services, groups)
    for entry in entries:
        if host not in entry["hosts"]:
            continue
        modes.add(entry["mode"])
        if entry["mode"] == "nat" and entry["director_group"] is not None:
            # The group's floating inside address follows the active director.
            group = next(g for g in groups if g["name"] == entry["director_group"])
            for inside in group["inside_addresses"]:
                gateway.setdefault(inside["family"], inside["address"])
        if entry["mode"] in ("dr", "tun"):
            device = "lo"
            if entry["mode"] == "tun":
                tunnel = entry["tunnel"]
                kind = tunnel["type"]
                device = TUNNEL_DEVICES[(entry["family"], kind)][0]
                if kind == "gue":
                    # A fou socket listens in one family: IPv4 and IPv6 GUE on one port are two sockets.
                    fou_ports.add((tunnel["port"], entry["family"]))
                tunnels.add(device)
            vip = {
                "address": entry["address"],
                "prefix": _prefix(entry["family"]),
                "family": entry["family"],
                "device": device,
            }
            if vip not in vips:
                vips.append(vip)
    sysctls = {}
    if modes & {"dr", "tun"}:
        # Only the director may answer ARP for a VIP: reply only for addresses
        # of the receiving interface, and never announce a VIP as a source.
        sysctls.update({"net.ipv4.conf.all.arp_ignore": 1, "net.ipv4.conf.all.arp_announce": 2})
    modules = set()
    for (family, _kind), (device, module) in TUNNEL_DEVICES.items():
        if device not in tunnels:
            continue
        modules.add(module)
        if family == "ipv4":
            # Decapsulated packets arrive on the tunnel with the client's
            # address, whose route leads out another interface. (IPv6 has no
            # rp_filter.)
            sysctls[f"net.ipv4.conf.{device}.rp_filter"] = 0
            sysctls["net.ipv4.conf.all.rp_filter"] = 0
    if fou_ports:
        # fou alone receives GUE over IPv4 and IPv6 (fou6 adds sending it,
        # which a real server never does).
        modules.add("fou")
    return {
        "modes": sorted(modes),
        "nat_gateway": gateway,
        "vips": vips,
        "tunnels": sorted(tunnels),
        "fou_ports": [{"port": port, "family": family} for port, family in sorted(fou_ports)],
        "sysctls": sysctls,
        "modules": sorted(modules),
    }


def _active_active_lists(entries, group):
    """What mh needs the same on every director of group: each service's real servers, in order, with weights."""
    return {
        entry["name"]: [
            f"{dest['address']}:{dest.get('port') or ''} weight {dest['weight']}"
            for dest in entry["ipvs"]["destinations"]
        ]
        + [f"scheduler {entry['ipvs']['scheduler']} {','.join(entry['ipvs']['flags'])}"]
        for entry in entries
        if entry["director_group"] == group["name"]
    }


def check_active_active_views(views):
    """The directors of each active_active group see one list of services: views is {host: (services, groups)},
    each director's own lvs_virtual_services and lvs_director_groups (host variables may differ)."""
    seen = {}
    for host, (services, groups) in sorted(views.items()):
        entries, normalized = normalize_topology(services, groups)
        for group in normalized:
            if group["mode"] != "active_active" or host not in {d["host"] for d in group["directors"]}:
                continue
            lists = _active_active_lists(entries, group)
            first = seen.setdefault(group["name"], (host, lists))
            if first[1] == lists:
                continue
            other, theirs = first
            for name in sorted(set(lists) | set(theirs)):
                if lists.get(name) != theirs.get(name):
                    raise ValidationError(
                        f"lvs_virtual_services of {host}",
                        name,
                        f"has {lists.get(name) or 'no such service'} where {other} has {theirs.get(name) or 'none'}:"
                        f" every director of active_active group {group['name']} needs the same real servers in the"
                        " same order with the same weights, or mh sends a flow to another real server on each",
                    )
