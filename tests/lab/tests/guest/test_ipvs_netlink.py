"""The IPVS netlink layer against the kernel: each case writes, then reads back two ways.

Read back through the layer itself and through `ipvsadm -Sn`, an independent
reader of the same kernel table, so a symmetric encode/decode mistake cannot
hide. Runs in the lab kernel's own network namespace, flushed around each test.
"""

from __future__ import annotations

import errno
import subprocess
import sys

import pytest
from conftest import COLLECTIONS, dest, ipvsadm_save, svc

from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_client import BatchError
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_errors import IPVSError
from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_validate import normalize_daemon, service_key

WEB_OPTIONS = {"protocol": "tcp", "address": "203.0.113.1", "port": 80}
WEB = svc(**WEB_OPTIONS)


def test_service_with_destinations_reads_back_identically(ipvs):
    ipvs.add_service(svc(**WEB_OPTIONS, flags=["persistent"], timeout=300, netmask="255.255.255.0"))
    ipvs.add_destination(
        WEB,
        dest(WEB, address="192.0.2.11", port=8080, forward="masq", weight=3, u_threshold=100, l_threshold=10),
    )
    ipvs.add_destination(WEB, dest(WEB, **{"address": "192.0.2.12", "port": 80, "forward": "droute", "weight": 0}))
    [found] = ipvs.services()
    assert {k: found[k] for k in ("protocol", "address", "port", "scheduler", "timeout", "netmask")} == {
        "protocol": "tcp",
        "address": "203.0.113.1",
        "port": 80,
        "scheduler": "wlc",
        "timeout": 300,
        "netmask": "255.255.255.0",
    }
    assert found["flags"] == ["persistent"]
    dests = {d["address"]: d for d in ipvs.destinations(WEB)}
    assert (dests["192.0.2.11"]["forward"], dests["192.0.2.11"]["weight"], dests["192.0.2.11"]["port"]) == (
        "masq",
        3,
        8080,
    )
    assert (dests["192.0.2.11"]["u_threshold"], dests["192.0.2.11"]["l_threshold"]) == (100, 10)
    assert (dests["192.0.2.12"]["forward"], dests["192.0.2.12"]["weight"]) == ("droute", 0)
    assert ipvsadm_save() == sorted(
        [
            "-A -t 203.0.113.1:80 -s wlc -p 300 -M 255.255.255.0",
            "-a -t 203.0.113.1:80 -r 192.0.2.11:8080 -m -w 3",
            "-a -t 203.0.113.1:80 -r 192.0.2.12:80 -g -w 0",
        ]
    )


def test_thresholds_read_back_through_ipvsadm_too(ipvs):
    # `ipvsadm -Sn` leaves thresholds out; its threshold listing shows them.
    ipvs.add_service(svc(**{**WEB_OPTIONS, "scheduler": "lc"}))
    ipvs.add_destination(WEB, dest(WEB, **{"address": "192.0.2.11", "port": 80, "u_threshold": 100, "l_threshold": 10}))
    out = subprocess.run(["ipvsadm", "-Ln", "--thresholds"], capture_output=True, text=True, check=True).stdout
    row = next(line.split() for line in out.splitlines() if "192.0.2.11:80" in line)
    assert row[2:4] == ["100", "10"]  # -> ADDR Uthreshold Lthreshold ActiveConn InActConn


def test_ipv6_udp_sctp_and_fwmark_services(ipvs):
    v6 = svc(
        protocol="udp",
        address="2001:db8::1",
        port=53,
        scheduler="sh",
        flags=["persistent", "sh-fallback", "sh-port"],
        timeout=60,
        netmask=64,
    )
    ipvs.add_service(v6)
    ipvs.add_service(svc(protocol="sctp", address="203.0.113.2", port=3868, scheduler="rr"))
    ipvs.add_service(svc(fwmark=7, family="ipv6", scheduler="mh", flags=["mh-fallback", "mh-port"]))
    ipvs.add_destination(v6, dest(v6, address="2001:db8:2::11", forward="masq"))
    by_key = {service_key(s): s for s in ipvs.services()}
    assert by_key[("ipv6", "udp", "2001:db8::1", 53)]["flags"] == ["persistent", "sh-fallback", "sh-port"]
    assert by_key[("ipv6", "udp", "2001:db8::1", 53)]["netmask"] == 64
    assert by_key[("ipv6", "fwmark", 7)]["flags"] == ["mh-fallback", "mh-port"]
    assert ("ipv4", "sctp", "203.0.113.2", 3868) in by_key
    saved = ipvsadm_save()
    assert "-A -u [2001:db8::1]:53 -s sh -p 60 -M 64 -b sh-fallback,sh-port" in saved
    assert "-A -f 7 -6 -s mh -b mh-fallback,mh-port" in saved
    assert "-A --sctp-service 203.0.113.2:3868 -s rr" in saved
    assert "-a -u [2001:db8::1]:53 -r [2001:db8:2::11]:53 -m -w 1" in saved


