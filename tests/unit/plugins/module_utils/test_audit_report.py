# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The audit report's three forms: validation, the matrix verdicts (closed is not blocked), the
JSON summary, JUnit XML as a CI reads it, and the HTML page's content and escaping."""

from __future__ import annotations

import html.parser
import json
import xml.etree.ElementTree as ET

import pytest
from ansible_collections.waent.onprem.plugins.module_utils import _audit_report as report

FINDINGS = [
    {"id": "TLS-01", "section": "HTTPS", "title": "Profile of WA_WEB_SECURITY_LEVEL", "host": "web1",
     "status": "pass", "severity": "high", "evidence": {"TLSv1.2": "accepted"}},
    {"id": "NET-02", "section": "Network segregation", "title": "Coreapp ports filtered from clients",
     "host": "core1", "status": "fail", "evidence": "10.0.1.5 -> core1:6250 open",
     "fix": "run site.yml: the firewall role restores the ruleset"},
    {"id": "CLK-01", "section": "Clocks", "title": "Offset within budget", "host": "core1", "status": "warn",
     "evidence": "0.6 s", "fix": "check the NTP source"},
    {"id": "DB-03", "section": "Database TLS", "title": "Plaintext refused", "host": "db1", "status": "skip",
     "evidence": "<script>alert(1)</script>"},
]
CELLS = [
    {"source": "client", "port": 9090, "service": "webapp-https", "target": "web1", "expected": "open",
     "observed": "open"},
    {"source": "client", "port": 6250, "service": "coreapp", "target": "core1", "expected": "filtered",
     "observed": "closed"},
    {"source": "client", "port": 3306, "service": "database", "target": "db1", "expected": "filtered",
     "observed": "filtered"},
    {"source": "admin", "port": 9090, "service": "webapp-https", "target": "web1", "expected": "open",
     "observed": "filtered"},
]


def clean():
    return report.validate(FINDINGS, CELLS)


@pytest.mark.parametrize(("cell", "verdict"), [
    ({"expected": "open", "observed": "open"}, "ok"),
    ({"expected": "open", "observed": "filtered"}, "blocked"),
    ({"expected": "open", "observed": "closed"}, "blocked"),
    ({"expected": "filtered", "observed": "filtered"}, "ok"),
    # A closed port answered with a reset: nothing filtered the packet.
    ({"expected": "filtered", "observed": "closed"}, "unexpected-open"),
    ({"expected": "filtered", "observed": "open"}, "unexpected-open"),
])
def test_cell_verdicts(cell, verdict):
    assert report.cell_verdict(cell) == verdict


@pytest.mark.parametrize(("findings", "cells", "message"), [
    ([{"id": "X-1", "section": "s", "title": "t", "host": "h"}], [], "lacks status"),
    ([{"id": "X-1", "section": "s", "title": "t", "host": "h", "status": "ok"}], [], "status 'ok'"),
    ([{"id": "X-1", "section": "s", "title": "t", "host": "h", "status": "pass", "severity": "urgent"}], [],
     "severity 'urgent'"),
    (["not a dict"], [], "not a mapping"),
    ([], [{"port": 1, "expected": "blocked", "observed": "open"}], r"matrix\[0\]"),
])
def test_bad_input_is_named(findings, cells, message):
    with pytest.raises(report.ReportError, match=message):
        report.validate(findings, cells)


def test_summary_counts_and_failed_ids():
    findings, cells = clean()
    assert report.summary(findings, cells) == {"total": 4, "fail": 1, "warn": 1, "pass": 1, "skip": 1,
                                               "failed_ids": ["NET-02"], "matrix_mismatches": 2}


def test_json_holds_everything_and_the_verdicts():
    findings, cells = clean()
    data = json.loads(report.to_json(findings, cells, {"title": "lab"}))
    assert data["summary"]["failed_ids"] == ["NET-02"]
    assert [c["verdict"] for c in data["segregation"]] == ["ok", "unexpected-open", "ok", "blocked"]
    assert data["findings"][1]["fix"].startswith("run site.yml")


def test_junit_as_a_ci_reads_it():
    findings, _cells = clean()
    root = ET.fromstring(report.to_junit(findings, {"title": "lab"}))  # noqa: S314 - our own output
    suites = {suite.get("name"): suite for suite in root.iter("testsuite")}
    assert set(suites) == {"HTTPS", "Network segregation", "Clocks", "Database TLS"}
    failure = suites["Network segregation"].find("testcase/failure")
    assert failure is not None and "10.0.1.5" in failure.text and failure.get("type") == "medium"
    assert suites["Database TLS"].find("testcase/skipped") is not None
    assert suites["Clocks"].find("testcase/system-out").text.startswith("WARN: check the NTP source")
    assert sum(int(s.get("failures")) for s in suites.values()) == 1


class _Collector(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.cells, self.rows, self.scripts, self.links = [], [], 0, 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script":
            self.scripts += 1
        if tag in ("link", "img") or (tag == "a" and "href" in attrs):
            self.links += 1
        if tag == "td" and "data-port" in attrs:
            self.cells.append(attrs)
        if tag == "tr" and "data-id" in attrs:
            self.rows.append(attrs)


def test_html_is_self_contained_escaped_and_draws_the_matrix():
    findings, cells = clean()
    page = report.to_html(findings, cells, {"title": "lab <audit>"})
    parsed = _Collector()
    parsed.feed(page)
    assert parsed.scripts == 0 and parsed.links == 0, "no script and nothing loaded from elsewhere"
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "lab &lt;audit&gt;" in page
    # Failures first within a section; every finding has a row.
    assert sorted(row["data-id"] for row in parsed.rows) == ["CLK-01", "DB-03", "NET-02", "TLS-01"]
    by_key = {(c["data-source"], c["data-port"]): c for c in parsed.cells}
    assert by_key[("client", "6250")]["class"] == "mark unexpected-open"
    assert by_key[("client", "6250")]["data-observed"] == "closed"
    assert by_key[("admin", "9090")]["class"] == "mark blocked"
    assert by_key[("client", "3306")]["class"] == "mark ok"
    assert 'data-failed="1"' in page


def test_html_lists_what_to_fix_first_and_nothing_when_clean():
    findings, cells = clean()
    page = report.to_html(findings, cells, {})
    top = page[page.index('<ul id="failed">'):page.index("</ul>")]
    assert "NET-02 core1" in top and "run site.yml: the firewall role restores the ruleset" in top
    assert "TLS-01" not in top and "CLK-01" not in top
    passing = [dict(f, status="pass") for f in findings]
    assert 'id="failed"' not in report.to_html(passing, cells, {})
