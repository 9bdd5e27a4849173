"""Lab topologies: hosts as network namespaces, joined by veth pairs to bridges.

A topology is data (YAML): networks with IPv4/IPv6 subnets, and hosts with
interfaces on those networks, routes, sysctls, inventory groups and the
services they serve. ``load`` validates it; ``up`` and ``down`` build and
remove it. Each host also gets a persistent mount namespace in which
``/etc``, ``/var/lib`` and ``/usr/local`` are overlays and ``/run`` is a
tmpfs, so roles that write files work unchanged and hosts never see each
other's files.

A host marked ``container: true`` is a podman container instead, joined to
its network namespace: it has a root file system of its own (a copy of
``/etc``, empty ``/var``, ``/root``, ``/usr/local``, ``/run`` and ``/tmp``;
the rest of ``/usr`` and the Python that runs Ansible's modules are
bind-mounted read-only). A host marked ``container: debian12`` (or another
name from ``images.IMAGES``) is a container whose root file system is that
Debian image, shared by overlay, with its own Python and its own packages
(see ``images``). Its mount namespace is pinned where a namespace host's
would be, so Ansible and ``exec`` reach every kind the same way.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import re
import signal
import subprocess
import sys
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from . import images
from .kernel import LabError

DEFAULT_STATE = Path("/run/lvslab")
NAME_RE = re.compile(r"[a-z][a-z0-9_-]{0,14}")
PRIVATE_DIRS = ("etc", "var/lib", "usr/local")


@dataclass
class Interface:
    network: str
    ipv4: ipaddress.IPv4Interface | None = None
    ipv6: ipaddress.IPv6Interface | None = None


@dataclass
class Host:
    name: str
    groups: list[str] = field(default_factory=list)
    interfaces: list[Interface] = field(default_factory=list)
    routes: list[dict] = field(default_factory=list)
    sysctl: dict[str, str] = field(default_factory=dict)
    serve: list[dict] = field(default_factory=list)
    vars: dict = field(default_factory=dict)
    # False, True (the lab's own /usr) or the name of a Debian image
    container: bool | str = False


@dataclass
class Topology:
    name: str
    networks: dict[str, dict]
    hosts: dict[str, Host]
    vars: dict = field(default_factory=dict)


def _fail(where: str, value, why: str):
    raise LabError(f"topology: {where}: {value!r}: {why}")


def _address(where: str, value, network: dict, family: str):
    subnet = network.get(family)
    if subnet is None:
        _fail(where, value, f"the network has no {family} subnet")
    try:
        addr = ipaddress.ip_address(str(value))
    except ValueError:
        _fail(where, value, f"not an {family} address")
    if addr not in subnet:
        _fail(where, value, f"outside the network's subnet {subnet}")
    return ipaddress.ip_interface(f"{addr}/{subnet.prefixlen}")


def parse(data: dict) -> Topology:
    """Validate topology data; raise LabError naming the field and value."""
    if not isinstance(data, dict):
        _fail("topology", data, "must be a mapping")
    unknown = set(data) - {"name", "networks", "hosts", "vars"}
    if unknown:
        _fail("topology", sorted(unknown)[0], "unknown key")
    name = str(data.get("name", "lab"))
    networks = {}
    for net, spec in (data.get("networks") or {}).items():
        if not NAME_RE.fullmatch(str(net)) or len(str(net)) > 11:
            _fail(f"networks.{net}", net, "name must be lowercase, at most 11 characters")
        spec = spec or {}
        if not isinstance(spec, dict):
            _fail(f"networks.{net}", spec, "must be a mapping with ipv4 and/or ipv6 subnets")
        parsed = {}
        for family, cls in (("ipv4", ipaddress.IPv4Network), ("ipv6", ipaddress.IPv6Network)):
            if spec.get(family) is not None:
                try:
                    parsed[family] = cls(str(spec[family]))
                except ValueError as exc:
                    _fail(f"networks.{net}.{family}", spec[family], str(exc))
        networks[net] = parsed
    hosts = {}
    seen = {}
    if not isinstance(data.get("hosts") or {}, dict):
        _fail("hosts", data["hosts"], "must be a mapping of host names to hosts")
    for hname, spec in (data.get("hosts") or {}).items():
        where = f"hosts.{hname}"
        if not NAME_RE.fullmatch(str(hname)):
            _fail(where, hname, "host name must match " + NAME_RE.pattern)
        spec = spec or {}
        if not isinstance(spec, dict):
            _fail(where, spec, "must be a mapping")
        unknown = set(spec) - {"groups", "interfaces", "routes", "sysctl", "serve", "vars", "container"}
        if unknown:
            _fail(where, sorted(unknown)[0], "unknown key")
        host = Host(
            name=hname,
            groups=list(spec.get("groups") or []),
            routes=list(spec.get("routes") or []),
            sysctl={str(k): str(v) for k, v in (spec.get("sysctl") or {}).items()},
            serve=list(spec.get("serve") or []),
            vars=dict(spec.get("vars") or {}),
            container=spec.get("container", False),
        )
        if not isinstance(host.container, bool) and host.container not in images.IMAGES:
            _fail(f"{where}.container", host.container, "must be true, false or an image: " + ", ".join(images.IMAGES))
        for i, iface in enumerate(spec.get("interfaces") or []):
            iwhere = f"{where}.interfaces[{i}]"
            if not isinstance(iface, dict):
                _fail(iwhere, iface, "must be a mapping with network, ipv4 and ipv6")
            net = iface.get("network")
            if net not in networks:
                _fail(f"{iwhere}.network", net, "no such network")
            parsed = Interface(network=net)
            for family in ("ipv4", "ipv6"):
                if iface.get(family) is not None:
                    addr = _address(f"{iwhere}.{family}", iface[family], networks[net], family)
                    if addr.ip in seen:
                        _fail(f"{iwhere}.{family}", iface[family], f"already used by {seen[addr.ip]}")
                    seen[addr.ip] = hname
                    setattr(parsed, family, addr)
            host.interfaces.append(parsed)
        for i, route in enumerate(host.routes):
            if not isinstance(route, dict) or "to" not in route or "via" not in route:
                _fail(f"{where}.routes[{i}]", route, "a route needs 'to' and 'via'")
        for i, svc in enumerate(host.serve):
            if not isinstance(svc, dict):
                _fail(f"{where}.serve[{i}]", svc, "must be a mapping with port and proto")
            proto = svc.get("proto", "tcp")
            if proto not in ("tcp", "udp", "echo"):
                _fail(f"{where}.serve[{i}].proto", proto, "must be tcp or udp, or echo (lines over TCP)")
            port = svc.get("port")
            if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
                _fail(f"{where}.serve[{i}].port", port, "must be an integer from 1 to 65535")
        hosts[hname] = host
    if not hosts:
        _fail("hosts", data.get("hosts"), "a topology needs at least one host")
    return Topology(name=name, networks=networks, hosts=hosts, vars=dict(data.get("vars") or {}))


def load(path: Path) -> Topology:
    with open(path, encoding="utf-8") as fh:
        return parse(yaml.safe_load(fh))


def inventory(topo: Topology, state: Path, python: str = sys.executable) -> dict:
    """The Ansible inventory of a topology: every host reached with lvs.ipvs.netns."""
    groups: dict[str, dict] = {}
    hostvars = {}
    for host in topo.hosts.values():
        addrs = {
            iface.network: {
                "ipv4": str(iface.ipv4.ip) if iface.ipv4 else None,
                "ipv6": str(iface.ipv6.ip) if iface.ipv6 else None,
                "interface": f"eth{i}",
            }
            for i, iface in enumerate(host.interfaces)
        }
        hostvars[host.name] = {
            "ansible_connection": "lvs.ipvs.netns",
            "ansible_host": host.name,
            "ansible_netns_mount_namespace": str(state / host.name / "mnt"),
            # An image's hosts run the modules with the system's own Python.
            "ansible_python_interpreter": "/usr/bin/python3" if isinstance(host.container, str) else python,
            "lab_networks": addrs,
            **host.vars,
        }
        for group in host.groups:
            groups.setdefault(group, {"hosts": {}})["hosts"][host.name] = None
    return {
        "all": {
            "hosts": hostvars,
            "vars": {"lab_topology": topo.name, **topo.vars},
            "children": groups,
        }
    }


def _run(*argv: str, input: str | None = None) -> str:
    proc = subprocess.run(list(argv), input=input, capture_output=True, text=True, check=False)
    if proc.returncode:
        raise LabError(f"{' '.join(argv)}: {proc.stderr.strip() or proc.stdout.strip()}")
    return proc.stdout


def _ip_batch(commands: list[str], netns: str | None = None) -> None:
    if commands:
        prefix = ["ip", "-n", netns] if netns else ["ip"]
        _run(*prefix, "-batch", "-", input="\n".join(commands) + "\n")


def enter(state: Path, host: str) -> list[str]:
    """The command prefix that runs a program inside a lab host."""
    return ["nsenter", f"--net=/run/netns/{host}", f"--mount={state / host / 'mnt'}", "--"]


def podman_args(state: Path) -> list[str]:
    """podman's global options for the lab's containers: storage of the lab's own, inside its state."""
    # vfs: the guest's root is an overlay, on which overlay storage cannot stack.
    return [
        "--root",
        str(state / "podman" / "root"),
        "--runroot",
        str(state / "podman" / "run"),
        "--storage-driver",
        "vfs",
        "--log-level",
        "error",
    ]


