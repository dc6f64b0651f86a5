# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filter audit_findings: the audit's findings and segregation matrix from the evidence of every host."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.waent.onprem.plugins.module_utils._audit_evidence import evaluate

DOCUMENTATION = r"""
name: audit_findings
short_description: Judge what the audit read on the live hosts against the deployment model
version_added: 0.2.0
author: waent.onprem developers (@waent)
description:
  - Turns the evidence the C(waent.onprem.audit) role collected on every host (probes, TLS,
    headers, clocks, database sessions, file modes, keyed fingerprints) into findings of the
    audit's catalogue (stable IDs, guide sections, severities, fixes) and the segregation matrix,
    the input of M(waent.onprem.audit_report).
  - The expected side comes from the deployment model only (P(waent.onprem.deployment_model#filter)) -
    its flows, groups, TLS level, replay window and paths.
positional: _input, evidence, settings
options:
  _input:
    description: The deployment model, C(wa_model).
    type: dict
    required: true
  evidence:
    description: Inventory host name -> the mapping of evidence that host collected (see the role's documentation).
    type: dict
    required: true
  settings:
    description:
      - C(canary_port), C(max_offset) (seconds), C(renew_before_days), and C(bundle), the secrets
        bundle's keyed fingerprints of C(wa_secret) and C(wa_web_jwt_crypto_key).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Judge the evidence
  ansible.builtin.set_fact:
    audit_result: "{{ wa_model | waent.onprem.audit_findings(evidence_by_host, settings) }}"
  run_once: true
"""

RETURN = r"""
_value:
  description: C(findings) (the list M(waent.onprem.audit_report) takes) and C(segregation) (the matrix cells).
  type: dict
"""


def audit_findings(model, evidence, settings):
    try:
        findings, cells = evaluate(model, evidence or {}, settings)
    except (KeyError, TypeError, ValueError) as exc:
        raise AnsibleFilterError(f"audit_findings: {type(exc).__name__}: {exc}") from exc
    return {"findings": findings, "segregation": cells}


class FilterModule:
    def filters(self):
        return {"audit_findings": audit_findings}
