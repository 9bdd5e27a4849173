# Copyright (c) 2026 lvs.ipvs developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Argument specs shared by the modules that describe virtual services.

Only shapes and types live here; ranges, defaults and cross-field rules are
the desired-state model's (_ipvs_model), which names the field and the value.
"""

from __future__ import annotations

TUNNEL_SPEC = {
    "type": {"type": "str", "choices": ["ipip", "gue", "gre"]},
    "port": {"type": "int"},
    "flags": {"type": "list", "elements": "str"},
}

DESTINATION_SPEC = {
    "address": {"type": "str", "required": True},
    "port": {"type": "int"},
    "forward": {"type": "str", "choices": ["masq", "droute", "tunnel", "local", "bypass"]},
    "weight": {"type": "int"},
    "u_threshold": {"type": "int"},
    "l_threshold": {"type": "int"},
    "tunnel": {"type": "dict", "options": TUNNEL_SPEC},
}

SERVICE_SPEC = {
    "protocol": {"type": "str", "choices": ["tcp", "udp", "sctp"]},
    "address": {"type": "str"},
    "port": {"type": "int"},
    "fwmark": {"type": "int"},
    "family": {"type": "str", "choices": ["ipv4", "ipv6"]},
    "scheduler": {"type": "str"},
    "flags": {"type": "list", "elements": "str"},
    "timeout": {"type": "int"},
    "netmask": {"type": "raw"},
    "pe_name": {"type": "str"},
    "destinations": {"type": "list", "elements": "dict", "options": DESTINATION_SPEC},
    "destinations_mode": {"type": "str", "choices": ["exact", "merge"]},
}

# What names a service, for modules that act on services that exist.
SERVICE_IDENTITY_SPEC = {key: SERVICE_SPEC[key] for key in ("protocol", "address", "port", "fwmark", "family")}