def mac_owners(state: Path = DEFAULT_STATE) -> dict[str, str]:
    """{link-layer address: host} of every interface of the lab's hosts."""
    hosts = json.loads((state / "topology.json").read_text())["hosts"]
    owners = {}
    for host in hosts:
        for line in _run("ip", "-n", host, "-o", "link", "show").splitlines():
            words = line.split()
            if "link/ether" in words:
                owners[words[words.index("link/ether") + 1]] = host
    return owners


def up(topo: Topology, state: Path = DEFAULT_STATE) -> dict:
    if (state / "topology.json").exists():
        raise LabError(f"a lab is already up in {state}: run 'down' first")
    state.mkdir(parents=True, exist_ok=True)
    # A tmpfs of the lab's own: overlay upper layers cannot live on an overlay
    # (the guest's root is one), and mount namespaces can only be pinned to
    # files on a private mount.
    if state.resolve() not in _mountpoints():
        _run("mount", "-t", "tmpfs", "-o", "mode=755", "lvslab", str(state))
    _run("mount", "--make-private", str(state))
    (state / "topology.json").write_text(
        json.dumps({"name": topo.name, "hosts": list(topo.hosts), "networks": list(topo.networks)})
    )
    root_cmds = []
    for net in topo.networks:
        root_cmds += [f"link add br-{net} type bridge", f"link set br-{net} up"]
    _ip_batch(root_cmds)
    for host in topo.hosts.values():
        _host_up(host, state)
    inv = inventory(topo, state)
    (state / "inventory.yml").write_text(yaml.safe_dump(inv, sort_keys=False))
    return inv


