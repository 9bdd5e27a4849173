# Copyright (c) 2026 lvs.ipvs developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The codec's bytes: held to pyroute2's encoding, to struct-built layouts, and back through the decoders."""

from __future__ import annotations

import struct

from ansible_collections.lvs.ipvs.plugins.module_utils import _ipvs_attrs as attrs
from ansible_collections.lvs.ipvs.plugins.module_utils import _ipvs_codec as codec
from ansible_collections.lvs.ipvs.plugins.module_utils import _ipvs_uapi as uapi
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_attrs import daemon_attrs, dest_attrs, service_attrs
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_pyroute2 import message_class
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_uapi import AF_INET, AF_INET6
from ansible_collections.lvs.ipvs.tests.unit.plugins.module_utils.netlink_bytes import (
    FAMILY_ID,
    be16,
    decode,
    destination,
    genl_bytes,
    nl_attr,
    nl_nest,
    parse_attrs,
    service,
    top_attrs,
    u8,
    u16,
    u32,
    u64,
)

DAEMON = {
    "state": "backup",
    "mcast_interface": "eth0",
    "sync_id": 0,
    "sync_maxlen": None,
    "mcast_group": "ff02::1:3",
    "mcast_port": 8848,
    "mcast_ttl": None,
}


def encode(cmd, request):
    return codec.encode_message(FAMILY_ID, cmd, request, uapi.NLM_F_REQUEST | uapi.NLM_F_ACK, 1)


def pyroute2_bytes(cmd, request):
    """The same request encoded by pyroute2, from the same message classes."""
    msg = message_class()()
    msg["cmd"] = cmd
    msg["version"] = uapi.GENL_VERSION
    msg["attrs"] = [list(attr) for attr in request]
    msg["header"]["type"] = FAMILY_ID
    msg["header"]["flags"] = uapi.NLM_F_REQUEST | uapi.NLM_F_ACK
    msg["header"]["sequence_number"] = 1
    msg.encode()
    return bytes(msg.data)


def test_the_family_lookup_is_encoded_as_pyroute2_would_and_its_answer_read():
    from pyroute2.netlink import CTRL_CMD_GETFAMILY, GENL_ID_CTRL, ctrlmsg

    msg = ctrlmsg()
    msg["cmd"] = CTRL_CMD_GETFAMILY
    msg["version"] = 1
    msg["attrs"] = [["CTRL_ATTR_FAMILY_NAME", "IPVS"]]
    msg["header"]["type"] = GENL_ID_CTRL
    msg["header"]["flags"] = uapi.NLM_F_REQUEST | uapi.NLM_F_ACK
    msg["header"]["sequence_number"] = 7
    msg.encode()
    assert codec.encode_family_request("IPVS", uapi.NLM_F_REQUEST | uapi.NLM_F_ACK, 7) == bytes(msg.data)
    reply = ctrlmsg()
    reply["cmd"] = 1
    reply["version"] = 2
    reply["attrs"] = [["CTRL_ATTR_FAMILY_NAME", "IPVS"], ["CTRL_ATTR_FAMILY_ID", 37], ["CTRL_ATTR_VERSION", 1]]
    reply["header"]["type"] = GENL_ID_CTRL
    reply.encode()
    assert codec.parse_family_id(bytes(reply.data)) == 37


def test_requests_are_encoded_byte_for_byte_as_pyroute2_would():
    svc = service(scheduler="sh", flags=["persistent", "sh-port"], timeout=60, netmask="255.255.255.0")
    mark = service(fwmark=9, family="ipv6")
    dest = destination(
        mark,
        address="2001:db8::10",
        forward="tunnel",
        weight=7,
        u_threshold=100,
        tunnel={"type": "gue", "port": 6080, "flags": ["csum", "remcsum"]},
    )
    requests = [
        (uapi.IPVS_CMD_NEW_SERVICE, [["IPVS_CMD_ATTR_SERVICE", {"attrs": service_attrs(svc, True)}]]),
        (
            uapi.IPVS_CMD_NEW_SERVICE,
            [["IPVS_CMD_ATTR_SERVICE", {"attrs": service_attrs(dict(svc, pe_name="sip"), True)}]],
        ),
        (
            uapi.IPVS_CMD_SET_DEST,
            [
                ["IPVS_CMD_ATTR_SERVICE", {"attrs": service_attrs(mark)}],
                ["IPVS_CMD_ATTR_DEST", {"attrs": dest_attrs(dest, True)}],
            ],
        ),
        (uapi.IPVS_CMD_NEW_DAEMON, [["IPVS_CMD_ATTR_DAEMON", {"attrs": daemon_attrs(dict(DAEMON, mcast_ttl=2))}]]),
        (uapi.IPVS_CMD_SET_CONFIG, [["IPVS_CMD_ATTR_TIMEOUT_TCP", 900], ["IPVS_CMD_ATTR_TIMEOUT_UDP", 300]]),
        (uapi.IPVS_CMD_FLUSH, []),
    ]
    for cmd, request in requests:
        assert encode(cmd, request) == pyroute2_bytes(cmd, request)


