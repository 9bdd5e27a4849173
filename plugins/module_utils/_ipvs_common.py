# Copyright (c) 2026 lvs.ipvs developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Ansible glue shared by the IPVS modules: one client per run, errors as fail_json."""

from __future__ import annotations

from contextlib import contextmanager

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_netlink import (
    PYROUTE2_IMPORT_ERROR,
    IPVSClient,
    IPVSError,
)


@contextmanager
def ipvs_client(module):
    """An IPVSClient for the module; any IPVS error ends the module with its message."""
    if PYROUTE2_IMPORT_ERROR is not None:
        module.fail_json(msg=missing_required_lib("pyroute2"), exception=PYROUTE2_IMPORT_ERROR)
    try:
        with IPVSClient() as client:
            yield client
    except IPVSError as exc:
        module.fail_json(msg=str(exc), errno=exc.errno)
    except ValueError as exc:
        # The netlink layer's own validation: raised before a request is sent.
        module.fail_json(msg=str(exc))


def read_table(client, stats=True):
    """Every service with its destinations, in the kernel's dump order."""
    services = []
    for service in client.services():
        dests = client.destinations(service)
        if not stats:
            service.pop("stats", None)
            for dest in dests:
                dest.pop("stats", None)
        services.append(dict(service, destinations=dests))
    return services
