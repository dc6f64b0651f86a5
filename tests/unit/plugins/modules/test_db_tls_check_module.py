# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""db_tls_check mode=validate through the module: the interface the database/db_client roles use."""

from __future__ import annotations

import pytest
from ansible_collections.waent.onprem.plugins.module_utils import _cryptography_dep as dep
from ansible_collections.waent.onprem.plugins.module_utils import _pki
from ansible_collections.waent.onprem.plugins.modules import db_tls_check


@pytest.fixture
def run_module(module_runner):
    return lambda args: module_runner(db_tls_check.main, args)


@pytest.fixture(scope="module")
def material(tmp_path_factory):
    directory = tmp_path_factory.mktemp("pki")
    base = {"common_name": None, "dns": [], "ip": [], "usage": "server", "key_type": "ec-p256", "validity_days": 30,
            "renew_before": 1, "signed_by": None, "key_path": None, "cert_path": None, "chain_path": None,
            "owner": None, "group": None, "bundles": []}
    _pki.PkiManager({
        "path": str(directory), "state": "present", "organization": None, "owner": None, "group": None,
        "ca": {"name": "ca", "common_name": "waent CA", "key_type": "ec-p256", "validity_days": 60, "renew_before": 1,
               "replace": "never"},
        "certificates": [dict(base, name="db1", dns=["db1.example"])],
        "key_mode": "0600", "cert_mode": "0644", "backup": False, "on_unreadable": "regenerate",
    }).run()
    return {p.name: p.read_text() for p in directory.iterdir()}


def args(material, **extra):
    return dict({"mode": "validate", "ca_content": material["ca.crt"], "cert_content": material["db1.crt"],
                 "key_content": material["db1.key"], "purpose": "server", "names": ["db1.example"],
                 "min_days_valid": 7}, **extra)


def test_validate_accepts_what_the_pki_issued(run_module, material):
    result = run_module(args(material))
    assert not result["failed"] and not result["changed"] and result["problems"] == []
    assert result["certificate"]["subject"] == "CN=db1.example"
    assert "PRIVATE" not in repr(result)


def test_validate_fails_with_kind_and_problems(run_module, material):
    result = run_module(args(material, purpose="client", names=["db2.example"]))
    assert result["failed"] and result["kind"] == "invalid_material"
    assert result["msg"].startswith("Invalid client certificate material: ")
    assert len(result["problems"]) == 2


@pytest.mark.parametrize("old", ["37.0.4", "3.3"])
def test_too_old_cryptography_is_a_clear_failure_never_an_attribute_error(run_module, material, monkeypatch, old):
    monkeypatch.setattr(dep, "CRYPTOGRAPHY_VERSION", old)
    result = run_module(args(material))
    assert result["failed"]
    assert result["msg"].startswith(f"cryptography {old} is too old at ")
    assert f"need >= {dep.MINIMUM_CRYPTOGRAPHY_VERSION}" in result["msg"]


def test_missing_cryptography_names_the_interpreter(run_module, material, monkeypatch):
    monkeypatch.setattr(dep, "HAS_CRYPTOGRAPHY", False)
    result = run_module(args(material))
    assert result["failed"] and "Python interpreter" in result["msg"] and "could not import it" in result["msg"]


def test_connect_mode_needs_no_cryptography(run_module, monkeypatch, tmp_path):
    monkeypatch.setattr(dep, "HAS_CRYPTOGRAPHY", False)
    env = tmp_path / "db.env"
    env.write_text("WA_DB_ENGINE=MYSQL\nWA_DB_HOSTNAME=db1\nWA_DB_USERNAME=waent\n")
    result = run_module({"env_file": str(env)})
    assert result["failed"] and result["kind"] == "bad_settings" and "password is missing" in result["msg"]
