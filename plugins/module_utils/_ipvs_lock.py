# Copyright (c) 2026 lvs.ipvs developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One writer at a time per IPVS table.

Two runs that read the table, plan and apply at the same time can leave a
mixture of both plans, each reporting success. Every module that changes the
table holds this lock from its read to its last request. The IPVS table
belongs to a network namespace, so the lock does too: a file under /run named
after the namespace's inode, locked with flock(), so that a run that dies
releases it with its process.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import time

LOCK_DIR = "/run/lvs-ipvs"
DEFAULT_TIMEOUT = 60


class LockTimeoutError(Exception):
    """Another run held the table's lock for longer than the timeout."""

    def __init__(self, message):
        super().__init__(message)
        self.errno = errno.ETIMEDOUT


def lock_path(directory=LOCK_DIR):
    try:
        namespace = os.stat("/proc/self/ns/net").st_ino
    except OSError:
        namespace = "default"
    return os.path.join(directory, f"netns-{namespace}.lock")


def _holder(fd):
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        return os.read(fd, 200).decode("utf-8", "replace").strip()
    except OSError:
        return ""


@contextlib.contextmanager
def table_lock(timeout=DEFAULT_TIMEOUT, directory=LOCK_DIR, what="change the IPVS table"):
    """Hold the lock of this network namespace's IPVS table; LockTimeoutError after timeout seconds."""
    os.makedirs(directory, mode=0o755, exist_ok=True)
    path = lock_path(directory)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
            if time.monotonic() >= deadline:
                holder = _holder(fd) or "an unknown process"
                raise LockTimeoutError(
                    f"cannot {what}: another run has held its lock ({path}) for over {timeout} s; "
                    f"it is {holder}. Wait for it, or raise lock_timeout"
                )
            time.sleep(0.05)
        # Who holds it, for the message of a run that waits too long.
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}, since {time.strftime('%H:%M:%S')}\n".encode(), 0)
        yield path
    finally:
        os.close(fd)
