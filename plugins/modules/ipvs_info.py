#!/usr/bin/python
# Copyright (c) 2026 lvs.ipvs developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: ipvs_info
short_description: Read the kernel's IPVS table, statistics, timeouts and sync daemons
version_added: 0.1.0
description:
  - Reads the IPVS (Linux Virtual Server) state of the host's network namespace over generic
    netlink, without running C(ipvsadm).
  - Returns every virtual service with its destinations (real servers), their connection counts
    and traffic statistics and rates, the connection timeouts, the running connection
    synchronisation daemons, the IPVS version and connection table size, and the table rendered
    in C(ipvsadm-save -n) format.
author: lvs.ipvs developers (@lvs-ipvs)
options:
  stats:
    description:
      - Include the traffic statistics and rates of each service and destination.
    type: bool
    default: true
extends_documentation_fragment:
  - lvs.ipvs.ipvs
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: linux
notes:
  - It never changes anything.
seealso:
  - name: ipvsadm(8)
    description: The classic command line tool for the same table.
    link: https://man7.org/linux/man-pages/man8/ipvsadm.8.html
"""

EXAMPLES = r"""
- name: Read the IPVS table of the director
  lvs.ipvs.ipvs_info:
  register: ipvs

- name: Show the table the way ipvsadm-save would
  ansible.builtin.debug:
    msg: "{{ ipvs.ipvsadm_save }}"

- name: Count the active connections of every real server
  ansible.builtin.debug:
    msg: "{{ item.0.address }}:{{ item.0.port }} -> {{ item.1.address }}: {{ item.1.active_conns }}"
  loop: "{{ ipvs.services | subelements('destinations') }}"
  when: item.0.fwmark == 0
"""

RETURN = r"""
services:
  description: Virtual services with their destinations, in the kernel's order.
  returned: always
  type: list
  elements: dict
  sample:
    - family: ipv4
      protocol: tcp
      address: 203.0.113.100
      port: 80
      fwmark: 0
      scheduler: rr
      flags: []
      timeout: 0
      netmask: 255.255.255.255
      pe_name: null
      stats: {conns: 12, inpkts: 80, outpkts: 64, inbytes: 5120, outbytes: 9216, cps: 0,
              inpps: 0, outpps: 0, inbps: 0, outbps: 0}
      destinations:
        - family: ipv4
          address: 192.0.2.11
          port: 80
          forward: masq
          weight: 1
          u_threshold: 0
          l_threshold: 0
          tunnel: null
          active_conns: 0
          inactive_conns: 6
          persistent_conns: 0
          stats: {conns: 6, inpkts: 40, outpkts: 32, inbytes: 2560, outbytes: 4608, cps: 0,
                  inpps: 0, outpps: 0, inbps: 0, outbps: 0}
timeouts:
  description: Connection timeouts in seconds.
  returned: always
  type: dict
  sample: {tcp: 900, tcpfin: 120, udp: 300}
daemons:
  description: Running connection synchronisation daemons.
  returned: always
  type: list
  elements: dict
  sample:
    - {state: master, mcast_interface: eth1, sync_id: 1, sync_maxlen: 1472, mcast_group: 224.0.0.81,
       mcast_port: 8848, mcast_ttl: 1}
version:
  description: IPVS version of the kernel.
  returned: always
  type: str
  sample: 1.2.1
conn_table_size:
  description: Size of the kernel's connection hash table.
  returned: always
  type: int
  sample: 4096
ipvsadm_save:
  description: The table in the format of C(ipvsadm-save -n), one rule per line.
  returned: always
  type: list
  elements: str
  sample:
    - -A -t 203.0.113.100:80 -s rr
    - -a -t 203.0.113.100:80 -r 192.0.2.11:80 -m -w 1
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_common import ipvs_client
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_engine import read_table
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvsadm_format import render


def main():
    module = AnsibleModule(argument_spec={"stats": {"type": "bool", "default": True}}, supports_check_mode=True)
    with ipvs_client(module, needs_pyroute2=True) as client:
        services = read_table(client, stats=module.params["stats"])
        info = client.info()
        result = {
            "changed": False,
            "services": services,
            "timeouts": client.get_timeouts(),
            "daemons": client.daemons(),
            "version": info["version"],
            "conn_table_size": info["conn_table_size"],
            "ipvsadm_save": render(services),
        }
    module.exit_json(**result)


if __name__ == "__main__":
    main()