def _host_up(host: Host, state: Path) -> None:
    name = host.name
    _run("ip", "netns", "add", name)
    root, inner = [], ["link set lo up"]
    # Unique per lab, so two labs (two state directories) can share a kernel.
    tag = zlib.crc32(f"{state.resolve()}/{name}".encode()) & 0xFFFFFF
    for i, iface in enumerate(host.interfaces):
        peer = f"v{tag:06x}e{i}"
        root += [
            f"link add {peer} type veth peer name eth{i} netns {name}",
            f"link set {peer} master br-{iface.network} up",
        ]
        for addr in (iface.ipv4, iface.ipv6):
            if addr:
                # nodad: a tentative IPv6 address would not answer for a second or two.
                inner.append(f"addr add {addr} dev eth{i}" + (" nodad" if addr.version == 6 else ""))
        inner.append(f"link set eth{i} up")
    for route in host.routes:
        # ip takes the family from the gateway, "default" included.
        inner.append(f"route add {route['to']} via {route['via']}")
    _ip_batch(root)
    _ip_batch(inner, name)
    for key, value in host.sysctl.items():
        _run("ip", "netns", "exec", name, "sysctl", "-q", "-w", f"{key}={value}")
    if host.container:
        _container_up(host, state)
    else:
        _private_filesystems(host, state)
    for svc in host.serve:
        _serve(host, state, svc)


