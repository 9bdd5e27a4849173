# Copyright (c) 2026 lvs.ipvs developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Ansible glue shared by the IPVS modules: one client per run, errors as fail_json."""

from __future__ import annotations

from contextlib import contextmanager

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_client import IPVSClient
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_engine import ApplyError
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_netlink import PYROUTE2_IMPORT_ERROR, IPVSError


@contextmanager
def module_errors(module):
    """Ends the module with the message of bad input or of an IPVS error raised inside."""
    try:
        yield
    except ApplyError as exc:
        module.fail_json(
            msg=str(exc),
            errno=exc.errno,
            changes=exc.changes,
            applied=exc.applied,
            failed=exc.failed,
            not_sent=exc.not_sent,
        )
    except IPVSError as exc:
        module.fail_json(msg=str(exc), errno=exc.errno)
    except ValueError as exc:
        # The model's ValidationError, and the netlink layer's own checks: raised before a request is sent.
        module.fail_json(msg=str(exc))


@contextmanager
def ipvs_client(module):
    """An IPVSClient for the module, inside module_errors()."""
    if PYROUTE2_IMPORT_ERROR is not None:
        module.fail_json(msg=missing_required_lib("pyroute2"), exception=PYROUTE2_IMPORT_ERROR)
    with module_errors(module), IPVSClient() as client:
        yield client
