# Copyright (c) 2026 lvs.ipvs developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ipvsadm-save text -> services -> text must give back the same rules."""

from __future__ import annotations

from pathlib import Path

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.lvs.ipvs.plugins.filter.ipvsadm import ipvsadm_rules, to_ipvsadm_rules

# Rules as ipvsadm 1.31 saves them; the lab loads the same file with
# ipvsadm-restore and checks ipvsadm -Sn prints it back (test_ipvs_info.py).
RULES = (Path(__file__).resolve().parents[3] / "data" / "ipvsadm-save.rules").read_text()


def test_round_trip_gives_back_the_same_rules():
    services = ipvsadm_rules(RULES)
    assert len(services) == 10
    assert sorted(to_ipvsadm_rules(services).splitlines()) == sorted(RULES.splitlines())


def test_services_take_the_module_shape():
    web = ipvsadm_rules(RULES)[0]
    assert web["protocol"] == "tcp" and web["address"] == "203.0.113.1" and web["port"] == 80
    gue = web["destinations"][2]
    assert gue == {
        "address": "192.0.2.3",
        "port": 80,
        "forward": "tunnel",
        "weight": 1,
        "tunnel": {"type": "gue", "port": 5555, "flags": ["remcsum"]},
    }
    mark = next(s for s in ipvsadm_rules(RULES) if s.get("fwmark") == 6)
    assert mark == {
        "fwmark": 6,
        "family": "ipv6",
        "scheduler": "ovf",
        "flags": ["persistent"],
        "timeout": 100,
        "netmask": 64,
        "destinations": [],
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("-A -t 203.0.113.1:http -s rr\n", "line 1: '203.0.113.1:http'"),
        (
            "-A -t 203.0.113.1:80 -s rr\n-a -t 203.0.113.9:80 -r 192.0.2.1:80 -m\n",
            "line 2: tcp 203.0.113.9:80: a real server for a service not defined above it",
        ),
        ("-A -t 203.0.113.1:80 --frobnicate\n", "line 1: unknown or incomplete option '--frobnicate'"),
        ("-C\n", "line 1: '-C'"),
    ],
)
def test_unreadable_lines_are_named(text, message):
    with pytest.raises(AnsibleFilterError, match="ipvsadm_rules: " + message.replace("(", r"\(")):
        ipvsadm_rules(text)


def test_invalid_services_are_refused_with_the_field():
    with pytest.raises(AnsibleFilterError, match=r"to_ipvsadm_rules: services\[0\].scheduler"):
        to_ipvsadm_rules([{"protocol": "tcp", "address": "203.0.113.1", "port": 80, "scheduler": "nosuch"}])
