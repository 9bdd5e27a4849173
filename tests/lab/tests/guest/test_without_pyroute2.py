"""Which modules need pyroute2, proven on a Python that cannot import it.

ipvs_table, ipvs_service and ipvs_destination encode and decode their
messages themselves and must work, and load no pyroute2, where it is
missing; ipvs_info (sync daemons, timeouts, version) must say that it needs
it, in Ansible's words, before it reads anything.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

PROBE = textwrap.dedent(
    """
    import contextlib, importlib, io, json, sys

    class NoPyroute2:
        def find_spec(self, name, path=None, target=None):
            if name == "pyroute2" or name.startswith("pyroute2."):
                raise ImportError("No module named 'pyroute2' (hidden by the test)")
            return None

    sys.meta_path.insert(0, NoPyroute2())
    from ansible.module_utils.testing import patch_module_args

    def run(name, args):
        module = importlib.import_module("ansible_collections.lvs.ipvs.plugins.modules." + name)
        out = io.StringIO()
        with patch_module_args(args), contextlib.redirect_stdout(out):
            try:
                module.main()
            except SystemExit:
                pass
        return json.loads(out.getvalue().strip().splitlines()[-1])

    service = {"address": "198.51.100.7", "port": 80, "destinations": [{"address": "192.0.2.71", "port": 80}]}
    results = {
        "table": run("ipvs_table", {"services": [service]}),
        "again": run("ipvs_table", {"services": [service]}),
        "destination": run("ipvs_destination", {"address": "192.0.2.71", "port": 80, "weight": 3}),
        "info": run("ipvs_info", {}),
    }
    results["loaded"] = sorted(name for name in sys.modules if name.split(".")[0] == "pyroute2")
    print(json.dumps(results))
    """
)


def test_services_and_destinations_need_no_pyroute2_and_info_says_it_does():
    subprocess.run(["modprobe", "ip_vs"], check=True)
    subprocess.run(["ipvsadm", "-C"], check=True)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(path for path in sys.path if path))
    try:
        done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=False, env=env)
        assert done.returncode == 0, done.stdout + done.stderr
        results = json.loads(done.stdout.strip().splitlines()[-1])
        saved = subprocess.run(["ipvsadm", "-Sn"], capture_output=True, text=True, check=True).stdout
    finally:
        subprocess.run(["ipvsadm", "-C"], check=True)
    assert results["table"]["changed"] is True, results["table"]
    assert results["again"]["changed"] is False, results["again"]
    assert results["destination"]["changed"] is True, results["destination"]
    assert "-a -t 198.51.100.7:80 -r 192.0.2.71:80 -m -w 3" in saved, saved
    assert results["info"]["failed"] is True
    assert "pyroute2" in results["info"]["msg"] and "Failed to import" in results["info"]["msg"], results["info"]
    assert results["loaded"] == []
