"""Offline stand-in for ansible-test's pip bootstrap script (get-pip.py).

ansible-test downloads a get-pip script from a host that is unreachable from
our CI machines; it first looks for ~/.ansible/test/cache/get_pip_<ver>.py, so
setup drops this file there. It bootstraps pip with the standard library's
ensurepip and then installs the requested pip version from the package index.
"""
import subprocess
import sys

ARGS = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"],
                      stdout=subprocess.DEVNULL)
subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", "--upgrade"] + ARGS)
