#!/usr/bin/env bash
# Sets up everything the lab, the demo and the tests need, from nothing:
# Debian packages, the Python environment (.venv), the collections the
# playbooks use (unpacked from the `ansible` package on PyPI, since Galaxy is
# not reachable), and this collection built and installed from its tarball.
# Safe to run again: each step is skipped when already done.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
say() { printf '==> %s\n' "$*"; }
mkdir -p .build
# Quiet unless it fails: pip's index warnings drown what matters.
quiet() { "$@" > .build/setup.log 2>&1 || { cat .build/setup.log; exit 1; }; }

ANSIBLE_BUNDLE=ansible==12.3.0
BUNDLED_COLLECTIONS=(ansible/posix community/general containers/podman)
# The lab's and the tests' Debian packages are bindep.txt's "test" profile:
# gcc and libc6-dev build the lab's FPU shim for linux.uml (docs/lab.md);
# podman and crun run the dr Molecule scenario's hosts as containers, on
# Debian images that mmdebstrap and apt-utils (apt-ftparchive) build;
# keepalived runs the director groups (HA); Debian starts no service without a configuration;
# bird2 is the BGP speaker of active_active director groups and of the scale_out lab's router.
# pandoc makes the docs site's RST pages from the Markdown guides (scripts/docsite.sh).
mapfile -t APT_PACKAGES < <(sed -n 's/^\([a-z0-9][a-z0-9.+-]*\) \[platform:dpkg test\]$/\1/p' bindep.txt)
((${#APT_PACKAGES[@]})) || { echo "no Debian packages found in bindep.txt" >&2; exit 1; }

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
    say "installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

VENV=$ROOT/.venv
stamp=$(cat tests/requirements-dev.txt requirements.txt | sha256sum | cut -c1-16)
if [[ "$(cat "$VENV/.stamp" 2>/dev/null)" != "$stamp" ]]; then
    say "creating the Python environment in .venv"
    python3 -m venv --clear "$VENV"
    quiet "$VENV/bin/pip" install --disable-pip-version-check --upgrade pip
    quiet "$VENV/bin/pip" install --disable-pip-version-check -r tests/requirements-dev.txt -r requirements.txt
    echo "$stamp" > "$VENV/.stamp"
fi
export PATH=$VENV/bin:$PATH

# The oldest pyroute2 the modules that use it support (Debian 12's
# python3-pyroute2): the lab tier runs their tests a second time with it.
PYROUTE2_FLOOR=0.7.2
if [[ "$(cat .build/pyroute2-floor/.stamp 2>/dev/null)" != "$PYROUTE2_FLOOR" ]]; then
    say "installing pyroute2 $PYROUTE2_FLOOR (the floor) into .build/pyroute2-floor"
    rm -rf .build/pyroute2-floor
    quiet pip install --disable-pip-version-check --no-deps --target .build/pyroute2-floor "pyroute2==$PYROUTE2_FLOOR"
    echo "$PYROUTE2_FLOOR" > .build/pyroute2-floor/.stamp
fi

# Two paths: ansible-galaxy refuses to manage a path that looks like the pip
# Ansible package's own, which the bundled one does.
COLLECTIONS=$ROOT/.build/collections
BUNDLED=$ROOT/.build/bundled
if [[ "$(cat "$BUNDLED/.stamp" 2>/dev/null)" != "$ANSIBLE_BUNDLE ${BUNDLED_COLLECTIONS[*]}" ]]; then
    say "unpacking ${BUNDLED_COLLECTIONS[*]} from $ANSIBLE_BUNDLE"
    rm -rf "$BUNDLED" .build/wheels
    quiet pip download --disable-pip-version-check --no-deps --only-binary :all: "$ANSIBLE_BUNDLE" -d .build/wheels
    python - "$BUNDLED" .build/wheels/ansible-*.whl "${BUNDLED_COLLECTIONS[@]}" <<'PY'
import sys, zipfile
dest, wheel, *wanted = sys.argv[1:]
prefixes = tuple(f"ansible_collections/{c}/" for c in wanted)
with zipfile.ZipFile(wheel) as zf:
    members = [m for m in zf.namelist() if m.startswith(prefixes)]
    zf.extractall(dest, members)
PY
    rm -rf .build/wheels
    echo "$ANSIBLE_BUNDLE ${BUNDLED_COLLECTIONS[*]}" > "$BUNDLED/.stamp"
fi

# The Debian 12 and 13 systems the dr scenario's containers run, each with the
# local apt repository the roles install from (tests/lab/lvslab/images.py).
say "building the lab's Debian images (lvslab images)"
quiet tests/lab/bin/lvslab images
say "building lvs.ipvs and installing the tarball into .build/collections"
rm -rf .build/dist "$COLLECTIONS/ansible_collections/lvs/ipvs"
quiet ansible-galaxy collection build --force --output-path .build/dist
quiet ansible-galaxy collection install --offline --no-deps --force -p "$COLLECTIONS" .build/dist/lvs-ipvs-*.tar.gz
