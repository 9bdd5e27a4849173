# Copyright (c) 2026 lvs.ipvs developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One vocabulary: the argument specs, the option docs and the roles' specs say what _ipvs_vocabulary says.

ansible-test's validate-modules holds each module's docs to its argument
spec; these tests hold the specs, the shared doc fragment and the roles'
argument specs (YAML, which cannot import it) to the vocabulary itself.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from ansible_collections.lvs.ipvs.plugins.doc_fragments.ipvs_options import ModuleDocFragment
from ansible_collections.lvs.ipvs.plugins.module_utils import _ipvs_argspec as argspec
from ansible_collections.lvs.ipvs.plugins.module_utils import _ipvs_vocabulary as vocab
from ansible_collections.lvs.ipvs.plugins.module_utils._lvs_topology import MODES

ROLES = Path(__file__).resolve().parents[4] / "roles"


def fragment(name):
    return yaml.safe_load(getattr(ModuleDocFragment, name))["options"]


def doc_choices(options, prefix=""):
    """{option path: choices} of a documentation options tree."""
    found = {}
    for name, option in options.items():
        if "choices" in option:
            found[prefix + name] = list(option["choices"])
        for key in ("suboptions", "options"):
            if key in option:
                found.update(doc_choices(option[key], f"{prefix}{name}."))
    return found


def spec_choices(spec, prefix=""):
    found = {}
    for name, option in spec.items():
        if "choices" in option:
            found[prefix + name] = list(option["choices"])
        if "options" in option:
            found.update(spec_choices(option["options"], f"{prefix}{name}."))
    return found


def test_the_argument_specs_take_their_choices_from_the_vocabulary():
    choices = spec_choices(argspec.TABLE_SPEC)
    assert choices == {
        "services.protocol": list(vocab.PROTOCOLS),
        "services.family": list(vocab.FAMILIES),
        "services.scheduler": list(vocab.SCHEDULERS),
        "services.flags": [*vocab.SERVICE_FLAGS, *vocab.FLAG_ALIASES],
        "services.pe_name": list(vocab.PERSISTENCE_ENGINES),
        "services.destinations.forward": list(vocab.FORWARD_METHODS),
        "services.destinations.tunnel.type": list(vocab.TUNNEL_TYPES),
        "services.destinations.tunnel.flags": list(vocab.TUNNEL_FLAGS),
        "services.destinations_mode": list(vocab.DESTINATIONS_MODES),
        "scope": list(vocab.SCOPE_MODES),
    }
    assert spec_choices(argspec.DAEMON_SPEC) == {"state": list(vocab.STATES), "role": list(vocab.DAEMON_ROLES)}
    assert set(argspec.TIMEOUTS_SPEC) == {*vocab.TIMEOUTS, "lock_timeout"}


@pytest.mark.parametrize(
    ("name", "spec"),
    [
        ("SERVICE", dict(argspec.SERVICE_SPEC, **argspec.WRITER_SPEC)),
        ("TABLE", {"services": argspec.TABLE_SPEC["services"], **argspec.WRITER_SPEC}),
        (
            "DESTINATION",
            dict(argspec.DESTINATION_SPEC, services={"options": argspec.SERVICE_IDENTITY_SPEC}, **argspec.WRITER_SPEC),
        ),
        ("LOCK", {"lock_timeout": argspec.WRITER_SPEC["lock_timeout"]}),
    ],
)
def test_the_shared_option_docs_have_the_specs_options_and_choices(name, spec):
    docs = fragment(name)
    assert doc_choices(docs) == spec_choices(spec)

    def names(tree):
        return {key: names(value.get("suboptions") or value.get("options") or {}) for key, value in tree.items()}

    assert names(docs) == names(spec)


def test_the_documented_defaults_are_the_vocabularys():
    text = ModuleDocFragment.SERVICE
    for default in (
        vocab.DEFAULT_PROTOCOL,
        vocab.DEFAULT_FAMILY,
        vocab.DEFAULT_SCHEDULER,
        vocab.DEFAULT_FORWARD,
        vocab.DEFAULT_TUNNEL_TYPE,
        vocab.DEFAULT_DESTINATIONS_MODE,
    ):
        assert f"Defaults to V({default})" in text, default
    assert f"Defaults to {vocab.DEFAULT_WEIGHT}." in text
    assert f"Defaults to {vocab.DEFAULT_PERSISTENT_TIMEOUT} then" in text
    assert f"(1-{vocab.PERSISTENT_TIMEOUT_MAX})" in text
    assert f"0-{vocab.WEIGHT_MAX}" in text
    assert f"0-{vocab.THRESHOLD_MAX}" in text
    assert f"(1-{vocab.FWMARK_MAX})" in text
    assert f"default: {argspec.WRITER_SPEC['lock_timeout']['default']}" in text


