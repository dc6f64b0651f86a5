# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filter flow_allows: the expected state of one probe, from the deployment model's flows."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.waent.onprem.plugins.module_utils._flows import flow_allows

DOCUMENTATION = r"""
name: flow_allows
short_description: Whether the deployment's flows allow a source to reach a destination port
version_added: 0.1.0
author: waent.onprem developers (@waent)
description:
  - Answers, from the allowed flows of the deployment model (C(wa_model.flows), see
    P(waent.onprem.deployment_model#filter)), whether O(source) may reach O(destination) on
    O(port) - the expected side of every probe the lab, the Molecule scenarios and the audit
    run, and of the firewall's lockout check.
  - A flow matches when its protocol and one of its ports match, its destination address or
    inventory name is O(destination), and one of its source networks contains O(source).
positional: _input, source, destination, port, protocol
options:
  _input:
    description: The flows, C(wa_model.flows).
    type: list
    elements: dict
    required: true
  source:
    description: Source IP address.
    type: str
    required: true
  destination:
    description: Destination address or inventory host name.
    type: str
    required: true
  port:
    description: Destination port.
    type: int
    required: true
  protocol:
    description: C(tcp) or C(udp).
    type: str
    default: tcp
"""

EXAMPLES = r"""
- name: Expected state of one probe
  ansible.builtin.debug:
    msg: "{{ 'allowed' if (wa_model.flows | waent.onprem.flow_allows('10.20.0.5', 'web1', 9090)) else 'filtered' }}"

- name: The flows this host must accept
  ansible.builtin.debug:
    msg: >-
      {{ wa_model.flows | selectattr('direction', 'eq', 'ingress')
         | selectattr('destination_host', 'eq', inventory_hostname) }}
"""

RETURN = r"""
_value:
  description: True when some flow allows it.
  type: bool
"""


def flow_allows_filter(flows, source, destination, port, protocol="tcp"):
    try:
        return flow_allows(flows, source, destination, port, protocol)
    except ValueError as exc:
        raise AnsibleFilterError(f"flow_allows: {exc}") from exc


class FilterModule:
    def filters(self):
        return {"flow_allows": flow_allows_filter}
