# Copyright (c) 2026 lvs.ipvs developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Argument specs of the IPVS modules, built from the vocabulary.

Shapes, types and choices only: ranges, defaults and the rules between fields
are the validator's (_ipvs_validate), which names the field and the value.
The option docs are the lvs.ipvs.ipvs_options doc fragment; ansible-test's
validate-modules holds them to these specs, and a unit test holds these to
the vocabulary.
"""

from __future__ import annotations

from ansible_collections.lvs.ipvs.plugins.module_utils import _ipvs_vocabulary as vocab
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_lock import DEFAULT_TIMEOUT


def _choices(names):
    return {"type": "str", "choices": list(names)}


TUNNEL_SPEC = {
    "type": _choices(vocab.TUNNEL_TYPES),
    "port": {"type": "int"},
    "flags": {"type": "list", "elements": "str", "choices": list(vocab.TUNNEL_FLAGS)},
}

DESTINATION_SPEC = {
    "address": {"type": "str", "required": True},
    "port": {"type": "int"},
    "forward": _choices(vocab.FORWARD_METHODS),
    "weight": {"type": "int"},
    "u_threshold": {"type": "int"},
    "l_threshold": {"type": "int"},
    "tunnel": {"type": "dict", "options": TUNNEL_SPEC},
}

SERVICE_IDENTITY_SPEC = {
    "protocol": _choices(vocab.PROTOCOLS),
    "address": {"type": "str"},
    "port": {"type": "int"},
    "fwmark": {"type": "int"},
    "family": _choices(vocab.FAMILIES),
}

SERVICE_SPEC = dict(
    SERVICE_IDENTITY_SPEC,
    scheduler=_choices(vocab.SCHEDULERS),
    flags={"type": "list", "elements": "str", "choices": [*vocab.SERVICE_FLAGS, *vocab.FLAG_ALIASES]},
    timeout={"type": "int"},
    netmask={"type": "raw"},
    pe_name=_choices(vocab.PERSISTENCE_ENGINES),
    destinations={"type": "list", "elements": "dict", "options": DESTINATION_SPEC},
    destinations_mode=_choices(vocab.DESTINATIONS_MODES),
)

STATE_SPEC = {"state": {"type": "str", "choices": list(vocab.STATES), "default": "present"}}

# Every module that changes the table: how it holds the table's lock and what
# it does when the kernel refuses a step.
WRITER_SPEC = {
    "lock_timeout": {"type": "int", "default": DEFAULT_TIMEOUT},
    "rollback": {"type": "bool", "default": True},
}

TABLE_SPEC = dict(
    WRITER_SPEC,
    services={"type": "list", "elements": "dict", "default": [], "options": SERVICE_SPEC},
    scope={"type": "str", "choices": list(vocab.SCOPE_MODES), "default": vocab.DEFAULT_SCOPE},
    scope_addresses={"type": "list", "elements": "str", "default": []},
    scope_fwmarks={"type": "list", "elements": "int", "default": []},
)


def without_suboptions(spec, name):
    """spec, with option name taken as plain mappings: the validator checks what they hold.

    For ipvs_table's services. Ansible's own check of 11,000 nested entries
    (a deep copy, every unset suboption filled in with None) took more time
    and memory than reading the kernel's table; the validator checks every
    field anyway, and names the entry and the value where Ansible would
    name only the option. The documentation stays that of the full spec.
    """
    option = {key: value for key, value in spec[name].items() if key != "options"}
    return dict(spec, **{name: option})


TABLE_MODULE_SPEC = without_suboptions(TABLE_SPEC, "services")

TIMEOUTS_SPEC = dict({name: {"type": "int"} for name in vocab.TIMEOUTS}, lock_timeout=WRITER_SPEC["lock_timeout"])

DAEMON_SPEC = dict(
    STATE_SPEC,
    role=dict(_choices(vocab.DAEMON_ROLES), required=True),
    interface={"type": "str"},
    sync_id={"type": "int", "default": vocab.DEFAULT_SYNC_ID},
    max_len={"type": "int"},
    group={"type": "str"},
    port={"type": "int"},
    ttl={"type": "int"},
    lock_timeout=WRITER_SPEC["lock_timeout"],
)
