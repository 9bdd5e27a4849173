"""Adopting a director set up by ipvsadm-restore: the filters and ipvs_table change nothing."""

from __future__ import annotations

from conftest import EXAMPLES, RULES, playbook, sh


def test_an_ipvsadm_restored_table_is_adopted_without_a_change(nat_lab):
    sh(
        "director1",
        f"modprobe ip_vs && ipvsadm -C && cat > /etc/ipvsadm.rules <<'EOF'\n{RULES}EOF\n"
        "ipvsadm-restore < /etc/ipvsadm.rules",
    )
    before = sh("director1", "ipvsadm -Sn").stdout
    proc = playbook(EXAMPLES / "adopt_ipvsadm_rules.yml")
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert sh("director1", "ipvsadm -Sn").stdout == before
    written = sh("director1", "cat /etc/ipvsadm.rules.managed").stdout
    assert sorted(written.splitlines()) == sorted(RULES.splitlines())
    sh("director1", "ipvsadm -C")
