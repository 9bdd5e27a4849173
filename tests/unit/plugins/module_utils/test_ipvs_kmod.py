# Copyright (c) 2026 lvs.ipvs developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Which schedulers the kernel can provide, judged from fake /sys/module and /lib/modules trees."""

from __future__ import annotations

import pytest

from ansible_collections.lvs.ipvs.plugins.module_utils import _ipvs_kmod as kmod
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_validate import ValidationError, normalize_services

RELEASE = "6.1.0-lab"


@pytest.fixture
def system(tmp_path, monkeypatch):
    sys_module = tmp_path / "sys-module"
    modules = tmp_path / "lib-modules"
    (sys_module / "ip_vs_wlc").mkdir(parents=True)
    (modules / RELEASE).mkdir(parents=True)
    (modules / RELEASE / "modules.dep").write_text(
        "kernel/net/netfilter/ipvs/ip_vs.ko.xz: kernel/net/netfilter/nf_conntrack.ko.xz\n"
        "kernel/net/netfilter/ipvs/ip_vs_rr.ko.xz: kernel/net/netfilter/ipvs/ip_vs.ko.xz\n"
        "kernel/net/netfilter/ipvs/ip_vs_pe_sip.ko: kernel/net/netfilter/ipvs/ip_vs.ko.xz\n"
    )
    (modules / RELEASE / "modules.builtin").write_text("kernel/net/netfilter/ipvs/ip_vs_sh.ko\n")
    monkeypatch.setattr(kmod, "SYS_MODULE", str(sys_module))
    monkeypatch.setattr(kmod, "MODULES_ROOT", str(modules))
    return modules


def test_module_states(system):
    assert kmod.module_state("ip_vs_wlc", RELEASE) == "loaded"
    assert kmod.module_state("ip_vs_sh", RELEASE) == "builtin"
    assert kmod.module_state("ip_vs_rr", RELEASE) == "loadable"
    assert kmod.module_state("ip_vs_pe_sip", RELEASE) == "loadable"
    assert kmod.module_state("ip_vs_mh", RELEASE) == "missing"
    # ip_vs.ko is listed, but that is no reason to think ip_vs_ is.
    assert kmod.module_state("ip_vs_", RELEASE) == "missing"
    assert kmod.module_state("ip_vs_mh", "another-release") == "unknown"


def test_a_missing_scheduler_is_named_with_its_module_and_field(system):
    services = normalize_services(
        [{"scheduler": "rr", "fwmark": 1}, {"scheduler": "mh", "address": "203.0.113.1", "port": 80}]
    )
    with pytest.raises(ValidationError) as caught:
        kmod.check_kernel_modules(services, release=RELEASE)
    assert caught.value.path == "services[1].scheduler"
    assert "'mh'" in str(caught.value) and "module ip_vs_mh" in str(caught.value)
    assert f"{system}/{RELEASE}/modules.dep" in str(caught.value)


def persistent(**given):
    return normalize_services([{"fwmark": 1, "flags": ["persistent"], **given}])[0]


def test_persistence_engine_default_scheduler_and_none(system, monkeypatch):
    kmod.check_service_modules(persistent(scheduler="none", pe_name="sip"), "", RELEASE)
    (system / RELEASE / "modules.dep").write_text("")
    with pytest.raises(ValidationError, match=r"^pe_name: 'sip': .*ip_vs_pe_sip"):
        kmod.check_service_modules(persistent(scheduler="sh", pe_name="sip"), "", RELEASE)
    # No scheduler given means wlc, which is loaded.
    kmod.check_service_modules(persistent(), "", RELEASE)


def test_a_system_without_listings_is_not_judged(system):
    kmod.check_kernel_modules([persistent(scheduler="mh")], release="another-release")
