import copy
import hashlib
import ipaddress
import re
from pathlib import Path

import pytest
import yaml

from lvslab import images, topology
from lvslab.kernel import LabError

TOPOLOGIES = Path(__file__).resolve().parents[2] / "topologies"

VALID = {
    "name": "demo",
    "networks": {
        "front": {"ipv4": "203.0.113.0/24", "ipv6": "2001:db8:1::/64"},
        "back": {"ipv4": "10.1.0.0/16"},
    },
    "vars": {"lab_vip": "203.0.113.100"},
    "hosts": {
        "client1": {
            "groups": ["clients"],
            "interfaces": [{"network": "front", "ipv4": "203.0.113.10", "ipv6": "2001:db8:1::10"}],
        },
        "lb1": {
            "groups": ["directors", "edge"],
            "interfaces": [
                {"network": "front", "ipv4": "203.0.113.2"},
                {"network": "back", "ipv4": "10.1.0.1"},
            ],
            "routes": [{"to": "default", "via": "203.0.113.1"}],
            "sysctl": {"net.ipv4.ip_forward": 1},
            "vars": {"lvs_role": "director"},
        },
        "rs1": {
            "groups": ["real_servers"],
            "interfaces": [{"network": "back", "ipv4": "10.1.0.11"}],
            "serve": [{"port": 80}, {"proto": "udp", "port": 53}],
        },
    },
}


def valid():
    return copy.deepcopy(VALID)


def assert_fails(data, *parts):
    with pytest.raises(LabError) as info:
        topology.parse(data)
    for part in parts:
        assert part in str(info.value)
    return str(info.value)


def test_parse_valid():
    topo = topology.parse(valid())
    assert topo.name == "demo"
    assert topo.vars == {"lab_vip": "203.0.113.100"}
    assert topo.networks["front"] == {
        "ipv4": ipaddress.IPv4Network("203.0.113.0/24"),
        "ipv6": ipaddress.IPv6Network("2001:db8:1::/64"),
    }
    assert set(topo.networks["back"]) == {"ipv4"}
    assert list(topo.hosts) == ["client1", "lb1", "rs1"]

    client = topo.hosts["client1"]
    assert client.groups == ["clients"]
    assert client.interfaces == [
        topology.Interface(
            network="front",
            ipv4=ipaddress.IPv4Interface("203.0.113.10/24"),
            ipv6=ipaddress.IPv6Interface("2001:db8:1::10/64"),
        )
    ]

    lb = topo.hosts["lb1"]
    assert [i.network for i in lb.interfaces] == ["front", "back"]
    assert lb.interfaces[1].ipv4.network.prefixlen == 16
    assert lb.interfaces[1].ipv6 is None
    assert lb.routes == [{"to": "default", "via": "203.0.113.1"}]
    assert lb.sysctl == {"net.ipv4.ip_forward": "1"}
    assert lb.vars == {"lvs_role": "director"}

    assert topo.hosts["rs1"].serve == [{"port": 80}, {"proto": "udp", "port": 53}]


def test_parse_defaults_name_and_empty_host():
    topo = topology.parse({"hosts": {"solo": None}})
    assert topo.name == "lab"
    assert topo.networks == {}
    assert topo.hosts["solo"] == topology.Host(name="solo")


def test_unknown_top_level_key():
    data = valid()
    data["hostz"] = {}
    assert_fails(data, "topology:", "'hostz'", "unknown key")


def test_unknown_host_key():
    data = valid()
    data["hosts"]["rs1"]["interface"] = []
    assert_fails(data, "hosts.rs1", "'interface'", "unknown key")


@pytest.mark.parametrize("name", ["Rs1", "a" * 16, "1rs", "rs.1"])
def test_bad_host_name(name):
    data = valid()
    data["hosts"][name] = {}
    assert_fails(data, f"hosts.{name}", repr(name))


def test_host_name_of_fifteen_characters_is_allowed():
    assert "a" * 15 in topology.parse({"hosts": {"a" * 15: {}}}).hosts


def test_network_name_too_long():
    data = valid()
    data["networks"]["abcdefghijkl"] = {"ipv4": "192.0.2.0/24"}
    assert_fails(data, "networks.abcdefghijkl", "'abcdefghijkl'", "11 characters")


