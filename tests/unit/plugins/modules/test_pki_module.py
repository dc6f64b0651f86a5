# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import pytest
from ansible.module_utils import basic
from ansible_collections.waent.onprem.plugins.module_utils import _cryptography_dep as dep
from ansible_collections.waent.onprem.plugins.modules import pki


@pytest.fixture
def run_module(module_runner):
    return lambda args: module_runner(pki.main, args)


def certs():
    return [
        {
            "name": "webapp",
            "dns": ["wa.example.com"],
            "bundles": [{"path": "up.pem", "content": ["key", "cert", "ca"]}],
        },
        {"name": "db-client-core1", "common_name": "core1", "usage": "client", "signed_by": "ca"},
    ]


def test_check_real_idempotent(tmp_path, run_module):
    args = {"path": str(tmp_path / "pki"), "certificates": certs(), "_ansible_check_mode": True, "_ansible_diff": True}
    check = run_module(args)
    assert check["changed"] and not (tmp_path / "pki").exists()
    assert check["diff"]["after"]["certificates"]["webapp"]["reason"] == "missing"
    args["_ansible_check_mode"] = False
    real = run_module(args)
    assert real["changed"] and real["ca"]["reason"] == "missing"
    assert [c["reason"] for c in real["certificates"]] == ["missing", "missing"]
    args["_ansible_check_mode"] = True
    assert not run_module(args)["changed"]
    args["_ansible_check_mode"] = False
    again = run_module(args)
    assert not again["changed"]
    assert "diff" not in {k for k, v in again.items() if v} or not again["diff"]["after"]["certificates"]


def test_unreadable_ca_fails_with_clear_message(tmp_path, run_module):
    args = {"path": str(tmp_path), "certificates": certs()}
    run_module(args)
    (tmp_path / "ca.crt").write_text("not a certificate")
    result = run_module(args)
    assert result["failed"]
    assert "ca.crt cannot be read: no PEM certificate found" in result["msg"]
    assert "ca.replace=when_needed" in result["msg"]


def test_validate_mode_fails_and_lists_rules(tmp_path, run_module):
    run_module({"path": str(tmp_path), "certificates": certs()})
    args = {
        "path": str(tmp_path),
        "state": "validate",
        "ca_bundle": "ca.crt",
        "certificates": [{"name": "webapp", "dns": ["wa.example.com", "other.example.com"]}],
    }
    result = run_module(args)
    assert result["failed"] and "1 certificate check(s) failed" in result["msg"]
    assert "other.example.com" in result["msg"] and "[rule names]" in result["msg"]
    args["fail_on_invalid"] = False
    result = run_module(args)
    assert not result["failed"] and not result["certificates"][0]["valid"]
    args["certificates"][0]["dns"] = ["wa.example.com"]
    args["fail_on_invalid"] = True
    result = run_module(args)
    assert not result["failed"] and result["certificates"][0]["valid"]


def test_validate_requires_ca_bundle(tmp_path, run_module):
    result = run_module({"path": str(tmp_path), "state": "validate", "certificates": []})
    assert result["failed"] and "ca_bundle" in result["msg"]


def test_missing_cryptography_is_reported_with_interpreter(tmp_path, run_module, monkeypatch):
    monkeypatch.setattr(dep, "HAS_CRYPTOGRAPHY", False)
    result = run_module({"path": str(tmp_path)})
    assert result["failed"] and "cryptography" in result["msg"] and "Python interpreter" in result["msg"]


def test_ca_drift_warning_is_emitted(tmp_path, run_module, monkeypatch):
    warned = []
    monkeypatch.setattr(basic.AnsibleModule, "warn", lambda self, msg: warned.append(msg))
    run_module({"path": str(tmp_path), "certificates": certs()})
    result = run_module({"path": str(tmp_path), "certificates": certs(), "ca": {"common_name": "Other"}})
    assert not result["changed"]
    assert any("ca.replace=never" in w for w in warned)
    assert result["ca"]["warnings"] == warned