def test_service_message_wire_format():
    svc = service(port=8080, scheduler="rr", flags=["persistent"], timeout=60)
    data = encode(uapi.IPVS_CMD_NEW_SERVICE, [["IPVS_CMD_ATTR_SERVICE", {"attrs": service_attrs(svc, True)}]])
    assert struct.unpack_from("=BB", data, 16) == (uapi.IPVS_CMD_NEW_SERVICE, 1)
    svc = parse_attrs(top_attrs(data)[uapi.IPVS_CMD_ATTR_SERVICE])
    assert svc[uapi.IPVS_SVC_ATTR_AF] == u16(AF_INET)
    assert svc[uapi.IPVS_SVC_ATTR_PROTOCOL] == u16(6)
    assert svc[uapi.IPVS_SVC_ATTR_ADDR] == bytes([203, 0, 113, 1]) + b"\0" * 12
    assert svc[uapi.IPVS_SVC_ATTR_PORT] == b"\x1f\x90"  # 8080, network order
    assert svc[uapi.IPVS_SVC_ATTR_SCHED_NAME] == b"rr\0"
    assert svc[uapi.IPVS_SVC_ATTR_FLAGS] == struct.pack("=II", 1, 0xFFFFFFFF)
    assert svc[uapi.IPVS_SVC_ATTR_TIMEOUT] == u32(60)
    assert svc[uapi.IPVS_SVC_ATTR_NETMASK] == b"\xff\xff\xff\xff"


def test_dest_message_wire_format_has_both_ports_in_network_order():
    # A tunnel keeps the service's port: the destination's is the service's.
    web = service(port=443)
    dest = destination(
        web,
        address="192.0.2.10",
        forward="tunnel",
        weight=7,
        u_threshold=100,
        tunnel={"type": "gue", "port": 6080, "flags": ["csum"]},
    )
    request = [
        ["IPVS_CMD_ATTR_SERVICE", {"attrs": service_attrs(web)}],
        ["IPVS_CMD_ATTR_DEST", {"attrs": dest_attrs(dest, True)}],
    ]
    top = top_attrs(encode(uapi.IPVS_CMD_NEW_DEST, request))
    assert parse_attrs(top[uapi.IPVS_CMD_ATTR_SERVICE]) == {
        uapi.IPVS_SVC_ATTR_AF: u16(AF_INET),
        uapi.IPVS_SVC_ATTR_PROTOCOL: u16(6),
        uapi.IPVS_SVC_ATTR_ADDR: bytes([203, 0, 113, 1]) + b"\0" * 12,
        uapi.IPVS_SVC_ATTR_PORT: be16(443),
    }
    wire = parse_attrs(top[uapi.IPVS_CMD_ATTR_DEST])
    assert wire[uapi.IPVS_DEST_ATTR_ADDR_FAMILY] == u16(AF_INET)
    assert wire[uapi.IPVS_DEST_ATTR_PORT] == be16(443)
    assert wire[uapi.IPVS_DEST_ATTR_FWD_METHOD] == u32(2)
    assert wire[uapi.IPVS_DEST_ATTR_WEIGHT] == u32(7)
    assert wire[uapi.IPVS_DEST_ATTR_U_THRESH] == u32(100)
    assert wire[uapi.IPVS_DEST_ATTR_TUN_TYPE] == u8(1)
    assert wire[uapi.IPVS_DEST_ATTR_TUN_PORT] == b"\x17\xc0"  # 6080, network order
    assert wire[uapi.IPVS_DEST_ATTR_TUN_FLAGS] == u16(1)


