# Copyright (c) 2026 lvs.ipvs developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The kernel's numbers and message classes, held to include/uapi/linux/ip_vs.h."""

from __future__ import annotations

import os
import subprocess
import sys

from ansible_collections.lvs.ipvs.plugins.module_utils import _ipvs_uapi as uapi
from ansible_collections.lvs.ipvs.plugins.module_utils import _ipvs_vocabulary as vocab
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_pyroute2 import import_error
from ansible_collections.lvs.ipvs.tests.unit.plugins.module_utils.netlink_bytes import (
    decode,
    genl_bytes,
    nl_attr,
    nl_nest,
    u16,
    u32,
)


def test_pyroute2_is_installed():
    # The message tests need it; tests/unit/requirements.txt installs it.
    assert import_error() is None


def test_the_layouts_need_no_pyroute2():
    # The modules that change services and destinations must not load it (about 0.9 s in the lab).
    code = (
        "import sys, ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_client; print('pyroute2' in sys.modules)"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(path for path in sys.path if path))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert done.stdout.strip() == "False"


def test_constants_follow_the_uapi_header():
    assert (uapi.IPVS_CMD_NEW_SERVICE, uapi.IPVS_CMD_GET_DEST, uapi.IPVS_CMD_GET_INFO, uapi.IPVS_CMD_FLUSH) == (
        1,
        8,
        15,
        17,
    )
    assert (uapi.IPVS_CMD_ATTR_DAEMON, uapi.IPVS_CMD_ATTR_TIMEOUT_UDP) == (3, 6)
    assert (uapi.IPVS_SVC_ATTR_NETMASK, uapi.IPVS_SVC_ATTR_PE_NAME, uapi.IPVS_SVC_ATTR_STATS64) == (9, 11, 12)
    assert (uapi.IPVS_DEST_ATTR_ADDR_FAMILY, uapi.IPVS_DEST_ATTR_TUN_FLAGS) == (11, 15)
    assert (uapi.IPVS_DAEMON_ATTR_MCAST_GROUP6, uapi.IPVS_DAEMON_ATTR_MCAST_TTL) == (6, 8)
    assert (uapi.IPVS_STATS_ATTR_OUTBPS, uapi.IPVS_STATS_ATTR_PAD) == (10, 11)
    assert (uapi.IPVS_INFO_ATTR_VERSION, uapi.IPVS_INFO_ATTR_CONN_TAB_SIZE) == (1, 2)
    assert uapi.IP_VS_SVC_F_SCHED_SH_PORT == uapi.IP_VS_SVC_F_SCHED_MH_PORT == 0x10
    assert (uapi.IP_VS_CONN_F_DROUTE, uapi.IP_VS_CONN_F_BYPASS) == (3, 4)
    assert (uapi.IP_VS_CONN_F_TUNNEL_TYPE_GRE, uapi.IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM) == (2, 2)
    assert (uapi.IPPROTO_SCTP, uapi.AF_INET, uapi.AF_INET6) == (132, 2, 10)


def test_every_name_of_the_vocabulary_has_its_kernel_number():
    assert tuple(uapi.FAMILY_NUMBERS) == vocab.FAMILIES
    assert tuple(uapi.PROTOCOL_NUMBERS) == vocab.PROTOCOLS
    assert set(uapi.FORWARD_NUMBERS) == set(vocab.FORWARD_METHODS)
    assert tuple(uapi.TUNNEL_TYPE_NUMBERS) == vocab.TUNNEL_TYPES
    assert tuple(uapi.TUNNEL_FLAG_BITS) == vocab.TUNNEL_FLAGS
    assert tuple(uapi.DAEMON_STATE_NUMBERS) == vocab.DAEMON_ROLES
    assert set(vocab.SERVICE_FLAGS) <= set(uapi.SERVICE_FLAG_BITS)
    named = {
        scheduler: {
            uapi.SERVICE_FLAG_BITS[flag]: flag for flag, owner in vocab.FLAG_SCHEDULER.items() if owner == scheduler
        }
        for scheduler in ("sh", "mh")
    }
    assert named == uapi.SCHEDULER_FLAG_NAMES


def test_the_kernel_limits_the_vocabulary_keeps():
    # IFNAMSIZ, IP_VS_SCHEDNAME_MAXLEN and IP_VS_PENAME_MAXLEN count the NUL.
    assert vocab.IFNAME_MAX == uapi.IP_VS_IFNAME_MAXLEN - 1
    assert vocab.KERNEL_NAME_MAX == uapi.IP_VS_SCHEDNAME_MAXLEN - 1 == uapi.IP_VS_PENAME_MAXLEN - 1
    assert max(len(name) for name in (*vocab.SCHEDULERS, *vocab.PERSISTENCE_ENGINES)) <= vocab.KERNEL_NAME_MAX


def test_info_reply_reuses_ids_one_and_two_for_plain_numbers():
    info = decode(genl_bytes(uapi.IPVS_CMD_SET_INFO, nl_attr(1, u32(0x010201)), nl_attr(2, u32(4096)), flags=0))
    assert (info.get_attr("IPVS_CMD_ATTR_SERVICE"), info.get_attr("IPVS_CMD_ATTR_DEST")) == (0x010201, 4096)
    # The same ids in any other message are the service and destination nests.
    other = decode(genl_bytes(uapi.IPVS_CMD_NEW_SERVICE, nl_nest(1, nl_attr(1, u16(uapi.AF_INET)))))
    assert other.get_attr("IPVS_CMD_ATTR_SERVICE").get_attr("IPVS_SVC_ATTR_AF") == uapi.AF_INET