def test_tunnel_destinations_keep_type_port_and_flags(ipvs):
    ipvs.add_service(svc(**{**WEB_OPTIONS, "scheduler": "rr"}))
    ipvs.add_destination(
        WEB, dest(WEB, address="192.0.2.21", forward="tunnel", tunnel={"type": "gue", "port": 6080, "flags": ["csum"]})
    )
    ipvs.add_destination(WEB, dest(WEB, address="192.0.2.22", forward="tunnel", tunnel={"type": "gre"}))
    dests = {d["address"]: d for d in ipvs.destinations(WEB)}
    assert dests["192.0.2.21"]["tunnel"] == {"type": "gue", "port": 6080, "flags": ["csum"]}
    assert dests["192.0.2.22"]["tunnel"]["type"] == "gre"
    saved = ipvsadm_save()
    assert "-a -t 203.0.113.1:80 -r 192.0.2.21:80 -i -w 1 --tun-type gue --tun-port 6080 --tun-csum" in saved


def test_edits_change_in_place(ipvs):
    ipvs.add_service(svc(**{**WEB_OPTIONS, "scheduler": "rr"}))
    ipvs.add_destination(WEB, dest(WEB, **{"address": "192.0.2.11", "port": 80, "forward": "masq", "weight": 1}))
    ipvs.edit_service(svc(**{**WEB_OPTIONS, "scheduler": "wrr", "flags": ["persistent"], "timeout": 120}))
    ipvs.edit_destination(WEB, dest(WEB, **{"address": "192.0.2.11", "port": 80, "forward": "masq", "weight": 7}))
    assert ipvsadm_save() == sorted(
        [
            "-A -t 203.0.113.1:80 -s wrr -p 120",
            "-a -t 203.0.113.1:80 -r 192.0.2.11:80 -m -w 7",
        ]
    )


def test_kernel_errors_name_the_problem(ipvs):
    ipvs.add_service(svc(**{**WEB_OPTIONS, "scheduler": "rr"}))
    with pytest.raises(IPVSError) as exists:
        ipvs.add_service(svc(**{**WEB_OPTIONS, "scheduler": "rr"}))
    assert exists.value.errno == errno.EEXIST and "203.0.113.1:80" in str(exists.value)
    with pytest.raises(IPVSError) as missing:
        ipvs.delete_service(svc(protocol="tcp", address="203.0.113.9", port=80))
    assert "203.0.113.9:80" in str(missing.value)
    # A scheduler the validator would refuse, sent as it is: the kernel's own answer.
    with pytest.raises(IPVSError) as sched:
        ipvs.add_service(dict(svc(address="203.0.113.3", port=80), scheduler="nosuch"))
    assert "nosuch" in str(sched.value)
    assert ipvs.get_service(svc(protocol="tcp", address="203.0.113.9", port=80)) is None


def test_timeouts_info_zero_and_flush(ipvs):
    before = ipvs.get_timeouts()
    ipvs.set_timeouts({"tcp": 901, "tcpfin": 121, "udp": 301})
    assert ipvs.get_timeouts() == {"tcp": 901, "tcpfin": 121, "udp": 301}
    out = subprocess.run(["ipvsadm", "-L", "--timeout"], capture_output=True, text=True, check=True).stdout
    assert "901 121 301" in out.replace("  ", " ")
    ipvs.set_timeouts(before)
    info = ipvs.info()
    assert info["version"].startswith("1.2") and info["conn_table_size"] == 4096
    ipvs.add_service(svc(**{**WEB_OPTIONS, "scheduler": "rr"}))
    ipvs.zero(WEB)
    ipvs.zero()
    ipvs.flush()
    assert ipvs.services() == [] and ipvsadm_save() == []


def test_sync_daemons_start_list_and_stop(ipvs):
    ipvs.start_daemon(normalize_daemon({"role": "master", "interface": "lo", "sync_id": 9}))
    try:
        [daemon] = ipvs.daemons()
        assert (daemon["state"], daemon["mcast_interface"], daemon["sync_id"]) == ("master", "lo", 9)
        out = subprocess.run(["ipvsadm", "-L", "--daemon"], capture_output=True, text=True, check=True).stdout
        assert "master sync daemon" in out and "syncid=9" in out
    finally:
        ipvs.stop_daemon("master")
    assert ipvs.daemons() == []


# Every scheduler of the lab's 6.1 kernel (twos came with 6.6); "none" binds none.
SCHEDULERS = ("rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh", "none")


def test_every_scheduler_reads_back(ipvs):
    for port, scheduler in enumerate(SCHEDULERS, start=1):
        ipvs.add_service(svc(**{**WEB_OPTIONS, "port": port, "scheduler": scheduler}))
    by_port = {s["port"]: s["scheduler"] for s in ipvs.services()}
    assert by_port == dict(enumerate(SCHEDULERS, start=1))
    saved = ipvsadm_save()
    for port, scheduler in enumerate(SCHEDULERS, start=1):
        assert f"-A -t 203.0.113.1:{port} -s {scheduler}" in saved