def test_the_module_docs_of_timeouts_and_the_sync_daemon_state_the_vocabularys_limits():
    modules = Path(argspec.__file__).resolve().parents[1] / "modules"
    timeouts = (modules / "ipvs_timeouts.py").read_text()
    assert timeouts.count(f"(1-{vocab.CONNECTION_TIMEOUT_MAX})") == len(vocab.TIMEOUTS)
    daemon = (modules / "ipvs_sync_daemon.py").read_text()
    assert f"1-{vocab.SYNC_MAXLEN_MAX['ipv4']} (1-{vocab.SYNC_MAXLEN_MAX['ipv6']} with an IPv6" in daemon
    assert f"Sync ID (0-{vocab.SYNC_ID_MAX})" in daemon
    assert f"Multicast TTL, 1-{vocab.MCAST_TTL_MAX}." in daemon


def role_spec(role):
    return yaml.safe_load((ROLES / role / "meta" / "argument_specs.yml").read_text())["argument_specs"]["main"][
        "options"
    ]


def test_the_roles_argument_specs_use_the_vocabulary():
    service = role_spec("virtual_services")["lvs_virtual_services"]["options"]
    assert service["mode"]["choices"] == list(MODES)
    assert service["protocol"]["choices"] == list(vocab.PROTOCOLS)
    assert service["family"]["choices"] == list(vocab.FAMILIES)
    assert service["scheduler"]["choices"] == list(vocab.SCHEDULERS)
    assert service["pe_name"]["choices"] == list(vocab.PERSISTENCE_ENGINES)
    assert service["flags"]["choices"] == [*vocab.SERVICE_FLAGS, *vocab.FLAG_ALIASES]
    assert service["tunnel"]["options"]["type"]["choices"] == list(vocab.TUNNEL_TYPES)
    assert service["tunnel"]["options"]["flags"]["choices"] == list(vocab.TUNNEL_FLAGS)
    for role, option in (("director", "director_state"), ("real_server", "real_server_state")):
        assert role_spec(role)[option]["choices"] == list(vocab.STATES)
    text = (ROLES / "virtual_services" / "meta" / "argument_specs.yml").read_text()
    assert f"Defaults to V({vocab.DEFAULT_SCHEDULER})" in text
    assert f"Defaults to V({vocab.DEFAULT_PROTOCOL})" in text
    assert f"V({vocab.DEFAULT_TUNNEL_TYPE}) (default)" in text
    assert f"Defaults to {vocab.DEFAULT_WEIGHT}." in text


def test_no_module_or_module_util_spells_a_default_of_its_own():
    plugins = Path(argspec.__file__).resolve().parents[1]
    allowed = {"_ipvs_vocabulary.py", "_ipvs_uapi.py", "ipvs_options.py"}
    names = "|".join(
        (
            vocab.DEFAULT_FAMILY,
            vocab.DEFAULT_PROTOCOL,
            vocab.DEFAULT_SCHEDULER,
            vocab.DEFAULT_FORWARD,
            vocab.DEFAULT_TUNNEL_TYPE,
            vocab.DEFAULT_DESTINATIONS_MODE,
            vocab.DEFAULT_SCOPE,
        )
    )
    # A default is a value put where none was given: `x or "wlc"`, `get(key, "wlc")`.
    pattern = re.compile(rf"""(\bor\s+|\.get\([^,()]+,\s*)["']({names})["']|\b{vocab.DEFAULT_PERSISTENT_TIMEOUT}\b""")
    found = []
    for path in sorted(plugins.rglob("*.py")):
        if path.name in allowed:
            continue
        code = path.read_text().split('"""\n\nfrom', 1)[-1] if path.parent.name == "modules" else path.read_text()
        found += [f"{path.name}: {line.strip()}" for line in code.splitlines() if pattern.search(line)]
    assert found == []
