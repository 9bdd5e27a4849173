"""The pyroute2 the guest tests run with: the one asked for (LVS_PYROUTE2), or one at the floor or above.

The test command runs the tests of ipvs_info, ipvs_timeouts and
ipvs_sync_daemon (the modules that use pyroute2) a second time with the
floor, Debian 12's python3-pyroute2 0.7.2, first on the path.
"""

from __future__ import annotations

import os

FLOOR = (0, 7, 2)


def test_pyroute2_is_the_version_under_test():
    import pyroute2

    version = pyroute2.__version__
    wanted = os.environ.get("LVS_PYROUTE2")
    if wanted:
        assert version == wanted, f"pyroute2 {version} is first on the path, not {wanted}"
    assert tuple(int(part) for part in version.split(".")[:3]) >= FLOOR, version
