# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""From the evidence of every host to findings, on the pinned single-connect model: a clean
deployment passes everything, and each fault shows as its own check."""

from __future__ import annotations

import copy
import json
import os

import pytest
from ansible_collections.waent.onprem.plugins.module_utils import _audit_checks as checks
from ansible_collections.waent.onprem.plugins.module_utils import _audit_evidence as ev
from ansible_collections.waent.onprem.plugins.module_utils._flows import flow_allows

HERE = os.path.dirname(os.path.abspath(__file__))
CANARY = 8081
PROBES = {"client1": "10.20.0.5", "admin1": "10.30.5.5"}
SECRET = "hmac-sha256:" + "a" * 64
JWT = "hmac-sha256:" + "b" * 64
SETTINGS = {"canary_port": CANARY, "max_offset": 1.0, "max_skew": 2.5, "renew_before_days": 30,
            "bundle": {"wa_secret": SECRET, "wa_web_jwt_crypto_key": JWT}}


@pytest.fixture(name="model")
def fixture_model():
    with open(os.path.join(HERE, "model", "single.json"), encoding="utf-8") as handle:
        return json.load(handle)


def clean_evidence(model):
    """What a correctly deployed single-connect lab shows."""
    ports = ev.probe_ports(model, CANARY)
    sources = {host: entry["address"] for host, entry in model["hosts"].items()}
    sources.update(PROBES)
    evidence = {}
    for host, address in sources.items():
        allowed = {(target, port): flow_allows(model["flows"], address, target, port)
                   for target in model["machines"] for port in ports}
        evidence[host] = {"address": address, "probe": [
            {"host": target, "port": port, "state": "open" if allowed[target, port] else "filtered"}
            for target in model["machines"] if target != address for port in ports]}
    for host, entry in model["hosts"].items():
        found = evidence[host]
        found["chrony"] = {"synchronized": True, "offset": 0.001, "stratum": 3, "reference_local": False}
        if entry["containers"]:
            found["env"] = {c["name"]: {"exists": True, "running": True,
                                        "fingerprints": {"WA_SECRET": SECRET, "WA_WEB_JWT_CRYPTO_KEY":
                                                         JWT if c["role"] == "webapp" else None},
                                        "values": {"WA_DB_SSL_VERIFY": "1" if c["role"] == "webapp" else None}}
                            for c in entry["containers"]}
            found["db"] = {c["name"]: {"tls": True, "server_verified": True, "hostname_verified": True,
                                       "authenticated": True} for c in entry["containers"]}
            found["files"] = [{"path": f["path"], "mode": f["mode"], "max_mode": f["mode"]}
                              for c in entry["containers"] for f in c["env_fragments"] + [c["db_tls_files"]["key"]]]
            found["secret_files"] = []
    web = evidence[model["groups"]["wa_webapp"][0]]
    web["tls"] = {"protocols": {"SSLv3": "untestable", "TLSv1": "refused", "TLSv1.1": "refused",
                                "TLSv1.2": "accepted", "TLSv1.3": "refused"},
                  "suites": ["ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-ECDSA-AES128-GCM-SHA256"], "tls13_suite": None,
                  "certificate": {"verified": True, "verify_error": None, "name_matches": True, "days_left": 300,
                                  "subject": "CN=wa.example.com", "not_after": "2027-10-01T00:00:00Z"}}
    web["headers"] = {"page": ["x-content-security-policy", "x-frame-options", "x-xss-protection",
                               "x-content-type-options", "strict-transport-security"], "api": []}
    web["default_login"] = "refused"
    web["health"] = {"nodes": {"coreapp": {"gateway_status": "connected", "role": "coreapp"}}}
    web["webhook_ca"] = {"matches": True}
    web["plaintext"] = {"kind": "plaintext_refused", "msg": "refused"}
    return evidence


def failed(model, evidence):
    findings, _cells = ev.evaluate(model, evidence, SETTINGS)
    return sorted({(f["id"], f["host"]) for f in findings if f["status"] == "fail"})


def test_a_clean_deployment_passes_every_check(model):
    findings, cells = ev.evaluate(model, clean_evidence(model), SETTINGS)
    assert [f for f in findings if f["status"] == "fail"] == []
    ids = {f["id"] for f in findings}
    # Every check of the catalogue has a finding on a clean single-connect deployment.
    assert ids == set(checks.CATALOGUE)
    # 5 sources, each probing the 2 other product machines (3 for a probe host) on every port.
    ports = len(ev.probe_ports(model, CANARY))
    assert len(cells) == ports * (3 * 2 + 2 * 3)
    sources = {c["source"] for c in cells}
    assert sources >= {"client zone (client1)", "admin zone (admin1)", "web1.example.com (wa_webapp)"}


def test_probe_ports_carry_the_canary_and_refuse_a_product_port(model):
    ports = ev.probe_ports(model, CANARY)
    assert {22, 3306, 9090, 6250, 6257, CANARY} <= set(ports)
    with pytest.raises(ValueError, match="canary port 9090"):
        ev.probe_ports(model, 9090)


def test_zones_come_from_the_model_networks(model):
    assert ev.zone_of(model, "10.20.3.4") == "client zone"
    assert ev.zone_of(model, "10.30.5.9") == "admin zone"
    assert ev.zone_of(model, "192.0.2.1") == "outside every zone"


def test_a_coreapp_port_open_to_clients_fails_net01_for_that_zone_only(model):
    evidence = clean_evidence(model)
    for result in evidence["client1"]["probe"]:
        if result["host"] == "10.40.2.10" and result["port"] == 6250:
            result["state"] = "open"
    assert failed(model, evidence) == [("NET-01", "client zone (client1)")]


def test_a_closed_canary_is_not_filtered(model):
    evidence = clean_evidence(model)
    for result in evidence["web1.example.com"]["probe"]:
        if result["port"] == CANARY:
            result["state"] = "closed"
    assert failed(model, evidence) == [("NET-03", "web1.example.com (wa_webapp)")]


def test_a_container_off_the_bundle_secret_fails_the_link(model):
    evidence = clean_evidence(model)
    evidence["core1.example.com"]["env"]["wacore"]["fingerprints"]["WA_SECRET"] = "hmac-sha256:" + "c" * 64
    evidence["web1.example.com"]["health"] = {"nodes": {"coreapp": {"gateway_status": "disconnected"}}}
    assert failed(model, evidence) == [("LINK-01", "deployment"), ("LINK-02", "deployment")]


def test_a_silent_host_is_named_and_nothing_else_breaks(model):
    evidence = clean_evidence(model)
    del evidence["db1.example.com"]
    assert failed(model, evidence) == [("AUD-01", "deployment")]


def test_the_default_password_fails_auth_and_skips_what_needs_a_login(model):
    evidence = clean_evidence(model)
    web = evidence["web1.example.com"]
    web["default_login"] = "default-password"
    web["health"] = {"error": "login of admin failed (HTTP 401): wrong api_password", "login_refused": True}
    web["webhook_ca"] = {"unread": "login of admin failed (HTTP 401): wrong api_password"}
    findings, _cells = ev.evaluate(model, evidence, SETTINGS)
    assert sorted({f["id"] for f in findings if f["status"] == "fail"}) == ["AUTH-01", "AUTH-03"]
    assert sorted(f["id"] for f in findings if f["status"] == "skip") == ["LINK-02", "SSL-03"]


def test_verification_off_and_plaintext_accepted(model):
    evidence = clean_evidence(model)
    web = evidence["web1.example.com"]
    web["env"]["waweb"]["values"]["WA_DB_SSL_VERIFY"] = "0"
    web["db"]["waweb"] = {"tls": True, "server_verified": False, "hostname_verified": False, "authenticated": True}
    web["plaintext"] = {"kind": None, "msg": ""}
    assert failed(model, evidence) == [("DB-01", "web1.example.com"), ("DB-02", "web1.example.com"),
                                       ("DB-03", "db1.example.com")]


def test_a_failed_tls_probe_fails_its_checks_with_the_reason(model):
    evidence = clean_evidence(model)
    evidence["web1.example.com"]["tls"] = {"error": "no TCP connection to 10.40.1.10:9090: ECONNREFUSED"}
    findings, _cells = ev.evaluate(model, evidence, SETTINGS)
    bad = [f for f in findings if f["status"] == "fail"]
    assert sorted(f["id"] for f in bad) == ["SSL-01", "SSL-02", "TLS-01"]
    assert all("ECONNREFUSED" in f["evidence"] for f in bad)


def test_evaluate_does_not_change_its_inputs(model):
    evidence = clean_evidence(model)
    before = copy.deepcopy((model, evidence))
    ev.evaluate(model, evidence, SETTINGS)
    assert (model, evidence) == before


def test_a_world_readable_key_fails_both_file_checks(model):
    evidence = clean_evidence(model)
    core = evidence["core1.example.com"]
    key = model["hosts"]["core1.example.com"]["containers"][0]["db_tls_files"]["key"]["path"]
    core["files"] = [dict(f, mode="0644") if f["path"] == key else f for f in core["files"]]
    core["secret_files"] = [key]
    assert failed(model, evidence) == [("FS-01", "core1.example.com"), ("FS-02", "core1.example.com")]
