# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Open the audit's HTML page in headless Chromium, as a person's browser would, and check it:
no console message, the summary and every finding rendered, and the segregation matrix showing
the observed state of every (source, port) of the report's JSON; then save a screenshot next to it.

    usage: python3 tests/report/check_page.py REPORT.html REPORT.json [SCREENSHOT.png]

First it proves its own console detector on a page that logs an error (a check that cannot fail
proves nothing). Chromium's flags keep it off the network (lab-recipe section 7). Exit 1 with the
reasons on any problem."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from html.parser import HTMLParser

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--enable-logging=stderr", "--v=0"]
TIMEOUT = 60


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    sys.exit("check_page: no chromium on PATH (Debian package chromium; make setup installs it)")


def run(page, *extra):
    """(dom, console lines) of ``page`` rendered by a fresh Chromium profile."""
    with tempfile.TemporaryDirectory(prefix="waent-chromium-") as profile:
        argv = [chromium(), *FLAGS, f"--user-data-dir={profile}", *extra, "file://" + os.path.abspath(page)]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    if done.returncode != 0:
        sys.exit(f"check_page: chromium exited {done.returncode}: {done.stderr.strip()[-500:]}")
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    return done.stdout, console


class Cells(HTMLParser):
    """The rendered findings rows and matrix cells (their data-* attributes)."""

    def __init__(self):
        super().__init__()
        self.cells, self.findings, self.summary = [], [], None

    def handle_starttag(self, tag, attrs):
        data = dict(attrs)
        if tag == "td" and "data-observed" in data:
            self.cells.append(data)
        elif tag == "tr" and "data-status" in data:
            self.findings.append(data)
        elif data.get("id") == "summary":
            self.summary = data


def problems(dom, report):
    parsed = Cells()
    parsed.feed(dom)
    out = []
    if parsed.summary is None or int(parsed.summary["data-failed"]) != report["summary"]["fail"]:
        out.append(f"summary: rendered {parsed.summary}, report says {report['summary']['fail']} failed")
    if len(parsed.findings) != len(report["findings"]):
        out.append(f"{len(parsed.findings)} finding rows rendered, {len(report['findings'])} in the report")
    groups = {}
    for cell in report["segregation"]:
        groups.setdefault((cell["source"], str(cell["port"])), []).append(cell)
    shown = {(c["data-source"], c["data-port"]): c for c in parsed.cells}
    for key, members in sorted(groups.items()):
        cell = shown.get(key)
        if cell is None:
            out.append(f"matrix: no cell for {key}")
            continue
        # The report's JSON carries each cell's verdict (expected against observed).
        bad = [m for m in members if m["verdict"] != "ok"]
        if cell["data-observed"] not in {m["observed"] for m in (bad or members)}:
            out.append(f"matrix {key}: shows {cell['data-observed']}, observed {[m['observed'] for m in members]}")
        if bool(bad) != ("ok" not in cell["class"].split()):
            out.append(f"matrix {key}: class {cell['class']!r} for verdicts {[m['verdict'] for m in members]}")
    if len(shown) != len(groups):
        out.append(f"matrix: {len(shown)} cells rendered for {len(groups)} (source, port) pairs")
    return out


def self_test():
    with tempfile.TemporaryDirectory(prefix="waent-page-") as tmp:
        page = os.path.join(tmp, "broken.html")
        with open(page, "w", encoding="utf-8") as handle:
            handle.write('<!DOCTYPE html><html><body><script>console.error("waent self-test")</script></body></html>')
        _dom, console = run(page, "--dump-dom")
    if not any("waent self-test" in line for line in console):
        sys.exit("check_page: the console detector missed a page that logs an error")


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    page, data = sys.argv[1], sys.argv[2]
    shot = sys.argv[3] if len(sys.argv) == 4 else os.path.splitext(page)[0] + ".png"
    self_test()
    with open(data, encoding="utf-8") as handle:
        report = json.load(handle)
    dom, console = run(page, "--dump-dom")
    found = [f"console: {line}" for line in console] + problems(dom, report)
    run(page, f"--screenshot={os.path.abspath(shot)}", "--window-size=1400,4200", "--hide-scrollbars")
    if not os.path.getsize(shot):
        found.append(f"empty screenshot {shot}")
    if found:
        print("\n".join(found))
        sys.exit(1)
    print(f"{page}: renders, no console message, {len(report['findings'])} findings and "
          f"{len({(c['source'], c['port']) for c in report['segregation']})} matrix cells as the report says; "
          f"screenshot {shot}")


if __name__ == "__main__":
    main()
