# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filter audit_probe_ports: the TCP ports the audit's segregation matrix probes."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.waent.onprem.plugins.module_utils._audit_evidence import probe_ports

DOCUMENTATION = r"""
name: audit_probe_ports
short_description: The TCP ports the audit probes on every product machine
version_added: 0.2.0
author: waent.onprem developers (@waent)
description:
  - Every port a flow of the deployment model names, every published container port, SSH, the
    database port, the vendor's Coreapp ports 6250-6257, and O(canary_port) - a port no flow may
    name, which must stay filtered everywhere (deny by default).
  - Fails when O(canary_port) is one of the deployment's ports.
positional: _input, canary_port
options:
  _input:
    description: The deployment model, C(wa_model).
    type: dict
    required: true
  canary_port:
    description: A TCP port the deployment does not use.
    type: int
    required: true
"""

EXAMPLES = r"""
- name: Probe every product machine from this host
  waent.onprem.port_probe:
    hosts: "{{ wa_model.machines.keys() | list }}"
    ports: "{{ wa_model | waent.onprem.audit_probe_ports(8081) }}"
"""

RETURN = r"""
_value:
  description: The ports, sorted.
  type: list
  elements: int
"""


def audit_probe_ports(model, canary_port):
    try:
        return probe_ports(model, int(canary_port))
    except (KeyError, TypeError, ValueError) as exc:
        raise AnsibleFilterError(f"audit_probe_ports: {exc}") from exc


class FilterModule:
    def filters(self):
        return {"audit_probe_ports": audit_probe_ports}
