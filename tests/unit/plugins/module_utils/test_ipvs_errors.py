# Copyright (c) 2026 lvs.ipvs developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The kernel's refusals as messages an operator can act on."""

from __future__ import annotations

import errno

from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_errors import IPVSError, describe_error


def test_error_messages_name_the_cause():
    assert describe_error(errno.ESRCH, "delete_service", "tcp 203.0.113.1:80") == (
        "IPVS delete service tcp 203.0.113.1:80: no such service"
    )
    assert "already exists" in describe_error(errno.EEXIST, "add_service", "x")
    assert "ip_vs_mh" in describe_error(errno.ENOENT, "add_service", "x", {"scheduler": "mh", "pe_name": ""})
    assert "even when u_threshold is 0" in describe_error(errno.ERANGE, "edit_destination", "x")
    assert "bring 'lo' up" in describe_error(errno.EINVAL, "add_destination", "x")
    assert "CAP_NET_ADMIN" in describe_error(errno.EPERM, "flush")
    assert describe_error(errno.ESRCH, "stop_daemon", "master").endswith("no sync daemon in that state is running")
    assert describe_error(errno.EXDEV, "flush") == "IPVS flush: Invalid cross-device link"


def test_a_missing_interface_is_named():
    message = describe_error(errno.ENODEV, "start_daemon", "backup on nosuch0", {"interface": "nosuch0"})
    assert message == "IPVS start daemon backup on nosuch0: no such network interface 'nosuch0'"


def test_ipvs_error_shows_the_errno_name():
    err = IPVSError(errno.EEXIST, "IPVS add service tcp 203.0.113.1:80: it already exists")
    assert (err.errno, err.message) == (errno.EEXIST, "IPVS add service tcp 203.0.113.1:80: it already exists")
    assert str(err) == "IPVS add service tcp 203.0.113.1:80: it already exists [EEXIST]"
