# Copyright (c) 2026 lvs.ipvs developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Rendering of ipvsadm-save lines; the lab checks the same against ipvsadm itself."""

from __future__ import annotations

import pytest

from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_validate import normalize_table
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvsadm_format import render


def svc(**kw):
    base = {
        "family": "ipv4",
        "protocol": "tcp",
        "address": "203.0.113.1",
        "port": 80,
        "fwmark": 0,
        "scheduler": "rr",
        "flags": [],
        "timeout": 0,
        "netmask": "255.255.255.255",
        "pe_name": None,
    }
    base.update(kw)
    return base


def dest(**kw):
    base = {"family": "ipv4", "address": "192.0.2.1", "port": 80, "forward": "masq", "weight": 1, "tunnel": None}
    base.update(kw)
    return base


@pytest.mark.parametrize(
    ("service", "line"),
    [
        (svc(), "-A -t 203.0.113.1:80 -s rr"),
        (svc(flags=["persistent"], timeout=30), "-A -t 203.0.113.1:80 -s rr -p 30"),
        (
            svc(protocol="udp", flags=["persistent", "one-packet"], timeout=30, netmask="255.255.255.0"),
            "-A -u 203.0.113.1:80 -s rr -p 30 -M 255.255.255.0 -o",
        ),
        (
            svc(family="ipv6", address="2001:db8::9", scheduler="mh", flags=["mh-fallback", "mh-port"], netmask=128),
            "-A -t [2001:db8::9]:80 -s mh -b mh-fallback,mh-port",
        ),
        (
            svc(
                fwmark=6,
                family="ipv6",
                protocol=None,
                address=None,
                port=None,
                scheduler="ovf",
                flags=["persistent"],
                timeout=100,
                netmask=64,
            ),
            "-A -f 6 -6 -s ovf -p 100 -M 64",
        ),
        (
            svc(protocol="udp", port=5060, flags=["persistent"], timeout=60, pe_name="sip"),
            "-A -u 203.0.113.1:5060 -s rr -p 60 --pe sip",
        ),
        (svc(protocol="sctp", port=3868, scheduler="lblcr"), "-A --sctp-service 203.0.113.1:3868 -s lblcr"),
        # A netmask without persistence means nothing to the kernel, and ipvsadm does not print it.
        (svc(netmask="255.255.0.0"), "-A -t 203.0.113.1:80 -s rr"),
    ],
)
def test_service_lines(service, line):
    assert render([service]) == [line]


@pytest.mark.parametrize(
    ("destination", "tail"),
    [
        (dest(), "-r 192.0.2.1:80 -m -w 1"),
        (dest(forward="droute", weight=0), "-r 192.0.2.1:80 -g -w 0"),
        (
            dest(forward="tunnel", tunnel={"type": "ipip", "port": 0, "flags": []}),
            "-r 192.0.2.1:80 -i -w 1 --tun-type ipip",
        ),
        (
            dest(forward="tunnel", tunnel={"type": "gre", "port": 0, "flags": []}),
            "-r 192.0.2.1:80 -i -w 1 --tun-type gre --tun-nocsum",
        ),
        (
            dest(forward="tunnel", tunnel={"type": "gue", "port": 5555, "flags": ["remcsum"]}),
            "-r 192.0.2.1:80 -i -w 1 --tun-type gue --tun-port 5555 --tun-remcsum",
        ),
        (dest(family="ipv6", address="2001:db8::5", port=8080), "-r [2001:db8::5]:8080 -m -w 1"),
    ],
)
def test_destination_lines_follow_their_service(destination, tail):
    assert render([dict(svc(), destinations=[destination])]) == [
        "-A -t 203.0.113.1:80 -s rr",
        f"-a -t 203.0.113.1:80 {tail}",
    ]


def test_render_consume_gives_the_same_lines_and_empties_the_table():
    table = normalize_table(
        [{"protocol": "tcp", "address": "203.0.113.1", "port": 80, "destinations": [{"address": "192.0.2.11"}]}]
    )
    lines = render(table)
    assert render(table, consume=True) == lines
    assert table == [None]
