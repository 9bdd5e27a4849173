# Copyright (c) 2026 lvs.ipvs developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    # What every module that talks to the kernel's IPVS table needs.
    DOCUMENTATION = r"""
options: {}
requirements:
  - Python 3.8 or later on the managed host.
  - pyroute2 0.7.2 or later on the managed host, for the modules that read sync daemons, timeouts or the IPVS
    version (M(lvs.ipvs.ipvs_info), M(lvs.ipvs.ipvs_sync_daemon), M(lvs.ipvs.ipvs_timeouts)); the others do without
    it. Debian 12's C(python3-pyroute2) is 0.7.2.
  - the C(ip_vs) kernel module, loaded (C(modprobe ip_vs)) or loadable on demand
notes:
  - Works on the IPVS table of the managed host's network namespace, over generic netlink; C(ipvsadm)
    is not used. Needs root (C(CAP_NET_ADMIN)).
"""
