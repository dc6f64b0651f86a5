#!/usr/bin/python
# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
module: audit_report
short_description: Write the audit's findings as JSON, JUnit XML and one self-contained HTML page
version_added: 0.2.0
author: waent.onprem developers (@waent)
description:
  - Writes O(findings) and the O(segregation) matrix into O(dest) as C(<name>.json) (machines),
    C(<name>.junit.xml) (one test suite per guide section, for CI dashboards and AWX) and
    C(<name>.html) (a summary, the findings grouped by section, and the segregation matrix as a
    grid of sources by ports, expected against observed, each cell with a colour and a symbol).
  - The page loads nothing from elsewhere (closed networks). Evidence is escaped, never markup.
  - Each file is replaced atomically, and only when its content changes.
options:
  dest:
    description: Directory for the three files, created when missing.
    type: path
    required: true
  name:
    description: Base name of the files.
    type: str
    default: audit
  findings:
    description:
      - The findings, each with C(id), C(section), C(title), C(host), C(status) (C(pass), C(fail),
        C(warn) or C(skip)), and optionally C(severity) (C(high), C(medium) - the default - or
        C(low)), C(evidence) and C(fix).
    type: list
    elements: dict
    required: true
  segregation:
    description:
      - Matrix cells, each with C(source) (a zone or host), C(port), C(service), C(target) and
        C(expected) (C(open) or C(filtered), from the deployment model's flows) and C(observed)
        (C(open), C(closed) or C(filtered), from M(waent.onprem.port_probe)). Only C(filtered)
        counts as blocked.
    type: list
    elements: dict
    default: []
  meta:
    description: Facts shown at the top of the page and stored in the JSON (time, inventory, levels).
    type: dict
    default: {}
attributes:
  check_mode:
    support: full
    description: Reports which files would change and writes nothing.
  diff_mode:
    support: none
    description: The files are reports; the summary says what they hold.
  idempotent:
    support: full
    description: The same findings write nothing the second time.
"""

EXAMPLES = r"""
- name: Write the report on the controller
  waent.onprem.audit_report:
    dest: "{{ playbook_dir }}/reports"
    findings: "{{ audit_findings }}"
    segregation: "{{ audit_matrix }}"
    meta: {title: "waent.onprem audit", inventory: "{{ inventory_dir }}"}
  delegate_to: localhost
  run_once: true
"""

RETURN = r"""
summary:
  description: Counts by status, the IDs of the failed checks and the number of matrix cells that differ from the flows.
  returned: always
  type: dict
  sample: {"total": 42, "fail": 1, "warn": 2, "pass": 39, "skip": 0, "failed_ids": ["NET-02"], "matrix_mismatches": 1}
files:
  description: The paths of the JSON, JUnit XML and HTML files.
  returned: always
  type: dict
"""

import os
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.waent.onprem.plugins.module_utils import _audit_report as report


def _write(module, path, content):
    """Replace ``path`` atomically when ``content`` differs; whether it did (or would)."""
    data = content.encode("utf-8")
    try:
        with open(path, "rb") as stream:
            if stream.read() == data:
                return False
    except FileNotFoundError:
        pass
    if module.check_mode:
        return True
    handle, temporary = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".audit-")
    with os.fdopen(handle, "wb") as stream:
        stream.write(data)
    os.chmod(temporary, 0o644)
    module.atomic_move(temporary, path)
    return True


def main():
    module = AnsibleModule(
        argument_spec={
            "dest": {"type": "path", "required": True},
            "name": {"type": "str", "default": "audit"},
            "findings": {"type": "list", "elements": "dict", "required": True},
            "segregation": {"type": "list", "elements": "dict", "default": []},
            "meta": {"type": "dict", "default": {}},
        },
        supports_check_mode=True,
    )
    params = module.params
    if "/" in params["name"] or not params["name"].strip():
        module.fail_json(msg=f"name {params['name']!r} must be a file name without '/'")
    try:
        findings, cells = report.validate(params["findings"], params["segregation"])
    except report.ReportError as exc:
        module.fail_json(msg=str(exc))
    files = {kind: os.path.join(params["dest"], f"{params['name']}.{suffix}")
             for kind, suffix in (("json", "json"), ("junit", "junit.xml"), ("html", "html"))}
    contents = {"json": report.to_json(findings, cells, params["meta"]),
                "junit": report.to_junit(findings, params["meta"]),
                "html": report.to_html(findings, cells, params["meta"])}
    if not module.check_mode:
        os.makedirs(params["dest"], mode=0o755, exist_ok=True)
    changed = False
    for kind, path in files.items():
        changed = _write(module, path, contents[kind]) or changed
    module.exit_json(changed=changed, summary=report.summary(findings, cells), files=files)


if __name__ == "__main__":
    main()
