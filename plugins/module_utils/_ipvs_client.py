# Copyright (c) 2026 lvs.ipvs developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The IPVS client: one plain netlink socket, requests sent in batches, answers matched by sequence number.

Kept apart from the kernel's numbers (_ipvs_uapi), the translation of dicts
(_ipvs_attrs) and the codec (_ipvs_codec), so that code which only validates,
plans or formats a table (the filters on the controller) never loads the
socket code.
"""

from __future__ import annotations

import errno
import socket
import struct

from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_attrs import (
    daemon_attrs,
    decode_daemon,
    decode_dest,
    decode_service,
    dest_attrs,
    service_attrs,
    timeout_attrs,
    version_text,
)
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_codec import (
    HEADER,
    encode_attrs,
    encode_family_request,
    frame_message,
    parse_family_id,
    parse_reply,
    split_messages,
)
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_errors import (
    FAMILY_MISSING_MESSAGE,
    IPVSError,
    describe_error,
    subject_text,
)
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_uapi import (
    FAMILY_NUMBERS,
    GENL_NAME,
    IPVS_CMD_ATTR_DEST,
    IPVS_CMD_ATTR_SERVICE,
    IPVS_CMD_DEL_DAEMON,
    IPVS_CMD_DEL_DEST,
    IPVS_CMD_DEL_SERVICE,
    IPVS_CMD_FLUSH,
    IPVS_CMD_GET_CONFIG,
    IPVS_CMD_GET_DAEMON,
    IPVS_CMD_GET_DEST,
    IPVS_CMD_GET_INFO,
    IPVS_CMD_GET_SERVICE,
    IPVS_CMD_NEW_DAEMON,
    IPVS_CMD_NEW_DEST,
    IPVS_CMD_NEW_SERVICE,
    IPVS_CMD_SET_CONFIG,
    IPVS_CMD_SET_DEST,
    IPVS_CMD_SET_SERVICE,
    IPVS_CMD_ZERO,
    NLM_F_ACK,
    NLM_F_DUMP,
    NLM_F_REQUEST,
    IPVSDest,
    IPVSMessage,
    IPVSService,
)
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_vocabulary import dest_text, service_text

NETLINK_GENERIC = 16
NLMSG_ERROR = 2
NLMSG_DONE = 3
# A dump's answers come in buffers of at most 32 KiB (netlink_dump() caps them).
RECV_SIZE = 65536
# Each ACK takes about 1 KiB of the socket's receive buffer until it is read:
# 1,000 requests in one send overflowed it (ENOBUFS) where 500 did not.
BATCH_SIZE = 500
RCVBUF = 4 * 1024 * 1024
# The socket blocks, with the kernel's own receive timeout (SO_RCVTIMEO), which
# ends a silent wait with EAGAIN. Python's settimeout() would cost an ioctl and
# a poll() per receive: as many system calls again as the reads themselves, in
# a kernel where system calls are what a 10,000-destination read costs.
_TIMEOUT = (BlockingIOError, socket.timeout)
_INT = struct.Struct("=i")
_TIMEVAL = struct.Struct("@ll")  # struct timeval, native longs
# The counters, nests of ten attributes each: most of a dump's bytes, and
# nothing a plan needs.
_STATS = (
    "IPVS_SVC_ATTR_STATS",
    "IPVS_SVC_ATTR_STATS64",
    "IPVS_DEST_ATTR_STATS",
    "IPVS_DEST_ATTR_STATS64",
)

_STEP_COMMANDS = {
    # operation: (command, whether the full entry is sent)
    "add_service": (IPVS_CMD_NEW_SERVICE, True),
    "edit_service": (IPVS_CMD_SET_SERVICE, True),
    "delete_service": (IPVS_CMD_DEL_SERVICE, False),
    "add_destination": (IPVS_CMD_NEW_DEST, True),
    "edit_destination": (IPVS_CMD_SET_DEST, True),
    "delete_destination": (IPVS_CMD_DEL_DEST, False),
}


def _open_socket():
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC)
    try:
        # Room for a batch's answers; the FORCE variant (root) passes net.core.rmem_max.
        sock.setsockopt(socket.SOL_SOCKET, 33, RCVBUF)  # SO_RCVBUFFORCE
    except OSError:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF)
    sock.bind((0, 0))
    return sock


def _describe_step(operation, service, dest=None):
    """(subject, details) of a step, for the message of an error."""
    subject = service_text(service)
    if dest is not None:
        subject = f"{dest_text(dest)} in service {subject}"
    return subject, {"scheduler": service.get("scheduler") or "?", "pe_name": service.get("pe_name") or ""}


def _decode(data):
    # Imported here: only the rare replies need pyroute2 (see _ipvs_pyroute2).
    from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_pyroute2 import decode, import_error

    if import_error() is not None:
        raise IPVSError(
            errno.ENOPKG, "the Python library pyroute2 is required to read the sync daemons, timeouts and version"
        )
    return decode(data)


class BatchError(Exception):
    """Some steps of a batch failed: which were applied, which failed, which were never sent.

    The kernel carries out every request of a sent batch even after one
    fails, so applied and failed can interleave; not_sent follows the first
    batch that had a failure.
    """

    def __init__(self, applied, failed, not_sent):
        super().__init__(failed[0][1].message)
        self.applied = applied
        self.failed = failed
        self.not_sent = not_sent


class IPVSClient:
    """Synchronous IPVS client over one netlink socket.

    _ipvs_codec encodes the requests, looks up the family and decodes
    service and destination dumps, pyroute2 the rare replies; the
    socket is a plain one so that many requests can go out in one send (the
    kernel answers each in turn) without an event loop per request, which is
    what makes a 10,000-entry table quick. A request fails when the kernel
    stays silent for `timeout` seconds: it may never answer a sync daemon
    stop sent right after a start.
    """

    def __init__(self, timeout=30.0):
        self.timeout = timeout
        self._seq = 0
        self._wait = None
        try:
            self._sock = _open_socket()
        except OSError as exc:
            raise IPVSError(exc.errno or errno.EIO, f"cannot open a netlink socket: {exc}") from None
        try:
            self._family = self._family_id()
        except IPVSError:
            self._sock.close()
            raise

    def _family_id(self):
        self._seq += 1
        data = encode_family_request(GENL_NAME, NLM_F_REQUEST | NLM_F_ACK, self._seq)
        try:
            [reply] = self._exchange(self._seq, data, self.timeout, "lookup of the IPVS family")
        except IPVSError as exc:
            if exc.errno == errno.ENOENT:
                raise IPVSError(errno.ENOENT, FAMILY_MISSING_MESSAGE) from None
            raise
        return parse_family_id(reply)

    def close(self):
        self._sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    # Transport

    def _encode(self, cmd, attrs, dump):
        """(sequence number, bytes) of the next IPVS request."""
        return self._frame(cmd, encode_attrs(IPVSMessage, attrs), dump)

    def _frame(self, cmd, body, dump=False):
        """(sequence number, bytes) of the next IPVS request, its attributes already encoded (body)."""
        self._seq += 1
        # Every request but a dump asks for an ACK, so that each ends with one
        # answer (an ACK or an error) and a batch can be matched up by sequence.
        flags = NLM_F_REQUEST | (NLM_F_DUMP if dump else NLM_F_ACK)
        return self._seq, frame_message(self._family, cmd, body, flags, self._seq)

    def _set_wait(self, seconds):
        """How long a receive waits for the kernel's next answer (set only when it changes)."""
        if seconds != self._wait:
            whole = int(seconds)
            self._sock.setsockopt(
                socket.SOL_SOCKET, socket.SO_RCVTIMEO, _TIMEVAL.pack(whole, int((seconds - whole) * 1e6))
            )
            self._wait = seconds

    def _receive(self, pending, limit, errors, ended):
        """Read answers until every request in pending ({sequence number: replies}) has ended.

        A request the kernel refused goes into errors ({sequence number:
        errno}), one that succeeded into ended; replies are appended to
        pending's lists. Raises one of _TIMEOUT when the kernel is silent for
        limit seconds.
        """
        self._set_wait(limit)
        waiting = len(pending)
        while waiting:
            for kind, seq, body in split_messages(self._sock.recv(RECV_SIZE)):
                if seq not in pending or seq in ended or seq in errors:
                    continue  # a late answer to an abandoned request
                if kind not in (NLMSG_ERROR, NLMSG_DONE):
                    pending[seq].append(body)
                    continue
                waiting -= 1
                code = -_INT.unpack_from(body, HEADER.size)[0] if len(body) >= HEADER.size + 4 else 0
                if code:
                    errors[seq] = code
                else:
                    ended.add(seq)

    def _exchange(self, seq, data, limit, operation, subject="", details=None):
        """Send one request; its raw replies, or IPVSError."""
        pending, errors = {seq: []}, {}
        try:
            self._sock.send(data)
            self._receive(pending, limit, errors, set())
        except _TIMEOUT:
            raise IPVSError(
                errno.ETIMEDOUT, f"{subject_text(operation, subject)}: no answer from the kernel in {limit}s"
            ) from None
        except OSError as exc:
            code = exc.errno or errno.EIO
            raise IPVSError(code, describe_error(code, operation, subject)) from None
        if seq in errors:
            raise IPVSError(errors[seq], describe_error(errors[seq], operation, subject, details))
        return pending[seq]

    def _request(
        self, cmd, attrs=(), dump=False, operation="request", subject="", details=None, timeout=None, raw=False
    ):
        """One IPVS request; its replies (decoded by pyroute2 unless raw), or IPVSError."""
        limit = self.timeout if timeout is None else timeout
        seq, data = self._encode(cmd, attrs, dump)
        replies = self._exchange(seq, data, limit, operation, subject, details)
        return replies if raw else [_decode(body) for body in replies]

    def run(self, steps, batch_size=BATCH_SIZE):
        """Carry out steps, each (operation, service, destination or None), batch_size per send.

        operation is one of add_service, edit_service, delete_service,
        add_destination, edit_destination, delete_destination. Raises
        BatchError after the first batch in which the kernel refused a step,
        or in which a step could not be encoded (none of that batch is sent).
        """
        # Each batch is encoded just before it is sent: 110,000 encoded steps
        # held at once took 27 MiB, more than the plan. The values were
        # checked by the validator, so a step that cannot be encoded is a bug;
        # it ends the run like a refusal, and the engine undoes what was sent.
        # A plan's steps for one service share its dict: its identity is
        # encoded once. A step is described only when it fails.
        identities = {}
        applied = []
        for first in range(0, len(steps), batch_size):
            chunk = self._encode_batch(steps, first, batch_size, identities, applied)
            pending = {}
            buffer = bytearray()
            for cmd, body in chunk:
                seq, data = self._frame(cmd, body)
                pending[seq] = []
                buffer += data
            ended, errors = set(), {}
            try:
                self._sock.send(bytes(buffer))
                self._receive(pending, self.timeout, errors, ended)
            except _TIMEOUT:
                pass  # the steps without an answer fail below
            except OSError as exc:
                errors.update((seq, exc.errno or errno.EIO) for seq in pending if seq not in ended)
            failed = []
            for index, seq in enumerate(pending, start=first):
                if seq in ended:
                    applied.append(index)
                    continue
                operation = steps[index][0]
                subject, details = _describe_step(*steps[index])
                if seq in errors:
                    code = errors[seq]
                    failed.append((index, IPVSError(code, describe_error(code, operation, subject, details))))
                else:
                    message = f"{subject_text(operation, subject)}: no answer from the kernel in {self.timeout}s"
                    failed.append((index, IPVSError(errno.ETIMEDOUT, message)))
            if failed:
                raise BatchError(applied, failed, list(range(first + len(chunk), len(steps))))
        return applied

    def _encode_batch(self, steps, first, batch_size, identities, applied):
        """[(command, body)] of steps[first:first + batch_size]; BatchError names a step that cannot be encoded."""
        chunk = []
        for index in range(first, min(first + batch_size, len(steps))):
            try:
                chunk.append(self._step_body(*steps[index], identities))
            except (TypeError, ValueError, KeyError, OverflowError, struct.error) as exc:
                subject, _details = _describe_step(*steps[index])
                error = IPVSError(errno.EINVAL, f"{subject_text(steps[index][0], subject)}: cannot be encoded: {exc}")
                not_sent = [i for i in range(first, len(steps)) if i != index]
                raise BatchError(applied, [(index, error)], not_sent) from None
        return chunk

    def _step_body(self, operation, service, dest, identities):
        """(command, encoded attributes) of one step; identities caches each service's encoded identity."""
        cmd, full = _STEP_COMMANDS[operation]
        if dest is None:
            return cmd, encode_attrs(IPVSMessage, [["IPVS_CMD_ATTR_SERVICE", {"attrs": service_attrs(service, full)}]])
        identity = identities.get(id(service))
        if identity is None:
            # The service is kept with its bytes, so that its id() is not reused meanwhile.
            nest = encode_attrs(IPVSMessage, [["IPVS_CMD_ATTR_SERVICE", {"attrs": service_attrs(service)}]])
            identity = identities[id(service)] = (service, nest)
        return cmd, identity[1] + encode_attrs(IPVSMessage, [["IPVS_CMD_ATTR_DEST", {"attrs": dest_attrs(dest, full)}]])

    # Services

    def services(self, stats=True):
        """Every service; without stats, their counters are neither decoded nor returned."""
        replies = self._request(IPVS_CMD_GET_SERVICE, dump=True, operation="list_services", raw=True)
        skip = () if stats else _STATS
        return [decode_service(parse_reply(reply, IPVS_CMD_ATTR_SERVICE, IPVSService, skip)) for reply in replies]

    def get_service(self, service):
        """The service as the kernel has it, or None."""
        attrs = [["IPVS_CMD_ATTR_SERVICE", {"attrs": service_attrs(service)}]]
        try:
            replies = self._request(
                IPVS_CMD_GET_SERVICE, attrs, operation="get_service", subject=service_text(service), raw=True
            )
        except IPVSError as exc:
            if exc.errno == errno.ESRCH:
                return None
            raise
        return decode_service(parse_reply(replies[0], IPVS_CMD_ATTR_SERVICE, IPVSService)) if replies else None

    def _step(self, operation, service, dest=None):
        seq, data = self._frame(*self._step_body(operation, service, dest, {}))
        subject, details = _describe_step(operation, service, dest)
        self._exchange(seq, data, self.timeout, operation, subject, details)

    def add_service(self, service):
        self._step("add_service", service)

    def edit_service(self, service):
        """Replace the service's settings with these (omitted ones take their defaults)."""
        self._step("edit_service", service)

    def delete_service(self, service):
        self._step("delete_service", service)

    # Destinations

    def destinations(self, service, stats=True):
        """The service's destinations (without stats, without their counters).

        The kernel answers a missing service with an empty list.
        """
        attrs = [["IPVS_CMD_ATTR_SERVICE", {"attrs": service_attrs(service)}]]
        replies = self._request(
            IPVS_CMD_GET_DEST, attrs, dump=True, operation="destinations", subject=service_text(service), raw=True
        )
        af = FAMILY_NUMBERS[service["family"]]
        skip = () if stats else _STATS
        return [decode_dest(parse_reply(reply, IPVS_CMD_ATTR_DEST, IPVSDest, skip), af) for reply in replies]

    def add_destination(self, service, dest):
        self._step("add_destination", service, dest)

    def edit_destination(self, service, dest):
        """Replace the destination's settings, tunnel ones included (omitted ones take their defaults)."""
        self._step("edit_destination", service, dest)

    def delete_destination(self, service, dest):
        self._step("delete_destination", service, dest)

    # Global settings

    def get_timeouts(self):
        replies = self._request(IPVS_CMD_GET_CONFIG, operation="get_timeouts")
        reply = replies[0]
        # A kernel without TCP or UDP IPVS support leaves that attribute out.
        return {
            "tcp": reply.get_attr("IPVS_CMD_ATTR_TIMEOUT_TCP"),
            "tcpfin": reply.get_attr("IPVS_CMD_ATTR_TIMEOUT_TCP_FIN"),
            "udp": reply.get_attr("IPVS_CMD_ATTR_TIMEOUT_UDP"),
        }

    def set_timeouts(self, timeouts):
        """Set the timeouts given ({"tcp", "tcpfin", "udp"}: seconds); None or 0 leaves one as it is."""
        attrs = timeout_attrs(timeouts)
        if attrs:
            subject = ", ".join(f"{name} {value}" for name, value in timeouts.items() if value)
            self._request(IPVS_CMD_SET_CONFIG, attrs, operation="set_timeouts", subject=subject)

    def info(self):
        reply = self._request(IPVS_CMD_GET_INFO, operation="get_info")[0]
        code = reply.get_attr("IPVS_CMD_ATTR_SERVICE")  # IPVS_INFO_ATTR_VERSION: see IPVSMessage
        return {
            "version": version_text(code),
            "version_code": code,
            "conn_table_size": reply.get_attr("IPVS_CMD_ATTR_DEST"),  # IPVS_INFO_ATTR_CONN_TAB_SIZE
        }

    # Sync daemons

    def daemons(self):
        replies = self._request(IPVS_CMD_GET_DAEMON, dump=True, operation="list_daemons")
        return [decode_daemon(reply.get_attr("IPVS_CMD_ATTR_DAEMON")) for reply in replies]

    def start_daemon(self, daemon):
        """Start a sync daemon (a canonical dict: the validator's normalize_daemon())."""
        attrs = [["IPVS_CMD_ATTR_DAEMON", {"attrs": daemon_attrs(daemon)}]]
        self._request(
            IPVS_CMD_NEW_DAEMON,
            attrs,
            operation="start_daemon",
            subject=f"{daemon['state']} on {daemon['mcast_interface']}",
            details={"interface": daemon["mcast_interface"]},
        )

    def stop_daemon(self, state, timeout=10.0):
        """Stop the master or backup daemon.

        The kernel may not answer a stop sent right after a start; after a
        timeout the daemon list decides whether the stop happened.
        """
        attrs = [["IPVS_CMD_ATTR_DAEMON", {"attrs": daemon_attrs({"state": state}, full=False)}]]
        try:
            self._request(IPVS_CMD_DEL_DAEMON, attrs, operation="stop_daemon", subject=str(state), timeout=timeout)
        except IPVSError as exc:
            if exc.errno != errno.ETIMEDOUT:
                raise
            if any(d["state"] == state for d in self.daemons()):
                raise

    # Whole table

    def flush(self):
        self._request(IPVS_CMD_FLUSH, operation="flush")

    def zero(self, service=None):
        """Zero the counters of one service (and its destinations), or of all."""
        if service is None:
            self._request(IPVS_CMD_ZERO, operation="zero", subject="all services")
        else:
            attrs = [["IPVS_CMD_ATTR_SERVICE", {"attrs": service_attrs(service)}]]
            self._request(IPVS_CMD_ZERO, attrs, operation="zero", subject=service_text(service))
