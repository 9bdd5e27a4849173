# Copyright (c) 2026 lvs.ipvs developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The client's logic over a fake socket: acknowledgements, dumps, batches, timeouts."""

from __future__ import annotations

import errno
import struct

import pytest

from ansible_collections.lvs.ipvs.plugins.module_utils import _ipvs_client as ipvs_client
from ansible_collections.lvs.ipvs.plugins.module_utils import _ipvs_codec as codec
from ansible_collections.lvs.ipvs.plugins.module_utils import _ipvs_uapi as uapi
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_client import BatchError, IPVSClient
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_errors import IPVSError
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_uapi import AF_INET
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_validate import service_key
from ansible_collections.lvs.ipvs.tests.unit.plugins.module_utils.netlink_bytes import (
    FAMILY_ID,
    WEB,
    be16,
    decode,
    destination,
    genl_bytes,
    nl_attr,
    nl_nest,
    parse_attrs,
    service,
    top_attrs,
    u16,
    u32,
)


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

    def setsockopt(self, level, option, value):
        self.timeout = value

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
        for kind, seq, body in codec.split_messages(data):
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
            dump = msg["header"]["flags"] & uapi.NLM_F_DUMP == uapi.NLM_F_DUMP
            self.queue.append(control_message(ipvs_client.NLMSG_DONE if dump else ipvs_client.NLMSG_ERROR, seq, 0))
        return len(data)

    def recv(self, size):
        if not self.queue:
            raise BlockingIOError(errno.EAGAIN, "Resource temporarily unavailable")  # SO_RCVTIMEO ran out
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
    client.add_service(service(scheduler="rr"))
    sent = fake.sent[0]
    assert sent["cmd"] == uapi.IPVS_CMD_NEW_SERVICE
    assert sent["header"]["flags"] == uapi.NLM_F_REQUEST | uapi.NLM_F_ACK
    assert sent["header"]["type"] == FAMILY_ID
    with pytest.raises(IPVSError) as caught:
        client.add_destination(WEB, destination(address="192.0.2.10"))
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
    fake.answers = [[genl_bytes(uapi.IPVS_CMD_NEW_SERVICE, svc)], [genl_bytes(uapi.IPVS_CMD_NEW_DEST, dest)]]
    client = IPVSClient()
    (service,) = client.services()
    assert service_key(service) == ("ipv4", "udp", "203.0.113.5", 53)
    assert fake.sent[0]["header"]["flags"] == uapi.NLM_F_REQUEST | uapi.NLM_F_DUMP
    (got,) = client.destinations(service)
    assert (got["address"], got["port"], got["forward"], got["weight"]) == ("192.0.2.1", 53, "masq", 1)
    asked = parse_attrs(top_attrs(fake.sent[1].data)[uapi.IPVS_CMD_ATTR_SERVICE])
    assert asked[uapi.IPVS_SVC_ATTR_PORT] == be16(53)
    assert uapi.IPVS_SVC_ATTR_SCHED_NAME not in asked


def test_client_get_service_says_none_for_a_missing_one(fake):
    fake.answers = [errno.ESRCH]
    assert IPVSClient().get_service(WEB) is None
    assert fake.sent[0]["header"]["flags"] == uapi.NLM_F_REQUEST | uapi.NLM_F_ACK


def test_client_info_and_timeouts(fake):
    fake.answers = [
        [genl_bytes(uapi.IPVS_CMD_SET_INFO, nl_attr(1, u32(0x010201)), nl_attr(2, u32(4096)), flags=0)],
        [genl_bytes(uapi.IPVS_CMD_SET_CONFIG, nl_attr(4, u32(900)), nl_attr(5, u32(120)), nl_attr(6, u32(300)))],
        [],
    ]
    client = IPVSClient()
    assert client.info() == {"version": "1.2.1", "version_code": 0x010201, "conn_table_size": 4096}
    assert client.get_timeouts() == {"tcp": 900, "tcpfin": 120, "udp": 300}
    client.set_timeouts({"tcp": 600, "tcpfin": None, "udp": 0})
    assert top_attrs(fake.sent[2].data) == {uapi.IPVS_CMD_ATTR_TIMEOUT_TCP: u32(600)}
    client.set_timeouts({"tcp": None})
    assert len(fake.sent) == 3


def test_client_zero_and_flush(fake):
    client = IPVSClient()
    client.zero()
    client.zero(service(fwmark=9))
    client.flush()
    assert [m["cmd"] for m in fake.sent] == [uapi.IPVS_CMD_ZERO, uapi.IPVS_CMD_ZERO, uapi.IPVS_CMD_FLUSH]
    assert top_attrs(fake.sent[0].data) == {}
    assert uapi.IPVS_CMD_ATTR_SERVICE in top_attrs(fake.sent[1].data)


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
    assert [m["cmd"] for m in fake.sent] == [uapi.IPVS_CMD_DEL_DAEMON, uapi.IPVS_CMD_GET_DAEMON]

    still = nl_nest(3, nl_attr(1, u32(1)), nl_attr(2, b"eth0\0"), nl_attr(3, u32(0)))
    fake.answers = ["hang", [genl_bytes(uapi.IPVS_CMD_NEW_DAEMON, still)]]
    with pytest.raises(IPVSError) as caught:
        client.stop_daemon("master", timeout=0.05)
    assert caught.value.errno == errno.ETIMEDOUT


def test_run_sends_steps_in_batches_and_reports_each_outcome(fake):
    client = IPVSClient()
    dest = destination(address="192.0.2.10")
    steps = [("add_service", service(scheduler="rr"), None), ("add_destination", WEB, dest)] * 2
    fake.sends = 0
    assert client.run(steps[:2], batch_size=2) == [0, 1]
    assert fake.sends == 1
    assert [m["cmd"] for m in fake.sent] == [uapi.IPVS_CMD_NEW_SERVICE, uapi.IPVS_CMD_NEW_DEST]

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


def test_run_reports_unanswered_steps(fake):
    client = IPVSClient(timeout=0.05)
    fake.answers = [[], "hang"]
    with pytest.raises(BatchError) as caught:
        client.run([("delete_service", WEB, None), ("delete_service", service(port=81), None)])
    assert caught.value.applied == [0]
    assert caught.value.failed[0][1].errno == errno.ETIMEDOUT


def test_run_encodes_each_batch_just_before_it_goes_and_stops_at_a_step_it_cannot_encode(fake):
    client = IPVSClient()
    dest = destination(address="192.0.2.10")
    broken = dict(dest, weight=2**40)  # past the kernel's u32: the validator would have refused it
    steps = [("add_destination", WEB, dest)] * 3 + [("add_destination", WEB, broken)] + [("add_destination", WEB, dest)]
    fake.sends = 0
    with pytest.raises(BatchError) as caught:
        client.run(steps, batch_size=2)
    # The first batch went and was applied; nothing of the batch with the broken step was sent.
    assert fake.sends == 1
    assert caught.value.applied == [0, 1]
    [(index, error)] = caught.value.failed
    assert (index, error.errno) == (3, errno.EINVAL)
    assert "cannot be encoded" in error.message and "192.0.2.10:80" in error.message
    assert caught.value.not_sent == [2, 4]
