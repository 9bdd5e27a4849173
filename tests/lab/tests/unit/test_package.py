"""The collection tarball that scripts/setup.sh builds: what a user installs."""

from __future__ import annotations

import subprocess
import tarfile
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[4]


@pytest.fixture(scope="module")
def members():
    tarballs = sorted((ROOT / ".build" / "dist").glob("lvs-ipvs-*.tar.gz"))
    assert tarballs, "no tarball in .build/dist: run scripts/setup.sh"
    with tarfile.open(tarballs[-1]) as tar:
        return {member.name: tar.extractfile(member).read().decode() for member in tar if member.isfile()}


def test_the_playbooks_a_user_gets_are_the_ones_that_run_from_the_installed_collection(members):
    playbooks = sorted(name for name in members if name.startswith("playbooks/"))
    assert playbooks == ["playbooks/director_maintenance.yml", "playbooks/drain.yml", "playbooks/site.yml"]
    for name in playbooks:
        # The lab's tool and files are in the repository only.
        assert "lvslab" not in members[name] and "tests/lab" not in members[name], name


def test_no_lab_state_or_build_output_is_packed(members):
    assert not [name for name in members if name.startswith((".build/", ".venv/", ".lab/", "scripts/"))]


def test_an_execution_environment_gets_nothing_but_the_collection(tmp_path):
    # What ansible-builder reads from the installed collection: no Python
    # package, and no system package outside the "test" profile (the lab's).
    installed = ROOT / ".build" / "collections"
    introspect = subprocess.run(
        ["ansible-builder", "introspect", "--sanitize", str(installed)], capture_output=True, text=True, check=True
    )
    found = yaml.safe_load(introspect.stdout)
    assert found["python"] == []
    lvs = [line for line in found["system"] if "from collection lvs.ipvs" in line]
    assert lvs, introspect.stdout
    assert all(" test]" in line for line in lvs), lvs
    # The documented definition makes a build context that installs lvs.ipvs.
    subprocess.run(
        ["ansible-builder", "create", "-f", str(ROOT / "docs/examples/execution-environment.yml"), "-c", str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
    )
    requirements = yaml.safe_load((tmp_path / "_build" / "requirements.yml").read_text())
    assert requirements["collections"] == [{"name": "lvs.ipvs", "version": ">=0.1.0"}]
    assert "ansible-galaxy" in (tmp_path / "Containerfile").read_text()


def test_every_filter_the_collection_defines_has_docs_that_ansible_doc_renders():
    import importlib.util
    import json
    import sys

    installed = ROOT / ".build" / "collections"
    sys.path.insert(0, str(installed))
    names = set()
    for path in sorted((installed / "ansible_collections/lvs/ipvs/plugins/filter").glob("*.py")):
        spec = importlib.util.spec_from_file_location(f"lvs_filter_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        names |= {f"lvs.ipvs.{name}" for name in module.FilterModule().filters()}
    done = subprocess.run(
        ["ansible-doc", "--json", "-t", "filter", *sorted(names)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    documented = json.loads(done.stdout)
    assert sorted(documented) == sorted(names)
    assert all(entry.get("doc", {}).get("short_description") for entry in documented.values()), documented.keys()