@pytest.mark.parametrize(
    ("family", "subnet"),
    [("ipv4", "10.0.0.1/24"), ("ipv4", "300.0.0.0/8"), ("ipv6", "2001:db8::/129"), ("ipv4", "2001:db8::/64")],
)
def test_bad_subnet(family, subnet):
    data = valid()
    data["networks"]["front"][family] = subnet
    assert_fails(data, f"networks.front.{family}", repr(subnet))


def test_interface_on_unknown_network():
    data = valid()
    data["hosts"]["rs1"]["interfaces"][0]["network"] = "nowhere"
    assert_fails(data, "hosts.rs1.interfaces[0].network", "'nowhere'", "no such network")


def test_address_outside_subnet():
    data = valid()
    data["hosts"]["lb1"]["interfaces"][1]["ipv4"] = "10.2.0.1"
    assert_fails(data, "hosts.lb1.interfaces[1].ipv4", "'10.2.0.1'", "10.1.0.0/16")


def test_address_not_an_address():
    data = valid()
    data["hosts"]["rs1"]["interfaces"][0]["ipv4"] = "10.1.0.999"
    assert_fails(data, "hosts.rs1.interfaces[0].ipv4", "'10.1.0.999'", "not an ipv4 address")


def test_address_family_missing_from_network():
    data = valid()
    data["hosts"]["rs1"]["interfaces"][0]["ipv6"] = "2001:db8:1::11"
    assert_fails(data, "hosts.rs1.interfaces[0].ipv6", "'2001:db8:1::11'", "no ipv6 subnet")


def test_duplicate_address_names_other_host():
    data = valid()
    data["hosts"]["rs1"]["interfaces"][0]["ipv4"] = "10.1.0.1"
    assert_fails(data, "hosts.rs1.interfaces[0].ipv4", "'10.1.0.1'", "already used by lb1")


def test_duplicate_ipv6_address_written_differently():
    data = valid()
    data["hosts"]["lb1"]["interfaces"][0]["ipv6"] = "2001:0db8:0001:0000::0010"
    assert_fails(data, "hosts.lb1.interfaces[0].ipv6", "already used by client1")


@pytest.mark.parametrize("route", [{"to": "default"}, {"via": "10.1.0.1"}, "default via 10.1.0.1"])
def test_route_needs_to_and_via(route):
    data = valid()
    data["hosts"]["rs1"]["routes"] = [{"to": "default", "via": "10.1.0.1"}, route]
    assert_fails(data, "hosts.rs1.routes[1]", repr(route), "'to' and 'via'")


def test_serve_bad_proto():
    data = valid()
    data["hosts"]["rs1"]["serve"][1]["proto"] = "sctp"
    assert_fails(data, "hosts.rs1.serve[1].proto", "'sctp'", "tcp or udp")


@pytest.mark.parametrize("port", [0, 70000, "80", None])
def test_serve_bad_port(port):
    data = valid()
    data["hosts"]["rs1"]["serve"][0]["port"] = port
    assert_fails(data, "hosts.rs1.serve[0].port", repr(port), "1 to 65535")


@pytest.mark.parametrize("port", [1, 65535])
def test_serve_port_bounds_accepted(port):
    data = valid()
    data["hosts"]["rs1"]["serve"][0]["port"] = port
    assert topology.parse(data).hosts["rs1"].serve[0]["port"] == port


@pytest.mark.parametrize("hosts", [None, {}])
def test_no_hosts(hosts):
    data = valid()
    data["hosts"] = hosts
    assert_fails(data, "hosts:", "at least one host")


def test_not_a_mapping():
    assert_fails(["hosts"], "must be a mapping")


def test_inventory(tmp_path):
    topo = topology.parse(valid())
    inv = topology.inventory(topo, tmp_path / "state", python="/usr/bin/python3")
    all_ = inv["all"]
    assert all_["vars"] == {"lab_topology": "demo", "lab_vip": "203.0.113.100"}
    assert list(all_["hosts"]) == ["client1", "lb1", "rs1"]
    for name, hv in all_["hosts"].items():
        assert hv["ansible_connection"] == "lvs.ipvs.netns"
        assert hv["ansible_host"] == name
        assert hv["ansible_netns_mount_namespace"] == str(tmp_path / "state" / name / "mnt")
        assert hv["ansible_python_interpreter"] == "/usr/bin/python3"
    assert all_["hosts"]["client1"]["lab_networks"] == {
        "front": {"ipv4": "203.0.113.10", "ipv6": "2001:db8:1::10", "interface": "eth0"},
    }
    lb = all_["hosts"]["lb1"]
    assert list(lb["lab_networks"].items()) == [
        ("front", {"ipv4": "203.0.113.2", "ipv6": None, "interface": "eth0"}),
        ("back", {"ipv4": "10.1.0.1", "ipv6": None, "interface": "eth1"}),
    ]
    assert lb["lvs_role"] == "director"
    assert "lvs_role" not in all_["hosts"]["rs1"]
    assert "lvs_role" not in all_["vars"]
    assert all_["children"] == {
        "clients": {"hosts": {"client1": None}},
        "directors": {"hosts": {"lb1": None}},
        "edge": {"hosts": {"lb1": None}},
        "real_servers": {"hosts": {"rs1": None}},
    }


