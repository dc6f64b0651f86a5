# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.waent.onprem.plugins.module_utils._flows import (
    FlowError,
    flow_allows,
    input_errors,
    legacy_flows,
)

DOCUMENTATION = r"""
name: flow_matrix
short_description: The allowed network flows of a waent.onprem deployment
version_added: 0.1.0
author: waent.onprem developers (@waent)
description:
  - Computes, from the inventory groups C(wa_webapp), C(wa_coreapp), C(wa_master) and C(wa_db)
    and the shared C(wa_*) variables, the complete list of allowed flows, following the security
    guide's "Network Segregation" section and the port matrix of the product.
  - One source of truth - the C(waent.onprem.firewall) role renders its nftables ruleset from it
    and the audit compares probes against it.
  - Per-host values (C(wa_host_address), C(wa_webapp_port), C(wa_coreapp_external_ports)) are
    read from O(_hostvars) when the host sets them, else the deployment-wide value of the same
    name in O(settings) (the C(waent.onprem.wa) defaults) applies; C(wa_host_address) falls back
    to C(ansible_host), then the inventory name, and must be an IP address.
  - Flows - API clients and admin networks to every Webapp's published HTTPS port; Webapps to
    every Coreapp (and, in multiconnect, Master) external ports 1-3 (container 6250-6252); in
    multiconnect only, Coreapps/Masters to each other on all 4 external ports; Webapps, Coreapps
    and Masters to every C(wa_db) host's database port; the management networks to SSH on every
    host; every host to each NTP server (UDP 123, direction C(egress)).
  - Two inventory hosts with the same C(wa_host_address) are one machine (a Master co-hosted
    with a Coreapp uses external ports 6254-6257) and do not get cluster flows to themselves.
  - Missing groups are empty; Masters count only when C(multiconnect) is true.
  - Fails naming the variable when a network is not a CIDR, a port is out of range, an address
    is not an IP or a host does not publish exactly 4 Coreapp ports.
  - The deployment model (P(waent.onprem.deployment_model#filter)) holds the same flows, computed
    from the hosts' variables alone, in its C(flows); this O(settings) form remains for the roles
    that have not switched to the model yet.
positional: _input, _hostvars
options:
  _input:
    description: The inventory C(groups) magic variable (a dict of group name to hosts).
    type: dict
    required: true
  _hostvars:
    description: The C(hostvars) magic variable, or a dict of host to variables.
    type: dict
    default: {}
  settings:
    description:
      - Deployment-wide values. Keys and the variable each comes from - C(multiconnect)
        (C(wa_multiconnect)), C(api_client_networks), C(admin_networks), C(management_networks)
        (C(wa_*_networks)), C(webapp_port), C(coreapp_external_ports), C(db_port) (C(wa_*)),
        C(ssh_port) (default 22), C(ntp_servers) (strings, or dicts with C(hostname), as the
        timesync role's C(timesync_servers)).
      - Keys left out or null take the C(waent.onprem.wa) defaults.
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Compute the flows from the inventory
  ansible.builtin.set_fact:
    __flows: >-
      {{ groups | waent.onprem.flow_matrix(hostvars, settings={
           'multiconnect': wa_multiconnect,
           'api_client_networks': wa_api_client_networks,
           'admin_networks': wa_admin_networks,
           'management_networks': wa_management_networks,
           'webapp_port': wa_webapp_port,
           'coreapp_external_ports': [6250, 6251, 6252, 6253],
           'db_port': wa_db_port,
           'ntp_servers': timesync_servers | default([])}) }}

- name: The flows this host must accept
  ansible.builtin.debug:
    msg: "{{ __flows | selectattr('destination_address', 'equalto', wa_host_address) }}"

- name: Is 10.0.1.5 allowed to reach the Webapp port of 10.0.2.10?
  ansible.builtin.debug:
    msg: "{{ __flows | waent.onprem.flow_allows('10.0.1.5', '10.0.2.10', 9090) }}"
"""

RETURN = r"""
_value:
  description: The allowed flows, one dict per destination host and purpose.
  type: list
  elements: dict
  contains:
    name:
      description: Stable identifier, C(<purpose>:<destination host>).
      type: str
      sample: webapp-https:web1
    sources:
      description: Allowed source networks (CIDR; a host address is a /32 or /128).
      type: list
      elements: str
      sample: [10.0.1.0/24]
    source_zones:
      description: The zones or groups the sources come from.
      type: list
      elements: str
    source_hosts:
      description: The inventory hosts the sources come from (empty for networks).
      type: list
      elements: str
    destination_host:
      description: Inventory name of the destination (null for egress flows).
      type: str
    destination_address:
      description: Address of the destination.
      type: str
    ports:
      description: Destination ports.
      type: list
      elements: int
      sample: [9090]
    protocol:
      description: C(tcp) or C(udp).
      type: str
    purpose:
      description: Why the flow exists.
      type: str
    guide:
      description: The security guide section the flow comes from.
      type: str
    reference:
      description: Row of the product's port matrix (reference section 1.4).
      type: str
    direction:
      description: C(ingress) (to a managed host, filtered by the firewall) or C(egress).
      type: str
"""


def _plain(value):
    """hostvars and lazy dicts to plain mappings of what we read."""
    if value is None:
        return {}
    return value


def flow_matrix(groups, hostvars=None, settings=None):
    try:
        return legacy_flows(dict(groups or {}), _plain(hostvars), dict(settings or {}))
    except FlowError as exc:
        raise AnsibleFilterError(str(exc)) from exc


def flow_allows_filter(flows, source, destination, port, protocol="tcp"):
    try:
        return flow_allows(flows, source, destination, port, protocol)
    except ValueError as exc:
        raise AnsibleFilterError(f"flow_allows: {exc}") from exc


def flow_errors(settings, groups=None, hostvars=None, zones=None):
    return input_errors(dict(settings or {}), None if groups is None else dict(groups), _plain(hostvars), zones)


class FilterModule:
    def filters(self):
        return {
            "flow_matrix": flow_matrix,
            "flow_allows": flow_allows_filter,
            "flow_errors": flow_errors,
        }
