# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The audit's findings as data, and the three forms they are written in: JSON (machines), JUnit
XML (CI dashboards, AWX) and one self-contained HTML page (people).

A finding: ``id`` (stable, e.g. ``TLS-01``), ``section`` (the security guide's), ``title``, ``host``,
``status`` (pass | fail | warn | skip), ``severity`` (high | medium | low), ``evidence`` (what was
read on the live system: text or plain data) and ``fix`` (what to do when it is not a pass).

The segregation matrix: cells ``{source, port, service, expected, observed}`` where ``expected``
is ``open`` or ``filtered`` (the deployment model's flows) and ``observed`` what ``port_probe``
saw (``open``, ``closed``, ``filtered``). Only ``filtered`` counts as blocked: a ``closed`` port
answered, so a firewall did not stop the packet.
"""

from __future__ import annotations

import html
import json
import xml.etree.ElementTree as ET

STATUSES = ("fail", "warn", "pass", "skip")
SEVERITIES = ("high", "medium", "low")
_FIELDS = ("id", "section", "title", "host", "status", "severity", "evidence", "fix")


class ReportError(ValueError):
    """A finding or a matrix cell the report cannot hold; the message names it."""


def validate(findings, matrix=()):
    """Findings and cells checked and normalised (missing ``fix``/``evidence`` become empty)."""
    clean = []
    for index, finding in enumerate(findings):
        if not isinstance(finding, dict):
            raise ReportError(f"findings[{index}] is not a mapping")
        missing = [name for name in ("id", "section", "title", "host", "status") if not finding.get(name)]
        if missing:
            raise ReportError(f"findings[{index}] ({finding.get('id', '?')}) lacks {', '.join(missing)}")
        if finding["status"] not in STATUSES:
            raise ReportError(f"findings[{index}] ({finding['id']}) has status {finding['status']!r}: "
                              f"one of {', '.join(STATUSES)}")
        severity = finding.get("severity") or "medium"
        if severity not in SEVERITIES:
            raise ReportError(f"findings[{index}] ({finding['id']}) has severity {severity!r}: "
                              f"one of {', '.join(SEVERITIES)}")
        clean.append({**{name: finding.get(name) for name in _FIELDS}, "severity": severity,
                      "evidence": finding.get("evidence", ""), "fix": finding.get("fix") or ""})
    cells = []
    for index, cell in enumerate(matrix):
        expected, observed = cell.get("expected"), cell.get("observed")
        if expected not in ("open", "filtered") or observed not in ("open", "closed", "filtered"):
            raise ReportError(f"matrix[{index}] needs expected open|filtered and observed open|closed|filtered, "
                              f"got {expected!r} / {observed!r}")
        cells.append({"source": str(cell.get("source", "")), "port": int(cell["port"]),
                      "service": str(cell.get("service", "")), "target": str(cell.get("target", "")),
                      "expected": cell["expected"], "observed": cell["observed"]})
    return clean, cells


def cell_verdict(cell):
    """``ok`` when what was seen is what the flows allow, else ``unexpected-open`` (a forbidden
    flow answered: open, or closed = reached a host that answered) or ``blocked`` (an allowed flow
    did not open)."""
    if cell["expected"] == "open":
        return "ok" if cell["observed"] == "open" else "blocked"
    return "ok" if cell["observed"] == "filtered" else "unexpected-open"


def summary(findings, cells=()):
    counts = {status: sum(1 for f in findings if f["status"] == status) for status in STATUSES}
    failed = sorted({f["id"] for f in findings if f["status"] == "fail"})
    return {"total": len(findings), **counts, "failed_ids": failed,
            "matrix_mismatches": sum(1 for c in cells if cell_verdict(c) != "ok")}


def to_json(findings, cells, meta):
    return json.dumps({"meta": meta, "summary": summary(findings, cells), "findings": findings,
                       "segregation": [{**c, "verdict": cell_verdict(c)} for c in cells]},
                      indent=2, sort_keys=True, default=str) + "\n"


def _text(value):
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)


def to_junit(findings, meta):
    """One ``testsuite`` per guide section, one ``testcase`` per finding: fail as ``failure``,
    skip as ``skipped``, warn as a pass whose output starts with WARN (JUnit has no warning)."""
    suites = ET.Element("testsuites", name=str(meta.get("title", "waent.onprem audit")))
    for section in sorted({f["section"] for f in findings}):
        members = [f for f in findings if f["section"] == section]
        suite = ET.SubElement(suites, "testsuite", name=section, tests=str(len(members)),
                              failures=str(sum(1 for f in members if f["status"] == "fail")),
                              skipped=str(sum(1 for f in members if f["status"] == "skip")), errors="0")
        for finding in members:
            case = ET.SubElement(suite, "testcase", classname=f"{section}.{finding['id']}",
                                 name=f"{finding['id']} {finding['title']} [{finding['host']}]")
            evidence = _text(finding["evidence"])
            if finding["status"] == "fail":
                failure = ET.SubElement(case, "failure", message=finding["fix"] or finding["title"],
                                        type=finding["severity"])
                failure.text = evidence
            elif finding["status"] == "skip":
                ET.SubElement(case, "skipped", message=evidence[:500])
            else:
                out = ET.SubElement(case, "system-out")
                out.text = ("WARN: " + finding["fix"] + "\n" if finding["status"] == "warn" else "") + evidence
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


# Colour and a symbol, so the page reads without colour too.
_STATUS_MARK = {"pass": ("✓", "pass"), "fail": ("✗", "fail"), "warn": ("!", "warn"), "skip": ("–", "skip")}
_CELL_MARK = {"ok": "✓", "unexpected-open": "✗", "blocked": "⊘"}
_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em;color:#1b1b1b;max-width:80em}
h1{font-size:1.6em}h2{font-size:1.25em;margin-top:2em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5em 0}th,td{border:1px solid #bbb;padding:.3em .55em;vertical-align:top}
th{background:#f0f0f0;text-align:left}.pass{background:#e3f4e3}.fail{background:#fbe0e0}
.warn{background:#fff3cd}.skip{background:#eee}.ok{background:#e3f4e3}.unexpected-open{background:#fbe0e0}
.blocked{background:#fff3cd}td.mark{text-align:center;font-weight:bold}pre{margin:0;white-space:pre-wrap;
font-size:12px}.counts span{display:inline-block;margin-right:1.2em}
"""


def _finding_rows(findings):
    rows = []
    for f in findings:
        mark, css = _STATUS_MARK[f["status"]]
        rows.append(
            f'<tr class="{css}" data-id="{html.escape(f["id"])}" data-status="{f["status"]}">'
            f'<td class="mark">{mark} {html.escape(f["status"])}</td><td>{html.escape(f["id"])}</td>'
            f'<td>{html.escape(f["title"])}</td><td>{html.escape(f["host"])}</td><td>{html.escape(f["severity"])}</td>'
            f'<td><pre>{html.escape(_text(f["evidence"]))}</pre></td><td>{html.escape(f["fix"])}</td></tr>')
    return "\n".join(rows)


def _matrix(cells):
    """Sources as rows, (port, service) as columns; each cell shows expected → observed."""
    if not cells:
        return "<p>No segregation probes in this run.</p>"
    sources = sorted({c["source"] for c in cells})
    columns = sorted({(c["port"], c["service"]) for c in cells})
    head = "".join(f"<th>{port}<br><small>{html.escape(service)}</small></th>" for port, service in columns)
    body = []
    for source in sources:
        tds = []
        for port, service in columns:
            here = [c for c in cells if c["source"] == source and c["port"] == port and c["service"] == service]
            if not here:
                tds.append('<td class="mark">·</td>')
                continue
            worst = next((c for c in here if cell_verdict(c) != "ok"), here[0])
            verdict = cell_verdict(worst)
            tds.append(f'<td class="mark {verdict}" data-source="{html.escape(source)}" data-port="{port}" '
                       f'data-expected="{worst["expected"]}" data-observed="{worst["observed"]}" '
                       f'title="{html.escape(worst["target"])}">{_CELL_MARK[verdict]} '
                       f'{worst["expected"]}&#8594;{worst["observed"]}</td>')
        body.append(f"<tr><th>{html.escape(source)}</th>{''.join(tds)}</tr>")
    legend = ("<p>✓ as the flows say · ✗ a forbidden flow answered (open or closed: no firewall stopped it) "
              "· ⊘ an allowed flow did not open · each cell: expected&#8594;observed</p>")
    return f'<table id="segregation"><tr><th>source \\ port</th>{head}</tr>{"".join(body)}</table>{legend}'


def to_html(findings, cells, meta):
    """One page, no external resource (closed networks): summary, findings by section, matrix."""
    counts = summary(findings, cells)
    title = html.escape(str(meta.get("title", "waent.onprem audit")))
    sections = []
    for section in sorted({f["section"] for f in findings}):
        members = sorted((f for f in findings if f["section"] == section),
                         key=lambda f: (STATUSES.index(f["status"]), f["id"], f["host"]))
        sections.append(f"<h2>{html.escape(section)}</h2><table><tr><th>status</th><th>id</th><th>check</th>"
                        f"<th>host</th><th>severity</th><th>evidence</th><th>fix</th></tr>"
                        f"{_finding_rows(members)}</table>")
    facts = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>"
                    for k, v in sorted(meta.items()))
    status_counts = "".join(f'<span class="{s}">{_STATUS_MARK[s][0]} {s}: {counts[s]}</span>' for s in STATUSES)
    # What needs doing first: every failure in one list above the sections.
    failed = "".join(f'<li class="fail">✗ {html.escape(f["id"])} {html.escape(f["host"])} - {html.escape(f["title"])}: '
                     f'{html.escape(f["fix"])}</li>' for f in findings if f["status"] == "fail")
    failed = f'<h2>To fix</h2><ul id="failed">{failed}</ul>' if failed else ""
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
            f"<style>{_CSS}</style></head><body><h1>{title}</h1>"
            f'<p class="counts" id="summary" data-failed="{counts["fail"]}">{status_counts}'
            f'<span>segregation mismatches: {counts["matrix_mismatches"]}</span></p>'
            f"<table>{facts}</table>{failed}{''.join(sections)}<h2>Segregation</h2>{_matrix(cells)}</body></html>\n")
