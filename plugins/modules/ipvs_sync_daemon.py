#!/usr/bin/python
# Copyright (c) 2026 lvs.ipvs developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: ipvs_sync_daemon
short_description: Start or stop the IPVS connection synchronisation daemon
version_added: 0.1.0
description:
  - Runs the kernel's IPVS connection synchronisation daemon as master (sends the director's
    connection table) or backup (receives it), so that a standby director can take over without
    breaking established connections. The same as C(ipvsadm --start-daemon), over generic netlink.
  - The kernel cannot change a running daemon; when the settings differ, the module stops it and
    starts it again with the new ones.
author: lvs.ipvs developers (@lvs-ipvs)
options:
  role:
    description: Which daemon, master or backup. A director may run both.
    type: str
    choices: [master, backup]
    required: true
  state:
    description: Whether the daemon runs.
    type: str
    choices: [present, absent]
    default: present
  interface:
    description: Interface the daemon sends or listens on. Required when O(state=present).
    type: str
  sync_id:
    description: Sync ID (0-255); a backup only accepts messages with its own ID.
    type: int
    default: 0
  max_len:
    description: Largest sync message payload, in bytes. The kernel derives it from the MTU when not set.
    type: int
  group:
    description: Multicast group, IPv4 or IPv6. The kernel uses 224.0.0.81 when not set.
    type: str
  port:
    description: UDP port of the multicast group. The kernel uses 8848 when not set.
    type: int
  ttl:
    description: Multicast TTL. The kernel uses 1 when not set.
    type: int
extends_documentation_fragment:
  - lvs.ipvs.ipvs
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  platform:
    platforms: linux
"""

EXAMPLES = r"""
- name: Send this director's connections to the standby on the sync network
  lvs.ipvs.ipvs_sync_daemon:
    role: master
    interface: eth1
    sync_id: 10

- name: Stop receiving connections
  lvs.ipvs.ipvs_sync_daemon:
    role: backup
    state: absent
"""

RETURN = r"""
daemon:
  description: The daemon of O(role) after the task, or null when it does not run.
  returned: always
  type: dict
  sample: {state: master, mcast_interface: eth1, sync_id: 10, sync_maxlen: 1472, mcast_group: 224.0.0.81,
           mcast_port: 8848, mcast_ttl: 1}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_common import ipvs_client
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_netlink import daemon_attrs

# Module option -> key of the netlink layer's daemon dict.
OPTION_KEYS = {
    "interface": "mcast_interface",
    "sync_id": "sync_id",
    "max_len": "sync_maxlen",
    "group": "mcast_group",
    "port": "mcast_port",
    "ttl": "mcast_ttl",
}


def wanted_daemon(params):
    daemon = {"state": params["role"]}
    for option, key in OPTION_KEYS.items():
        if params[option] is not None:
            daemon[key] = params[option]
    return daemon


def matches(current, wanted):
    """Only what was asked for counts: the kernel fills in the rest with its own defaults."""
    return current is not None and all(current.get(key) == value for key, value in wanted.items())


def main():
    module = AnsibleModule(
        argument_spec={
            "role": {"type": "str", "choices": ["master", "backup"], "required": True},
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
            "interface": {"type": "str"},
            "sync_id": {"type": "int", "default": 0},
            "max_len": {"type": "int"},
            "group": {"type": "str"},
            "port": {"type": "int"},
            "ttl": {"type": "int"},
        },
        required_if=[("state", "present", ["interface"])],
        supports_check_mode=True,
    )
    role = module.params["role"]
    wanted = wanted_daemon(module.params)
    if module.params["state"] == "present":
        try:
            # Validate before the running daemon is stopped for a restart.
            daemon_attrs(wanted)
        except ValueError as exc:
            module.fail_json(msg=str(exc))
    with ipvs_client(module) as client:
        before = next((d for d in client.daemons() if d["state"] == role), None)
        if module.params["state"] == "absent":
            changed = before is not None
            after = None
            if changed and not module.check_mode:
                client.stop_daemon(role)
        else:
            changed = not matches(before, wanted)
            after = before if not changed else wanted
            if changed and not module.check_mode:
                if before is not None:
                    client.stop_daemon(role)
                client.start_daemon(wanted)
                after = next((d for d in client.daemons() if d["state"] == role), None)
    result = {"changed": changed, "daemon": after}
    if module._diff:
        result["diff"] = {"before": before or {}, "after": after or {}}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
