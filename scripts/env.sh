# shellcheck shell=bash
# Sourced by the scripts: the project's tools first on PATH, and the
# collections (this one from its built tarball) where Ansible finds them.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export PATH=$ROOT/.venv/bin:$ROOT/tests/lab/bin:$PATH
export ANSIBLE_COLLECTIONS_PATH=$ROOT/.build/collections:$ROOT/.build/bundled
export ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false
