# Copyright (c) 2026 lvs.ipvs developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The kernel's refusals, as messages an operator can act on."""

from __future__ import annotations

import errno
import os


class IPVSError(Exception):
    """A request the kernel (or this layer) refused, with an operator-readable message."""

    def __init__(self, code, message):
        super().__init__(code, message)
        self.errno = code
        self.message = message

    def __str__(self):
        name = errno.errorcode.get(self.errno, str(self.errno))
        return f"{self.message} [{name}]"


_GENERIC_REASONS = {
    errno.EPERM: "not permitted: IPVS needs CAP_NET_ADMIN (run as root, in the right network namespace)",
    errno.EAFNOSUPPORT: "address family not supported by this kernel's IPVS (no IPv6 support, or IPv6 disabled)",
    errno.ENOMEM: "the kernel is out of memory",
    errno.ENOBUFS: "the netlink receive buffer overflowed: send fewer requests at once",
    errno.ENOPROTOOPT: "the ip_vs module is being unloaded",
    errno.EMSGSIZE: "the kernel's answer did not fit in a netlink message",
}
_NO_SCHEDULER = (
    "the kernel has no scheduler '{scheduler}' or persistence engine '{pe_name}' "
    "(is module ip_vs_{scheduler} available?)"
)
_BAD_SERVICE = "invalid service (an IPv6 persistence netmask must be a prefix length 1-128)"
_BAD_DEST = (
    "the kernel refused the destination: its address must be unicast and routable or local (in a new network "
    "namespace bring 'lo' up first), a GUE tunnel needs a port, and a destination of another address family "
    "than the service needs forward: tunnel and no running sync daemon"
)
_BAD_THRESHOLDS = (
    "weight must not be negative, and l_threshold must not be above u_threshold even when u_threshold is 0"
)
_SPECIFIC_REASONS = {
    ("add_service", errno.EEXIST): "it already exists",
    ("add_service", errno.ENOENT): _NO_SCHEDULER,
    ("edit_service", errno.ENOENT): _NO_SCHEDULER,
    ("add_service", errno.EINVAL): _BAD_SERVICE,
    ("edit_service", errno.EINVAL): _BAD_SERVICE,
    ("add_destination", errno.EEXIST): "the destination already exists in the service",
    ("add_destination", errno.EINVAL): _BAD_DEST,
    ("edit_destination", errno.EINVAL): _BAD_DEST,
    ("add_destination", errno.ERANGE): _BAD_THRESHOLDS,
    ("edit_destination", errno.ERANGE): _BAD_THRESHOLDS,
    ("edit_destination", errno.ENOENT): "the service has no such destination",
    ("delete_destination", errno.ENOENT): "the service has no such destination",
    ("start_daemon", errno.EEXIST): "a sync daemon in that state is already running",
    ("start_daemon", errno.ENODEV): "no such network interface '{interface}'",
    ("start_daemon", errno.EINVAL): "invalid sync daemon settings (the group must be multicast, and no service "
    "may have destinations of another address family)",
    ("stop_daemon", errno.ESRCH): "no sync daemon in that state is running",
    ("set_timeouts", errno.EINVAL): "the kernel refused a timeout above its limit (INT_MAX / HZ seconds)",
}


def subject_text(operation, subject=""):
    what = "IPVS " + operation.replace("_", " ")
    return f"{what} {subject}" if subject else what


def describe_error(code, operation, subject="", details=None):
    """An operator-readable message for a kernel error code answering one operation."""
    if code == errno.ESRCH and operation not in ("stop_daemon",):
        # Every service and destination command answers ESRCH for a missing service.
        reason = "no such service"
    else:
        reason = _SPECIFIC_REASONS.get((operation, code)) or _GENERIC_REASONS.get(code)
    if reason is None:
        reason = os.strerror(code)
    values = {"scheduler": "?", "pe_name": "", "interface": "?"}
    values.update(details or {})
    return f"{subject_text(operation, subject)}: {reason.format(**values)}"


FAMILY_MISSING_MESSAGE = (
    "the kernel has no IPVS generic netlink family: load the IPVS module with 'modprobe ip_vs' "
    "(in a container or namespace, on the host kernel), or use a kernel built with CONFIG_IP_VS"
)
