"""Naming the cause of a guest that stopped, from real boot logs of Debian's UML 6.1.

The logs in boot-logs/ were captured from real guests on the development
machine: a clean boot, the FPU panic of large-XSAVE hosts (reproduced with the
shim's LVSLAB_XSTATE_FIX=0 LVSLAB_XSTATE_EMULATE=832), a guest given too
little memory (mem=24M, mem=40M), and the guest init's own refusal (overlayfs
would not load).
"""

from pathlib import Path

import pytest

from lvslab import kernel

LOGS = Path(__file__).resolve().parent / "boot-logs"


def lines(name):
    return (LOGS / name).read_text().splitlines(keepends=True)


def test_a_clean_boot_names_no_cause():
    assert kernel.boot_failure(lines("clean.log")) == ([], [])


@pytest.mark.parametrize(
    ("log", "cause", "hint"),
    [
        ("xstate-panic.log", "userspace - ptrace set fp regs failed, errno = 14", "XSAVE area"),
        ("oom-panic.log", "Out of memory and no killable processes...", "ran out of memory"),
        (
            "memmap-panic.log",
            "Kernel panic - not syncing: Failed to allocate 11272192 bytes for node 0 memory map",
            "ran out of memory",
        ),
        ("overlay-insmod.log", "lvslab guest: cannot load overlayfs", "guest init stopped"),
    ],
)
def test_the_cause_is_named_with_what_to_do(log, cause, hint):
    causes, hints = kernel.boot_failure(lines(log))
    assert cause in causes
    assert any(hint in h for h in hints), hints


def test_backtraces_and_printk_levels_are_left_out():
    causes, _hints = kernel.boot_failure(lines("oom-panic.log"))
    assert causes, "the OOM log names a cause"
    assert not [c for c in causes if c.lstrip().startswith("[<") or c.startswith("<")]
    assert "Kernel panic - not syncing: System is deadlocked on memory" in causes


def test_the_xstate_panic_is_named_before_the_generic_panic():
    causes, _hints = kernel.boot_failure(lines("xstate-panic.log"))
    assert causes[:2] == [
        "userspace - ptrace set fp regs failed, errno = 14",
        "Kernel panic - not syncing: Attempted to kill init! exitcode=0x0000000b",
    ]


def test_not_run_message_says_the_lab_did_not_run(tmp_path):
    message = kernel.not_run_message("uml", tmp_path, lines("xstate-panic.log"), started=False)
    first, *rest = message.splitlines()
    assert first == "the uml kernel stopped before the command started: the lab did not run"
    assert "    userspace - ptrace set fp regs failed, errno = 14" in rest
    assert rest[-1] == f"whole log: {tmp_path}/boot.log; check the machine with: lvslab doctor"


def test_not_run_message_without_a_known_cause_shows_the_last_lines(tmp_path):
    log = [f"line {n}\n" for n in range(40)]
    message = kernel.not_run_message("uml", tmp_path, log, started=True, timeout=None)
    assert "stopped while the command ran" in message
    assert "no line of the boot log names a cause" in message
    assert "    line 39" in message
    assert "    line 29" not in message


def test_not_run_message_after_a_boot_timeout(tmp_path):
    message = kernel.not_run_message("uml", tmp_path, [], started=False, timeout=180)
    assert message.startswith("the uml kernel did not start the command within 180 s: the lab did not run")
