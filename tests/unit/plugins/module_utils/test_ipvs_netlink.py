# Copyright (c) 2026 lvs.ipvs developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The IPVS netlink layer without a kernel: pure conversions, wire format, client logic.

Those live in _ipvs_netlink, _ipvs_codec and _ipvs_client; they are tested
together here because all three are checked against the same hand-built bytes.

Wire-format tests build and parse netlink bytes with struct, the way
ip_vs_ctl.c lays them out, so they do not trust pyroute2 to check itself.
What only a kernel can show is left to the lab tier.
"""

from __future__ import annotations

import errno
import socket
import struct

import pytest

from ansible_collections.lvs.ipvs.plugins.module_utils import _ipvs_client as ipvs_client
from ansible_collections.lvs.ipvs.plugins.module_utils import _ipvs_codec as codec
from ansible_collections.lvs.ipvs.plugins.module_utils import _ipvs_netlink as ipvs
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_client import BatchError, IPVSClient
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_netlink import (
    AF_INET,
    AF_INET6,
    IPVSError,
    address_from_raw,
    address_to_raw,
    daemon_attrs,
    describe_error,
    dest_attrs,
    forward_name,
    netmask_from_raw,
    netmask_to_raw,
    service_attrs,
    service_flags_from_bits,
    service_flags_to_bits,
    service_key,
    service_text,
    tunnel_flags_from_bits,
    tunnel_flags_to_bits,
    version_text,
)


def test_pyroute2_is_installed():
    # The message tests below need it; tests/unit/requirements.txt installs it.
    assert ipvs.PYROUTE2_IMPORT_ERROR is None


# --- Netlink bytes by hand ---------------------------------------------------------

FAMILY_ID = 0x21
NLM_F_MULTI = 0x2


def nl_attr(kind, payload):
    """One attribute: u16 length (unpadded), u16 type, payload padded to 4 bytes."""
    return struct.pack("=HH", 4 + len(payload), kind) + payload + b"\0" * (-len(payload) % 4)


def nl_nest(kind, *children):
    return nl_attr(kind, b"".join(children))


def u8(value):
    return struct.pack("=B", value)


def u16(value):
    return struct.pack("=H", value)


def be16(value):
    return struct.pack(">H", value)


def u32(value):
    return struct.pack("=I", value)


def u64(value):
    return struct.pack("=Q", value)


def genl_bytes(cmd, *attrs, flags=NLM_F_MULTI):
    body = struct.pack("=BBH", cmd, 1, 0) + b"".join(attrs)
    return struct.pack("=IHHII", 16 + len(body), FAMILY_ID, flags, 1, 0) + body


def parse_attrs(buf):
    """{type: payload} of one attribute level (the first of each type)."""
    found, offset = {}, 0
    while offset + 4 <= len(buf):
        length, kind = struct.unpack_from("=HH", buf, offset)
        found.setdefault(kind & 0x3FFF, bytes(buf[offset + 4 : offset + length]))
        offset += (length + 3) & ~3
    return found


def top_attrs(data):
    """Attributes of an encoded genl message (after the 16 + 4 header bytes)."""
    return parse_attrs(bytes(data)[20:])


def decode(data):
    msg = ipvs.IPVSMessage(bytes(data))
    msg.decode()
    return msg


# --- Constants ----------------------------------------------------------------------


def test_constants_follow_the_uapi_header():
    assert (ipvs.IPVS_CMD_NEW_SERVICE, ipvs.IPVS_CMD_GET_DEST, ipvs.IPVS_CMD_GET_INFO, ipvs.IPVS_CMD_FLUSH) == (
        1,
        8,
        15,
        17,
    )
    assert (ipvs.IPVS_CMD_ATTR_DAEMON, ipvs.IPVS_CMD_ATTR_TIMEOUT_UDP) == (3, 6)
    assert (ipvs.IPVS_SVC_ATTR_NETMASK, ipvs.IPVS_SVC_ATTR_PE_NAME, ipvs.IPVS_SVC_ATTR_STATS64) == (9, 11, 12)
    assert (ipvs.IPVS_DEST_ATTR_ADDR_FAMILY, ipvs.IPVS_DEST_ATTR_TUN_FLAGS) == (11, 15)
    assert (ipvs.IPVS_DAEMON_ATTR_MCAST_GROUP6, ipvs.IPVS_DAEMON_ATTR_MCAST_TTL) == (6, 8)
    assert (ipvs.IPVS_STATS_ATTR_OUTBPS, ipvs.IPVS_STATS_ATTR_PAD) == (10, 11)
    assert (ipvs.IPVS_INFO_ATTR_VERSION, ipvs.IPVS_INFO_ATTR_CONN_TAB_SIZE) == (1, 2)
    assert ipvs.IP_VS_SVC_F_SCHED_SH_PORT == ipvs.IP_VS_SVC_F_SCHED_MH_PORT == 0x10
    assert (ipvs.IP_VS_CONN_F_DROUTE, ipvs.IP_VS_CONN_F_BYPASS) == (3, 4)
    assert (ipvs.IP_VS_CONN_F_TUNNEL_TYPE_GRE, ipvs.IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM) == (2, 2)
    assert (ipvs.IPPROTO_SCTP, AF_INET, AF_INET6) == (132, 2, 10)


# --- Addresses ------------------------------------------------------------------------


def test_ipv4_address_takes_the_first_four_of_sixteen_bytes():
    raw = address_to_raw("203.0.113.1")
    assert raw == bytes([203, 0, 113, 1]) + b"\0" * 12
    assert address_from_raw(raw, AF_INET) == "203.0.113.1"
    assert address_from_raw(bytes([10, 0, 0, 1]), "ipv4") == "10.0.0.1"


def test_ipv6_address_fills_sixteen_bytes():
    raw = address_to_raw("2001:DB8:0::1", AF_INET6)
    assert raw == bytes.fromhex("20010db8000000000000000000000001")
    assert address_from_raw(raw, AF_INET6) == "2001:db8::1"


@pytest.mark.parametrize(
    ("address", "af", "message"),
    [
        ("203.0.113.1", AF_INET6, "not an ipv6 address"),
        ("2001:db8::1", "ipv4", "not an ipv4 address"),
        ("203.0.113.300", None, "not an IPv4 or IPv6 address"),
        ("", None, "not an IPv4 or IPv6 address"),
    ],
)
def test_address_to_raw_rejects(address, af, message):
    with pytest.raises(ValueError, match=message):
        address_to_raw(address, af)


def test_address_from_raw_rejects_a_short_field():
    with pytest.raises(ValueError, match="needs 16"):
        address_from_raw(b"\0" * 4, AF_INET6)
    with pytest.raises(ValueError, match="address family"):
        address_from_raw(b"\0" * 16, "ipx")


@pytest.mark.parametrize(
    ("af", "given", "raw", "back"),
    [
        (AF_INET, None, b"\xff\xff\xff\xff", "255.255.255.255"),
        (AF_INET, "255.255.255.0", b"\xff\xff\xff\x00", "255.255.255.0"),
        (AF_INET, 24, b"\xff\xff\xff\x00", "255.255.255.0"),
        (AF_INET, "16", b"\xff\xff\x00\x00", "255.255.0.0"),
        (AF_INET, 0, b"\0\0\0\0", "0.0.0.0"),
        # IPv6: the kernel reads the same four bytes as a host-order prefix length.
        (AF_INET6, None, struct.pack("=I", 128), 128),
        (AF_INET6, 64, struct.pack("=I", 64), 64),
        (AF_INET6, "/48", struct.pack("=I", 48), 48),
    ],
)
def test_netmask_by_family(af, given, raw, back):
    assert netmask_to_raw(af, given) == raw
    assert netmask_from_raw(af, raw) == back


@pytest.mark.parametrize(
    ("af", "given"),
    [(AF_INET6, 0), (AF_INET6, 129), (AF_INET6, "ffff::"), (AF_INET, 33), (AF_INET, "255.255.255.256")],
)
def test_netmask_rejects(af, given):
    with pytest.raises(ValueError):
        netmask_to_raw(af, given)


# --- Flags and names --------------------------------------------------------------


@pytest.mark.parametrize(
    ("names", "bits"),
    [
        ([], 0),
        (None, 0),
        (["persistent"], 0x1),
        (["one-packet"], 0x4),
        (["ops"], 0x4),
        (["flag-1", "flag-2", "flag-3"], 0x38),
        (["sh-fallback", "sh-port"], 0x18),
        (["mh_fallback", "MH-PORT"], 0x18),
        (["persistent", "0x40"], 0x41),
    ],
)
def test_service_flags_to_bits(names, bits):
    assert service_flags_to_bits(names) == bits


def test_service_flags_refuse_hashed_and_unknown_names():
    with pytest.raises(ValueError, match="set by the kernel"):
        service_flags_to_bits(["hashed"])
    with pytest.raises(ValueError, match="unknown service flag 'sticky'"):
        service_flags_to_bits(["sticky"])


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
def test_service_flags_from_bits(bits, scheduler, names):
    assert service_flags_from_bits(bits, scheduler) == names
    assert service_flags_to_bits(names) == bits & ~0x2


def test_tunnel_flags():
    assert tunnel_flags_to_bits([]) == 0
    assert tunnel_flags_to_bits(["nocsum"]) == 0
    assert tunnel_flags_to_bits(["csum", "remcsum"]) == 3
    assert tunnel_flags_from_bits(0) == []
    assert tunnel_flags_from_bits(3) == ["csum", "remcsum"]
    assert tunnel_flags_from_bits(0x10) == ["0x10"]
    with pytest.raises(ValueError, match="unknown tunnel flag"):
        tunnel_flags_to_bits(["gso"])


def test_forward_names_use_the_low_three_bits_like_the_kernel():
    assert [forward_name(n) for n in range(5)] == ["masq", "local", "tunnel", "droute", "bypass"]
    assert forward_name(0x8 | 3) == "droute"
    assert ipvs.forward_number("DRoute") == 3
    with pytest.raises(ValueError, match="unknown forwarding method 'nat'"):
        ipvs.forward_number("nat")


def test_version_and_protocol_names():
    assert version_text(0x010201) == "1.2.1"
    assert ipvs.protocol_number("SCTP") == 132
    assert ipvs.protocol_number(17) == 17
    assert ipvs.protocol_name(6) == "tcp"
    assert ipvs.protocol_name(33) == 33


# --- Service keys and attribute lists ---------------------------------------------

WEB = {"protocol": "tcp", "address": "203.0.113.1", "port": 80}


def test_service_key_of_an_address_service():
    assert service_key(WEB) == ("ipv4", "tcp", "203.0.113.1", 80)
    assert service_key({"protocol": "UDP", "address": "2001:DB8::0:1", "port": "53"}) == (
        "ipv6",
        "udp",
        "2001:db8::1",
        53,
    )
    assert service_text(WEB) == "tcp 203.0.113.1:80"
    assert service_text({"protocol": "udp", "address": "2001:db8::1", "port": 53}) == "udp [2001:db8::1]:53"


def test_service_key_of_a_fwmark_service():
    assert service_key({"fwmark": 7}) == ("ipv4", "fwmark", 7)
    assert service_key({"fwmark": 7, "family": "ipv6", "address": None, "port": None}) == ("ipv6", "fwmark", 7)
    assert service_text({"fwmark": 7, "family": "ipv6"}) == "fwmark 7 (ipv6)"


def test_service_key_accepts_what_services_returns():
    dumped = dict(WEB, family="ipv4", fwmark=0, scheduler="rr", flags=[], timeout=0, netmask="255.255.255.255")
    dumped.update(pe_name=None, stats={"conns": 1})
    assert service_key(dumped) == service_key(WEB)


@pytest.mark.parametrize(
    ("service", "message"),
    [
        ({"fwmark": 7, "address": "203.0.113.1"}, "fwmark service has no address"),
        ({"address": "203.0.113.1", "port": 80}, "needs a protocol and a port"),
        ({"protocol": "tcp", "port": 80}, "either an address"),
        (dict(WEB, family="ipv6"), "is not ipv6"),
        (dict(WEB, sched="rr"), "unknown service key"),
        (dict(WEB, port=65536), "port must be between"),
        ({"fwmark": 2**32}, "fwmark must be between"),
    ],
)
def test_service_key_rejects(service, message):
    with pytest.raises(ValueError, match=message):
        service_key(service)


def test_identifying_service_attrs():
    assert service_attrs(WEB) == [
        ["IPVS_SVC_ATTR_AF", AF_INET],
        ["IPVS_SVC_ATTR_PROTOCOL", 6],
        ["IPVS_SVC_ATTR_ADDR", bytes([203, 0, 113, 1]) + b"\0" * 12],
        ["IPVS_SVC_ATTR_PORT", 80],
    ]
    assert service_attrs({"fwmark": 5, "family": "ipv6"}) == [
        ["IPVS_SVC_ATTR_AF", AF_INET6],
        ["IPVS_SVC_ATTR_FWMARK", 5],
    ]


def test_full_service_attrs_replace_everything():
    attrs = dict(service_attrs(WEB, full=True))
    assert attrs["IPVS_SVC_ATTR_SCHED_NAME"] == "wlc"
    # An all-ones mask: flags not listed are cleared, as an edit replaces the entry.
    assert attrs["IPVS_SVC_ATTR_FLAGS"] == {"flags": 0, "mask": 0xFFFFFFFF}
    assert attrs["IPVS_SVC_ATTR_TIMEOUT"] == 0
    assert attrs["IPVS_SVC_ATTR_NETMASK"] == b"\xff\xff\xff\xff"
    assert "IPVS_SVC_ATTR_PE_NAME" not in attrs

    sip = dict(WEB, scheduler="sh", flags=["persistent", "sh-port"], timeout=300, netmask=24, pe_name="sip")
    attrs = dict(service_attrs(sip, full=True))
    assert attrs["IPVS_SVC_ATTR_FLAGS"]["flags"] == 0x11
    assert attrs["IPVS_SVC_ATTR_TIMEOUT"] == 300
    assert attrs["IPVS_SVC_ATTR_NETMASK"] == b"\xff\xff\xff\x00"
    assert attrs["IPVS_SVC_ATTR_PE_NAME"] == "sip"


def test_full_service_attrs_reject_a_long_scheduler_name():
    with pytest.raises(ValueError, match="longer than 15"):
        service_attrs(dict(WEB, scheduler="s" * 16), full=True)
    assert dict(service_attrs(dict(WEB, scheduler="s" * 15), full=True))["IPVS_SVC_ATTR_SCHED_NAME"] == "s" * 15


def test_dest_attrs_defaults_and_replacement():
    assert dest_attrs({"address": "192.0.2.10", "port": 8080}) == [
        ["IPVS_DEST_ATTR_ADDR_FAMILY", AF_INET],
        ["IPVS_DEST_ATTR_ADDR", bytes([192, 0, 2, 10]) + b"\0" * 12],
        ["IPVS_DEST_ATTR_PORT", 8080],
    ]
    attrs = dict(dest_attrs({"address": "192.0.2.10", "port": 80}, full=True))
    assert attrs["IPVS_DEST_ATTR_FWD_METHOD"] == ipvs.IP_VS_CONN_F_MASQ
    assert attrs["IPVS_DEST_ATTR_WEIGHT"] == 1
    assert (attrs["IPVS_DEST_ATTR_U_THRESH"], attrs["IPVS_DEST_ATTR_L_THRESH"]) == (0, 0)
    # Tunnel fields are always sent, zero when unused.
    assert (attrs["IPVS_DEST_ATTR_TUN_TYPE"], attrs["IPVS_DEST_ATTR_TUN_PORT"], attrs["IPVS_DEST_ATTR_TUN_FLAGS"]) == (
        0,
        0,
        0,
    )
    assert dict(dest_attrs({"address": "192.0.2.10", "weight": 0}, full=True))["IPVS_DEST_ATTR_WEIGHT"] == 0


def test_dest_attrs_for_a_gue_tunnel():
    dest = {
        "address": "2001:db8::20",
        "port": 80,
        "forward": "tunnel",
        "tunnel": {"type": "gue", "port": 6080, "flags": ["remcsum"]},
    }
    attrs = dict(dest_attrs(dest, full=True))
    assert attrs["IPVS_DEST_ATTR_ADDR_FAMILY"] == AF_INET6
    assert attrs["IPVS_DEST_ATTR_FWD_METHOD"] == ipvs.IP_VS_CONN_F_TUNNEL
    assert (attrs["IPVS_DEST_ATTR_TUN_TYPE"], attrs["IPVS_DEST_ATTR_TUN_PORT"], attrs["IPVS_DEST_ATTR_TUN_FLAGS"]) == (
        1,
        6080,
        2,
    )


@pytest.mark.parametrize(
    ("dest", "message"),
    [
        # The kernel answers ERANGE here even though u_threshold 0 means unlimited.
        ({"address": "192.0.2.10", "l_threshold": 5}, r"l_threshold \(5\) must not be higher than u_threshold \(0\)"),
        ({"address": "192.0.2.10", "u_threshold": 5, "l_threshold": 6}, "must not be higher"),
        ({"address": "192.0.2.10", "weight": -1}, "weight must be between 0 and 2147483647"),
        ({"address": "192.0.2.10", "weight": 2**31}, "weight must be between"),
        ({"address": "192.0.2.10", "forward": "tunnel", "tunnel": {"type": "gue"}}, "GUE tunnel needs a port"),
        ({"address": "192.0.2.10", "forward": "tunnel", "tunnel": {"port": 5555}}, "only a GUE tunnel"),
        ({"address": "192.0.2.10", "tunnel": {"type": "gre"}}, "need forward: tunnel"),
        ({"address": "192.0.2.10", "forward": "tunnel", "tunnel": {"kind": "gre"}}, "unknown tunnel key"),
        ({"address": "192.0.2.10", "forward": "nat"}, "unknown forwarding method"),
        ({"address": "192.0.2.10", "fwd": "masq"}, "unknown destination key"),
        ({"address": "192.0.2.10", "family": "ipv6"}, "is not ipv6"),
        ({"port": 80}, "needs an address"),
    ],
)
def test_dest_attrs_reject(dest, message):
    with pytest.raises(ValueError, match=message):
        dest_attrs(dest, full=True)


def test_daemon_attrs():
    attrs = dict(
        daemon_attrs(
            {
                "state": "master",
                "mcast_interface": "eth0",
                "sync_id": 9,
                "mcast_group": "224.0.0.81",
                "mcast_port": 8848,
            }
        )
    )
    assert attrs == {
        "IPVS_DAEMON_ATTR_STATE": ipvs.IP_VS_STATE_MASTER,
        "IPVS_DAEMON_ATTR_MCAST_IFN": "eth0",
        "IPVS_DAEMON_ATTR_SYNC_ID": 9,
        "IPVS_DAEMON_ATTR_MCAST_GROUP": bytes([224, 0, 0, 81]),
        "IPVS_DAEMON_ATTR_MCAST_PORT": 8848,
    }
    attrs = dict(daemon_attrs({"state": "backup", "mcast_interface": "eth1", "mcast_group": "ff02::1:81"}))
    assert attrs["IPVS_DAEMON_ATTR_MCAST_GROUP6"] == bytes.fromhex("ff020000000000000000000000010081")
    assert daemon_attrs({"state": "backup"}, full=False) == [["IPVS_DAEMON_ATTR_STATE", 2]]


@pytest.mark.parametrize(
    ("daemon", "message"),
    [
        ({"state": "primary", "mcast_interface": "eth0"}, "unknown sync daemon state"),
        ({"state": "master"}, "mcast_interface must be"),
        ({"state": "master", "mcast_interface": "x" * 16}, "mcast_interface must be"),
        ({"state": "master", "mcast_interface": "eth0", "mcast_group": "192.0.2.1"}, "not a multicast"),
        ({"state": "master", "mcast_interface": "eth0", "mcast_ttl": 256}, "mcast_ttl"),
    ],
)
def test_daemon_attrs_reject(daemon, message):
    with pytest.raises(ValueError, match=message):
        daemon_attrs(daemon)


# --- Errors ---------------------------------------------------------------------------


def test_error_messages_name_the_cause():
    assert describe_error(errno.ESRCH, "delete_service", "tcp 203.0.113.1:80") == (
        "IPVS delete service tcp 203.0.113.1:80: no such service"
    )
    assert "already exists" in describe_error(errno.EEXIST, "add_service", "x")
    assert "ip_vs_mh" in describe_error(errno.ENOENT, "add_service", "x", {"scheduler": "mh", "pe_name": ""})
    assert "even when u_threshold is 0" in describe_error(errno.ERANGE, "edit_destination", "x")
    assert "bring 'lo' up" in describe_error(errno.EINVAL, "add_destination", "x")
    assert "CAP_NET_ADMIN" in describe_error(errno.EPERM, "flush")
    assert describe_error(errno.ESRCH, "stop_daemon", "master").endswith("no sync daemon in that state is running")
    assert describe_error(errno.EXDEV, "flush") == "IPVS flush: Invalid cross-device link"


def test_ipvs_error_shows_the_errno_name():
    err = IPVSError(errno.EEXIST, "IPVS add service tcp 203.0.113.1:80: it already exists")
    assert (err.errno, err.message) == (errno.EEXIST, "IPVS add service tcp 203.0.113.1:80: it already exists")
    assert str(err) == "IPVS add service tcp 203.0.113.1:80: it already exists [EEXIST]"


# --- Wire format (this layer encodes, struct and pyroute2 check) ----------------------


def encode(cmd, attrs):
    return codec.encode_message(FAMILY_ID, cmd, attrs, ipvs.NLM_F_REQUEST | ipvs.NLM_F_ACK, 1)


def pyroute2_bytes(cmd, attrs):
    """The same request encoded by pyroute2, from the same message classes."""
    msg = ipvs.IPVSMessage()
    msg["cmd"] = cmd
    msg["version"] = ipvs.GENL_VERSION
    msg["attrs"] = [list(attr) for attr in attrs]
    msg["header"]["type"] = FAMILY_ID
    msg["header"]["flags"] = ipvs.NLM_F_REQUEST | ipvs.NLM_F_ACK
    msg["header"]["sequence_number"] = 1
    msg.encode()
    return bytes(msg.data)


def test_requests_are_encoded_byte_for_byte_as_pyroute2_would():
    service = dict(WEB, scheduler="sh", flags=["persistent", "sh-port"], timeout=60, netmask="255.255.255.0")
    dest = {"address": "2001:db8::10", "port": 80, "forward": "tunnel", "weight": 7, "u_threshold": 100}
    dest["tunnel"] = {"type": "gue", "port": 6080, "flags": ["csum", "remcsum"]}
    daemon = {"state": "backup", "mcast_interface": "eth0", "mcast_group": "ff02::1:3", "mcast_port": 8848}
    requests = [
        (ipvs.IPVS_CMD_NEW_SERVICE, [["IPVS_CMD_ATTR_SERVICE", {"attrs": service_attrs(service, True)}]]),
        (
            ipvs.IPVS_CMD_NEW_SERVICE,
            [["IPVS_CMD_ATTR_SERVICE", {"attrs": service_attrs(dict(service, pe_name="sip"), True)}]],
        ),
        (
            ipvs.IPVS_CMD_SET_DEST,
            [
                ["IPVS_CMD_ATTR_SERVICE", {"attrs": service_attrs({"fwmark": 9, "family": "ipv6"})}],
                ["IPVS_CMD_ATTR_DEST", {"attrs": dest_attrs(dest, True)}],
            ],
        ),
        (ipvs.IPVS_CMD_NEW_DAEMON, [["IPVS_CMD_ATTR_DAEMON", {"attrs": daemon_attrs(dict(daemon, mcast_ttl=2))}]]),
        (ipvs.IPVS_CMD_SET_CONFIG, [["IPVS_CMD_ATTR_TIMEOUT_TCP", 900], ["IPVS_CMD_ATTR_TIMEOUT_UDP", 300]]),
        (ipvs.IPVS_CMD_FLUSH, []),
    ]
    for cmd, attrs in requests:
        assert encode(cmd, attrs) == pyroute2_bytes(cmd, attrs)


def test_service_message_wire_format():
    service = dict(WEB, port=8080, scheduler="rr", flags=["persistent"], timeout=60)
    data = encode(ipvs.IPVS_CMD_NEW_SERVICE, [["IPVS_CMD_ATTR_SERVICE", {"attrs": service_attrs(service, True)}]])
    assert struct.unpack_from("=BB", data, 16) == (ipvs.IPVS_CMD_NEW_SERVICE, 1)
    svc = parse_attrs(top_attrs(data)[ipvs.IPVS_CMD_ATTR_SERVICE])
    assert svc[ipvs.IPVS_SVC_ATTR_AF] == u16(AF_INET)
    assert svc[ipvs.IPVS_SVC_ATTR_PROTOCOL] == u16(6)
    assert svc[ipvs.IPVS_SVC_ATTR_ADDR] == bytes([203, 0, 113, 1]) + b"\0" * 12
    assert svc[ipvs.IPVS_SVC_ATTR_PORT] == b"\x1f\x90"  # 8080, network order
    assert svc[ipvs.IPVS_SVC_ATTR_SCHED_NAME] == b"rr\0"
    assert svc[ipvs.IPVS_SVC_ATTR_FLAGS] == struct.pack("=II", 1, 0xFFFFFFFF)
    assert svc[ipvs.IPVS_SVC_ATTR_TIMEOUT] == u32(60)
    assert svc[ipvs.IPVS_SVC_ATTR_NETMASK] == b"\xff\xff\xff\xff"


def test_dest_message_wire_format_has_both_ports_in_network_order():
    dest = {"address": "192.0.2.10", "port": 443, "forward": "tunnel", "weight": 7, "u_threshold": 100}
    dest["tunnel"] = {"type": "gue", "port": 6080, "flags": ["csum"]}
    attrs = [
        ["IPVS_CMD_ATTR_SERVICE", {"attrs": service_attrs({"fwmark": 3})}],
        ["IPVS_CMD_ATTR_DEST", {"attrs": dest_attrs(dest, True)}],
    ]
    top = top_attrs(encode(ipvs.IPVS_CMD_NEW_DEST, attrs))
    assert parse_attrs(top[ipvs.IPVS_CMD_ATTR_SERVICE]) == {
        ipvs.IPVS_SVC_ATTR_AF: u16(AF_INET),
        ipvs.IPVS_SVC_ATTR_FWMARK: u32(3),
    }
    wire = parse_attrs(top[ipvs.IPVS_CMD_ATTR_DEST])
    assert wire[ipvs.IPVS_DEST_ATTR_ADDR_FAMILY] == u16(AF_INET)
    assert wire[ipvs.IPVS_DEST_ATTR_PORT] == be16(443)
    assert wire[ipvs.IPVS_DEST_ATTR_FWD_METHOD] == u32(2)
    assert wire[ipvs.IPVS_DEST_ATTR_WEIGHT] == u32(7)
    assert wire[ipvs.IPVS_DEST_ATTR_U_THRESH] == u32(100)
    assert wire[ipvs.IPVS_DEST_ATTR_TUN_TYPE] == u8(1)
    assert wire[ipvs.IPVS_DEST_ATTR_TUN_PORT] == b"\x17\xc0"  # 6080, network order
    assert wire[ipvs.IPVS_DEST_ATTR_TUN_FLAGS] == u16(1)


def test_daemon_message_wire_format_has_the_port_in_host_order():
    daemon = {"state": "backup", "mcast_interface": "eth0", "mcast_group": "239.1.2.3", "mcast_port": 8848}
    daemon.update(mcast_ttl=3, sync_maxlen=1472)
    data = encode(ipvs.IPVS_CMD_NEW_DAEMON, [["IPVS_CMD_ATTR_DAEMON", {"attrs": daemon_attrs(daemon)}]])
    wire = parse_attrs(top_attrs(data)[ipvs.IPVS_CMD_ATTR_DAEMON])
    assert wire == {
        ipvs.IPVS_DAEMON_ATTR_STATE: u32(2),
        ipvs.IPVS_DAEMON_ATTR_MCAST_IFN: b"eth0\0",
        ipvs.IPVS_DAEMON_ATTR_SYNC_ID: u32(0),
        ipvs.IPVS_DAEMON_ATTR_SYNC_MAXLEN: u16(1472),
        ipvs.IPVS_DAEMON_ATTR_MCAST_GROUP: bytes([239, 1, 2, 3]),
        ipvs.IPVS_DAEMON_ATTR_MCAST_PORT: u16(8848),
        ipvs.IPVS_DAEMON_ATTR_MCAST_TTL: u8(3),
    }


def test_service_and_dest_round_trip_through_bytes():
    service = {
        "protocol": "sctp",
        "address": "2001:db8::80",
        "port": 3868,
        "scheduler": "mh",
        "flags": ["persistent", "mh-port"],
        "timeout": 120,
        "netmask": 64,
        "pe_name": "sip",
    }
    dest = {"address": "198.51.100.4", "port": 3868, "forward": "tunnel", "weight": 3, "u_threshold": 9}
    dest.update(l_threshold=2, tunnel={"type": "gue", "port": 5555, "flags": ["csum", "remcsum"]})
    attrs = [
        ["IPVS_CMD_ATTR_SERVICE", {"attrs": service_attrs(service, True)}],
        ["IPVS_CMD_ATTR_DEST", {"attrs": dest_attrs(dest, True)}],
    ]
    back = decode(encode(ipvs.IPVS_CMD_SET_DEST, attrs))
    assert back["cmd"] == ipvs.IPVS_CMD_SET_DEST
    svc = ipvs.decode_service(back.get_attr("IPVS_CMD_ATTR_SERVICE"))
    assert svc == dict(service, family="ipv6", fwmark=0, stats=None)
    got = ipvs.decode_dest(back.get_attr("IPVS_CMD_ATTR_DEST"), AF_INET6)
    assert got == dict(dest, family="ipv4", active_conns=0, inactive_conns=0, persistent_conns=0, stats=None)


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
        ipvs.IPVS_CMD_ATTR_SERVICE,
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
    got = ipvs.decode_service(decode(genl_bytes(ipvs.IPVS_CMD_NEW_SERVICE, svc)).get_attr("IPVS_CMD_ATTR_SERVICE"))
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
        ipvs.IPVS_CMD_ATTR_SERVICE,
        nl_attr(1, u16(AF_INET)),
        nl_attr(5, u32(42)),
        nl_attr(6, b"none\0"),
        nl_attr(11, b"sip\0"),
        nl_attr(7, struct.pack("=II", 0x2, 0xFFFFFFFF)),
        nl_attr(8, u32(0)),
        nl_attr(9, b"\xff\xff\xff\x00"),
        kernel_stats(10, wide=False),
    )
    got = ipvs.decode_service(decode(genl_bytes(ipvs.IPVS_CMD_NEW_SERVICE, svc)).get_attr("IPVS_CMD_ATTR_SERVICE"))
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
        ipvs.IPVS_CMD_ATTR_DEST,
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
    got = ipvs.decode_dest(decode(genl_bytes(ipvs.IPVS_CMD_NEW_DEST, dest)).get_attr("IPVS_CMD_ATTR_DEST"), AF_INET6)
    assert got["family"] == "ipv4"
    assert (got["address"], got["port"], got["forward"], got["weight"]) == ("192.0.2.7", 80, "tunnel", 5)
    assert got["tunnel"] == {"type": "gue", "port": 6080, "flags": ["csum"]}
    assert (got["active_conns"], got["inactive_conns"], got["persistent_conns"]) == (3, 4, 1)
    assert got["stats"]["outbps"] == 10


def test_decode_a_dest_without_addr_family_takes_the_service_family():
    dest = nl_nest(
        ipvs.IPVS_CMD_ATTR_DEST,
        nl_attr(1, bytes.fromhex("20010db8000000000000000000000007")),
        nl_attr(2, be16(0)),
        nl_attr(3, u32(0x8 | 3)),  # only the low 3 bits mean anything
    )
    got = ipvs.decode_dest(decode(genl_bytes(ipvs.IPVS_CMD_NEW_DEST, dest)).get_attr("IPVS_CMD_ATTR_DEST"), AF_INET6)
    assert (got["family"], got["address"], got["forward"], got["tunnel"]) == ("ipv6", "2001:db8::7", "droute", None)


def test_decode_a_kernel_daemon_entry():
    daemon = nl_nest(
        ipvs.IPVS_CMD_ATTR_DAEMON,
        nl_attr(1, u32(1)),
        nl_attr(2, b"eth0\0"),
        nl_attr(3, u32(7)),
        nl_attr(4, u16(1500)),
        nl_attr(7, u16(8848)),
        nl_attr(8, u8(1)),
        nl_attr(5, bytes([224, 0, 0, 81])),
    )
    got = ipvs.decode_daemon(decode(genl_bytes(ipvs.IPVS_CMD_NEW_DAEMON, daemon)).get_attr("IPVS_CMD_ATTR_DAEMON"))
    assert got == {
        "state": "master",
        "mcast_interface": "eth0",
        "sync_id": 7,
        "sync_maxlen": 1500,
        "mcast_group": "224.0.0.81",
        "mcast_port": 8848,
        "mcast_ttl": 1,
    }


def test_info_reply_reuses_ids_one_and_two_for_plain_numbers():
    info = decode(genl_bytes(ipvs.IPVS_CMD_SET_INFO, nl_attr(1, u32(0x010201)), nl_attr(2, u32(4096)), flags=0))
    assert (info.get_attr("IPVS_CMD_ATTR_SERVICE"), info.get_attr("IPVS_CMD_ATTR_DEST")) == (0x010201, 4096)
    # The same ids in any other message are the service and destination nests.
    other = decode(genl_bytes(ipvs.IPVS_CMD_NEW_SERVICE, nl_nest(1, nl_attr(1, u16(AF_INET)))))
    assert other.get_attr("IPVS_CMD_ATTR_SERVICE").get_attr("IPVS_SVC_ATTR_AF") == AF_INET


# --- The client, over a fake socket ------------------------------------------------


def with_sequence(data, seq):
    """data (one message) re-addressed to sequence number seq."""
    data = bytearray(data)
    struct.pack_into("=I", data, 8, seq)
    return bytes(data)


def control_message(kind, seq, code):
    """An NLMSG_ERROR (ACK when code is 0) or NLMSG_DONE message for seq."""
    return struct.pack("=IHHIIi", 20, kind, 0, seq, 0, -code)


class FakeSocket:
    """Stands in for the netlink socket: records requests, answers each from a script.

    An answer is a list of reply messages (the ACK or NLMSG_DONE is added), an
    errno, or "hang" for no answer at all. The family lookup is answered
    with FAMILY_ID, or with family_error.
    """

    def __init__(self, answers=(), family_error=0):
        self.answers = list(answers)
        self.family_error = family_error
        self.sent = []
        self.sends = 0
        self.queue = []
        self.closed = False

    def settimeout(self, seconds):
        self.timeout = seconds

    def close(self):
        self.closed = True

    def _family_reply(self, seq):
        if self.family_error:
            return [control_message(ipvs_client.NLMSG_ERROR, seq, self.family_error)]
        from pyroute2.netlink import ctrlmsg

        msg = ctrlmsg()
        msg["cmd"] = 1  # CTRL_CMD_NEWFAMILY
        msg["version"] = 1
        msg["attrs"] = [["CTRL_ATTR_FAMILY_ID", FAMILY_ID]]
        msg["header"]["type"] = 0x10
        msg["header"]["sequence_number"] = seq
        msg.encode()
        return [bytes(msg.data), control_message(ipvs_client.NLMSG_ERROR, seq, 0)]

    def send(self, data):
        self.sends += 1
        for kind, seq, body in codec._split(data):
            if kind == 0x10:  # GENL_ID_CTRL
                self.queue.extend(self._family_reply(seq))
                continue
            msg = decode(body)
            self.sent.append(msg)
            answer = self.answers.pop(0) if self.answers else []
            if answer == "hang":
                continue
            if isinstance(answer, int):
                self.queue.append(control_message(ipvs_client.NLMSG_ERROR, seq, answer))
                continue
            self.queue.extend(with_sequence(reply, seq) for reply in answer)
            dump = msg["header"]["flags"] & ipvs.NLM_F_DUMP == ipvs.NLM_F_DUMP
            self.queue.append(control_message(ipvs_client.NLMSG_DONE if dump else ipvs_client.NLMSG_ERROR, seq, 0))
        return len(data)

    def recv(self, size):
        if not self.queue:
            raise socket.timeout()  # noqa: UP041 - what the client catches, also before Python 3.10
        return self.queue.pop(0)


@pytest.fixture
def fake(monkeypatch):
    sock = FakeSocket()
    monkeypatch.setattr(ipvs_client, "_open_socket", lambda: sock)
    return sock


def test_client_explains_a_missing_ipvs_family(monkeypatch):
    sock = FakeSocket(family_error=errno.ENOENT)
    monkeypatch.setattr(ipvs_client, "_open_socket", lambda: sock)
    with pytest.raises(IPVSError, match=r"modprobe ip_vs") as caught:
        IPVSClient()
    assert caught.value.errno == errno.ENOENT
    assert sock.closed


def test_client_sends_acked_commands_and_turns_errors_into_ipvs_errors(fake):
    fake.answers = [[], errno.EEXIST]
    client = IPVSClient()
    client.add_service(dict(WEB, scheduler="rr"))
    sent = fake.sent[0]
    assert sent["cmd"] == ipvs.IPVS_CMD_NEW_SERVICE
    assert sent["header"]["flags"] == ipvs.NLM_F_REQUEST | ipvs.NLM_F_ACK
    assert sent["header"]["type"] == FAMILY_ID
    with pytest.raises(IPVSError) as caught:
        client.add_destination(WEB, {"address": "192.0.2.10", "port": 80})
    assert caught.value.errno == errno.EEXIST
    assert caught.value.message == (
        "IPVS add destination 192.0.2.10:80 in service tcp 203.0.113.1:80: "
        "the destination already exists in the service"
    )


def test_client_dumps_services_and_destinations(fake):
    svc = nl_nest(
        1,
        nl_attr(1, u16(AF_INET)),
        nl_attr(2, u16(17)),
        nl_attr(3, bytes([203, 0, 113, 5]) + b"\0" * 12),
        nl_attr(4, be16(53)),
        nl_attr(6, b"rr\0"),
        nl_attr(7, struct.pack("=II", 0x2, 0xFFFFFFFF)),
        nl_attr(8, u32(0)),
        nl_attr(9, b"\xff\xff\xff\xff"),
    )
    dest = nl_nest(2, nl_attr(1, bytes([192, 0, 2, 1]) + b"\0" * 12), nl_attr(2, be16(53)), nl_attr(4, u32(1)))
    fake.answers = [[genl_bytes(ipvs.IPVS_CMD_NEW_SERVICE, svc)], [genl_bytes(ipvs.IPVS_CMD_NEW_DEST, dest)]]
    client = IPVSClient()
    (service,) = client.services()
    assert service_key(service) == ("ipv4", "udp", "203.0.113.5", 53)
    assert fake.sent[0]["header"]["flags"] == ipvs.NLM_F_REQUEST | ipvs.NLM_F_DUMP
    (got,) = client.destinations(service)
    assert (got["address"], got["port"], got["forward"], got["weight"]) == ("192.0.2.1", 53, "masq", 1)
    asked = parse_attrs(top_attrs(fake.sent[1].data)[ipvs.IPVS_CMD_ATTR_SERVICE])
    assert asked[ipvs.IPVS_SVC_ATTR_PORT] == be16(53)
    assert ipvs.IPVS_SVC_ATTR_SCHED_NAME not in asked


def test_client_get_service_says_none_for_a_missing_one(fake):
    fake.answers = [errno.ESRCH]
    assert IPVSClient().get_service(WEB) is None
    assert fake.sent[0]["header"]["flags"] == ipvs.NLM_F_REQUEST | ipvs.NLM_F_ACK


def test_client_info_and_timeouts(fake):
    fake.answers = [
        [genl_bytes(ipvs.IPVS_CMD_SET_INFO, nl_attr(1, u32(0x010201)), nl_attr(2, u32(4096)), flags=0)],
        [genl_bytes(ipvs.IPVS_CMD_SET_CONFIG, nl_attr(4, u32(900)), nl_attr(5, u32(120)), nl_attr(6, u32(300)))],
        [],
    ]
    client = IPVSClient()
    assert client.info() == {"version": "1.2.1", "version_code": 0x010201, "conn_table_size": 4096}
    assert client.get_timeouts() == {"tcp": 900, "tcpfin": 120, "udp": 300}
    client.set_timeouts(tcp=600, udp=0)
    assert top_attrs(fake.sent[2].data) == {ipvs.IPVS_CMD_ATTR_TIMEOUT_TCP: u32(600)}
    client.set_timeouts()
    assert len(fake.sent) == 3


def test_client_zero_and_flush(fake):
    client = IPVSClient()
    client.zero()
    client.zero({"fwmark": 9})
    client.flush()
    assert [m["cmd"] for m in fake.sent] == [ipvs.IPVS_CMD_ZERO, ipvs.IPVS_CMD_ZERO, ipvs.IPVS_CMD_FLUSH]
    assert top_attrs(fake.sent[0].data) == {}
    assert ipvs.IPVS_CMD_ATTR_SERVICE in top_attrs(fake.sent[1].data)


def test_client_never_waits_unbounded(fake):
    fake.answers = ["hang"]
    client = IPVSClient(timeout=0.05)
    with pytest.raises(IPVSError, match=r"IPVS flush: no answer from the kernel in 0.05s") as caught:
        client.flush()
    assert caught.value.errno == errno.ETIMEDOUT


def test_stop_daemon_without_answer_checks_whether_it_stopped(fake):
    client = IPVSClient()
    fake.answers = ["hang", []]
    client.stop_daemon("master", timeout=0.05)
    assert [m["cmd"] for m in fake.sent] == [ipvs.IPVS_CMD_DEL_DAEMON, ipvs.IPVS_CMD_GET_DAEMON]

    still = nl_nest(3, nl_attr(1, u32(1)), nl_attr(2, b"eth0\0"), nl_attr(3, u32(0)))
    fake.answers = ["hang", [genl_bytes(ipvs.IPVS_CMD_NEW_DAEMON, still)]]
    with pytest.raises(IPVSError) as caught:
        client.stop_daemon("master", timeout=0.05)
    assert caught.value.errno == errno.ETIMEDOUT


def test_client_rejects_bad_input_before_sending(fake):
    client = IPVSClient()
    with pytest.raises(ValueError, match="unknown service key"):
        client.add_service(dict(WEB, sched="rr"))
    with pytest.raises(ValueError, match="must not be higher"):
        client.edit_destination(WEB, {"address": "192.0.2.10", "l_threshold": 1})
    assert fake.sent == []


def test_run_sends_steps_in_batches_and_reports_each_outcome(fake):
    client = IPVSClient()
    dest = {"address": "192.0.2.10", "port": 80, "forward": "masq"}
    steps = [("add_service", dict(WEB, scheduler="rr"), None), ("add_destination", WEB, dest)] * 2
    fake.sends = 0
    assert client.run(steps[:2], batch_size=2) == [0, 1]
    assert fake.sends == 1
    assert [m["cmd"] for m in fake.sent] == [ipvs.IPVS_CMD_NEW_SERVICE, ipvs.IPVS_CMD_NEW_DEST]

    # The kernel goes on after a refused step within a batch; later batches are not sent.
    fake.answers = [[], errno.EEXIST, [], []]
    fake.sends = 0
    with pytest.raises(BatchError) as caught:
        client.run([*steps, *steps], batch_size=3)
    assert fake.sends == 1
    assert caught.value.applied == [0, 2]
    [(index, error)] = caught.value.failed
    assert (index, error.errno) == (1, errno.EEXIST)
    assert "IPVS add destination 192.0.2.10:80 in service tcp 203.0.113.1:80" in str(caught.value)
    assert caught.value.not_sent == [3, 4, 5, 6, 7]


def test_run_reports_unanswered_steps_and_checks_all_input_first(fake):
    client = IPVSClient(timeout=0.05)
    fake.answers = [[], "hang"]
    with pytest.raises(BatchError) as caught:
        client.run([("delete_service", WEB, None), ("delete_service", dict(WEB, port=81), None)])
    assert caught.value.applied == [0]
    assert caught.value.failed[0][1].errno == errno.ETIMEDOUT
    fake.sent.clear()
    with pytest.raises(ValueError):
        client.run([("delete_service", WEB, None), ("add_destination", WEB, {"address": "nowhere"})])
    assert fake.sent == []


def test_fast_decoder_agrees_with_pyroute2():
    stats = nl_nest(12, *(nl_attr(i, u64(i * 1000)) for i in range(1, 11)))
    svc = nl_nest(
        1,
        nl_attr(1, u16(AF_INET6)),
        nl_attr(2, u16(6)),
        nl_attr(3, bytes(range(16))),
        nl_attr(4, be16(443)),
        nl_attr(6, b"mh\0"),
        nl_attr(7, struct.pack("=II", 0x1A, 0xFFFFFFFF)),
        nl_attr(8, u32(300)),
        nl_attr(9, u32(64)),
        nl_attr(11, b"sip\0"),
        stats,
        nl_attr(99, u32(1)),  # an attribute this layer does not know is skipped
    )
    dest = nl_nest(
        2,
        nl_attr(1, bytes([192, 0, 2, 1]) + b"\0" * 12),
        nl_attr(2, be16(8080)),
        nl_attr(3, u32(2)),
        nl_attr(4, u32(5)),
        nl_attr(5, u32(100)),
        nl_attr(6, u32(10)),
        nl_attr(7, u32(3)),
        nl_attr(11, u16(AF_INET)),
        nl_attr(13, u8(1)),
        nl_attr(14, be16(6080)),
        nl_attr(15, u16(1)),
        stats,
    )
    for cmd, nest, attr, cls, decoder in (
        (ipvs.IPVS_CMD_NEW_SERVICE, svc, "IPVS_CMD_ATTR_SERVICE", ipvs.IPVSService, ipvs.decode_service),
        (ipvs.IPVS_CMD_NEW_DEST, dest, "IPVS_CMD_ATTR_DEST", ipvs.IPVSDest, ipvs.decode_dest),
    ):
        data = genl_bytes(cmd, nest)
        fast = codec.parse_reply(data, getattr(ipvs, attr), cls)
        slow = decode(data).get_attr(attr)
        assert decoder(fast) == decoder(slow)
    fast = codec.parse_reply(genl_bytes(ipvs.IPVS_CMD_NEW_DEST, dest), 2, ipvs.IPVSDest)
    assert ipvs.decode_dest(fast)["tunnel"] == {"type": "gue", "port": 6080, "flags": ["csum"]}
    assert codec.parse_reply(genl_bytes(ipvs.IPVS_CMD_NEW_DEST), 2, ipvs.IPVSDest) is None
