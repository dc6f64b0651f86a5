# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The cryptography floor: one version, declared the same everywhere, and a clear message below it."""

from __future__ import annotations

import pathlib
import re

import cryptography
import pytest
import yaml
from ansible_collections.waent.onprem.plugins.module_utils import _cryptography_dep as dep
from ansible_collections.waent.onprem.plugins.modules import db_tls_check, pki

ROOT = pathlib.Path(__file__).resolve().parents[4]
FLOOR = dep.MINIMUM_CRYPTOGRAPHY_VERSION


def test_the_floor_is_the_oldest_a_user_really_has():
    assert FLOOR == "38.0.4"  # Debian 12's python3-cryptography
    assert dep._version_tuple(cryptography.__version__) >= dep._version_tuple(FLOOR)


def test_the_floor_is_declared_the_same_everywhere():
    requirements = (ROOT / "meta" / "ee-requirements.txt").read_text().splitlines()
    assert f"cryptography>={FLOOR}" in requirements
    for module in (pki, db_tls_check):
        docs = yaml.safe_load(module.DOCUMENTATION)
        declared = [r for r in docs["requirements"] if "cryptography" in r]
        assert len(declared) == 1 and declared[0].startswith(f"cryptography >= {FLOOR} "), module.__name__
    setup = (ROOT / "scripts" / "setup.sh").read_text()
    assert "MINIMUM_CRYPTOGRAPHY_VERSION" in setup  # the floor venv reads the version from dep, not a copy
    assert not re.search(r"cryptography[=><]=?\s*\d", (ROOT / "meta" / "execution-environment.yml").read_text())


def test_messages_name_version_path_and_floor(monkeypatch):
    assert dep.cryptography_problem() is None
    monkeypatch.setattr(dep, "CRYPTOGRAPHY_VERSION", "37.0.4")
    monkeypatch.setattr(dep, "CRYPTOGRAPHY_LOCATION", "/usr/lib/python3/dist-packages/cryptography/__init__.py")
    message = dep.cryptography_problem()
    assert message.startswith(
        f"cryptography 37.0.4 is too old at /usr/lib/python3/dist-packages/cryptography/__init__.py, need >= {FLOOR}"
    )
    assert "ansible_python_interpreter" in message
    monkeypatch.setattr(dep, "HAS_CRYPTOGRAPHY", False)
    assert "could not import it" in dep.cryptography_problem()


@pytest.mark.parametrize(("version", "expected"), [
    ("41.0.7", (41, 0, 7)),
    ("3.4rc1", (3, 4)),
    ("38.0.4", (38, 0, 4)),
    ("38.0.4.post1", (38, 0, 4, 0)),
])
def test_version_tuple(version, expected):
    assert dep._version_tuple(version) == expected


def test_floor_comparisons():
    assert dep._version_tuple("38.0.3") < dep._version_tuple(FLOOR) <= dep._version_tuple("38.0.4")
    assert dep._version_tuple("50.0.2") > dep._version_tuple(FLOOR)
