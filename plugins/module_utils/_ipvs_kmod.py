# Copyright (c) 2026 lvs.ipvs developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Whether this kernel can provide the schedulers and persistence engines a table names.

The kernel loads ip_vs_<scheduler> on demand when a service asks for it, and
answers a bare ENOENT when it cannot. Checking first turns that into an error
that names the module, raised before the first change of a run.
"""

from __future__ import annotations

import os
import re

from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_validate import ValidationError
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_vocabulary import pe_module, scheduler_module

MODULES_ROOT = "/lib/modules"
SYS_MODULE = "/sys/module"
# Listings in which a module may appear: built into the kernel, or loadable.
_LISTINGS = (("modules.builtin", "builtin"), ("modules.dep", "loadable"))


def module_state(module, release=None):
    """'loaded', 'builtin', 'loadable', 'missing', or 'unknown' when this system has no module listings."""
    if os.path.isdir(os.path.join(SYS_MODULE, module)):
        return "loaded"
    base = os.path.join(MODULES_ROOT, release or os.uname().release)
    pattern = re.compile(rf"(^|/){re.escape(module)}\.ko(\.\w+)?:?\s*", re.MULTILINE)
    seen = False
    for listing, state in _LISTINGS:
        try:
            with open(os.path.join(base, listing), encoding="utf-8", errors="replace") as handle:
                text = handle.read()
        except OSError:
            continue
        seen = True
        if pattern.search(text):
            return state
    return "missing" if seen else "unknown"


def check_service_modules(service, path, release=None):
    """Raise ValidationError if this kernel cannot provide the scheduler or persistence engine of a service.

    service is canonical (the validator's); the error names the field, the
    value and the module. A system without module listings (a container
    without /lib/modules) is not judged: the kernel will answer for itself.
    """
    release = release or os.uname().release
    for field, module in (
        ("scheduler", scheduler_module(service["scheduler"])),
        ("pe_name", pe_module(service["pe_name"]) if service["pe_name"] else None),
    ):
        if module and module_state(module, release) == "missing":
            raise ValidationError(
                f"{path}.{field}",
                service[field],
                f"this kernel has no module {module}: it is not loaded, not built in, and not in "
                f"{MODULES_ROOT}/{release}/modules.dep (install the kernel's IPVS modules or pick another)",
            )


def check_kernel_modules(services, path="services", release=None):
    """check_service_modules() for each canonical service, in the order the user listed them."""
    for index, service in enumerate(services or ()):
        check_service_modules(service, f"{path}[{index}]", release)
