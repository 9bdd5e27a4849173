# Copyright (c) 2026 lvs.ipvs developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What draining one real server touches on each director (the lvs.ipvs.drain playbook's plan)."""

from __future__ import annotations

from ansible_collections.lvs.ipvs.plugins.module_utils._lvs_topology import compact, normalize_topology


def drain_plan(services, host, groups=None, directors=()):
    """What draining real server host touches on each director: its addresses, and its ipvs_table services.

    One entry per director that serves one of its services: the director's
    name, whether a group's keepalived owns some of them ("keepalived"), the
    host's destination addresses there, and the ipvs_table-owned services
    with the host's destination and weight in each, to put back.
    """
    entries, groups = normalize_topology(services, groups)
    plan = {}
    for entry in entries:
        if host not in entry["hosts"]:
            continue
        if entry["director_group"] is not None:
            group = next(g for g in groups if g["name"] == entry["director_group"])
            serving = [d["host"] for d in group["directors"]]
        else:
            serving = entry["directors"] if entry["directors"] is not None else list(directors)
        service = compact(entry["ipvs"])
        identity = {key: service[key] for key in ("protocol", "address", "port", "fwmark", "family") if key in service}
        for director in serving:
            item = plan.setdefault(
                director, {"director": director, "keepalived": False, "addresses": [], "services": []}
            )
            for index, dest in enumerate(service["destinations"]):
                if entry["hosts"][index] != host:
                    continue
                if dest["address"] not in item["addresses"]:
                    item["addresses"].append(dest["address"])
                if entry["director_group"] is not None:
                    item["keepalived"] = True
                else:
                    item["services"].append(
                        {
                            "service": identity,
                            "address": dest["address"],
                            "port": dest.get("port"),
                            "weight": dest["weight"],
                        }
                    )
    return list(plan.values())
