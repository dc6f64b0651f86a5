# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""webapp_certificate against the simulator's Webapp (tests/unit/plugins/conftest.py): check mode,
upload, served only after a restart, then idempotent; bad bundles refused before any upload."""

from __future__ import annotations

import pytest
from ansible_collections.waent.onprem.plugins.module_utils import _webapp_api as wa
from ansible_collections.waent.onprem.plugins.modules import webapp_certificate
from cryptography.hazmat.primitives import serialization
from waent_sim import certs

PASSWORD = "Bundle!Passw0rd"


def bundle_text(key, certificate, *cas):
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    for cert in (certificate, *cas):
        pem += cert.public_bytes(serialization.Encoding.PEM)
    return pem.decode("ascii")


@pytest.fixture(scope="module")
def material():
    return certs.generate_autogen("web.example", subject_alt_name=True)


@pytest.fixture
def run(module_runner, webapp_server):
    def run_module(bundle, check_mode=False, **extra):
        port = webapp_server["port"]
        args = {"address": "127.0.0.1", "port": port, "server_name": "web.example", "validate_certs": False,
                "api_password": PASSWORD, "bundle_content": bundle, "timeout": 5,
                "_ansible_check_mode": check_mode, **extra}
        return module_runner(webapp_certificate.main, args)

    client = wa.WebappClient("127.0.0.1", webapp_server["port"], validate_certs=False, timeout=5)
    wa.ensure_password(client, PASSWORD)
    return run_module


def test_check_upload_restart_then_nothing(run, material, webapp_server):
    good = bundle_text(material.server_key, material.server_certificate, material.ca_certificate)
    result = run(good, check_mode=True)
    assert result["changed"] and result["restart_required"] and result["served"]["common_name"] == "web.example"
    assert result["served"]["fingerprint_sha256"] != result["certificate"]["fingerprint_sha256"]
    assert webapp_server["api"].cert_store._row("web.example")[0] == "autogen"  # check mode uploaded nothing
    assert run(good)["restart_required"]
    assert webapp_server["api"].cert_store._row("web.example")[0] == "upload"
    assert run(good)["changed"]  # still the old certificate until the Webapp restarts
    webapp_server["restart"]()
    result = run(good)
    assert (result["changed"], result["restart_required"]) == (False, False)
    assert "PRIVATE" not in repr(result)


def test_mismatched_key_is_refused_before_the_upload(run, material, webapp_server):
    other = certs.generate_autogen("web.example", subject_alt_name=True)
    result = run(bundle_text(other.server_key, material.server_certificate, material.ca_certificate))
    assert result["failed"] and "does not match the server certificate" in result["msg"]
    assert webapp_server["api"].cert_store._row("web.example")[0] == "autogen"


@pytest.mark.parametrize("mangle, message", [
    (lambda m: bundle_text(m.server_key, m.server_certificate), "at least one CA certificate"),
    (lambda m: bundle_text(m.server_key, m.ca_certificate, m.server_certificate), "first certificate is a CA"),
])
def test_bad_order_is_refused(run, material, mangle, message):
    result = run(mangle(material))
    assert result["failed"] and message in result["msg"]


def test_a_name_the_certificate_does_not_cover(run, material):
    good = bundle_text(material.server_key, material.server_certificate, material.ca_certificate)
    result = run(good, names=["wa.example.com"])
    assert result["failed"] and "does not cover wa.example.com" in result["msg"]


def test_one_certificate_with_a_second_marker_is_refused(run, material):
    comment = "# -----BEGIN CERTIFICATE----- in a comment\n"
    text = bundle_text(material.server_key, material.server_certificate) + comment
    result = run(text)
    assert result["failed"] and "add at least one CA certificate" in result["msg"]


def test_nothing_listening_fails_cleanly(module_runner, material):
    args = {"address": "127.0.0.1", "port": 1, "validate_certs": False, "api_password": PASSWORD, "timeout": 2,
            "bundle_content": bundle_text(material.server_key, material.server_certificate, material.ca_certificate)}
    result = module_runner(webapp_certificate.main, args)
    assert result["failed"] and "127.0.0.1:1" in result["msg"]
