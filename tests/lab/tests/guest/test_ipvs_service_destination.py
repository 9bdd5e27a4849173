"""lvs.ipvs.ipvs_service and ipvs_destination on a lab director, and draining
a real server while a client connection to it is still open."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

from conftest import EXAMPLES, STATE, nat_director, playbook, sh
from test_ipvs_table import HALF_OPEN

HERE = Path(__file__).resolve().parent
SERVERS = {"192.0.2.11": "rs1", "192.0.2.12": "rs2"}


def saved() -> list[str]:
    return sorted(sh("director1", "ipvsadm -Sn").stdout.splitlines())


def test_service_and_destination_modules(nat_lab):
    sh("director1", "modprobe ip_vs && ipvsadm -C")
    proc = playbook(HERE / "service_destination.yml")
    assert proc.returncode == 0, proc.stdout[-5000:]


def test_the_documented_service_example_runs(nat_lab):
    sh("director1", "modprobe ip_vs && ipvsadm -C && ipvsadm -A -t 203.0.113.100:8080 -s rr")
    proc = playbook(EXAMPLES / "ipvs_service.yml")
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert saved() == sorted(
        [
            "-A -t 203.0.113.100:80 -s wrr -p 300",
            "-a -t 203.0.113.100:80 -r 192.0.2.11:80 -m -w 2",
            "-a -t 203.0.113.100:80 -r 192.0.2.12:80 -m -w 1",
        ]
    )


def weights() -> dict[str, tuple[int, int]]:
    """{real server address: (weight, active connections)} of the VIP's port 80 service."""
    out = sh("director1", "ipvsadm -Ln -t 203.0.113.100:80").stdout
    found = {}
    for line in out.splitlines():
        match = re.match(r"\s*->\s+([\d.]+):80\s+\w+\s+(\d+)\s+(\d+)", line)
        if match:
            found[match.group(1)] = (int(match.group(2)), int(match.group(3)))
    return found


def wait_for(condition, seconds=60.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.5)
    return False


def test_draining_waits_for_a_live_connection_then_restores(nat_lab):
    nat_director("-A -t 203.0.113.100:80 -s rr", *(f"-a -t 203.0.113.100:80 -r {rs}:80 -m" for rs in SERVERS))
    held = subprocess.Popen(
        ["nsenter", "--net=/run/netns/client1", "--", sys.executable, "-c", HALF_OPEN],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert held.stdout.readline().strip() == "connected"
    busy = [address for address, (_weight, active) in weights().items() if active == 1]
    assert len(busy) == 1, weights()
    drained = busy[0]
    drain = subprocess.Popen(
        [
            "ansible-playbook",
            "-i",
            str(STATE / "inventory.yml"),
            str(EXAMPLES / "ipvs_destination.yml"),
            "-e",
            f"real_server={drained} drain_delay=1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert wait_for(lambda: weights()[drained][0] == 0), weights()
        # Quiesced: new connections go elsewhere while the held one stays open.
        for _dummy in range(3):
            answer = sh("client1", "curl -s --max-time 5 http://203.0.113.100/").stdout.strip()
            assert answer == SERVERS[next(a for a in SERVERS if a != drained)]
        time.sleep(3)
        assert drain.poll() is None, "the drain ended while a connection was still open"
        assert weights()[drained] == (0, 1)
    finally:
        held.stdin.write("go\n")
        held.stdin.flush()
    answer, _err = held.communicate(timeout=30)
    assert answer.strip() == SERVERS[drained], "the held connection was not served to its end"
    out, _err = drain.communicate(timeout=120)
    assert drain.returncode == 0, out[-4000:]
    assert "FAILED - RETRYING" in out
    assert weights()[drained][0] == 1
    sh("director1", "ipvsadm -C")
