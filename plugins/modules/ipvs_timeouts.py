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
    description: Timeout of established TCP connections, in seconds (1-2147483).
    type: int
  tcpfin:
    description: Timeout of TCP connections after a FIN was received, in seconds (1-2147483).
    type: int
  udp:
    description: Timeout of UDP flows, in seconds (1-2147483).
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
notes:
  - The kernel keeps one set of timeouts per network namespace, shared by all virtual services.
  - The kernel cannot be told "no timeout"; 0 is refused here because the kernel reads it as
    "leave unchanged".
  - The kernel keeps a timeout in jiffies in an int, and refuses more than INT_MAX / HZ seconds; the
    limit here, 2147483 seconds (24 days), holds for every HZ up to 1000.
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

from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_argspec import TIMEOUTS_SPEC
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_common import ipvs_module, ipvs_writer, module_errors
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_validate import normalize_timeouts
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_vocabulary import TIMEOUTS


def main():
    module = ipvs_module(argument_spec=TIMEOUTS_SPEC, required_one_of=[TIMEOUTS], supports_check_mode=True)
    with module_errors(module):
        wanted = {name: value for name, value in normalize_timeouts(module.params).items() if value is not None}
    with ipvs_writer(module, "change the IPVS timeouts", needs_pyroute2=True) as client:
        before = client.get_timeouts()
        changes = {name: value for name, value in wanted.items() if before.get(name) != value}
        after = dict(before, **changes)
        if changes and not module.check_mode:
            client.set_timeouts(changes)
            after = client.get_timeouts()
    result = {"changed": bool(changes), "timeouts": after}
    if module._diff:
        result["diff"] = {"before": before, "after": after}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