def _private_filesystems(host: Host, state: Path) -> None:
    hdir = state / host.name
    mnt = hdir / "mnt"
    hdir.mkdir(parents=True, exist_ok=True)
    mnt.touch()
    # The kernel refuses (EINVAL) to bind a mount namespace that does not
    # look newer than the binder's own: its loop check compares namespace
    # ids. On this machine's own kernel (6.18, the runner's host mode) those
    # ids come from batches that each CPU takes in turn, so a namespace made
    # on one CPU can be older than one made earlier on another, and every try
    # on that CPU fails; the guest's 6.1 never did. Each try is a new
    # namespace, made on each CPU in turn.
    cpus = sorted(os.sched_getaffinity(0))
    for attempt in range(20):
        try:
            _run(
                "taskset",
                "-c",
                str(cpus[attempt % len(cpus)]),
                "unshare",
                f"--mount={mnt}",
                "--propagation",
                "private",
                "true",
            )
            break
        except LabError:
            if attempt == 19:
                raise
    script = ["set -e", "mount -t sysfs sysfs /sys"]
    for d in PRIVATE_DIRS:
        up_dir, work = hdir / "fs" / d / "up", hdir / "fs" / d / "work"
        up_dir.mkdir(parents=True, exist_ok=True)
        work.mkdir(parents=True, exist_ok=True)
        script.append(f"mount -t overlay overlay -o lowerdir=/{d},upperdir={up_dir},workdir={work} /{d}")
    # Last, as it hides the lab state under /run from the host itself.
    script.append("mount -t tmpfs -o mode=755 tmpfs /run")
    script.append(f"echo {host.name} > /etc/hostname")
    _run(*enter(state, host.name), "/bin/sh", "-c", "\n".join(script))


# What a container shares with the lab, read-only: the programs and libraries,
# and the Python that runs Ansible's modules (with pyroute2). /usr/local stays
# the container's own, for the roles' scripts.
SHARED_DIRS = ("/usr/bin", "/usr/sbin", "/usr/lib", "/usr/lib64", "/usr/libexec", "/usr/share")


def _image_rootfs(host: Host, state: Path) -> tuple[Path, list[str]]:
    """The container's root: the image under an overlay of the host's own; the repository read-only."""
    image, repo = images.paths(host.container)
    rootfs, up_dir, work = (state / host.name / d for d in ("rootfs", "image-up", "image-work"))
    for d in (rootfs, up_dir, work):
        d.mkdir(parents=True, exist_ok=True)
    _run("mount", "-t", "overlay", "overlay", "-o", f"lowerdir={image},upperdir={up_dir},workdir={work}", str(rootfs))
    (rootfs / "etc" / "hostname").write_text(f"{host.name}\n")
    # The running kernel's modules, as a container runtime gives a privileged
    # container that loads modules (kube-proxy's does): the image has none.
    modules = os.path.realpath("/lib/modules")
    return rootfs, ["--volume", f"{repo}:{images.REPO_MOUNT}:ro", "--volume", f"{modules}:/usr/lib/modules:ro"]


def _shared_rootfs(host: Host, state: Path) -> tuple[Path, list[str]]:
    """The container's root: a copy of /etc, empty directories, the lab's programs read-only."""
    rootfs = state / host.name / "rootfs"
    empty = "proc sys dev run tmp root var/lib var/log var/tmp usr/local/sbin usr/local/bin"
    for d in empty.split():
        (rootfs / d).mkdir(parents=True, exist_ok=True)
    for d in ("tmp", "var/tmp"):
        (rootfs / d).chmod(0o1777)
    for link in ("bin", "sbin", "lib", "lib64"):
        (rootfs / link).symlink_to(f"usr/{link}")
    _run("cp", "-a", "/etc", str(rootfs / "etc"))
    (rootfs / "etc" / "hostname").write_text(f"{host.name}\n")
    shared = list(SHARED_DIRS)
    # The virtual environment whole (its pyvenv.cfg makes it one); of the
    # Python it is made from, only bin and lib, in case that is /usr/local.
    for path in (sys.prefix, os.path.join(sys.base_prefix, "bin"), os.path.join(sys.base_prefix, "lib")):
        if os.path.isdir(path) and not any(path == d or path.startswith(d + "/") for d in shared):
            shared.append(path)
    return rootfs, [arg for d in shared if os.path.isdir(d) for arg in ("--volume", f"{d}:{d}:ro")]


