"""Put a local stand-in for pip's bootstrap script where ansible-test looks for it.

ansible-test bootstraps pip in each virtual environment it makes by running a
get-pip.py that it downloads from a host this machine cannot reach, unless a
copy is already in its cache. The stand-in does what that script does for
ansible-test, with the interpreter's own ensurepip and then pip from PyPI.
"""

from __future__ import annotations

import os
from types import SimpleNamespace

from ansible_test._internal.python_requirements import get_venv_packages

STANDIN = '''\
"""Stand-in for get-pip.py, written by lvs.ipvs scripts/ansible_test_bootstrap.py."""
import subprocess
import sys

args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"],
                      stdout=subprocess.DEVNULL)
subprocess.check_call([sys.executable, "-m", "pip", "install", "--upgrade", "--force-reinstall", *args])
'''


def main() -> None:
    version = get_venv_packages(SimpleNamespace(version="3.11"))["pip"]
    path = os.path.expanduser(f"~/.ansible/test/cache/get_pip_{version.replace('.', '_')}.py")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(STANDIN)
    print(path)


if __name__ == "__main__":
    main()
