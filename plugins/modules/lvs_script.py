#!/usr/bin/python
# Copyright (c) 2026 lvs.ipvs developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: lvs_script
short_description: Write and run one of the roles' set-up scripts and report each change it made
version_added: 0.1.0
description:
  - Runs a script written by the C(lvs.ipvs.director) or C(lvs.ipvs.real_server) role (by default
    C(/usr/local/sbin/lvs-director) and C(/usr/local/sbin/lvs-real-server)), which prints one
    C(CHANGED:) line for each change it makes (a VIP added, a sysctl set, a tunnel brought up, a route,
    a firewall rule, a unit enabled).
  - The task is changed when the script printed such a line. Its changes are the result's RV(changes)
    and, with C(--diff), the task's diff. At Ansible's default verbosity the task prints them, one line
    each after the host's name, so that a playbook run says what changed on each host without C(-v).
  - With O(content) and O(dest), it first writes a file (the script itself, or a configuration the
    script uses) when its content differs, then runs the script, in one task, since each task costs a
    module run on the host, which is most of a role's time on a small host.
  - The roles use it for their scripts; you need it only to run a script by hand, for example the
    C(check) of a host whose set-up you suspect has drifted.
author: lvs.ipvs developers (@lvs-ipvs)
options:
  path:
    description:
      - The script to run.
      - Defaults to O(dest), when that is the script.
    type: path
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
  content:
    description:
      - What O(dest) must hold. It is written, atomically, only when it differs; a trailing newline
        is added when missing.
      - In check mode nothing is written. When O(dest) is the script, O(check_argv) runs a copy of the
        new content, so that the check reports what the new script would change.
    type: str
  dest:
    description: The file O(content) goes to. Required with O(content).
    type: path
  mode:
    description: The permissions of O(dest), as an octal string.
    type: str
    default: "0755"
  validate:
    description:
      - A command that checks the new content before it replaces O(dest), with C(%s) for a temporary
        file that holds it, for example V(keepalived -t -f %s). When it fails, O(dest) is unchanged,
        the script is not run, and the task fails with the command's output.
    type: str
  argv_if_written:
    description:
      - The arguments to run the script with, instead of O(argv), when O(dest) was written, for example
        V([keepalived, reload]) to reload a daemon whose configuration changed.
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
  - When O(dest) is written, the change is the first of RV(changes) (V(written /path)) and, with
    C(--diff), the diff shows the file's old and new content. Set C(no_log) on a task whose content
    holds a secret.
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

- name: Write keepalived's configuration (checked before it replaces the old one) and reload it if it changed
  lvs.ipvs.lvs_script:
    content: "{{ lookup('ansible.builtin.template', 'keepalived.conf.j2') }}"
    dest: /etc/keepalived/keepalived.conf
    mode: "0600"
    validate: keepalived -t -f %s
    path: /usr/local/sbin/lvs-director
    argv: [keepalived]
    argv_if_written: [keepalived, reload]
"""

RETURN = r"""
changes:
  description: What the script changed (in check mode, what it would change), one line each, in order.
  returned: always
  type: list
  elements: str
  sample:
    - "written /usr/local/sbin/lvs-director"
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

import os
import tempfile

from ansible.module_utils.basic import AnsibleModule

PREFIX = "CHANGED: "


def changes_of(stdout):
    """The change lines of a script's output, without their prefix."""
    return [line[len(PREFIX) :] for line in stdout.splitlines() if line.startswith(PREFIX)]


def current(dest):
    """dest's content, or None when there is no such file."""
    try:
        with open(dest, encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def staged(dest, content, mode, where=None):
    """A temporary file holding content: beside dest (where=None), for os.replace to put it in place atomically."""
    fd, path = tempfile.mkstemp(prefix=f".{os.path.basename(dest)}.", dir=where or os.path.dirname(dest) or ".")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(content)
    os.chmod(path, mode)
    return path


def write(module, dest, content, mode, validate):
    """Put content at dest, after validate (if any) accepted it; dest is untouched when it did not."""
    # A daemon's directory (/etc/bird) may not exist before its package is installed.
    os.makedirs(os.path.dirname(dest) or ".", mode=0o755, exist_ok=True)
    path = staged(dest, content, mode)
    try:
        if validate:
            if "%s" not in validate:
                module.fail_json(msg=f"validate: {validate!r} has no %s for the file to check")
            rc, out, err = module.run_command(validate.replace("%s", path), use_unsafe_shell=False)
            if rc:
                last = (err or out).strip().splitlines()[-1:] or [f"exit status {rc}"]
                module.fail_json(msg=f"{dest} not written: {validate} failed: {last[0]}", rc=rc, stdout=out, stderr=err)
        os.replace(path, dest)
    finally:
        if os.path.exists(path):
            os.unlink(path)


def octal(module, mode):
    try:
        return int(mode, 8)
    except ValueError:
        module.fail_json(msg=f"mode: {mode!r} is not an octal mode such as 0755")


def main():
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path"},
            "argv": {"type": "list", "elements": "str", "default": []},
            "check_argv": {"type": "list", "elements": "str"},
            "content": {"type": "str"},
            "dest": {"type": "path"},
            "mode": {"type": "str", "default": "0755"},
            "validate": {"type": "str"},
            "argv_if_written": {"type": "list", "elements": "str"},
        },
        required_together=[("content", "dest")],
        required_one_of=[("path", "dest")],
        supports_check_mode=True,
    )
    params = module.params
    path, dest, content = params["path"] or params["dest"], params["dest"], params["content"]
    written, result, checked_copy = False, {"changes": []}, None
    if content is not None:
        content = content if content.endswith("\n") else content + "\n"
        mode = octal(module, params["mode"])
        before = current(dest)
        if before != content or os.stat(dest).st_mode & 0o7777 != mode:
            written = True
            result["changes"].append(f"written {dest}")
            if module._diff:
                result["diff"] = {"before_header": dest, "after_header": dest, "before": before or "", "after": content}
            if not module.check_mode:
                write(module, dest, content, mode, params["validate"])
            elif path == dest:
                # In Ansible's temporary directory: check mode leaves no trace beside dest.
                checked_copy = staged(dest, content, 0o700, module.tmpdir)
    argv = params["argv_if_written"] if written and params["argv_if_written"] is not None else params["argv"]
    if module.check_mode:
        if params["check_argv"] is None:
            result["changed"] = bool(result["changes"])
            module.exit_json(msg="not run in check mode", **result)
        argv = params["check_argv"]
    try:
        rc, stdout, stderr = module.run_command([checked_copy or path, *argv])
    finally:
        if checked_copy:
            os.unlink(checked_copy)
    changes = changes_of(stdout)
    result["changes"] += changes
    result.update(changed=bool(result["changes"]), rc=rc)
    if module._diff and changes:
        command = " ".join([path, *argv])
        diff = {
            "before_header": f"{command}: before",
            "after_header": f"{command}: changes",
            "before": "",
            "after": "".join(f"{line}\n" for line in changes),
        }
        result["diff"] = [result["diff"], diff] if "diff" in result else diff
    if rc:
        last = stderr.strip().splitlines()[-1:] or [f"exit status {rc}"]
        module.fail_json(msg=f"{path} {' '.join(argv)}: {last[0]}", stdout=stdout, stderr=stderr, **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
