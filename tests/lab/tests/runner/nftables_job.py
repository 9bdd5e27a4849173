"""Inside the runner's host mode: the director role's nftables rules, loaded and exercised.

Renders roles/director/templates/director.nft.j2 (from the installed
collection) for a topology with a firewall-mark service and Full NAT over
IPv4 and IPv6, loads it with nft into director1 of
tests/lab/topologies/nftables.yml, and prints one JSON line of what it saw:
the rules nft lists back, the client address the real server saw through the
SNAT rule, and how many packets the marking rule marked per port.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jinja2

from ansible_collections.lvs.ipvs.plugins.module_utils._lvs_topology import director_plan
from lvslab import checks, topology

COLLECTION = Path(sys.modules["ansible_collections.lvs.ipvs"].__path__[0])
LAB = Path(__file__).resolve().parents[2]
SERVICES = [
    {
        "name": "web-and-alt",
        "mode": "nat",
        "fwmark": 1,
        "address": "203.0.113.104",
        "ports": [80, 8080],
        "real_servers": [{"host": "rs1", "address": "192.0.2.21"}],
    },
    {
        "name": "web-fullnat",
        "mode": "fullnat",
        "address": "203.0.113.103",
        "port": 80,
        "real_servers": [{"host": "rs1", "address": "192.0.2.21"}],
    },
    {
        "name": "web-fullnat-v6",
        "mode": "fullnat",
        "address": "2001:db8:113::103",
        "port": 80,
        "real_servers": [{"host": "rs1", "address": "2001:db8:2::21"}],
    },
]


def sh(host: str, *argv: str) -> str:
    return subprocess.run(["ip", "netns", "exec", host, *argv], capture_output=True, text=True, check=True).stdout


def knock(address: str, port: int) -> None:
    """One TCP SYN from client1 (nobody listens: only the mark on the way counts)."""
    code = (
        "import socket,sys\n"
        "s=socket.socket(socket.AF_INET6 if ':' in sys.argv[1] else socket.AF_INET)\n"
        "s.settimeout(1)\n"
        "try: s.connect((sys.argv[1], int(sys.argv[2])))\n"
        "except OSError: pass\n"
    )
    subprocess.run(["ip", "netns", "exec", "client1", sys.executable, "-c", code, address, str(port)], check=True)


def main() -> int:
    state = Path("/run/lvslab")
    topology.up(topology.load(LAB / "topologies" / "nftables.yml"), state)
    plan = director_plan(SERVICES)
    template = (COLLECTION / "roles" / "director" / "templates" / "director.nft.j2").read_text()
    rules = jinja2.Template(template, keep_trailing_newline=True).render(
        director_plan=plan, ansible_managed="rendered by nftables_job.py"
    )
    path = state / "director.nft"
    path.write_text(rules)
    # The template starts with "table ...; delete table ...": loading it twice must work.
    sh("director1", "nft", "-f", str(path))
    sh("director1", "nft", "-f", str(path))
    listed = sh("director1", "nft", "list", "table", "inet", "lvs_ipvs")
    # Count what the marking rule marked, after it (mangle is -150).
    sh("director1", "nft", "add table inet lab; add chain inet lab seen { type filter hook prerouting priority 0; }")
    for port in (80, 8080, 9090):
        sh("director1", "nft", f"add rule inet lab seen tcp dport {port} meta mark 1 counter")
    sh("director1", "ip", "addr", "add", "203.0.113.104/32", "dev", "eth0")
    for port in (80, 8080, 9090):
        knock("203.0.113.104", port)
    counted = sh("director1", "nft", "list", "chain", "inet", "lab", "seen")
    marked = {}
    for line in counted.splitlines():
        if "counter packets" in line:
            words = line.split()
            marked[words[words.index("dport") + 1]] = int(words[words.index("packets") + 1])
    # The SNAT rules: routed traffic to the real server leaves with the director's address.
    _ok4, detail4, tally4 = checks.probe("client1", "http://192.0.2.21/", 2, ["rs1"])
    _ok6, detail6, tally6 = checks.probe("client1", "http://[2001:db8:2::21]/", 2, ["rs1"])
    topology.down(state)
    print(
        json.dumps(
            {
                "rules": listed,
                "marked": marked,
                "peers4": sorted(tally4["peers"]),
                "peers6": sorted(tally6["peers"]),
                "detail": [detail4, detail6],
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
