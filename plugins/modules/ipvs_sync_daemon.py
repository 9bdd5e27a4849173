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
    starts it again with the new ones. Every setting, and whether the interface exists, is checked
    before the running daemon is stopped; if the kernel still refuses the new one, the old one is
    started again.
  - Only the settings given are compared with the running daemon; the others are the kernel's to choose.
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
    description:
      - Interface the daemon sends or listens on; it must exist. Required when O(state=present).
    type: str
  sync_id:
    description: Sync ID (0-255); a backup only accepts messages with its own ID.
    type: int
    default: 0
  max_len:
    description:
      - Largest sync message payload, in bytes, 1-65507 (1-65487 with an IPv6 O(group)). The kernel derives
        it from the interface's MTU when not set.
    type: int
  group:
    description: Multicast group, IPv4 or IPv6. The kernel uses 224.0.0.81 when not set.
    type: str
  port:
    description: UDP port of the multicast group, 1-65535. The kernel uses 8848 when not set.
    type: int
  ttl:
    description: Multicast TTL, 1-255. The kernel uses 1 when not set.
    type: int
extends_documentation_fragment:
  - lvs.ipvs.ipvs
  - lvs.ipvs.ipvs_options.lock
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

import socket

from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_argspec import DAEMON_SPEC
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_common import ipvs_module, ipvs_writer, module_errors
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_errors import IPVSError
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_validate import ValidationError, normalize_daemon


def matches(current, wanted):
    """Only what was given counts: the kernel fills in the rest with its own defaults."""
    return current is not None and all(current.get(key) == value for key, value in wanted.items() if value is not None)


def _running(client, role):
    return next((d for d in client.daemons() if d["state"] == role), None)


def _restart(client, before, wanted):
    """Stop before, start wanted; if the kernel refuses wanted, start before again and say so."""
    client.stop_daemon(before["state"])
    try:
        client.start_daemon(wanted)
    except IPVSError as exc:
        try:
            client.start_daemon(dict(before))
        except IPVSError as again:
            raise IPVSError(
                exc.errno,
                f"{exc.message}; the {before['state']} daemon that ran before could not be started "
                f"again either ({again.message}): no {before['state']} daemon runs now",
            ) from None
        raise IPVSError(exc.errno, f"{exc.message}; the daemon that ran before runs again, unchanged") from None


def main():
    module = ipvs_module(
        argument_spec=DAEMON_SPEC, required_if=[("state", "present", ["interface"])], supports_check_mode=True
    )
    params = module.params
    present = params["state"] == "present"
    with module_errors(module):
        role = params["role"]
        wanted = normalize_daemon(params) if present else None
        if wanted is not None:
            try:
                socket.if_nametoindex(wanted["mcast_interface"])
            except OSError:
                raise ValidationError(
                    "interface", wanted["mcast_interface"], "no such network interface on this host"
                ) from None
    with ipvs_writer(module, "change the IPVS sync daemons", needs_pyroute2=True) as client:
        before = _running(client, role)
        if not present:
            changed = before is not None
            after = None
            if changed and not module.check_mode:
                client.stop_daemon(role)
        else:
            changed = not matches(before, wanted)
            after = before if not changed else {key: value for key, value in wanted.items() if value is not None}
            if changed and not module.check_mode:
                if before is None:
                    client.start_daemon(wanted)
                else:
                    _restart(client, before, wanted)
                after = _running(client, role)
    result = {"changed": changed, "daemon": after}
    if module._diff:
        result["diff"] = {"before": before or {}, "after": after or {}}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
