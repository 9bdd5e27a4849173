"""Debian root file systems for lab containers, each with a local apt repository.

A lab host may run as a container with a Debian system of its own
(``container: debian12`` in a topology, or ``lvslab up --containers
HOST=debian12``): its own Python, its own libraries, nothing of the lab's
``/usr``. The image is built on the machine (``lvslab images``, which
``scripts/setup.sh`` runs) with mmdebstrap from Debian's packages, as a
minimal system plus what every installed Debian system has (iproute2, procps,
kmod, systemd, python3 and python3-apt).

Everything else the collection's roles install (ipvsadm, python3-pyroute2,
keepalived) is left out of the image on purpose and put in a flat apt
repository next to it: the lab has no network, so the roles' package tasks
install from that repository, mounted read-only at ``/srv/lab-apt`` in the
container, the way they would from a mirror. The image's apt lists are empty,
as in Debian's container images, so a role that does not refresh them fails.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

from .kernel import LabError

# name -> Debian suite
IMAGES = {"debian12": "bookworm", "debian13": "trixie"}
BASE_PACKAGES = ("iproute2", "procps", "kmod", "systemd", "python3", "python3-apt")
REPO_PACKAGES = ("ipvsadm", "python3-pyroute2", "keepalived")
MIRROR = "http://deb.debian.org/debian"
REPO_MOUNT = "/srv/lab-apt"
SOURCES = f"Types: deb\nURIs: file:{REPO_MOUNT}\nSuites: ./\nTrusted: yes\n"


def images_dir() -> Path:
    default = Path(__file__).resolve().parents[3] / ".build" / "images"
    return Path(os.environ.get("LVS_LAB_IMAGES", default))


def recipe(name: str) -> str:
    """What an image is made of: a change rebuilds it."""
    return f"{IMAGES[name]} {MIRROR} {' '.join(BASE_PACKAGES)} | {' '.join(REPO_PACKAGES)} | {SOURCES}"


def paths(name: str, base: Path | None = None) -> tuple[Path, Path]:
    """(root file system, apt repository) of a built image; a clear error if it is not built."""
    if name not in IMAGES:
        raise LabError(f"image {name!r}: unknown; the images are {', '.join(IMAGES)}")
    top = (base or images_dir()) / name
    stamp = top / "stamp"
    if not stamp.exists() or stamp.read_text() != hashlib.sha256(recipe(name).encode()).hexdigest():
        raise LabError(f"image {name!r} is not built (or is out of date) in {top}: run scripts/setup.sh")
    return top / "rootfs", top / "repo"


def build(name: str, base: Path | None = None, force: bool = False) -> bool:
    """Build one image unless it is built and current. Returns True if it built."""
    top = (base or images_dir()) / name
    want = hashlib.sha256(recipe(name).encode()).hexdigest()
    stamp = top / "stamp"
    if not force and stamp.exists() and stamp.read_text() == want:
        return False
    for tool in ("mmdebstrap", "apt-ftparchive"):
        if not shutil.which(tool):
            raise LabError(f"images: {tool} not found: apt-get install mmdebstrap apt-utils (scripts/setup.sh does)")
    if top.exists():
        shutil.rmtree(top)
    top.mkdir(parents=True)
    rootfs, repo = top / "rootfs", top / "repo"
    repo.mkdir()
    suite = IMAGES[name]
    sources = top / "lab.sources"
    sources.write_text(SOURCES)
    # The repository: the packages the roles install and what they pull in
    # beyond the image, as apt in the image resolves them (download only).
    # The image's own sources are replaced by the repository, and its lists
    # left empty, as mmdebstrap leaves them.
    argv = [
        "mmdebstrap",
        "--quiet",
        "--variant=minbase",
        "--include=" + ",".join(BASE_PACKAGES),
        '--customize-hook=chroot "$1" apt-get install --yes --quiet --quiet --download-only ' + " ".join(REPO_PACKAGES),
        f"--customize-hook=sync-out /var/cache/apt/archives {repo}",
        '--customize-hook=rm -f "$1"/etc/apt/sources.list "$1"/etc/apt/sources.list.d/*',
        f"--customize-hook=upload {sources} /etc/apt/sources.list.d/lab.sources",
        suite,
        str(rootfs),
        MIRROR,
    ]
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    if proc.returncode:
        raise LabError(f"images: mmdebstrap {suite} failed:\n{proc.stderr.strip()[-2000:]}")
    for leftover in ("lock", "partial"):
        path = repo / leftover
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
    index = subprocess.run(["apt-ftparchive", "packages", "."], cwd=repo, capture_output=True, text=True, check=False)
    if index.returncode or "Package: ipvsadm" not in index.stdout:
        raise LabError(f"images: apt-ftparchive in {repo} failed: {index.stderr.strip()}")
    (repo / "Packages").write_text(index.stdout)
    stamp.write_text(want)
    return True
