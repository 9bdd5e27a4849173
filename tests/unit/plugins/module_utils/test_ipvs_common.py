# Copyright (c) 2026 lvs.ipvs developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A string where a mapping belongs is named with its path, where Ansible's own message names neither."""

from __future__ import annotations

import json

import pytest

from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_argspec import TABLE_SPEC
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_common import shape_error

DEST_KEYS = "address, port, forward, weight, u_threshold, l_threshold, tunnel"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"services": "web"}, "services: 'web': must be a list of mappings of protocol, address,"),
        ({"services": ["web"]}, "services[0]: 'web': must be a mapping of protocol, address,"),
        (
            {"services": [{"address": "203.0.113.1", "destinations": ["x"]}]},
            f"services[0].destinations[0]: 'x': must be a mapping of {DEST_KEYS}",
        ),
        (
            {"services": [{"destinations": [{"address": "192.0.2.1", "tunnel": "gre"}]}]},
            "services[0].destinations[0].tunnel: 'gre': must be a mapping of type, port, flags",
        ),
    ],
)
def test_a_string_where_a_mapping_belongs_is_named(params, message):
    assert shape_error(TABLE_SPEC, params).startswith(message)


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"services": None},
        {"services": []},
        # What Ansible itself turns into a mapping is left to it.
        {"services": ['{"address": "203.0.113.1", "port": 80}']},
        {"services": ["address=203.0.113.1 port=80"]},
        {"services": [{"address": "203.0.113.1", "destinations": [{"address": "192.0.2.1", "tunnel": "type=gre"}]}]},
        # Other types are Ansible's to judge, with messages that name the option.
        {"services": [{"port": "http"}]},
    ],
)
def test_what_ansible_can_read_is_left_to_it(params):
    assert shape_error(TABLE_SPEC, params) is None


def test_the_table_module_names_the_entry_where_ansible_would_name_only_the_option(capsys):
    from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_argspec import TABLE_MODULE_SPEC
    from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_common import ipvs_module
    from ansible_collections.lvs.ipvs.tests.unit.compat.module_args import patch_module_args

    with patch_module_args({"services": [{"address": "192.0.2.1", "port": 80}, "web"]}), pytest.raises(SystemExit):
        ipvs_module(argument_spec=TABLE_MODULE_SPEC, shape_spec=TABLE_SPEC, supports_check_mode=True)
    result = json.loads(capsys.readouterr().out)
    assert result["failed"] is True
    assert result["msg"].startswith("services[1]: 'web': must be a mapping of protocol, address,")


def test_the_table_module_leaves_the_entries_to_the_validator():
    from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_argspec import TABLE_MODULE_SPEC
    from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_common import ipvs_module
    from ansible_collections.lvs.ipvs.tests.unit.compat.module_args import patch_module_args

    given = {"address": "192.0.2.1", "port": "80", "flags": "persistent"}
    with patch_module_args({"services": [given]}):
        module = ipvs_module(argument_spec=TABLE_MODULE_SPEC, shape_spec=TABLE_SPEC, supports_check_mode=True)
    # As given: no suboption filled in with None, no type changed; normalize_services() does the rest.
    assert module.params["services"] == [given]


def _table_module(services):
    from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_argspec import TABLE_MODULE_SPEC
    from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_common import ipvs_module
    from ansible_collections.lvs.ipvs.tests.unit.compat.module_args import patch_module_args

    with patch_module_args({"services": services}):
        return ipvs_module(
            argument_spec=TABLE_MODULE_SPEC, shape_spec=TABLE_SPEC, json_lists=("services",), supports_check_mode=True
        )


def test_the_table_module_takes_its_services_as_one_string_of_json():
    services = [{"address": "192.0.2.1", "port": 80, "destinations": [{"address": "198.51.100.1", "weight": 2}]}]
    assert _table_module(json.dumps(services)).params["services"] == services


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("web", "services: 'web': a string must be the JSON of a list; it is not valid JSON (Expecting value"),
        (
            '{"address": "192.0.2.1"}',
            """services: '{"address": "192.0.2.1"}': a string must be the JSON of a list; its JSON holds a dict""",
        ),
        ('[{"address": "192.0.2.1",', 'services: \'[{"address": "192.0.2.1",\': a string must be the JSON of a list'),
    ],
)
def test_a_string_that_is_not_the_json_of_a_list_is_refused_with_the_reason(capsys, text, message):
    with pytest.raises(SystemExit):
        _table_module(text)
    result = json.loads(capsys.readouterr().out)
    assert result["failed"] is True
    assert result["msg"].startswith(message)


def test_a_long_string_is_shown_cut(capsys):
    with pytest.raises(SystemExit):
        _table_module("[" + "x" * 500)
    assert json.loads(capsys.readouterr().out)["msg"].startswith(f"services: '[{'x' * 76}...': a string must be")


def test_a_refusal_names_how_many_services_were_given_instead_of_echoing_them(capsys):
    with pytest.raises(SystemExit):
        _table_module([{"address": "192.0.2.1", "port": 80}, "web"])
    result = json.loads(capsys.readouterr().out)
    assert result["invocation"]["module_args"]["services"] == "2 entries"


def test_a_json_string_is_not_copied_by_ansibles_check_and_a_refusal_counts_its_entries(capsys):
    from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_argspec import TABLE_MODULE_SPEC
    from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_common import ipvs_module
    from ansible_collections.lvs.ipvs.tests.unit.compat.module_args import patch_module_args

    services = [{"address": "192.0.2.1", "port": 80}, {"address": "192.0.2.2", "port": 80}]
    text = json.dumps(services)
    with patch_module_args({"services": text}):
        module = ipvs_module(argument_spec=TABLE_MODULE_SPEC, json_lists=("services",), supports_check_mode=True)
    # Ansible checked an empty list in its place; the module gets the list parsed, as it was given.
    assert module.params["services"] == services
    assert module.validation_result.validated_parameters["services"] == []
    # Ansible's check refusing another option: the invocation counts the services given as JSON.
    with patch_module_args({"services": text, "scope": "everything"}), pytest.raises(SystemExit):
        ipvs_module(argument_spec=TABLE_MODULE_SPEC, json_lists=("services",), supports_check_mode=True)
    result = json.loads(capsys.readouterr().out)
    assert "scope" in result["msg"] and result["invocation"]["module_args"]["services"] == "2 entries"
