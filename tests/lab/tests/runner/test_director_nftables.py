"""The director role's nftables rules on a real kernel with nf_tables.

The lab's guest kernel has no nf_tables, so the lab proves marks and SNAT
through the role's iptables path. This machine's own kernel has nf_tables
(and no IPVS): in the runner's host mode (overlay root, private namespaces)
nftables_job.py loads the rules file the role renders and sends traffic
through it. What it cannot show is IPVS itself acting on the marks.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def test_the_director_nftables_rules_mark_both_ports_and_masquerade(run):
    if not shutil.which("nft"):
        pytest.fail("nft is missing: scripts/setup.sh installs the nftables package")
    pythonpath = os.pathsep.join([str(HERE.parents[1]), *os.environ.get("ANSIBLE_COLLECTIONS_PATH", "").split(":")])
    script = f"PYTHONPATH={pythonpath} {sys.executable} {HERE / 'nftables_job.py'}"
    rc, text, _dummy = run(script, kernel="host", timeout=120)
    assert rc == 0, text
    seen = json.loads(next(line for line in text.splitlines() if line.startswith("{")))
    rules = seen["rules"]
    assert "ip daddr 203.0.113.104 tcp dport { 80, 8080 } meta mark set 0x00000001" in rules, rules
    assert "ip daddr 192.0.2.21 tcp dport 80 masquerade" in rules, rules
    assert "ip6 daddr 2001:db8:2::21 tcp dport 80 masquerade" in rules, rules
    # Both ports of the firewall-mark service marked, another port of the VIP not.
    assert seen["marked"] == {"80": 1, "8080": 1, "9090": 0}, seen
    # The real server saw the director, not the client.
    assert seen["peers4"] == ["192.0.2.1"], seen
    assert seen["peers6"] == ["2001:db8:2::1"], seen
