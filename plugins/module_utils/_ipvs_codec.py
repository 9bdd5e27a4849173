# Copyright (c) 2026 lvs.ipvs developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Table-driven encoder and decoder of IPVS messages, and the netlink framing they share.

pyroute2's generic encoding and decoding cost more than the kernel's work:
with it, loading a 10,000-destination table spends 2 s in encoding alone,
and reading one takes several times as long as `ipvsadm -Sn`. IPVS
requests are therefore encoded, service and destination dumps decoded, and
the family looked up by this small codec, driven by the nla_map tables of
_ipvs_uapi's layouts so that each attribute is still defined once; unit
tests hold it to pyroute2's bytes and results. pyroute2 decodes the rare
replies (info, daemons, timeouts): _ipvs_pyroute2.

The netlink header is laid out here once: frame_message writes it, and
split_messages reads it back when the client cuts a received buffer into messages.
"""

from __future__ import annotations

import struct

from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_uapi import (
    CTRL_CMD_GETFAMILY,
    CTRL_VERSION,
    GENL_ID_CTRL,
    GENL_VERSION,
    Controller,
    IPVSMessage,
)

HEADER = struct.Struct("=IHHII")
_NLA = struct.Struct("=HH")
_NLA_TYPE_MASK = 0x3FFF  # without NLA_F_NESTED and NLA_F_NET_BYTEORDER
_SCALARS = {
    "uint8": struct.Struct("=B"),
    "uint16": struct.Struct("=H"),
    "uint32": struct.Struct("=I"),
    "uint64": struct.Struct("=Q"),
    "be16": struct.Struct(">H"),
}
_GENL = struct.Struct("=BBH")
_GENLHEADER_SIZE = _GENL.size
_TABLES = {}
_ENCODERS = {}
_NESTS = IPVSMessage.request_nests


def split_messages(data):
    """(type, sequence number, whole message) of each netlink message in one received buffer."""
    offset = 0
    while offset + HEADER.size <= len(data):
        length, kind, _flags, seq, _pid = HEADER.unpack_from(data, offset)
        if length < HEADER.size:
            return
        yield kind, seq, data[offset : offset + length]
        offset += (length + 3) & ~3


class Attrs(dict):
    """Decoded attributes by name, read with get_attr() like a pyroute2 message."""

    def get_attr(self, name):
        return self.get(name)


def _scalar(layout):
    return lambda data, start, stop: layout.unpack_from(data, start)[0]


def _cdata(data, start, stop):
    return bytes(data[start:stop])


def _asciiz(data, start, stop):
    return bytes(data[start:stop]).split(b"\0", 1)[0].decode("ascii", "replace")


def _struct_fields(cls):
    layout = struct.Struct("=" + "".join(kind for _name, kind in cls.fields))
    names = [name for name, _kind in cls.fields]
    # zip(strict=) needs Python 3.10; both sequences come from cls.fields.
    return lambda data, start, stop: dict(zip(names, layout.unpack_from(data, start)))  # noqa: B905


def _nested(cls):
    return lambda data, start, stop: parse_attrs(cls, data, start, stop)


def _table(cls):
    """{attribute type: (name, decoder)} compiled from cls.nla_map."""
    table = _TABLES.get(cls)
    if table is None:
        table = {}
        for index, (name, kind) in enumerate(cls.nla_map):
            if kind in _SCALARS:
                table[index] = (name, _scalar(_SCALARS[kind]))
            elif kind == "cdata":
                table[index] = (name, _cdata)
            elif kind == "asciiz":
                table[index] = (name, _asciiz)
            elif kind != "none":
                sub = getattr(cls, kind)
                table[index] = (name, _struct_fields(sub) if getattr(sub, "fields", None) else _nested(sub))
        _TABLES[cls] = table
    return table


def _without(cls, skip):
    """cls's decoding table without the attributes named in skip."""
    key = (cls, skip)
    table = _TABLES.get(key)
    if table is None:
        table = _TABLES[key] = {kind: entry for kind, entry in _table(cls).items() if entry[0] not in skip}
    return table


def parse_attrs(cls, data, start, stop, skip=()):
    """The attributes in data[start:stop], decoded by cls's nla_map; those named in skip (a tuple) are left out."""
    table = _without(cls, skip) if skip else _table(cls)
    found = Attrs()
    offset = start
    unpack = _NLA.unpack_from
    while offset + 4 <= stop:
        length, kind = unpack(data, offset)
        if length < 4:
            break
        entry = table.get(kind & _NLA_TYPE_MASK)
        if entry is not None:
            found[entry[0]] = entry[1](data, offset + 4, offset + length)
        offset += (length + 3) & ~3
    return found


def _encoder(kind, cls):
    if kind in _SCALARS:
        return _SCALARS[kind].pack
    if kind == "cdata":
        return bytes
    if kind == "asciiz":
        return lambda value: value.encode("ascii") + b"\0"
    sub = _NESTS.get(kind) or getattr(cls, kind)
    fields = getattr(sub, "fields", None)
    if fields:
        layout = struct.Struct("=" + "".join(code for _name, code in fields))
        return lambda value: layout.pack(*(value[name] for name, _code in fields))
    return lambda value: encode_attrs(sub, value["attrs"])


def _encoders(cls):
    """{attribute name: (type, encoder)} compiled from cls.nla_map."""
    table = _ENCODERS.get(cls)
    if table is None:
        table = {name: (index, _encoder(kind, cls)) for index, (name, kind) in enumerate(cls.nla_map) if kind != "none"}
        _ENCODERS[cls] = table
    return table


def encode_attrs(cls, attrs):
    """[[name, value], ...] as netlink attributes, by cls's nla_map (what pyroute2 would encode)."""
    table = _encoders(cls)
    out = bytearray()
    for name, value in attrs:
        kind, encode = table[name]
        payload = encode(value)
        out += _NLA.pack(4 + len(payload), kind)
        out += payload
        out += b"\0" * (-len(payload) % 4)
    return bytes(out)


def encode_message(family, cmd, attrs, flags, seq):
    """One IPVS request as bytes: netlink header, genl header (cmd, version), attributes."""
    return frame_message(family, cmd, encode_attrs(IPVSMessage, attrs), flags, seq)


def frame_message(family, cmd, body, flags, seq, version=GENL_VERSION):
    """One generic netlink request as bytes, around attributes already encoded (body)."""
    genl = _GENL.pack(cmd, version, 0)
    return HEADER.pack(HEADER.size + len(genl) + len(body), family, flags, seq, 0) + genl + body


def parse_reply(data, attr_type, cls, skip=()):
    """The nest of type attr_type in one IPVS reply message, decoded by cls (without skip); None if absent."""
    offset = HEADER.size + _GENLHEADER_SIZE
    while offset + 4 <= len(data):
        length, kind = _NLA.unpack_from(data, offset)
        if length < 4:
            break
        if kind & _NLA_TYPE_MASK == attr_type:
            return parse_attrs(cls, data, offset + 4, offset + length, skip)
        offset += (length + 3) & ~3
    return None


def encode_family_request(name, flags, seq):
    """The generic netlink controller's GETFAMILY request for the family name."""
    body = encode_attrs(Controller, [["CTRL_ATTR_FAMILY_NAME", name]])
    return frame_message(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, body, flags, seq, CTRL_VERSION)


def parse_family_id(data):
    """The family id in the controller's answer to encode_family_request(), or None."""
    return parse_attrs(Controller, data, HEADER.size + _GENLHEADER_SIZE, len(data)).get("CTRL_ATTR_FAMILY_ID")
