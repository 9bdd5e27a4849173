"""keepalived 2.2.7 accepts every feature of a director group as the director role writes it.

The role renders keepalived.conf from the model (roles/director/templates/
keepalived.conf.j2) and installs it only if `keepalived -t` accepts it. Here
one model uses every feature at once: VRRPv2 with a password and unicast
peers, gratuitous ARP settings, floating inside addresses of both families,
every check type (tcp, http with a URL, https, script), a sorry server, a
quorum with hysteresis, inhibit-on-failure, persistence, one-packet
scheduling, mh flags, a GUE tunnel, IPv6 and firewall-mark services. The
role's template task renders it, with keepalived's own test as its
validation, inside a namespace that has the interfaces it names; a line
keepalived does not take fails the test with keepalived's message.
"""

from __future__ import annotations

import subprocess

import yaml
from conftest import COLLECTIONS, playbook

TEMPLATE = (
    COLLECTIONS / "ansible_collections" / "lvs" / "ipvs" / "roles" / "director" / "templates" / "keepalived.conf.j2"
)
GROUPS = [
    {
        "name": "front",
        "virtual_router_id": 61,
        "version": 2,
        "advert_interval": 1,
        "unicast": True,
        "authentication": {"password": "s3cret"},
        "preempt_delay": 5,
        "garp": {"master_delay": 1, "master_repeat": 3, "master_refresh": 60, "lower_prio_repeat": 2},
        "directors": [{"host": "d1", "priority": 150, "address": "10.61.0.1"}, {"host": "d2", "address": "10.61.0.2"}],
        "inside_addresses": ["10.62.0.3/24", "fd62::3/64"],
    }
]
SERVERS = [{"host": "r1", "address": "10.62.0.11"}, {"host": "r2", "address": "10.62.0.12", "weight": 3}]
SERVERS6 = [{"host": "r1", "address": "fd62::11"}, {"host": "r2", "address": "fd62::12"}]
SERVICES = [
    {**service, "director_group": "front"}
    for service in [
        {
            "name": "web",
            "mode": "nat",
            "address": "10.61.0.100",
            "port": 80,
            "scheduler": "wlc",
            "flags": ["persistent"],
            "timeout": 300,
            "netmask": "255.255.255.0",
            "health_check": {
                "type": "http",
                "url": "http://www.example.com/health",
                "status": ["200-299", 301],
                "inhibit_on_failure": True,
            },
            "sorry_server": {"address": "10.62.0.99", "port": 8080},
            "quorum": 2,
            "hysteresis": 1,
            "real_servers": SERVERS,
        },
        {
            "name": "tls",
            "mode": "dr",
            "address": "10.61.0.101",
            "port": 443,
            "scheduler": "mh",
            "flags": ["mh-port", "mh-fallback"],
            "health_check": {"type": "https", "path": "/ready", "virtualhost": "www.example.com", "timeout": 3},
            "real_servers": [dict(s) for s in SERVERS],
        },
        {
            "name": "dns",
            "mode": "dr",
            "address": "10.61.0.101",
            "protocol": "udp",
            "port": 53,
            "scheduler": "sh",
            "flags": ["one-packet", "sh-port"],
            "health_check": {"type": "script", "script": "/bin/true {address} {port}", "retries": 2, "retry_delay": 2},
            "real_servers": [dict(s) for s in SERVERS],
        },
        {
            "name": "gue",
            "mode": "tun",
            "address": "10.61.0.102",
            "port": 80,
            "scheduler": "rr",
            "tunnel": {"type": "gue", "port": 6080},
            "health_check": {"type": "tcp", "interval": 0.5},
            "real_servers": [dict(s) for s in SERVERS],
        },
        {
            "name": "web6",
            "mode": "dr",
            "address": "fd61::100",
            "port": 80,
            "scheduler": "wrr",
            "health_check": {"type": "tcp", "port": 8081},
            "real_servers": SERVERS6,
        },
        {
            "name": "marked",
            "mode": "dr",
            "fwmark": 7,
            "address": "10.61.0.103",
            "ports": [80, 443],
            "scheduler": "rr",
            "health_check": {"type": "tcp"},
            "real_servers": [dict(s) for s in SERVERS],
        },
    ]
]


PLAN = "{{ lvs_virtual_services | lvs.ipvs.director_plan('d1', lvs_director_groups) }}"


def test_keepalived_accepts_every_feature_as_the_role_writes_it(tmp_path):
    namespace = "ka-check"
    subprocess.run(["ip", "netns", "add", namespace], check=True)
    try:
        # The interfaces the configuration names (keepalived -t checks they exist): a veth pair.
        subprocess.run(
            ["ip", "-n", namespace, "link", "add", "eth0", "type", "veth", "peer", "name", "eth1"], check=True
        )
        for link in ("eth0", "eth1"):
            subprocess.run(["ip", "-n", namespace, "link", "set", link, "up"], check=True)
        out = tmp_path / "keepalived.conf"
        book = tmp_path / "render.yml"
        book.write_text(
            yaml.safe_dump(
                [
                    {
                        "name": "Render keepalived.conf as the director role does, checked by keepalived -t",
                        "hosts": "localhost",
                        "connection": "local",
                        "gather_facts": False,
                        "vars": {
                            "lvs_virtual_services": SERVICES,
                            "lvs_director_groups": GROUPS,
                            "director_vip_interface": "eth0",
                            "director_inside_interface": "eth1",
                            "director_plan": PLAN,
                        },
                        "tasks": [
                            {
                                "name": "Render",
                                "ansible.builtin.template": {
                                    "src": str(TEMPLATE),
                                    "dest": str(out),
                                    "mode": "0600",
                                    "validate": f"ip netns exec {namespace} keepalived -t -f %s",
                                },
                            }
                        ],
                    }
                ]
            )
        )
        run = playbook(book)
        assert run.returncode == 0, run.stdout[-4000:]
        text = out.read_text()
        for line in (
            "auth_pass s3cret",
            "unicast_src_ip 10.61.0.1",
            "garp_master_repeat 3",
            "preempt_delay 5",
            "fd62::3/64 dev eth1",
            "SSL_GET {",
            "virtualhost www.example.com",
            "status_code 200-299 301",
            'misc_path "/bin/true 10.62.0.12 53"',
            "sorry_server 10.62.0.99 8080",
            "quorum 2",
            "hysteresis 1",
            "inhibit_on_failure",
            "persistence_granularity 255.255.255.0",
            "lvs_method TUN type gue port 6080",
            "ops",
            "mh-fallback",
            "virtual_server fwmark 7 {",
            "connect_port 80",
            "connect_port 8081",
        ):
            assert line in text, f"{line!r} not in the rendered keepalived.conf:\n{text}"
    finally:
        subprocess.run(["ip", "netns", "del", namespace], check=False)
