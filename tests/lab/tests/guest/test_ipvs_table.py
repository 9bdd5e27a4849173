"""lvs.ipvs.ipvs_table on a lab director: idempotence, check mode, refusals, scope,
and a live TCP connection that survives edits of its service."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from conftest import EXAMPLES, STATE, nat_director, playbook, sh

HERE = Path(__file__).resolve().parent

# Runs inside client1: opens a connection through the VIP, sends half a request,
# waits for "go" on stdin, then finishes the request and prints who answered.
HALF_OPEN = r"""
import socket, sys
s = socket.create_connection(("203.0.113.100", 80), timeout=10)
s.sendall(b"GET / HTTP/1.0\r\n")
print("connected", flush=True)
sys.stdin.readline()
s.sendall(b"\r\n")
data = b""
while True:
    chunk = s.recv(4096)
    if not chunk:
        break
    data += chunk
print(data.split(b"\r\n\r\n", 1)[1].decode().strip(), flush=True)
"""


def test_table_changes_in_place_and_a_live_connection_survives(nat_lab):
    nat_director()
    # Start from another scheduler, so that every step of table.yml edits a
    # service that carries an open connection.
    load = subprocess.run(
        [
            "ansible",
            "director1",
            "-i",
            str(STATE / "inventory.yml"),
            "-m",
            "lvs.ipvs.ipvs_table",
            "-a",
            '{"services": [{"protocol": "tcp", "address": "203.0.113.100", "port": 80, "scheduler": "wlc",'
            ' "destinations": [{"address": "192.0.2.11"}, {"address": "192.0.2.12"}]}]}',
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert load.returncode == 0, load.stdout + load.stderr
    client = subprocess.Popen(
        ["nsenter", "--net=/run/netns/client1", "--", sys.executable, "-c", HALF_OPEN],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert client.stdout.readline().strip() == "connected"
    try:
        proc = playbook(HERE / "table.yml")
        assert proc.returncode == 0, proc.stdout[-5000:]
    finally:
        client.stdin.write("go\n")
        client.stdin.flush()
    answer, _err = client.communicate(timeout=30)
    assert answer.strip() in ("rs1", "rs2"), f"the connection did not survive: {answer!r}"
    sh("director1", "ipvsadm -C")


def test_the_documented_example_runs(nat_lab):
    sh("director1", "modprobe ip_vs && ipvsadm -C && ipvsadm -A -t 203.0.113.100:443 -s rr")
    proc = playbook(EXAMPLES / "ipvs_table.yml")
    assert proc.returncode == 0, proc.stdout[-3000:]
    saved = sorted(sh("director1", "ipvsadm -Sn").stdout.splitlines())
    # The scope owns the VIP, so its undeclared port 443 service is gone.
    assert saved == sorted(
        [
            "-A -t 203.0.113.100:80 -s rr",
            "-a -t 203.0.113.100:80 -r 192.0.2.11:80 -m -w 1",
            "-a -t 203.0.113.100:80 -r 192.0.2.12:80 -m -w 1",
            "-A -t [2001:db8:113::100]:80 -s rr",
            "-a -t [2001:db8:113::100]:80 -r [2001:db8:2::11]:80 -m -w 1",
            "-a -t [2001:db8:113::100]:80 -r [2001:db8:2::12]:80 -m -w 1",
        ]
    )
    sh("director1", "ipvsadm -C")


def test_the_table_from_a_json_file_runs_and_changes_nothing_the_second_time(nat_lab):
    sh("director1", "modprobe ip_vs && ipvsadm -C && ipvsadm -A -t 203.0.113.100:8080 -s rr")
    first = playbook(EXAMPLES / "ipvs_table_json.yml")
    assert first.returncode == 0, first.stdout[-3000:]
    again = playbook(EXAMPLES / "ipvs_table_json.yml")
    assert again.returncode == 0, again.stdout[-3000:]
    assert re.search(r"director1 +: ok=1 +changed=1 ", first.stdout), first.stdout[-1500:]
    assert re.search(r"director1 +: ok=1 +changed=0 ", again.stdout), again.stdout[-1500:]
    saved = sorted(sh("director1", "ipvsadm -Sn").stdout.splitlines())
    # The file's two services, and the scope removed the one it does not list.
    assert saved == sorted(
        [
            "-A -t 203.0.113.100:80 -s wrr",
            "-a -t 203.0.113.100:80 -r 192.0.2.11:80 -m -w 2",
            "-a -t 203.0.113.100:80 -r 192.0.2.12:80 -m -w 1",
            "-A -t 203.0.113.100:443 -s sh -b sh-port",
            "-a -t 203.0.113.100:443 -r 192.0.2.11:443 -m -w 1",
            "-a -t 203.0.113.100:443 -r 192.0.2.12:443 -m -w 1",
        ]
    )
    sh("director1", "ipvsadm -C")