def _container_up(host: Host, state: Path) -> None:
    rootfs, volumes = (_image_rootfs if isinstance(host.container, str) else _shared_rootfs)(host, state)
    # crun wants a cgroup file system even when podman is told not to use
    # cgroups; the guest's init mounts none.
    if not Path("/sys/fs/cgroup/cgroup.controllers").exists():
        _run("mount", "-t", "cgroup2", "cgroup2", "/sys/fs/cgroup")
    # --cgroups=disabled: no cgroup controllers to delegate in the guest;
    # --privileged: the roles set sysctls and load modules.
    _run(
        "podman",
        *podman_args(state),
        "run",
        "--detach",
        "--name",
        host.name,
        "--hostname",
        host.name,
        "--privileged",
        "--cgroups=disabled",
        "--network",
        f"ns:/run/netns/{host.name}",
        *volumes,
        "--rootfs",
        str(rootfs),
        "sleep",
        "infinity",
    )
    (state / host.name / "container").write_text("podman\n")
    # Pinned like a namespace host's, so that Ansible reaches the container
    # through nsenter with pipelining: podman's own connection runs podman
    # several times per task, which in the emulated kernel made the dr
    # scenario take 15.5 minutes instead of 3.5.
    pid = _run("podman", *podman_args(state), "inspect", "--format", "{{.State.Pid}}", host.name).strip()
    mnt = state / host.name / "mnt"
    mnt.touch()
    _run("mount", "--bind", f"/proc/{pid}/ns/mnt", str(mnt))


def _serve(host: Host, state: Path, svc: dict) -> None:
    proto, port = svc.get("proto", "tcp"), svc["port"]
    files = state / host.name / f"serve-{proto}-{port}"
    ready, log_path = files.with_suffix(".ready"), files.with_suffix(".log")
    # Only the network namespace: the server needs no private files, and the
    # host's mount namespace hides the lab state it reports readiness through.
    argv = [
        "nsenter",
        f"--net=/run/netns/{host.name}",
        "--",
        sys.executable,
        "-m",
        "lvslab.serve",
        "--name",
        host.name,
        "--proto",
        proto,
        "--port",
        str(port),
        "--ready",
        str(ready),
    ]
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent))
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env, start_new_session=True)
    files.with_suffix(".pid").write_text(str(proc.pid))
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and proc.poll() is None:
        if ready.exists():
            return
        time.sleep(0.05)
    raise LabError(f"{host.name}: the {proto}/{port} server did not start; see {log_path}")


def down(state: Path = DEFAULT_STATE) -> None:
    meta = state / "topology.json"
    if not meta.exists():
        return
    info = json.loads(meta.read_text())
    for name in info["hosts"]:
        for pidfile in (state / name).glob("serve-*.pid"):
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.killpg(int(pidfile.read_text()), signal.SIGTERM)
        if (state / name / "container").exists():
            subprocess.run(
                ["podman", *podman_args(state), "rm", "--force", "--time", "0", name], capture_output=True, check=False
            )
        for pinned in ("mnt", "rootfs"):
            subprocess.run(["umount", str(state / name / pinned)], capture_output=True, check=False)
        subprocess.run(["ip", "netns", "del", name], capture_output=True, check=False)
    for net in info["networks"]:
        subprocess.run(["ip", "link", "del", f"br-{net}"], capture_output=True, check=False)
    meta.unlink()
    subprocess.run(["umount", "--lazy", str(state)], capture_output=True, check=False)


def _mountpoints() -> set[Path]:
    points = set()
    with open("/proc/self/mountinfo", encoding="utf-8") as fh:
        for line in fh:
            points.add(Path(line.split()[4]))
    return points
