# Copyright (c) 2026 lvs.ipvs developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Netlink bytes by hand, and canonical dicts, for the tests of the netlink layer.

Bytes are built and parsed with struct, the way ip_vs_ctl.c lays them out,
so that the tests do not trust pyroute2 to check itself. The dicts are what
the validator hands the netlink layer.
"""

from __future__ import annotations

import struct

from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_plan import plain_destination, plain_service
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_pyroute2 import decode as pyroute2_decode
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_validate import normalize_destination, normalize_service

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
    return pyroute2_decode(bytes(data))


def service(**given):
    """A canonical service (what the netlink layer takes), from the options a user would give."""
    entry = normalize_service({"address": "203.0.113.1", "port": 80, **given} if "fwmark" not in given else given, "")
    return plain_service(entry)


def destination(of=None, **given):
    """A canonical destination of service of (default: WEB)."""
    return plain_destination(normalize_destination(given, of or WEB, ""))


WEB = service()