def test_inventory_host_vars_override_defaults(tmp_path):
    data = valid()
    data["hosts"]["rs1"]["vars"] = {"ansible_python_interpreter": "/opt/py"}
    hv = topology.inventory(topology.parse(data), tmp_path)["all"]["hosts"]["rs1"]
    assert hv["ansible_python_interpreter"] == "/opt/py"


def test_load_nat_topology(tmp_path):
    topo = topology.load(TOPOLOGIES / "nat.yml")
    assert topo.name == "nat"
    assert list(topo.hosts) == ["client1", "director1", "rs1", "rs2"]
    director = topo.hosts["director1"]
    assert [str(i.ipv4) for i in director.interfaces] == ["203.0.113.2/24", "192.0.2.1/24"]
    assert [str(i.ipv6) for i in director.interfaces] == ["2001:db8:113::2/64", "2001:db8:2::1/64"]
    assert topo.hosts["client1"].interfaces[0].network == "public"
    for rs in ("rs1", "rs2"):
        assert topo.hosts[rs].serve == [{"port": 80}]
        assert topo.hosts[rs].interfaces[0].network == "private"
    children = topology.inventory(topo, tmp_path)["all"]["children"]
    assert {g: list(v["hosts"]) for g, v in children.items()} == {
        "clients": ["client1"],
        "directors": ["director1"],
        "real_servers": ["rs1", "rs2"],
    }


@pytest.mark.parametrize("name", ["rs1\n", "pub\n"])
def test_a_trailing_newline_does_not_pass_as_a_name(name):
    with pytest.raises(LabError, match="name"):
        topology.parse({"networks": {name: {"ipv4": "10.0.0.0/24"}}, "hosts": {"a": {}}})
    with pytest.raises(LabError, match="name"):
        topology.parse({"hosts": {name: {}}})


@pytest.mark.parametrize(
    "data, field",
    [
        ({"networks": {"n": "10.0.0.0/24"}, "hosts": {"a": {}}}, "networks.n"),
        ({"hosts": ["a"]}, "hosts"),
        ({"hosts": {"a": "client"}}, "hosts.a"),
        ({"networks": {"n": {"ipv4": "10.0.0.0/24"}}, "hosts": {"a": {"interfaces": ["n"]}}}, "hosts.a.interfaces[0]"),
        ({"hosts": {"a": {"serve": [80]}}}, "hosts.a.serve[0]"),
    ],
)
def test_wrong_shapes_are_named_not_crashes(data, field):
    with pytest.raises(LabError, match=re.escape(field)):
        topology.parse(data)


def test_a_boolean_is_not_a_port():
    with pytest.raises(LabError, match=r"serve\[0\]\.port"):
        topology.parse({"hosts": {"a": {"serve": [{"port": True}]}}})


def test_load_every_mode_topology_and_its_checks(tmp_path):
    topo = topology.load(TOPOLOGIES / "modes.yml")
    inventory = topology.inventory(topo, tmp_path)["all"]
    groups = {g: list(v["hosts"]) for g, v in inventory["children"].items()}
    assert groups["real_servers"] == ["nat1", "nat2", "rs1", "rs2"]
    assert groups["directors"] == ["director1"]
    assert inventory["hosts"]["nat1"]["real_server_nat_gateway"] == {"ipv4": "192.0.2.1", "ipv6": "2001:db8:2::1"}
    assert {s["mode"] for s in inventory["vars"]["lvs_virtual_services"]} == {"nat", "dr", "tun", "fullnat"}
    # Every host a check names exists in the topology.
    checks = yaml.safe_load((TOPOLOGIES / "modes.checks.yml").read_text())["checks"]
    named = {c.get("from") for c in checks} | {c.get("expect") for c in checks if isinstance(c.get("expect"), str)}
    for check in checks:
        named |= set(check.get("hosts", ())) | set(check.get("forbid", ())) | set(check.get("only", ()))
        if isinstance(check.get("expect"), list):
            named |= set(check["expect"])
    assert named - {None} <= set(topo.hosts)


