# Copyright (c) 2026 lvs.ipvs developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: netns
short_description: Run tasks inside a Linux network namespace on the controller
version_added: 0.1.0
description:
  - Runs each task's commands inside a named network namespace of the controller's kernel, the way
    C(ip netns exec) does, so that facts, addresses, routes, sysctls under C(net.*) and the IPVS
    table are the namespace's own.
  - This is how the C(lvs.ipvs) lab turns network namespaces into hosts, one inventory host per
    namespace, with no SSH inside.
  - Without O(mount_namespace), the command runs through C(ip netns exec), which gives it a private
    C(/sys) for the namespace and binds the files under C(/etc/netns/NAME/) over C(/etc).
  - With O(mount_namespace), the command also enters that mount namespace, in which the lab has
    mounted the namespace's own C(/sys) and private C(/etc), C(/var/lib), C(/usr/local) and
    C(/run); files written by one host are then invisible to the others.
author: lvs.ipvs developers (@lvs-ipvs)
options:
  netns:
    description:
      - Name of the network namespace, as listed by C(ip netns list) (a file under C(/run/netns)).
    type: str
    vars:
      - name: inventory_hostname
      - name: ansible_host
      - name: ansible_netns_name
  mount_namespace:
    description:
      - Path of a file pinning a mount namespace to enter together with the network namespace,
        for example one made with C(unshare --mount=PATH).
      - When not set, the mount namespace is a fresh one made by C(ip netns exec).
    type: path
    vars:
      - name: ansible_netns_mount_namespace
    env:
      - name: ANSIBLE_NETNS_MOUNT_NAMESPACE
notes:
  - The controller must run as root (or with C(CAP_SYS_ADMIN)), since entering namespaces needs it.
  - The remote user is ignored; tasks run as the controller's user. Privilege escalation that
    needs a password prompt is not supported.
  - Files are transferred through the command's standard input and output, so they are written
    in the namespace's own view of the file system.
  - Pipelining is supported. In the lvs.ipvs lab (an emulated kernel) it made runs slower, so the lab leaves it off.
seealso:
  - name: ip-netns(8)
    description: The C(ip netns) manual page.
    link: https://man7.org/linux/man-pages/man8/ip-netns.8.html
"""

EXAMPLES = r"""
# Inventory: two namespaces as two hosts.
# [directors]
# director1 ansible_connection=lvs.ipvs.netns
# [real_servers]
# rs1 ansible_connection=lvs.ipvs.netns ansible_netns_mount_namespace=/run/lvslab/rs1/mnt

- name: Show the addresses a namespace sees
  hosts: directors
  gather_facts: true
  tasks:
    - name: Print the namespace's interfaces
      ansible.builtin.debug:
        var: ansible_facts.interfaces
"""

import os
import re
import subprocess

import ansible.constants as C
from ansible.errors import AnsibleConnectionFailure, AnsibleError
from ansible.module_utils.common.text.converters import to_bytes, to_native, to_text
from ansible.plugins.connection import ConnectionBase
from ansible.utils.display import Display

display = Display()

NETNS_DIR = "/run/netns"
NAME_RE = re.compile(r"^[A-Za-z0-9_.][A-Za-z0-9_.-]*$")


class Connection(ConnectionBase):
    """Local execution inside a named network namespace."""

    transport = "lvs.ipvs.netns"
    has_pipelining = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._prefix = None

    def _namespace_prefix(self):
        """The argv that enters the namespaces, checked once per connection."""
        name = self.get_option("netns")
        if not name or not NAME_RE.match(name) or name in (".", ".."):
            raise AnsibleConnectionFailure(f"netns: invalid network namespace name {name!r}")
        path = os.path.join(NETNS_DIR, name)
        if not os.path.exists(path):
            raise AnsibleConnectionFailure(
                f"netns: network namespace {name!r} does not exist ({path} is missing; see 'ip netns list')"
            )
        mount_ns = self.get_option("mount_namespace")
        if not mount_ns:
            return ["ip", "netns", "exec", name]
        if not os.path.exists(mount_ns):
            raise AnsibleConnectionFailure(f"netns: mount namespace file {mount_ns!r} does not exist")
        return ["nsenter", f"--net={path}", f"--mount={mount_ns}", "--"]

    def _connect(self):
        if not self._connected:
            self._prefix = self._namespace_prefix()
            display.vvv(f"ESTABLISH NETNS CONNECTION {' '.join(self._prefix)}", host=self.get_option("netns"))
            self._connected = True
        return self

    def _run(self, argv, in_data=None):
        display.vvv(f"EXEC {to_text(argv)}", host=self.get_option("netns"))
        try:
            proc = subprocess.Popen(
                [to_bytes(a, errors="surrogate_or_strict") for a in argv],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
        except OSError as exc:
            raise AnsibleConnectionFailure(f"netns: cannot run {argv[0]}: {to_native(exc)}") from exc
        stdout, stderr = proc.communicate(in_data)
        return proc.returncode, stdout, stderr

    def exec_command(self, cmd, in_data=None, sudoable=True):
        super().exec_command(cmd, in_data=in_data, sudoable=sudoable)
        executable = C.DEFAULT_EXECUTABLE.split()[0] if C.DEFAULT_EXECUTABLE else "/bin/sh"
        return self._run([*self._prefix, executable, "-c", cmd], in_data=in_data)

    def put_file(self, in_path, out_path):
        super().put_file(in_path, out_path)
        display.vvv(f"PUT {in_path} TO {out_path}", host=self.get_option("netns"))
        try:
            with open(to_bytes(in_path, errors="surrogate_or_strict"), "rb") as fh:
                data = fh.read()
        except OSError as exc:
            raise AnsibleError(f"netns: cannot read {in_path}: {to_native(exc)}") from exc
        rc, _dummy, err = self._run([*self._prefix, "/bin/sh", "-c", 'cat > "$1"', "sh", out_path], in_data=data)
        if rc != 0:
            raise AnsibleError(f"netns: failed to write {out_path}: {to_native(err)}")

    def fetch_file(self, in_path, out_path):
        super().fetch_file(in_path, out_path)
        display.vvv(f"FETCH {in_path} TO {out_path}", host=self.get_option("netns"))
        rc, out, err = self._run([*self._prefix, "cat", "--", in_path])
        if rc != 0:
            raise AnsibleError(f"netns: failed to read {in_path}: {to_native(err)}")
        try:
            with open(to_bytes(out_path, errors="surrogate_or_strict"), "wb") as fh:
                fh.write(out)
        except OSError as exc:
            raise AnsibleError(f"netns: cannot write {out_path}: {to_native(exc)}") from exc

    def close(self):
        self._connected = False