def test_daemon_message_wire_format_has_the_port_in_host_order():
    daemon = dict(DAEMON, mcast_group="239.1.2.3", mcast_ttl=3, sync_maxlen=1472)
    data = encode(uapi.IPVS_CMD_NEW_DAEMON, [["IPVS_CMD_ATTR_DAEMON", {"attrs": daemon_attrs(daemon)}]])
    wire = parse_attrs(top_attrs(data)[uapi.IPVS_CMD_ATTR_DAEMON])
    assert wire == {
        uapi.IPVS_DAEMON_ATTR_STATE: u32(2),
        uapi.IPVS_DAEMON_ATTR_MCAST_IFN: b"eth0\0",
        uapi.IPVS_DAEMON_ATTR_SYNC_ID: u32(0),
        uapi.IPVS_DAEMON_ATTR_SYNC_MAXLEN: u16(1472),
        uapi.IPVS_DAEMON_ATTR_MCAST_GROUP: bytes([239, 1, 2, 3]),
        uapi.IPVS_DAEMON_ATTR_MCAST_PORT: u16(8848),
        uapi.IPVS_DAEMON_ATTR_MCAST_TTL: u8(3),
    }


def test_service_and_dest_round_trip_through_bytes():
    svc = service(
        protocol="sctp",
        address="2001:db8::80",
        port=3868,
        scheduler="mh",
        flags=["persistent", "mh-port"],
        timeout=120,
        netmask=64,
        pe_name="sip",
    )
    dest = destination(
        svc,
        address="198.51.100.4",
        forward="tunnel",
        weight=3,
        u_threshold=9,
        l_threshold=2,
        tunnel={"type": "gue", "port": 5555, "flags": ["csum", "remcsum"]},
    )
    request = [
        ["IPVS_CMD_ATTR_SERVICE", {"attrs": service_attrs(svc, True)}],
        ["IPVS_CMD_ATTR_DEST", {"attrs": dest_attrs(dest, True)}],
    ]
    back = decode(encode(uapi.IPVS_CMD_SET_DEST, request))
    assert back["cmd"] == uapi.IPVS_CMD_SET_DEST
    # The decoder lists flags in bit order, the validator sorted: the same set.
    got = attrs.decode_service(back.get_attr("IPVS_CMD_ATTR_SERVICE"))
    assert sorted(got["flags"]) == svc["flags"]
    assert dict(got, flags=svc["flags"]) == dict(svc, stats=None)
    got = attrs.decode_dest(back.get_attr("IPVS_CMD_ATTR_DEST"), AF_INET6)
    assert got == dict(dest, active_conns=0, inactive_conns=0, persistent_conns=0, stats=None)


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
        (uapi.IPVS_CMD_NEW_SERVICE, svc, "IPVS_CMD_ATTR_SERVICE", uapi.IPVSService, attrs.decode_service),
        (uapi.IPVS_CMD_NEW_DEST, dest, "IPVS_CMD_ATTR_DEST", uapi.IPVSDest, attrs.decode_dest),
    ):
        data = genl_bytes(cmd, nest)
        fast = codec.parse_reply(data, getattr(uapi, attr), cls)
        slow = decode(data).get_attr(attr)
        assert decoder(fast) == decoder(slow)
    fast = codec.parse_reply(genl_bytes(uapi.IPVS_CMD_NEW_DEST, dest), 2, uapi.IPVSDest)
    assert attrs.decode_dest(fast)["tunnel"] == {"type": "gue", "port": 6080, "flags": ["csum"]}
    assert codec.parse_reply(genl_bytes(uapi.IPVS_CMD_NEW_DEST), 2, uapi.IPVSDest) is None
    # Without the counters (a plan needs none), everything else decodes the same.
    skip = ("IPVS_DEST_ATTR_STATS", "IPVS_DEST_ATTR_STATS64")
    lean = codec.parse_reply(genl_bytes(uapi.IPVS_CMD_NEW_DEST, dest), 2, uapi.IPVSDest, skip)
    assert "IPVS_DEST_ATTR_STATS" not in lean
    assert dict(attrs.decode_dest(lean), stats=None) == dict(attrs.decode_dest(fast), stats=None)
    assert attrs.decode_dest(lean)["active_conns"] == 3
