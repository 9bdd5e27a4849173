"""The lab runner against a real kernel: each test boots a guest (about 3 s).

These run on the real machine, as root, and check what the runner promises:
the inner exit status and output come back, IPVS is there, and nothing the
guest writes outside its run directory reaches the real machine.
"""

from __future__ import annotations

import uuid
from pathlib import Path


def test_exit_status_and_output_come_back(run):
    rc, out, _dummy = run("echo hello from the lab; echo to stderr >&2; exit 7")
    assert rc == 7
    assert "hello from the lab" in out
    assert "to stderr" in out


def test_the_kernel_has_ipvs_and_its_schedulers(run):
    rc, out, _dummy = run("modprobe ip_vs && modprobe ip_vs_mh && cat /proc/net/ip_vs && ls /sys/module")
    assert rc == 0, out
    assert "IP Virtual Server version" in out
    assert "ip_vs_mh" in out


def test_writes_outside_the_run_directory_never_reach_the_real_machine(run):
    marker = f"lvslab-test-{uuid.uuid4().hex}"
    targets = [f"/etc/{marker}", f"/var/lib/{marker}", f"/root/{marker}", f"/usr/local/{marker}"]
    script = " && ".join(f"echo x > {t} && test -e {t}" for t in targets)
    # halt writes a wtmp record unless told not to; the guest must never
    # leave one on the real machine.
    wtmp = Path("/var/log/wtmp")
    before = wtmp.stat() if wtmp.exists() else None
    rc, out, run_dir = run(script + f" && echo inside > $LVS_LAB_RUN_DIR/{marker}")
    assert rc == 0, out
    for target in targets:
        assert not Path(target).exists(), f"{target} leaked to the real machine"
    assert (run_dir / marker).read_text() == "inside\n"
    after = wtmp.stat() if wtmp.exists() else None
    assert (before and (before.st_size, before.st_mtime)) == (after and (after.st_size, after.st_mtime))


def test_a_hung_job_is_killed_at_the_timeout(run):
    rc, out, _dummy = run("sleep 600", timeout=20)
    assert rc == 124
    assert "timed out" in out


def test_two_guests_run_side_by_side(run):
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda n: run(f"modprobe ip_vs && exit {n}"), (3, 4)))
    assert [result[0] for result in results] == [3, 4]
