"""A scheduler whose kernel module cannot be loaded is named, by the module's
check before any change and by the netlink layer when the kernel refuses."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from conftest import ipvsadm_save, svc, unloadable

from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_errors import IPVSError

WEB = {"protocol": "tcp", "address": "203.0.113.1", "port": 80}


@pytest.fixture
def no_ovf(ipvs):
    """ip_vs_ovf listed but not loadable, for the test's duration."""
    with unloadable("ip_vs_ovf"):
        yield ipvs


def test_the_kernel_refusal_names_the_module(no_ovf):
    with pytest.raises(IPVSError) as caught:
        no_ovf.add_service(svc(**WEB, scheduler="ovf"))
    assert "no scheduler 'ovf'" in str(caught.value) and "ip_vs_ovf" in str(caught.value)
    assert no_ovf.services() == []


def test_the_module_names_a_scheduler_it_cannot_load_before_any_change(no_ovf):
    no_ovf.add_service(svc(**WEB, scheduler="rr"))
    release = os.uname().release
    # A modules.dep without ip_vs_ovf, seen only by this mount namespace.
    script = f"""
set -e
mkdir -p /tmp/kmod
grep -v ip_vs_ovf /lib/modules/{release}/modules.dep > /tmp/kmod/modules.dep
mount --bind /tmp/kmod/modules.dep /lib/modules/{release}/modules.dep
exec ansible localhost -c local -m lvs.ipvs.ipvs_table -a "$ARGS"
"""
    args = {
        "services": [
            {**WEB, "port": 81, "scheduler": "rr"},
            {**WEB, "port": 82, "scheduler": "ovf"},
        ]
    }
    proc = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
        env={**os.environ, "ARGS": json.dumps(args)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert (
        "services[1].scheduler: 'ovf': this kernel has no module ip_vs_ovf: it is not loaded, not built in, "
        f"and not in /lib/modules/{release}/modules.dep"
    ) in proc.stdout
    assert ipvsadm_save() == ["-A -t 203.0.113.1:80 -s rr"]
