# Copyright (c) 2026 lvs.ipvs developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Canonical dicts to IPVS attributes and back, without a kernel.

The decoders are fed bytes laid out like ip_vs_ctl.c's dumps (built by hand
in netlink_bytes); what only a kernel can show is left to the lab tier.
"""

from __future__ import annotations

import struct

import pytest

from ansible_collections.lvs.ipvs.plugins.module_utils import _ipvs_attrs as attrs
from ansible_collections.lvs.ipvs.plugins.module_utils import _ipvs_uapi as uapi
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_attrs import (
    address_from_raw,
    address_to_raw,
    daemon_attrs,
    dest_attrs,
    forward_name,
    netmask_from_raw,
    netmask_to_raw,
    service_attrs,
    service_flags_from_bits,
    service_flags_to_bits,
    timeout_attrs,
    tunnel_flags_from_bits,
    tunnel_flags_to_bits,
    version_text,
)
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_uapi import AF_INET, AF_INET6
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_validate import service_key
from ansible_collections.lvs.ipvs.tests.unit.plugins.module_utils.netlink_bytes import (
    WEB,
    be16,
    decode,
    destination,
    genl_bytes,
    nl_attr,
    nl_nest,
    service,
    u8,
    u16,
    u32,
    u64,
)

# --- Addresses ------------------------------------------------------------------------


def test_ipv4_address_takes_the_first_four_of_sixteen_bytes():
    raw = address_to_raw("203.0.113.1")
    assert raw == bytes([203, 0, 113, 1]) + b"\0" * 12
    assert address_from_raw(raw, AF_INET) == "203.0.113.1"
    assert address_from_raw(bytes([10, 0, 0, 1]), AF_INET) == "10.0.0.1"


def test_ipv6_address_fills_sixteen_bytes():
    raw = address_to_raw("2001:db8::1")
    assert raw == bytes.fromhex("20010db8000000000000000000000001")
    assert address_from_raw(raw, AF_INET6) == "2001:db8::1"


def test_address_from_raw_rejects_a_short_field():
    with pytest.raises(ValueError, match="needs 16"):
        address_from_raw(b"\0" * 4, AF_INET6)


@pytest.mark.parametrize(
    ("family", "netmask", "raw"),
    [
        ("ipv4", "255.255.255.255", b"\xff\xff\xff\xff"),
        ("ipv4", "255.255.255.0", b"\xff\xff\xff\x00"),
        ("ipv4", "0.0.0.0", b"\0\0\0\0"),
        # IPv6: the kernel reads the same four bytes as a host-order prefix length.
        ("ipv6", 128, struct.pack("=I", 128)),
        ("ipv6", 64, struct.pack("=I", 64)),
    ],
)
def test_netmask_by_family(family, netmask, raw):
    assert netmask_to_raw(family, netmask) == raw
    assert netmask_from_raw(uapi.FAMILY_NUMBERS[family], raw) == netmask


# --- Flags and names --------------------------------------------------------------


@pytest.mark.parametrize(
    ("names", "bits"),
    [
        ([], 0),
        (["persistent"], 0x1),
        (["one-packet"], 0x4),
        (["flag-1", "flag-2", "flag-3"], 0x38),
        (["sh-fallback", "sh-port"], 0x18),
        (["mh-fallback", "mh-port"], 0x18),
        (["persistent", "0x40"], 0x41),
    ],
)
def test_service_flags_to_bits(names, bits):
    assert service_flags_to_bits(names) == bits


@pytest.mark.parametrize(
    ("bits", "scheduler", "names"),
    [
        # The kernel adds the hashed flag to every dumped service: it never shows.
        (0x2, "rr", []),
        (0x1 | 0x2 | 0x4, "wlc", ["persistent", "one-packet"]),
        (0x8 | 0x10 | 0x20, "rr", ["flag-1", "flag-2", "flag-3"]),
        (0x8 | 0x10 | 0x2, "sh", ["sh-fallback", "sh-port"]),
        (0x8 | 0x20, "mh", ["mh-fallback", "flag-3"]),
        (0x100 | 0x1, None, ["persistent", "0x100"]),
    ],
)
def test_service_flags_from_bits_and_back(bits, scheduler, names):
    # What the decoder names, the encoder takes back: a rollback sends what was read.
    assert service_flags_from_bits(bits, scheduler) == names
    assert service_flags_to_bits(names) == bits & ~0x2


def test_tunnel_flags():
    assert tunnel_flags_to_bits([]) == 0
    assert tunnel_flags_to_bits(["nocsum"]) == 0
    assert tunnel_flags_to_bits(["csum", "remcsum"]) == 3
    assert tunnel_flags_from_bits(0) == []
    assert tunnel_flags_from_bits(3) == ["csum", "remcsum"]
    assert tunnel_flags_from_bits(0x10) == ["0x10"]
    assert tunnel_flags_to_bits(["0x10"]) == 0x10


def test_forward_names_use_the_low_three_bits_like_the_kernel():
    assert [forward_name(n) for n in range(5)] == ["masq", "local", "tunnel", "droute", "bypass"]
    assert forward_name(0x8 | 3) == "droute"


def test_version_and_protocol_names():
    assert version_text(0x010201) == "1.2.1"
    assert attrs.protocol_name(6) == "tcp"
    assert attrs.protocol_name(33) == 33
    assert attrs.family_name(AF_INET6) == "ipv6"


# --- Canonical dicts to attribute lists --------------------------------------------


def test_identifying_service_attrs():
    assert service_attrs(WEB) == [
        ["IPVS_SVC_ATTR_AF", AF_INET],
        ["IPVS_SVC_ATTR_PROTOCOL", 6],
        ["IPVS_SVC_ATTR_ADDR", bytes([203, 0, 113, 1]) + b"\0" * 12],
        ["IPVS_SVC_ATTR_PORT", 80],
    ]
    assert service_attrs(service(fwmark=5, family="ipv6")) == [
        ["IPVS_SVC_ATTR_AF", AF_INET6],
        ["IPVS_SVC_ATTR_FWMARK", 5],
    ]


def test_full_service_attrs_replace_everything():
    sent = dict(service_attrs(WEB, full=True))
    assert sent["IPVS_SVC_ATTR_SCHED_NAME"] == "wlc"
    # An all-ones mask: flags not listed are cleared, as an edit replaces the entry.
    assert sent["IPVS_SVC_ATTR_FLAGS"] == {"flags": 0, "mask": 0xFFFFFFFF}
    assert sent["IPVS_SVC_ATTR_TIMEOUT"] == 0
    assert sent["IPVS_SVC_ATTR_NETMASK"] == b"\xff\xff\xff\xff"
    assert "IPVS_SVC_ATTR_PE_NAME" not in sent

    sip = service(scheduler="sh", flags=["persistent", "sh-port"], timeout=300, netmask="255.255.255.0", pe_name="sip")
    sent = dict(service_attrs(sip, full=True))
    assert sent["IPVS_SVC_ATTR_FLAGS"]["flags"] == 0x11
    assert sent["IPVS_SVC_ATTR_TIMEOUT"] == 300
    assert sent["IPVS_SVC_ATTR_NETMASK"] == b"\xff\xff\xff\x00"
    assert sent["IPVS_SVC_ATTR_PE_NAME"] == "sip"


def test_dest_attrs_identity_and_replacement():
    dest = destination(address="192.0.2.10", port=8080)
    assert dest_attrs(dest) == [
        ["IPVS_DEST_ATTR_ADDR_FAMILY", AF_INET],
        ["IPVS_DEST_ATTR_ADDR", bytes([192, 0, 2, 10]) + b"\0" * 12],
        ["IPVS_DEST_ATTR_PORT", 8080],
    ]
    sent = dict(dest_attrs(dest, full=True))
    assert sent["IPVS_DEST_ATTR_FWD_METHOD"] == uapi.IP_VS_CONN_F_MASQ
    assert sent["IPVS_DEST_ATTR_WEIGHT"] == 1
    assert (sent["IPVS_DEST_ATTR_U_THRESH"], sent["IPVS_DEST_ATTR_L_THRESH"]) == (0, 0)
    # Tunnel fields are always sent, zero when unused.
    assert (sent["IPVS_DEST_ATTR_TUN_TYPE"], sent["IPVS_DEST_ATTR_TUN_PORT"], sent["IPVS_DEST_ATTR_TUN_FLAGS"]) == (
        0,
        0,
        0,
    )


def test_dest_attrs_for_a_gue_tunnel():
    dest = destination(
        address="2001:db8::20", forward="tunnel", tunnel={"type": "gue", "port": 6080, "flags": ["remcsum"]}
    )
    sent = dict(dest_attrs(dest, full=True))
    assert sent["IPVS_DEST_ATTR_ADDR_FAMILY"] == AF_INET6
    assert sent["IPVS_DEST_ATTR_FWD_METHOD"] == uapi.IP_VS_CONN_F_TUNNEL
    assert (sent["IPVS_DEST_ATTR_TUN_TYPE"], sent["IPVS_DEST_ATTR_TUN_PORT"], sent["IPVS_DEST_ATTR_TUN_FLAGS"]) == (
        1,
        6080,
        2,
    )


def test_daemon_attrs_send_only_what_was_given():
    daemon = {
        "state": "master",
        "mcast_interface": "eth0",
        "sync_id": 9,
        "sync_maxlen": None,
        "mcast_group": "224.0.0.81",
        "mcast_port": 8848,
        "mcast_ttl": None,
    }
    assert dict(daemon_attrs(daemon)) == {
        "IPVS_DAEMON_ATTR_STATE": uapi.IP_VS_STATE_MASTER,
        "IPVS_DAEMON_ATTR_MCAST_IFN": "eth0",
        "IPVS_DAEMON_ATTR_SYNC_ID": 9,
        "IPVS_DAEMON_ATTR_MCAST_GROUP": bytes([224, 0, 0, 81]),
        "IPVS_DAEMON_ATTR_MCAST_PORT": 8848,
    }
    sent = dict(daemon_attrs(dict(daemon, state="backup", mcast_group="ff02::1:81")))
    assert sent["IPVS_DAEMON_ATTR_MCAST_GROUP6"] == bytes.fromhex("ff020000000000000000000000010081")
    assert daemon_attrs({"state": "backup"}, full=False) == [["IPVS_DAEMON_ATTR_STATE", 2]]


def test_timeout_attrs_leave_out_what_is_not_set():
    assert timeout_attrs({"tcp": 900, "tcpfin": None, "udp": 0}) == [["IPVS_CMD_ATTR_TIMEOUT_TCP", 900]]


# --- Decoding bytes laid out like ip_vs_ctl.c ----------------------------------------


def kernel_stats(kind, wide):
    """A stats nest as ip_vs_genl_fill_stats(64) writes it; only the 64-bit one can count past 2**32."""
    put = u64 if wide else u32
    return nl_nest(
        kind,
        nl_attr(1, put(2**33 + 11 if wide else 11)),
        nl_attr(2, put(22)),
        nl_attr(3, put(33)),
        nl_attr(4, u64(2**40)),
        nl_attr(5, u64(5)),
        *(nl_attr(n, put(n)) for n in range(6, 11)),
    )


def test_decode_a_kernel_service_dump_entry():
    svc = nl_nest(
        uapi.IPVS_CMD_ATTR_SERVICE,
        nl_attr(1, u16(AF_INET6)),
        nl_attr(2, u16(6)),
        nl_attr(3, bytes.fromhex("20010db8000000000000000000000010")),
        nl_attr(4, be16(443)),
        nl_attr(6, b"sh\0"),
        nl_attr(7, struct.pack("=II", 0x1 | 0x2 | 0x8, 0xFFFFFFFF)),
        nl_attr(8, u32(300)),
        nl_attr(9, u32(64)),  # nla_put_be32 of the raw netmask: the prefix length as sent
        kernel_stats(10, wide=False),
        kernel_stats(12, wide=True),
    )
    got = attrs.decode_service(decode(genl_bytes(uapi.IPVS_CMD_NEW_SERVICE, svc)).get_attr("IPVS_CMD_ATTR_SERVICE"))
    stats = {"conns": 2**33 + 11, "inpkts": 22, "outpkts": 33, "inbytes": 2**40, "outbytes": 5}
    stats.update(cps=6, inpps=7, outpps=8, inbps=9, outbps=10)
    assert got == {
        "family": "ipv6",
        "protocol": "tcp",
        "address": "2001:db8::10",
        "port": 443,
        "fwmark": 0,
        "scheduler": "sh",
        "flags": ["persistent", "sh-fallback"],
        "timeout": 300,
        "netmask": 64,
        "pe_name": None,
        "stats": stats,
    }


def test_decode_a_kernel_fwmark_service_with_only_32_bit_stats():
    svc = nl_nest(
        uapi.IPVS_CMD_ATTR_SERVICE,
        nl_attr(1, u16(AF_INET)),
        nl_attr(5, u32(42)),
        nl_attr(6, b"none\0"),
        nl_attr(11, b"sip\0"),
        nl_attr(7, struct.pack("=II", 0x2, 0xFFFFFFFF)),
        nl_attr(8, u32(0)),
        nl_attr(9, b"\xff\xff\xff\x00"),
        kernel_stats(10, wide=False),
    )
    got = attrs.decode_service(decode(genl_bytes(uapi.IPVS_CMD_NEW_SERVICE, svc)).get_attr("IPVS_CMD_ATTR_SERVICE"))
    assert (got["family"], got["fwmark"], got["protocol"], got["address"], got["port"]) == (
        "ipv4",
        42,
        None,
        None,
        None,
    )
    assert (got["scheduler"], got["flags"], got["netmask"], got["pe_name"]) == ("none", [], "255.255.255.0", "sip")
    assert got["stats"]["conns"] == 11
    assert got["stats"]["inbytes"] == 2**40
    assert service_key(got) == ("ipv4", "fwmark", 42)


def test_decode_a_kernel_dest_dump_entry():
    dest = nl_nest(
        uapi.IPVS_CMD_ATTR_DEST,
        nl_attr(1, bytes([192, 0, 2, 7]) + b"\0" * 12),
        nl_attr(2, be16(80)),
        nl_attr(3, u32(2)),
        nl_attr(4, u32(5)),
        nl_attr(13, u8(1)),
        nl_attr(14, be16(6080)),
        nl_attr(15, u16(1)),
        nl_attr(5, u32(0)),
        nl_attr(6, u32(0)),
        nl_attr(7, u32(3)),
        nl_attr(8, u32(4)),
        nl_attr(9, u32(1)),
        nl_attr(11, u16(AF_INET)),
        kernel_stats(10, wide=False),
        kernel_stats(12, wide=True),
    )
    got = attrs.decode_dest(decode(genl_bytes(uapi.IPVS_CMD_NEW_DEST, dest)).get_attr("IPVS_CMD_ATTR_DEST"), AF_INET6)
    assert got["family"] == "ipv4"
    assert (got["address"], got["port"], got["forward"], got["weight"]) == ("192.0.2.7", 80, "tunnel", 5)
    assert got["tunnel"] == {"type": "gue", "port": 6080, "flags": ["csum"]}
    assert (got["active_conns"], got["inactive_conns"], got["persistent_conns"]) == (3, 4, 1)
    assert got["stats"]["outbps"] == 10


def test_decode_a_dest_without_addr_family_takes_the_service_family():
    dest = nl_nest(
        uapi.IPVS_CMD_ATTR_DEST,
        nl_attr(1, bytes.fromhex("20010db8000000000000000000000007")),
        nl_attr(2, be16(0)),
        nl_attr(3, u32(0x8 | 3)),  # only the low 3 bits mean anything
    )
    got = attrs.decode_dest(decode(genl_bytes(uapi.IPVS_CMD_NEW_DEST, dest)).get_attr("IPVS_CMD_ATTR_DEST"), AF_INET6)
    assert (got["family"], got["address"], got["forward"], got["tunnel"]) == ("ipv6", "2001:db8::7", "droute", None)


def test_decode_a_kernel_daemon_entry():
    daemon = nl_nest(
        uapi.IPVS_CMD_ATTR_DAEMON,
        nl_attr(1, u32(1)),
        nl_attr(2, b"eth0\0"),
        nl_attr(3, u32(7)),
        nl_attr(4, u16(1500)),
        nl_attr(7, u16(8848)),
        nl_attr(8, u8(1)),
        nl_attr(5, bytes([224, 0, 0, 81])),
    )
    got = attrs.decode_daemon(decode(genl_bytes(uapi.IPVS_CMD_NEW_DAEMON, daemon)).get_attr("IPVS_CMD_ATTR_DAEMON"))
    assert got == {
        "state": "master",
        "mcast_interface": "eth0",
        "sync_id": 7,
        "sync_maxlen": 1500,
        "mcast_group": "224.0.0.81",
        "mcast_port": 8848,
        "mcast_ttl": 1,
    }
