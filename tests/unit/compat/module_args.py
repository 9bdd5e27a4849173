# Copyright (c) 2026 lvs.ipvs developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""patch_module_args for the unit tests, on every ansible-core the collection claims (2.19 and later)."""

from __future__ import annotations

from ansible.module_utils.common.parameters import PASS_VARS
from ansible.module_utils.testing import patch_module_args as _patch

# ansible-core 2.21 adds `invocation` to a module's result only when the
# controller asks for it (INJECT_INVOCATION, off by default); the tests ask,
# as 2.19 always added it. 2.19 refuses the option it does not know.
INJECT = {"_ansible_inject_invocation": True} if "inject_invocation" in PASS_VARS else {}


def patch_module_args(args):
    return _patch({**INJECT, **args})
