#!/usr/bin/python
# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
---
module: preflight
short_description: Check every role's inputs for every host on the controller, before any host changes
version_added: 0.2.0
author: waent.onprem developers (@waent)
description:
  - Resolves, for every host of the play, the variables of the collection's roles (role defaults,
    inventory, extra vars, templated in that host's context) and checks them against each role's
    argument spec and against the rules a spec cannot express - ranges, relations between
    variables and across roles (the clock-skew budget below the C(WA_SECRET) replay window, the
    legacy DB connection option only with MySQL, the controller inside the management networks
    when the firewall is on, a Master only with multiconnect, networks that are CIDRs, ...).
  - Runs entirely on the controller and never opens a connection to a host, so the first play of
    an entry playbook can refuse bad input before anything changes.
  - Reports every problem at once, one line per problem (the same problem on several hosts is one
    line naming them), each naming the variable, the host, the bad value (never a secret's value -
    options marked C(no_log) and names that look like secrets are hidden) and what to write
    instead. It is stricter than Ansible's own role argument validation where that would convert
    silently, for example a string where a list is expected.
  - A variable that starts with a role's prefix but is in no argument spec (a typo) is reported too,
    with the closest known name.
  - Each role also runs it for its own variables and its own host (O(scope=host)) when used on its own.
options:
  roles:
    description:
      - The roles whose inputs to check. Default - every role of the collection.
      - With O(scope=play) a role's inputs are only checked on the hosts the entry playbooks run it on
        (V(wa) and V(timesync) on every host, V(pki) and V(firewall) on the product groups, V(database)
        on C(wa_db), V(db_client) on C(wa_webapp), C(wa_coreapp), C(wa_master)).
    type: list
    elements: str
  scope:
    description:
      - V(play) checks every host of the play (run it once, with C(run_once=true)) and the deployment as a
        whole - the deployment model (P(waent.onprem.deployment_model#filter)) built from every product
        host of the inventory, also those outside C(--limit) - and returns that model.
      - V(host) checks the current host only (what a role does in its own validation step).
    type: str
    choices: [play, host]
    default: play
  provided:
    description:
      - Variables the playbook sets later from the controller material (for example
        C(database_user_password) from the secrets bundle); they are checked when given, and not
        reported as missing before they exist.
    type: list
    elements: str
    default: []
attributes:
  action:
    support: full
    description: Runs on the controller as an action plugin.
  check_mode:
    support: full
    description: Read-only; checks the same in check mode.
  diff_mode:
    support: none
    description: Nothing changes, so there is nothing to diff.
  idempotent:
    support: full
    description: Never changes anything.
notes:
  - Values that only exist on the hosts (facts, files) are checked by the roles when they run.
seealso:
  - name: Role argument validation
    description: What Ansible checks by itself when a role starts.
    link: https://docs.ansible.com/ansible/latest/playbook_guide/playbooks_reuse_roles.html#role-argument-validation
"""

EXAMPLES = r"""
# The first play of an entry playbook (hosts: all, gather_facts: false) runs it once:
- name: Check every role's inputs for every host
  waent.onprem.preflight:
    provided: [database_user_password, db_client_password]
  register: __preflight
  run_once: true

# run_once: the fact reaches every host of the play.
- name: Publish the deployment model
  ansible.builtin.set_fact:
    wa_model: "{{ __preflight.model }}"
  run_once: true

- name: Check only the time sync inputs of this host
  waent.onprem.preflight:
    roles: [timesync]
    scope: host
"""

RETURN = r"""
problems:
  description: One line per problem; empty when the inputs are coherent (the task fails otherwise).
  returned: always
  type: list
  elements: str
  sample:
    - "timesync_max_offset (hosts web1, core1): is -1: it must be greater than 0"
    - "wa_admin_networks (host web1): is the string '10.30.5.0/24', not a list: write it as a YAML list, [10.30.5.0/24]"
hosts_checked:
  description: How many hosts were checked.
  returned: always
  type: int
  sample: 6
model:
  description:
    - The deployment model (topology, addresses, certificate names, containers, paths, owners, modes,
      ports and flows) as P(waent.onprem.deployment_model#filter) describes it, built from the values
      checked here. The entry playbooks publish it to every host as the fact C(wa_model).
  returned: with O(scope=play), when no problem was found
  type: dict
  sample:
    version: 1
    multiconnect: false
    groups: {wa_webapp: [web1], wa_coreapp: [core1], wa_master: [], wa_db: [db1]}
roles_checked:
  description: The roles whose inputs were checked.
  returned: always
  type: list
  elements: str
  sample: [db_client, database, firewall, pki, timesync, wa]
"""
