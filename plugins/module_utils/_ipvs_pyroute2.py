# Copyright (c) 2026 lvs.ipvs developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""pyroute2 message classes made from _ipvs_uapi's layouts, for the replies pyroute2 decodes.

The IPVS client decodes service and destination dumps itself (_ipvs_codec);
pyroute2 decodes the others: the sync daemons, the timeouts and the version.
This file is imported only when one of those is asked for, so that the
modules that change services and destinations never load pyroute2 (about
0.9 s in the lab's kernel).

The classes are made here, not subclassed from pyroute2's IPVS ones:
pyroute2's have wrong types, and overriding nla_map on a subclass of an
already used pyroute2 class is silently ignored.
"""

from __future__ import annotations

import importlib.util
import traceback

from ansible_collections.lvs.ipvs.plugins.module_utils import _ipvs_uapi as uapi


def import_error():
    """The traceback of importing pyroute2, or None when it can be imported (without importing it)."""
    try:
        if importlib.util.find_spec("pyroute2") is not None:
            return None
        raise ImportError("No module named 'pyroute2'")
    except (ImportError, ValueError):
        return traceback.format_exc()


_CLASSES = {}


def _made(layout, base, nest_base):
    """layout as a subclass of base, its nested layouts as subclasses of nest_base."""
    made = _CLASSES.get(layout)
    if made is None:
        body = {name: value for name, value in vars(layout).items() if not name.startswith("__")}
        for name, value in body.items():
            if isinstance(value, type):
                body[name] = _made(value, nest_base, nest_base)
        made = _CLASSES[layout] = type(layout.__name__, (base,), body)
    return made


def _nest_or_info(nest):
    # pyroute2 calls this with the message being decoded: its cmd tells the GET_INFO reply apart.
    return staticmethod(
        lambda msg, *argv, **kwarg: msg.uint32 if msg.get("cmd") == uapi.IPVS_CMD_SET_INFO else getattr(msg, nest)
    )


def message_class():
    """uapi.IPVSMessage as a pyroute2 genlmsg class (pyroute2 is imported here)."""
    from pyroute2.netlink import genlmsg, nla

    made = _CLASSES.get(uapi.IPVSMessage)
    if made is None:
        made = _made(uapi.IPVSMessage, genlmsg, nla)
        made._service_or_info = _nest_or_info("ipvs_service")
        made._dest_or_info = _nest_or_info("ipvs_dest")
    return made


def decode(data):
    """One IPVS reply message, decoded by pyroute2."""
    msg = message_class()(data)
    msg.decode()
    return msg
