#!/usr/bin/python
# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
module: webapp_health
short_description: Read, or wait for, the health of a WhatsApp Business API deployment
version_added: 0.2.0
author: waent.onprem developers (@waent)
description:
  - Reads C(GET /v1/health) (section 4.2 of the reference); in single-connect the Coreapp's
    C(gateway_status), in multiconnect one entry per node with its C(gateway_status) and C(role).
  - With O(wait), asks again until every node is C(connected) or O(retries) answers came. The
    Webapp answers at most 10 health calls per minute per address (HTTP 429), so O(delay)
    defaults to 6 seconds, and a 429 is waited out (10 s at a time, at most 2 minutes) without
    counting as an attempt.
  - The Webapp reports a node C(connected) only when it reached it over the link, so this proves
    the C(WA_SECRET) framing, the clocks inside the replay window and the advertised addresses.
extends_documentation_fragment:
  - waent.onprem.webapp_api
  - waent.onprem.webapp_api.auth
options:
  wait:
    description: Wait until every node is C(connected); fail when it does not happen in time.
    type: bool
    default: false
  retries:
    description: Most health calls when O(wait) is set.
    type: int
    default: 20
  delay:
    description: Seconds between two calls.
    type: float
    default: 6.0
attributes:
  check_mode:
    support: full
    description: Only reads; it runs in check mode too.
  diff_mode:
    support: none
    description: Nothing changes.
  idempotent:
    support: full
    description: Never changes anything.
"""

EXAMPLES = r"""
- name: Wait until the Webapp reaches every Coreapp
  waent.onprem.webapp_health:
    address: 127.0.0.1
    server_name: wa.example.com
    ca_file: /etc/waent/pki/ca.pem
    api_password: "{{ wa_secrets.admin_password }}"
    wait: true
  no_log: true
"""

RETURN = r"""
nodes:
  description:
    - One entry per node. Single-connect has one entry named C(coreapp) with role C(coreapp).
  returned: always
  type: dict
  sample: {"wacore1:0123456789ab": {"gateway_status": connected, "role": primary_master}}
connected:
  description: Whether every node is C(connected).
  returned: always
  type: bool
attempts:
  description: Answered health calls (429 answers not counted).
  returned: always
  type: int
"""

import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.waent.onprem.plugins.module_utils import _webapp_api as wa

RATE_LIMIT_WAIT = 10.0  # section 4.2: 10 calls per sliding 60 s
RATE_LIMIT_TRIES = 12  # 2 minutes of 429 answers: something else keeps calling


def read_health(client, token):
    """The nodes of one answered ``GET /v1/health``, None when the Webapp rate-limits the call."""
    response = client.request("GET", "/v1/health", token=token)
    if response.status == 429:
        return None
    body = wa.expect(response, 200, what="reading /v1/health").json() or {}
    health = body.get("health")
    if not isinstance(health, dict):
        raise wa.WebappApiError(f"/v1/health answered without a health object: {response.describe()}", 200)
    if "gateway_status" in health:
        return {"coreapp": {"gateway_status": health["gateway_status"], "role": "coreapp"}}
    return health


def poll(client, token, *, wait, retries, delay, sleep=time.sleep):
    """``(nodes, answered calls)``: one answer, or with ``wait`` until all are connected or
    ``retries`` answers came; 429 answers are waited out and not counted (at most 2 minutes)."""
    attempts = limited = 0
    while True:
        nodes = read_health(client, token)
        if nodes is None:
            limited += 1
            if limited > RATE_LIMIT_TRIES:
                raise wa.WebappApiError(f"/v1/health answered 429 (rate limit) {limited} times in a row: something "
                                        "else on this address keeps calling it", 429, wa.ERROR_TOO_MANY_REQUESTS)
            sleep(RATE_LIMIT_WAIT)
            continue
        attempts += 1
        if not wait or _all_connected(nodes) or attempts >= retries:
            return nodes, attempts
        sleep(delay)


def main():
    module = AnsibleModule(
        argument_spec={
            **wa.CONNECTION_ARGS,
            **wa.AUTH_ARGS,
            "wait": {"type": "bool", "default": False},
            "retries": {"type": "int", "default": 20},
            "delay": {"type": "float", "default": 6.0},
        },
        supports_check_mode=True,
    )
    params = module.params
    if not 1 <= params["retries"] <= 1000 or not 0 <= params["delay"] <= 600:
        module.fail_json(msg="retries must be 1-1000 and delay 0-600 seconds")
    with wa.failing_module(module):
        client = wa.client_from_params(params)
        token = wa.token_from_params(client, params)
        try:
            nodes, attempts = poll(client, token, wait=params["wait"], retries=params["retries"],
                                   delay=params["delay"])
        finally:
            wa.logout(client, token)
    connected = _all_connected(nodes)
    result = {"changed": False, "nodes": nodes, "connected": connected, "attempts": attempts}
    if params["wait"] and not connected:
        down = sorted(key for key, node in nodes.items() if node.get("gateway_status") != "connected")
        module.fail_json(msg=f"after {attempts} health calls, not connected: {', '.join(down) or 'no node listed'}; "
                             "see the Webapp's log for why (link refused, wrong WA_SECRET, clock outside the "
                             "replay window, unreachable advertised address)", **result)
    module.exit_json(**result)


def _all_connected(nodes):
    return bool(nodes) and all(node.get("gateway_status") == "connected" for node in nodes.values())


if __name__ == "__main__":
    main()
