# Copyright (c) 2026 lvs.ipvs developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Ansible glue shared by the IPVS modules: one client per run, the table's lock, errors as fail_json."""

from __future__ import annotations

from contextlib import contextmanager

from ansible.module_utils.basic import AnsibleModule, _load_params, missing_required_lib
from ansible.module_utils.common.validation import check_type_dict, check_type_list

from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_client import IPVSClient
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_engine import ApplyError
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_errors import IPVSError
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_lock import LockTimeoutError, table_lock
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_uapi import PYROUTE2_IMPORT_ERROR


def shape_error(spec, params, path=""):
    """Where params has a string Ansible cannot turn into the mapping spec wants: "path: value: reason", or None.

    Ansible's own message for that case ("dictionary requested, could not
    parse JSON or key=value") names neither the option nor the value.
    """
    for name, option in spec.items():
        value = params.get(name)
        where = f"{path}.{name}" if path else name
        if value is None or "options" not in option:
            continue
        what = f"a mapping of {', '.join(option['options'])}"
        if option.get("type") == "list":
            if isinstance(value, str):
                # Ansible splits a string at its commas and reads each part as a mapping.
                entries = [(where, part) for part in check_type_list(value)]
                what = f"a list of mappings of {', '.join(option['options'])}"
            elif isinstance(value, list):
                entries = [(f"{where}[{index}]", entry) for index, entry in enumerate(value)]
            else:
                continue
        else:
            entries = [(where, value)]
        for entry_path, entry in entries:
            if isinstance(entry, str):
                try:
                    entry = check_type_dict(entry)
                except (TypeError, ValueError):
                    shown = value if entry_path == where else entry
                    return f"{entry_path}: {shown!r}: must be {what}"
            if isinstance(entry, dict):
                found = shape_error(option["options"], entry, entry_path)
                if found:
                    return found
    return None


def ipvs_module(argument_spec, **kwargs):
    """AnsibleModule for an IPVS module, except that a string where a mapping belongs is refused with its path."""
    try:
        problem = shape_error(argument_spec, _load_params() or {})
    except Exception:  # AnsibleModule itself reports parameters it cannot read
        problem = None
    if problem is None:
        return AnsibleModule(argument_spec=argument_spec, **kwargs)
    # Every option as it came, so that the failure is this message and not Ansible's.
    loose = AnsibleModule(argument_spec={name: {"type": "raw"} for name in argument_spec}, supports_check_mode=True)
    loose.fail_json(msg=problem)
    return None


@contextmanager
def module_errors(module):
    """Ends the module with the message of bad input, a refused plan, a busy lock or an IPVS error raised inside."""
    try:
        yield
    except ApplyError as exc:
        # "refused", not "failed": fail_json() sets failed itself.
        module.fail_json(
            msg=str(exc),
            errno=exc.errno,
            changes=exc.changes,
            applied=exc.applied,
            refused=exc.refused,
            not_sent=exc.not_sent,
            undone=exc.undone,
        )
    except LockTimeoutError as exc:
        module.fail_json(msg=str(exc), errno=exc.errno)
    except IPVSError as exc:
        module.fail_json(msg=str(exc), errno=exc.errno)
    except ValueError as exc:
        # The validator's ValidationError: raised before a request is sent.
        module.fail_json(msg=str(exc))


@contextmanager
def ipvs_client(module):
    """An IPVSClient for the module, inside module_errors()."""
    if PYROUTE2_IMPORT_ERROR is not None:
        module.fail_json(msg=missing_required_lib("pyroute2"), exception=PYROUTE2_IMPORT_ERROR)
    with module_errors(module), IPVSClient() as client:
        yield client


@contextmanager
def ipvs_writer(module, what="change the IPVS table"):
    """ipvs_client() holding the table's lock, from the first read to the last request.

    Check mode changes nothing and takes no lock.
    """
    with ipvs_client(module) as client:
        if module.check_mode:
            yield client
            return
        with table_lock(module.params["lock_timeout"], what=what):
            yield client