def test_persistence_engine_one_packet_and_ipv6_persistence(ipvs):
    sip = {"protocol": "udp", "address": "203.0.113.5", "port": 5060}
    ipvs.add_service(svc(**sip, scheduler="rr", flags=["persistent", "one-packet"], timeout=30, pe_name="sip"))
    ipvs.add_service(svc(fwmark=3, family="ipv6", scheduler="wlc", flags=["persistent"], timeout=90, netmask=48))
    by_key = {service_key(s): s for s in ipvs.services()}
    got = by_key[("ipv4", "udp", "203.0.113.5", 5060)]
    assert (got["pe_name"], got["flags"], got["timeout"]) == ("sip", ["persistent", "one-packet"], 30)
    assert (by_key[("ipv6", "fwmark", 3)]["netmask"], by_key[("ipv6", "fwmark", 3)]["timeout"]) == (48, 90)
    saved = ipvsadm_save()
    assert "-A -u 203.0.113.5:5060 -s rr -p 30 --pe sip -o" in saved
    assert "-A -f 3 -6 -s wlc -p 90 -M 48" in saved


def test_an_ipv6_real_server_behind_an_ipv4_service_needs_a_tunnel(ipvs):
    ipvs.add_service(svc(**{**WEB_OPTIONS, "scheduler": "rr"}))
    ipvs.add_destination(WEB, dest(WEB, address="2001:db8:2::21", forward="tunnel"))
    [found] = ipvs.destinations(WEB)
    assert (found["family"], found["address"], found["forward"]) == ("ipv6", "2001:db8:2::21", "tunnel")
    # What the validator refuses, sent as it is: the kernel's own answer.
    mixed = dict(dest(WEB, address="2001:db8:2::22", forward="tunnel"), forward="masq", tunnel=None)
    with pytest.raises(IPVSError) as caught:
        ipvs.add_destination(WEB, mixed)
    assert caught.value.errno == errno.EINVAL and "forward: tunnel" in str(caught.value)


def test_a_backup_daemon_keeps_its_multicast_settings(ipvs):
    subprocess.run(
        "ip link add lvsync0 type veth peer name lvsync1 && ip link set lvsync0 up && ip link set lvsync1 up",
        shell=True,
        check=True,
    )
    settings = normalize_daemon(
        {
            "role": "backup",
            "interface": "lvsync0",
            "sync_id": 7,
            "max_len": 1400,
            "group": "239.1.2.3",
            "port": 8849,
            "ttl": 2,
        }
    )
    try:
        ipvs.start_daemon(settings)
        [daemon] = ipvs.daemons()
        assert daemon == settings
        out = subprocess.run(["ipvsadm", "-L", "--daemon"], capture_output=True, text=True, check=True).stdout
        assert "backup sync daemon (mcast=lvsync0, syncid=7, maxlen=1400, group=239.1.2.3, port=8849" in out
    finally:
        ipvs.stop_daemon("backup")
        subprocess.run(["ip", "link", "del", "lvsync0"], check=False)
    assert ipvs.daemons() == []


def test_a_batch_with_a_refused_step_reports_exactly_what_the_kernel_holds(ipvs):
    web = svc(**WEB_OPTIONS, scheduler="rr")
    other = svc(**{**WEB_OPTIONS, "port": 81}, scheduler="rr")
    steps = [
        ("add_service", web, None),
        ("add_service", web, None),  # refused: it exists
        ("add_destination", web, dest(web, address="192.0.2.11")),
        ("add_service", other, None),
        ("add_destination", other, dest(other, address="192.0.2.12")),
    ]
    with pytest.raises(BatchError) as caught:
        ipvs.run(steps, batch_size=3)
    assert caught.value.applied == [0, 2]
    assert [(index, error.errno) for index, error in caught.value.failed] == [(1, errno.EEXIST)]
    assert caught.value.not_sent == [3, 4]
    assert ipvsadm_save() == sorted(["-A -t 203.0.113.1:80 -s rr", "-a -t 203.0.113.1:80 -r 192.0.2.11:80 -m -w 1"])


def test_many_requests_go_out_in_batches_of_500(ipvs):
    steps = [("add_service", svc(**{**WEB_OPTIONS, "port": port}, scheduler="rr"), None) for port in range(1, 1202)]
    assert ipvs.run(steps) == list(range(1201))
    assert len(ipvs.services()) == 1201


def test_without_cap_net_admin_the_error_says_what_is_needed(ipvs):
    code = (
        f"import sys; sys.path.insert(0, {str(COLLECTIONS)!r});"
        "from ansible_collections.lvs.ipvs.plugins.module_utils._ipvs_client import IPVSClient;"
        f"IPVSClient().add_service({WEB!r})"
    )
    proc = subprocess.run(
        ["setpriv", "--inh-caps=-net_admin", "--bounding-set=-net_admin", sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1
    assert "IPVS add service tcp 203.0.113.1:80: not permitted: IPVS needs CAP_NET_ADMIN" in proc.stderr
    assert ipvs.services() == []
