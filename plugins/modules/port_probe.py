#!/usr/bin/python
# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
module: port_probe
short_description: Probe many TCP host:port pairs in parallel from the target host
version_added: 0.1.0
author: waent.onprem developers (@waent)
description:
  - From the host it runs on, opens a non-blocking TCP connection to every host:port pair at
    once and reports per pair C(open) (handshake completed), C(closed) (RST) or C(filtered)
    (no answer before O(timeout), or an ICMP unreachable/prohibited answer, or the local
    firewall refusing the packet); C(error) when a name does not resolve.
  - The whole matrix takes about one O(timeout), not the sum of them.
  - Connections that succeed are closed at once; nothing is sent.
  - Used by the firewall Molecule scenarios and the audit to compare what is reachable with the
    flows of the deployment model (P(waent.onprem.flow_allows#filter)).
options:
  targets:
    description:
      - Pairs to probe, as dicts with C(host) and C(port) or strings C(host:port)
        (C([v6addr]:port) for IPv6).
    type: list
    elements: raw
    default: []
  hosts:
    description: Hosts to probe on every port of O(ports) (added to O(targets)).
    type: list
    elements: str
    default: []
  ports:
    description: Ports probed on every host of O(hosts).
    type: list
    elements: int
    default: []
  timeout:
    description: Seconds to wait for each connection; unanswered pairs are C(filtered).
    type: float
    default: 2.0
  concurrency:
    description: Most connections in flight at once (keep it under the open-files limit).
    type: int
    default: 256
attributes:
  check_mode:
    support: full
    description: The probe only reads; it runs in check mode too.
  diff_mode:
    support: none
    description: Nothing changes, so there is nothing to diff.
  idempotent:
    support: full
    description: Never changes anything.
notes:
  - A C(filtered) answer does not tell a firewall drop from a host that is down; probe a port
    known to be open on the same host to tell them apart.
"""

EXAMPLES = r"""
- name: Probe the product ports of every app host
  waent.onprem.port_probe:
    hosts: "{{ groups['wa_coreapp'] | map('extract', hostvars, 'wa_host_address') }}"
    ports: [22, 6250, 6251, 6252, 6253]
    timeout: 1.5
  register: probe

- name: Probe explicit pairs
  waent.onprem.port_probe:
    targets:
      - 10.0.2.10:9090
      - host: 10.0.3.20
        port: 3306
"""

RETURN = r"""
results:
  description: One entry per probed pair, in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    host:
      description: The host as given.
      type: str
      sample: 10.0.2.10
    port:
      description: The port.
      type: int
      sample: 9090
    address:
      description: The address it resolved to (null when it did not resolve).
      type: str
    state:
      description: C(open), C(closed), C(filtered) or C(error).
      type: str
      sample: open
    error:
      description: The errno name or reason (empty when open).
      type: str
      sample: ECONNREFUSED
    elapsed_ms:
      description: Time until the answer or the timeout, in milliseconds.
      type: float
summary:
  description: Count of pairs per state.
  returned: always
  type: dict
  sample: {open: 3, closed: 1, filtered: 8, error: 0}
elapsed:
  description: Seconds the whole probe took.
  returned: always
  type: float
"""

import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.waent.onprem.plugins.module_utils._port_probe import parse_targets, probe, summarize


def main():
    module = AnsibleModule(
        argument_spec={
            "targets": {"type": "list", "elements": "raw", "default": []},
            "hosts": {"type": "list", "elements": "str", "default": []},
            "ports": {"type": "list", "elements": "int", "default": []},
            "timeout": {"type": "float", "default": 2.0},
            "concurrency": {"type": "int", "default": 256},
        },
        supports_check_mode=True,
    )
    params = module.params
    if params["timeout"] <= 0 or params["timeout"] > 300:
        module.fail_json(msg=f"timeout must be in (0, 300] seconds, got {params['timeout']}")
    if params["concurrency"] < 1:
        module.fail_json(msg=f"concurrency must be at least 1, got {params['concurrency']}")
    try:
        pairs = parse_targets(params["targets"], params["hosts"], params["ports"])
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    started = time.monotonic()
    results = probe(pairs, timeout=params["timeout"], concurrency=params["concurrency"])
    module.exit_json(
        changed=False,
        results=results,
        summary=summarize(results),
        elapsed=round(time.monotonic() - started, 3),
    )


if __name__ == "__main__":
    main()
