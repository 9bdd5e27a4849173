#!/usr/bin/python
# Copyright (c) 2026 lvs.ipvs developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: lvs_script
short_description: Run one of the roles' set-up scripts and report each change it made
version_added: 0.1.0
description:
  - Runs a script written by the C(lvs.ipvs.director) or C(lvs.ipvs.real_server) role (by default
    C(/usr/local/sbin/lvs-director) and C(/usr/local/sbin/lvs-real-server)), which prints one
    C(CHANGED:) line for each change it makes (a VIP added, a sysctl set, a tunnel brought up, a route,
    a firewall rule, a unit enabled).
  - The task is changed when the script printed such a line. Its changes are the result's RV(changes)
    and, with C(--diff), the task's diff. At Ansible's default verbosity the task prints them, one line
    each after the host's name, so that a playbook run says what changed on each host without C(-v).
  - The roles use it for their scripts; you need it only to run a script by hand, for example the
    C(check) of a host whose set-up you suspect has drifted.
author: lvs.ipvs developers (@lvs-ipvs)
options:
  path:
    description: The script to run.
    type: path
    required: true
  argv:
    description: Its arguments, for example V(install), V(remove), or V(keepalived) and V(reload).
    type: list
    elements: str
    default: []
  check_argv:
    description:
      - The arguments to run it with in check mode instead of O(argv), for example V(check), which
        reports what V(install) would change and changes nothing.
      - Without them, the script is not run in check mode and the task reports no change.
    type: list
    elements: str
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
attributes:
  action:
    support: full
    details: An action plugin shows the changes at default verbosity.
  async:
    support: none
  bypass_host_loop:
    support: none
  check_mode:
    support: full
    details: With O(check_argv), the script reports what it would change; without, it is not run.
  diff_mode:
    support: full
    details: The diff lists the changes, one per line.
  platform:
    platforms: posix
notes:
  - A script that exits with a non-zero status fails the task; the result still lists the changes it
    made before it stopped, and its standard output and error.
"""

EXAMPLES = r"""
- name: Check whether a real server's set-up has drifted, changing nothing
  lvs.ipvs.lvs_script:
    path: /usr/local/sbin/lvs-real-server
    argv: [check]
  check_mode: true

- name: Bring a director's set-up back, showing each change at default verbosity
  lvs.ipvs.lvs_script:
    path: /usr/local/sbin/lvs-director
    argv: [install]
    check_argv: [check]
"""

RETURN = r"""
changes:
  description: What the script changed (in check mode, what it would change), one line each, in order.
  returned: always
  type: list
  elements: str
  sample:
    - "VIP 203.0.113.101/32 added on lo"
    - "net.ipv4.conf.all.arp_ignore set to 1"
rc:
  description: The script's exit status (absent when it was not run).
  returned: when the script ran
  type: int
  sample: 0
stdout:
  description: The script's standard output, on failure.
  returned: failure
  type: str
stderr:
  description: The script's standard error, on failure.
  returned: failure
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

PREFIX = "CHANGED: "


def changes_of(stdout):
    """The change lines of a script's output, without their prefix."""
    return [line[len(PREFIX) :] for line in stdout.splitlines() if line.startswith(PREFIX)]


def main():
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "required": True},
            "argv": {"type": "list", "elements": "str", "default": []},
            "check_argv": {"type": "list", "elements": "str"},
        },
        supports_check_mode=True,
    )
    params = module.params
    argv = params["argv"]
    if module.check_mode:
        if params["check_argv"] is None:
            module.exit_json(changed=False, changes=[], msg="not run in check mode (no check_argv)")
        argv = params["check_argv"]
    rc, stdout, stderr = module.run_command([params["path"], *argv])
    changes = changes_of(stdout)
    result = {"changed": bool(changes), "changes": changes, "rc": rc}
    if module._diff and changes:
        command = " ".join([params["path"], *argv])
        result["diff"] = {
            "before_header": f"{command}: before",
            "after_header": f"{command}: changes",
            "before": "",
            "after": "".join(f"{line}\n" for line in changes),
        }
    if rc:
        last = stderr.strip().splitlines()[-1:] or [f"exit status {rc}"]
        module.fail_json(msg=f"{params['path']} {' '.join(argv)}: {last[0]}", stdout=stdout, stderr=stderr, **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
