#!/usr/bin/python
# Copyright (c) 2026 lvs.ipvs developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: ipvs_timeouts
short_description: Set the IPVS connection timeouts
version_added: 0.1.0
description:
  - Sets how long IPVS keeps idle connection entries, like C(ipvsadm --set TCP TCPFIN UDP), over
    generic netlink.
  - Only the timeouts given are changed; the others keep their value.
author: lvs.ipvs developers (@lvs-ipvs)
options:
  tcp:
    description: Timeout of established TCP connections, in seconds.
    type: int
  tcpfin:
    description: Timeout of TCP connections after a FIN was received, in seconds.
    type: int
  udp:
    description: Timeout of UDP flows, in seconds.
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
notes:
  - The kernel keeps one set of timeouts per network namespace, shared by all virtual services.
  - The kernel cannot be told "no timeout"; 0 is refused here because the kernel reads it as
    "leave unchanged".
"""

EXAMPLES = r"""
- name: Drop idle TCP entries after 15 minutes and UDP flows after 5
  lvs.ipvs.ipvs_timeouts:
    tcp: 900
    tcpfin: 120
    udp: 300
"""

RETURN = r"""
timeouts:
  description: The timeouts after the task, in seconds.
  returned: always
  type: dict
  sample: {tcp: 900, tcpfin: 120, udp: 300}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_common import ipvs_client

NAMES = ("tcp", "tcpfin", "udp")


def main():
    module = AnsibleModule(
        argument_spec={name: {"type": "int"} for name in NAMES},
        required_one_of=[NAMES],
        supports_check_mode=True,
    )
    wanted = {name: module.params[name] for name in NAMES if module.params[name] is not None}
    for name, value in wanted.items():
        if not 1 <= value <= 2**31 - 1:
            module.fail_json(msg=f"{name}: {value}: must be between 1 and {2**31 - 1} seconds")
    with ipvs_client(module) as client:
        before = client.get_timeouts()
        changes = {name: value for name, value in wanted.items() if before.get(name) != value}
        after = dict(before, **changes)
        if changes and not module.check_mode:
            client.set_timeouts(**changes)
            after = client.get_timeouts()
    result = {"changed": bool(changes), "timeouts": after}
    if module._diff:
        result["diff"] = {"before": before, "after": after}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
