# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The audit catalogue's evaluators: each check passes on good evidence and fails on the evidence
its fault leaves behind (a check that cannot fail shows here)."""

from __future__ import annotations

import pytest
from ansible_collections.waent.onprem.plugins.module_utils import _audit_checks as checks
from ansible_collections.waent.onprem.plugins.module_utils import _audit_report as report

MODERN_PROBE = {
    "protocols": {"SSLv3": "untestable", "TLSv1": "refused", "TLSv1.1": "refused", "TLSv1.2": "accepted",
                  "TLSv1.3": "refused"},
    "suites": ["ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-RSA-AES128-GCM-SHA256"],
    "tls13_suite": None,
    "certificate": {"verified": True, "verify_error": None, "name_matches": True, "days_left": 300,
                    "subject": "CN=wa.example.com", "not_after": "2027-10-01T00:00:00Z"},
}


def clocks(chrony, max_offset, max_skew):
    return checks.clocks(chrony, max_offset=max_offset, max_skew=max_skew, replay_window=10, webapps=["web1"],
                         cores=["core1"])


def statuses(findings):
    return {(f["id"], f["host"]): f["status"] for f in findings}


def test_every_check_has_a_known_section_severity_and_fix():
    for check_id, check in checks.CATALOGUE.items():
        assert check.severity in report.SEVERITIES and check.fix and check.title, check_id
        prefix = check_id.split("-", maxsplit=1)[0]
        assert prefix in ("TLS", "SSL", "HDR", "NET", "LINK", "CLK", "DB", "FS", "AUTH", "AUD")


def test_findings_are_valid_report_input():
    found = checks.tls("web1", MODERN_PROBE, "MODERN", 30)
    assert report.validate(found)[0] == found


def test_tls_modern_passes_and_a_downgrade_fails():
    assert statuses(checks.tls("web1", MODERN_PROBE, "MODERN", 30))[("TLS-01", "web1")] == "pass"
    downgraded = {**MODERN_PROBE, "protocols": {**MODERN_PROBE["protocols"], "TLSv1": "accepted"},
                  "suites": MODERN_PROBE["suites"] + ["AES128-SHA"]}
    found = checks.tls("web1", downgraded, "MODERN", 30)
    assert statuses(found)[("TLS-01", "web1")] == "fail"
    assert any("TLSv1 accepted" in p for p in found[0]["evidence"]["problems"])


def test_tls_advice_is_a_warning_not_a_failure():
    assert statuses(checks.tls("web1", MODERN_PROBE, "MODERN", 30))[("TLS-02", "web1")] == "warn"


@pytest.mark.parametrize(("cert", "ssl01", "ssl02"), [
    ({"verified": True, "name_matches": True, "days_left": 300}, "pass", "pass"),
    ({"verified": False, "verify_error": "self-signed", "name_matches": True, "days_left": 300}, "fail", "pass"),
    ({"verified": True, "name_matches": False, "days_left": 300}, "fail", "pass"),
    ({"verified": True, "name_matches": True, "days_left": 10}, "pass", "fail"),
])
def test_certificate_checks(cert, ssl01, ssl02):
    got = statuses(checks.tls("web1", {**MODERN_PROBE, "certificate": cert}, "MODERN", 30))
    assert (got[("SSL-01", "web1")], got[("SSL-02", "web1")]) == (ssl01, ssl02)


def test_headers_on_the_page_and_not_on_the_api():
    page = ["X-Content-Security-Policy", "X-Frame-Options", "X-XSS-Protection", "X-Content-Type-Options",
            "Strict-Transport-Security", "Content-Type"]
    assert set(statuses(checks.headers("web1", page, ["Content-Type"])).values()) == {"pass"}
    got = statuses(checks.headers("web1", page[1:], ["x-frame-options"]))
    assert got == {("HDR-01", "web1"): "fail", ("HDR-02", "web1"): "warn"}


def test_segregation_closed_is_not_blocked_and_the_canary_must_be_filtered():
    cells = [
        {"source": "client", "target": "web1", "port": 9090, "expected": "open", "observed": "open"},
        {"source": "client", "target": "core1", "port": 6250, "expected": "filtered", "observed": "filtered"},
        {"source": "client", "target": "core1", "port": 8081, "expected": "filtered", "observed": "filtered"},
    ]
    assert set(statuses(checks.segregation(cells, 8081)).values()) == {"pass"}
    flushed = [{**c, "observed": "closed" if c["expected"] == "filtered" else "open"} for c in cells]
    got = statuses(checks.segregation(flushed, 8081))
    assert got[("NET-01", "client")] == "fail" and got[("NET-03", "client")] == "fail"
    assert got[("NET-02", "client")] == "pass"
    blocked = [{**cells[0], "observed": "filtered"}] + cells[1:]
    assert statuses(checks.segregation(blocked, 8081))[("NET-02", "client")] == "fail"


def test_link_needs_one_secret_everywhere_and_every_node_connected():
    same = {"waweb@web1": "hmac:aa", "wacore@core1": "hmac:aa"}
    healthy = {"core1:abc": {"gateway_status": "connected"}}
    assert set(statuses(checks.link(same, healthy)).values()) == {"pass"}
    got = statuses(checks.link({**same, "wacore@core1": "hmac:bb"}, {"core1:abc": {"gateway_status": "disconnected"}}))
    assert got == {("LINK-01", "deployment"): "fail", ("LINK-02", "deployment"): "fail"}
    assert statuses(checks.link({**same, "waweb@web1": None}, {"gateway_status": "connected"}))[
        ("LINK-01", "deployment")] == "fail"
    assert statuses(checks.link(same, {}))[("LINK-02", "deployment")] == "fail", "no node reported is no proof"


def test_clocks_offset_sync_and_skew():
    chrony = {"web1": {"synchronized": True, "offset": 0.01}, "core1": {"synchronized": True, "offset": -0.02}}
    assert set(statuses(clocks(chrony, 1.0, 2.5)).values()) == {"pass"}
    lying = {**chrony, "core1": {"synchronized": True, "offset": -15.0}}
    got = statuses(clocks(lying, 1.0, 2.5))
    assert got[("CLK-02", "core1")] == "fail" and got[("CLK-03", "deployment")] == "fail"
    stopped = {**chrony, "core1": {"synchronized": False, "offset": -0.02}}
    got = statuses(clocks(stopped, 1.0, 2.5))
    assert got[("CLK-01", "core1")] == "fail" and got[("CLK-03", "deployment")] == "pass"


def test_database_session_and_verify_flag():
    good = {"tls": True, "server_verified": True, "hostname_verified": True, "authenticated": True}
    assert set(statuses(checks.database("web1", {"waweb": good}, {"waweb": "1"})).values()) == {"pass"}
    got = statuses(checks.database("web1", {"waweb": {"kind": "plaintext_refused"}}, {"waweb": "0"}))
    assert got == {("DB-01", "web1"): "fail", ("DB-02", "web1"): "fail"}
    assert statuses(checks.database("web1", {}, {}))[("DB-01", "web1")] == "fail"


def test_files_owner_only():
    assert statuses(checks.files("web1", [{"path": "/etc/waent/waweb/app.env", "mode": "0600"}]))[
        ("FS-01", "web1")] == "pass"
    assert statuses(checks.files("web1", [{"path": "/etc/waent/db/client.key", "mode": "0644"}]))[
        ("FS-01", "web1")] == "fail"


def test_authentication():
    assert set(statuses(checks.auth("refused", {"web1": "hmac:aa", "web2": "hmac:aa"}, True)).values()) == {"pass"}
    got = statuses(checks.auth("default-password", {"web1": "hmac:aa", "web2": "hmac:bb"}, False))
    assert set(got.values()) == {"fail"}


def test_files_allow_the_model_mode_and_nothing_beyond():
    shared_key = {"path": "/srv/waent/waweb/certs/db-client.key", "mode": "0640", "max_mode": "0640"}
    assert statuses(checks.files("web1", [shared_key]))[("FS-01", "web1")] == "pass"
    assert statuses(checks.files("web1", [{**shared_key, "mode": "0644"}]))[("FS-01", "web1")] == "fail"
    assert statuses(checks.files("web1", [{**shared_key, "mode": None}]))[("FS-01", "web1")] == "fail"


def test_unreadable_evidence_skips_the_dependent_checks_only():
    stopped = {"web1": {"synchronized": False, "offset": None}, "core1": {"synchronized": True, "offset": 0.0}}
    got = statuses(clocks(stopped, 1.0, 2.5))
    assert got == {("CLK-01", "web1"): "fail", ("CLK-02", "web1"): "skip", ("CLK-01", "core1"): "pass",
                   ("CLK-02", "core1"): "pass", ("CLK-03", "deployment"): "skip"}
    got = statuses(checks.link({"a": "hmac:1", "b": "hmac:1"}, "the admin password is refused (AUTH-03)"))
    assert got == {("LINK-01", "deployment"): "pass", ("LINK-02", "deployment"): "skip"}
    got = statuses(checks.link({"a": "hmac:1"}, {"error": "connection refused"}))
    assert got[("LINK-02", "deployment")] == "fail"


def test_webhook_ca_and_coverage():
    assert statuses(checks.webhook_ca("web1", True))[("SSL-03", "web1")] == "pass"
    assert statuses(checks.webhook_ca("web1", False))[("SSL-03", "web1")] == "fail"
    assert statuses(checks.coverage(["web1", "core1"], ["web1", "core1"]))[("AUD-01", "deployment")] == "pass"
    assert statuses(checks.coverage(["web1", "core1"], ["web1"]))[("AUD-01", "deployment")] == "fail"


def test_skew_budget_is_tighter_than_the_replay_window():
    chrony = {"web1": {"synchronized": True, "offset": 0.0}, "core1": {"synchronized": True, "offset": -3.0}}
    got = clocks(chrony, 5.0, 2.5)
    skew = next(f for f in got if f["id"] == "CLK-03")
    assert skew["status"] == "fail"
    assert skew["evidence"]["budget_s"] == 2.5 and skew["evidence"]["replay_window_s"] == 10


def test_secret_material_in_world_readable_files():
    assert statuses(checks.secret_files("core1", []))[("FS-02", "core1")] == "pass"
    leaked = checks.secret_files("core1", ["/srv/waent/wacore/certs/db-client.key"])
    assert statuses(leaked)[("FS-02", "core1")] == "fail"
