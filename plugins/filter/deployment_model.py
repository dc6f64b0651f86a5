# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.waent.onprem.plugins.module_utils._model import (
    ModelError,
    build_model,
    model_errors,
)
from ansible_collections.waent.onprem.plugins.module_utils._model_containers import env_digest

DOCUMENTATION = r"""
name: deployment_model
short_description: The deployment model of a waent.onprem inventory
version_added: 0.1.0
author: waent.onprem developers (@waent)
description:
  - Computes, from the inventory groups C(wa_webapp), C(wa_coreapp), C(wa_master) and C(wa_db)
    and the hosts' variables, the one description of the deployment that every role, the
    firewall, the PKI, the preflight and the audit read - nothing else re-derives the topology.
  - Deployment-wide settings - C(multiconnect), the client, admin and management networks
    (normalised CIDRs), the database (C(engine), C(port), C(hostname), C(username) and the
    C(server_host) it designates) and the C(replay_window).
  - Per product host - its groups, its C(address) (an IP literal - C(wa_host_address), else
    C(ansible_host), else an inventory name that is an IP), its C(names) for certificates, the
    C(machine) it shares with co-hosted inventory hosts (same address) and its C(containers)
    (C(waweb), C(wacore), C(wamaster)) with their data, media, certificate and env paths, owners
    and modes, env fragments, published ports and C(topology_env) (C(COREAPP_HOSTNAME),
    C(COREAPP_EXTERNAL_PORTS), C(WACORE_HOSTNAME), ...).
  - The allowed flows (C(flows)), which the firewall renders and every probe is compared with
    (P(waent.onprem.flow_allows#filter)).
  - Reads only documented variables - C(wa_multiconnect), C(wa_api_client_networks),
    C(wa_admin_networks), C(wa_management_networks), C(wa_host_address), C(ansible_host),
    C(wa_webapp_port), C(wa_coreapp_external_ports), C(wa_webapp_server_names),
    C(wa_db_engine), C(wa_db_port), C(wa_db_hostname), C(wa_db_username), C(wa_data_root),
    C(wa_replay_window), C(firewall_ssh_port) and C(timesync_servers) - one name at a time.
  - Fails with every problem at once (the messages of P(waent.onprem.model_errors#filter)).
  - The collection's C(model) guide describes every field.
positional: _input, _hostvars
options:
  _input:
    description: The inventory C(groups) magic variable (a dict of group name to hosts).
    type: dict
    required: true
  _hostvars:
    description: The C(hostvars) magic variable, or a dict of host to variables.
    type: dict
    required: true
  defaults:
    description:
      - Values for the variables a host does not define. Ansible's C(hostvars) do not hold
        role defaults, so the C(waent.onprem.wa) role passes its own defaults here.
      - Values that are still templates are left out (the model derives C(wa_host_address)
        and C(wa_db_hostname) itself).
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Compute the deployment model once (in the waent.onprem.wa role)
  ansible.builtin.set_fact:
    wa_model: "{{ groups | waent.onprem.deployment_model(hostvars, defaults=__wa_defaults) }}"
  vars:
    __wa_defaults: "{{ lookup('ansible.builtin.file', role_path ~ '/defaults/main.yml') | from_yaml }}"
  run_once: true

- name: The containers of this host
  ansible.builtin.debug:
    msg: "{{ wa_model.hosts[inventory_hostname].containers | map(attribute='name') }}"

- name: Is 10.20.0.5 allowed to reach the Webapp port of web1?
  ansible.builtin.debug:
    msg: "{{ wa_model.flows | waent.onprem.flow_allows('10.20.0.5', 'web1', 9090) }}"
"""

RETURN = r"""
_value:
  description: The deployment model. Every value is JSON-serialisable.
  type: dict
  contains:
    version:
      description: Version of the model's structure.
      type: int
      sample: 1
    multiconnect:
      description: C(wa_multiconnect).
      type: bool
    api_client_networks:
      description: C(wa_api_client_networks), normalised CIDRs.
      type: list
      elements: str
    admin_networks:
      description: C(wa_admin_networks), normalised CIDRs.
      type: list
      elements: str
    management_networks:
      description: C(wa_management_networks), normalised CIDRs.
      type: list
      elements: str
    db:
      description:
        - C(engine), C(port), C(username); C(hostname) (C(wa_db_hostname), else the address of
          the first C(wa_db) host); C(server_host), the C(wa_db) host it designates.
      type: dict
    replay_window:
      description: C(wa_replay_window), seconds.
      type: int
    groups:
      description: The four product groups, each a list of hosts (missing groups are empty).
      type: dict
    env_fragment_names:
      description: The env fragments of every container, in the order of their combined digest.
      type: list
      elements: str
      sample: [app.env, db.env]
    hosts:
      description:
        - Every product host - C(groups), C(address), C(address_from), C(names) (C(dns) and
          C(ip) lists for certificates), C(machine) (inventory hosts with the same address),
          C(ssh_port), C(ntp_servers) and C(containers).
      type: dict
    machines:
      description: Address to C(hosts) and C(containers) (C(<host>/<container>)) of that machine.
      type: dict
    flows:
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


def _groups(groups):
    return dict(groups or {})


def deployment_model(groups, hostvars, defaults=None):
    try:
        return build_model(_groups(groups), hostvars, defaults)
    except ModelError as exc:
        count = len(exc.errors)
        raise AnsibleFilterError(
            f"The inventory does not describe a coherent deployment ({count} problem{'s' if count > 1 else ''}):\n- "
            + "\n- ".join(exc.errors)
        ) from exc


def model_errors_filter(groups, hostvars, defaults=None):
    return model_errors(_groups(groups), hostvars, defaults)


def env_digest_filter(fragment_digests):
    try:
        return env_digest(fragment_digests)
    except ValueError as exc:
        raise AnsibleFilterError(f"env_digest: {exc}") from exc


class FilterModule:
    def filters(self):
        return {
            "deployment_model": deployment_model,
            "model_errors": model_errors_filter,
            "env_digest": env_digest_filter,
        }