def test_a_container_host_is_reached_like_a_namespace_host(tmp_path):
    data = valid()
    data["hosts"]["rs1"]["container"] = True
    topo = topology.parse(data)
    assert topo.hosts["rs1"].container and not topo.hosts["lb1"].container
    rs1 = topology.inventory(topo, tmp_path, python="/usr/bin/python3")["all"]["hosts"]["rs1"]
    # The container's mount namespace is pinned where a namespace host's is.
    assert rs1["ansible_connection"] == "lvs.ipvs.netns"
    assert rs1["ansible_netns_mount_namespace"] == str(tmp_path / "rs1" / "mnt")
    assert "container" not in rs1


@pytest.mark.parametrize("value", ["yes", 1, None, "debian11"])
def test_container_must_be_a_boolean_or_an_image(value):
    data = valid()
    data["hosts"]["rs1"]["container"] = value
    assert_fails(data, "hosts.rs1.container", repr(value), "true, false or an image: debian12, debian13")


def test_a_host_on_a_debian_image_runs_modules_with_the_images_python(tmp_path):
    data = valid()
    data["hosts"]["rs1"]["container"] = "debian13"
    topo = topology.parse(data)
    hosts = topology.inventory(topo, tmp_path, python="/lab/venv/bin/python")["all"]["hosts"]
    assert hosts["rs1"]["ansible_python_interpreter"] == "/usr/bin/python3"
    assert hosts["lb1"]["ansible_python_interpreter"] == "/lab/venv/bin/python"


def test_an_image_not_built_is_named_with_what_to_run(tmp_path):
    with pytest.raises(LabError, match=r"image 'debian12' is not built .* run scripts/setup.sh"):
        images.paths("debian12", base=tmp_path)
    with pytest.raises(LabError, match=r"image 'debian9': unknown; the images are debian12, debian13"):
        images.paths("debian9", base=tmp_path)


def test_an_image_is_current_only_while_its_recipe_is(tmp_path, monkeypatch):
    (tmp_path / "debian12").mkdir()
    stamp = tmp_path / "debian12" / "stamp"
    stamp.write_text(hashlib.sha256(images.recipe("debian12").encode()).hexdigest())
    assert images.paths("debian12", base=tmp_path) == (tmp_path / "debian12" / "rootfs", tmp_path / "debian12" / "repo")
    monkeypatch.setattr(images, "REPO_PACKAGES", (*images.REPO_PACKAGES, "haproxy"))
    with pytest.raises(LabError, match="out of date"):
        images.paths("debian12", base=tmp_path)


def test_podman_keeps_its_storage_in_the_lab_state(tmp_path):
    args = topology.podman_args(tmp_path)
    assert args[args.index("--root") + 1].startswith(str(tmp_path))
    assert args[args.index("--runroot") + 1].startswith(str(tmp_path))
    assert args[args.index("--storage-driver") + 1] == "vfs"


@pytest.mark.parametrize("mode", ["nat", "dr", "tun", "fullnat"])
def test_each_mode_scenario_names_hosts_of_the_roles_topology(mode):
    """The example inventory and the checks of each per-mode scenario fit tests/lab/topologies/roles.yml."""
    root = TOPOLOGIES.parents[2]
    topo = topology.load(TOPOLOGIES / "roles.yml")
    example = yaml.safe_load((root / "docs" / "examples" / "inventories" / f"{mode}.yml").read_text())["all"]
    groups = {name: set(group["hosts"]) for name, group in example["children"].items()}
    assert groups["directors"] | groups["real_servers"] <= set(topo.hosts)
    services = example["vars"]["lvs_virtual_services"]
    assert {s["mode"] for s in services} == {mode}
    assert {rs["host"] for s in services for rs in s["real_servers"]} == groups["real_servers"]
    checks = yaml.safe_load((root / "extensions" / "molecule" / mode / "checks.yml").read_text())["checks"]
    assert checks
    for check in checks:
        named = {check.get("from")} | set(check.get("hosts", ())) | set(check.get("forbid", ()))
        expect = check.get("expect")
        named |= {expect} if isinstance(expect, str) else set(expect or ())
        assert named - {None} <= set(topo.hosts), check["label"]
