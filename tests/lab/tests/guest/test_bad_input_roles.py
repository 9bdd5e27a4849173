"""Bad lvs_virtual_services through the roles, run by Ansible itself on the NAT lab: refused, named, nothing changed.

The roles' entry points are their argument specs and the virtual_services
role's check of the list as a whole, which only a playbook runs. One playbook
includes lvs.ipvs.director on director1 and lvs.ipvs.real_server on rs1 once
per case, each in a block whose rescue records the failure; the test then
checks every case failed with a message that names the field and the value,
and that neither host changed: the director's IPVS state, addresses, routes
and sysctls, and the roles' files, are the same before and after.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from conftest import STATE, nat_director, playbook, sh

NAT = {
    "name": "web",
    "mode": "nat",
    "address": "203.0.113.100",
    "port": 80,
    "real_servers": [{"host": "rs1", "address": "192.0.2.11"}, {"host": "rs2", "address": "192.0.2.12"}],
}

# (role, the services, the field the message must name, the value it must show)
CASES = [
    ("director", [{**NAT, "mode": "bridge"}], "mode", "bridge"),
    ("director", [{**NAT, "scheduler": "fast"}], "scheduler", "fast"),
    ("director", [{**NAT, "directors": 10}], "directors", "10"),
    ("director", [{**NAT, "directors": "director10"}], "directors", "director10"),
    ("director", [NAT, {**NAT, "name": "web-again", "mode": "dr"}], "lvs_virtual_services[1]", "web-again"),
    ("director", [{**NAT, "ports": [80, 443]}], "lvs_virtual_services[0].ports", "[80, 443]"),
    ("director", [{**NAT, "address": "203.0.113.100%eth0"}], "lvs_virtual_services[0].address", "203.0.113.100%eth0"),
    ("director", [{**NAT, "flags": ["one-packet"]}], "lvs_virtual_services[0].flags[0]", "one-packet"),
    ("director", [{**NAT, "port": 70000}], "lvs_virtual_services[0].port", "70000"),
    (
        "real_server",
        [{**NAT, "mode": "tun", "address": "2001:db8:113::100"}],
        "lvs_virtual_services[0].real_servers[0].address",
        "192.0.2.11",
    ),
    (
        "real_server",
        [{**NAT, "mode": "dr", "real_servers": [{"host": "rs1", "address": "192.0.2.11", "port": 8080}]}],
        "lvs_virtual_services[0].real_servers[0].port",
        "8080",
    ),
]

# Director groups (docs/operations.md): refused by the same check, before keepalived is even looked for.
GROUP = {"name": "front", "virtual_router_id": 51, "directors": [{"host": "director1", "priority": 150}]}
GROUPED = {**NAT, "director_group": "front"}
HA_CASES = [
    # (the services, the groups, the field the message must name, the value it must show)
    ([GROUPED], [GROUP, {**GROUP, "name": "back"}], "lvs_director_groups[1].virtual_router_id", "51"),
    (
        [GROUPED, {**GROUPED, "name": "tls", "port": 443, "director_group": "back"}],
        [GROUP, {**GROUP, "name": "back", "virtual_router_id": 52}],
        "lvs_virtual_services[1].address",
        "203.0.113.100",
    ),
    (
        [{**GROUPED, "health_check": {"type": "http", "url": "http:///health"}}],
        [GROUP],
        "lvs_virtual_services[0].health_check.url",
        "http:///health",
    ),
    ([GROUPED], [{**GROUP, "directors": [{"host": "director1", "priority": 300}]}], "directors[0].priority", "300"),
]
CASES += [("director", services, field, value) for services, _groups, field, value in HA_CASES]
GROUPS = [[]] * (len(CASES) - len(HA_CASES)) + [groups for _services, groups, _field, _value in HA_CASES]

ROLE_HOSTS = {"director": "director1", "real_server": "rs1"}
FILES = "/usr/local/sbin/lvs-director /usr/local/sbin/lvs-real-server /etc/lvs /etc/sysctl.d/90-lvs-director.conf"


ACCEPTED = "{{ lab_cases + [{'case': lab_case, 'failed': false}] }}"
FAILED = "{{ lab_cases + [{'case': lab_case, 'failed': true, 'msg': ansible_failed_result.msg}] }}"


def host_state(host: str) -> str:
    script = (
        "ipvsadm -Sn; ipvsadm -L --timeout; ipvsadm -L --daemon; ip -o addr; ip route; ip -6 route; "
        "sysctl net.ipv4.conf.all.arp_ignore net.ipv4.ip_forward; "
        f"for f in {FILES} /etc/sysctl.d/90-lvs-real-server.conf; do [ ! -e $f ] || echo present $f; done"
    )
    return sh(host, script, check=False).stdout


def cases_playbook(results: Path) -> list[dict]:
    """One play per role, on its host alone (the virtual_services check runs once per play)."""
    plays = []
    for role, host in ROLE_HOSTS.items():
        tasks = []
        for index, (case_role, services, _field, _value) in enumerate(CASES):
            if case_role != role:
                continue
            tasks.append(
                {
                    "name": f"Case {index}: lvs.ipvs.{role} with bad lvs_virtual_services",
                    "vars": {"lab_case": index},
                    "block": [
                        {
                            "name": f"Include lvs.ipvs.{role}",
                            "ansible.builtin.include_role": {"name": f"lvs.ipvs.{role}"},
                            "vars": {"lvs_virtual_services": services, "lvs_director_groups": GROUPS[index]},
                        },
                        {
                            "name": "Record that it was accepted",
                            "ansible.builtin.set_fact": {"lab_cases": ACCEPTED},
                        },
                    ],
                    "rescue": [{"name": "Record the failure", "ansible.builtin.set_fact": {"lab_cases": FAILED}}],
                }
            )
        tasks.append(
            {
                "name": "Write what each case did",
                "ansible.builtin.copy": {"content": "{{ lab_cases | to_json }}", "dest": f"{results}-{host}.json"},
                "delegate_to": "localhost",
            }
        )
        plays.append(
            {
                "name": f"Bad input through {role}",
                "hosts": host,
                "gather_facts": False,
                "vars": {"lab_cases": []},
                "tasks": tasks,
            }
        )
    return plays


def test_the_roles_refuse_bad_input_and_change_nothing(nat_lab, tmp_path):
    nat_director("-A -t 203.0.113.100:80 -s rr", "-a -t 203.0.113.100:80 -r 192.0.2.11:80 -m -w 1")
    before = {host: host_state(host) for host in ROLE_HOSTS.values()}
    book = tmp_path / "cases.yml"
    book.write_text(yaml.safe_dump(cases_playbook(tmp_path / "results"), sort_keys=False))
    proc = playbook(book)
    assert proc.returncode == 0, proc.stdout[-4000:]
    done = {}
    for host in ROLE_HOSTS.values():
        done.update((entry["case"], entry) for entry in json.loads((tmp_path / f"results-{host}.json").read_text()))
    assert sorted(done) == list(range(len(CASES)))
    for index, (role, _services, field, value) in enumerate(CASES):
        entry = done[index]
        assert entry["failed"], f"case {index} ({role}) was accepted"
        assert field in entry["msg"] and value in entry["msg"], f"case {index}: {entry['msg']}"
    assert {host: host_state(host) for host in ROLE_HOSTS.values()} == before
    assert (STATE / "inventory.yml").exists()
