# Copyright (c) 2026 lvs.ipvs developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Ansible glue shared by the IPVS modules: one client per run, the table's lock, errors as fail_json."""

from __future__ import annotations

import json
from contextlib import contextmanager, suppress

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.common.validation import check_type_dict, check_type_list

from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_client import IPVSClient
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_engine import ApplyError
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_errors import IPVSError
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_lock import LockTimeoutError, table_lock
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_pyroute2 import import_error


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


class _IPVSModule(AnsibleModule):
    """AnsibleModule whose refusal of a string where a mapping belongs names the entry and the value.

    Ansible's own message for that case ("dictionary requested, could not
    parse JSON or key=value") names neither. The arguments are parsed once;
    the better message is looked for, in them as given, only when Ansible's
    check fails. The options named in json_lists also take their list as
    one string of JSON.
    """

    def __init__(self, shape_spec, json_lists=(), **kwargs):
        self._shape_spec = shape_spec
        self._json_lists = json_lists
        self._given = None
        self._json_error = None
        self._parsed = {}
        super().__init__(**kwargs)
        self._given = None  # not kept: a large table would stay in memory twice
        if self._json_error:
            self.fail_json(msg=self._json_error)
        # Ansible checked an empty list in place of each list given as JSON:
        # its check deep-copies what it is given (36 MiB more at 110,000
        # rules, the peak of the whole run) only to find mappings, which the
        # module's validator checks anyway, entry by entry, naming each.
        for name, value in self._parsed.items():
            self.params[name] = value
        self._parsed = None

    def _load_params(self):
        super()._load_params()
        params = self.params or {}
        for name in self._json_lists:
            # A list given as one JSON string (a .json file read by a lookup, or
            # "| to_json") reaches the module as one string: Ansible 2.19 then
            # hands a 110,000-rule table over in a fraction of the time it takes
            # to template and check the same list of mappings.
            if isinstance(params.get(name), str):
                self._parsed[name] = self._json_list(name, params[name])
                params[name] = []
        # A shallow copy: Ansible updates params in place with its checked copy.
        self._given = dict(params)

    def _json_list(self, name, text):
        """The list a string holds as JSON; else an empty list, and the message that __init__ fails with."""
        try:
            value = json.loads(text)
        except ValueError as exc:
            value = None
            reason = f"it is not valid JSON ({exc})"
        else:
            reason = f"its JSON holds a {type(value).__name__}, not a list"
        if isinstance(value, list):
            return value
        shown = text if len(text) <= 80 else f"{text[:77]}..."
        # fail_json() cannot run before AnsibleModule is set up: __init__ calls it.
        self._json_error = self._json_error or f"{name}: {shown!r}: a string must be the JSON of a list; {reason}"
        return []

    def fail_json(self, msg, **kwargs):
        given = getattr(self, "params", None)
        if self._json_error:
            msg, self._given = self._json_error, None
        if self._given is not None:
            given, self._given = self._given, None
            # Should shape_error() itself fail, Ansible's own message stands.
            with suppress(Exception):
                msg = shape_error(self._shape_spec, given) or msg
        if self._json_lists and given and "invocation" not in kwargs:
            # As on success, the result names how many entries were given
            # instead of echoing a table (which the validator may have let go
            # of as it went, and Ansible's failed check may have cut short).
            parsed = self._parsed or {}
            shown = {
                name: f"{len(value)} entries" if isinstance(value, list) else value
                for name, value in ((name, parsed.get(name, value)) for name, value in given.items())
                if name in self._json_lists
            }
            kwargs["invocation"] = {"module_args": dict(getattr(self, "params", None) or {}, **shown)}
        super().fail_json(msg=msg, **kwargs)


def ipvs_module(argument_spec, shape_spec=None, json_lists=(), **kwargs):
    """AnsibleModule for an IPVS module, except that a string where a mapping belongs is refused with its path.

    shape_spec: the full spec to locate such strings in, where argument_spec
    leaves nested entries to the validator (ipvs_table's services).
    json_lists: options of type list that may also be given as one string of JSON.
    """
    return _IPVSModule(shape_spec or argument_spec, json_lists, argument_spec=argument_spec, **kwargs)


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
def ipvs_client(module, needs_pyroute2=False):
    """An IPVSClient for the module, inside module_errors().

    needs_pyroute2: the module reads sync daemons, timeouts or the version,
    whose replies pyroute2 decodes; services and destinations need no pyroute2.
    """
    if needs_pyroute2:
        error = import_error()
        if error is not None:
            module.fail_json(msg=missing_required_lib("pyroute2"), exception=error)
    with module_errors(module), IPVSClient() as client:
        yield client


@contextmanager
def ipvs_writer(module, what="change the IPVS table", needs_pyroute2=False):
    """ipvs_client() holding the table's lock, from the first read to the last request.

    Check mode changes nothing and takes no lock.
    """
    with ipvs_client(module, needs_pyroute2) as client:
        if module.check_mode:
            yield client
            return
        with table_lock(module.params["lock_timeout"], what=what):
            yield client
