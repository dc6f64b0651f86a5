#!/usr/bin/python
# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
module: container_env_info
short_description: Read what a running product container was given, proving secrets by keyed fingerprint only
version_added: 0.2.0
author: waent.onprem developers (@waent)
description:
  - Reads the runtime environment of product containers from the engine (C(container inspect)),
    which is what the processes inside see, whatever the env files on the host say now.
  - Variables named in O(fingerprint) are returned as their keyed fingerprint
    (C(hmac-sha256:) and the HMAC-SHA256 of the value under O(fingerprint_key), the secrets
    bundle's key), never as values; compare them with the bundle's fingerprints
    (M(waent.onprem.secret)) or with each other across hosts. Variables named in O(read) are
    returned as they are - list only settings that are not secret.
  - Read-only; it runs the same way in check mode.
requirements:
  - docker or podman on the host.
options:
  names:
    description: The containers to read, by name.
    type: list
    elements: str
    required: true
  engine:
    description: The container engine's command.
    type: str
    choices: [docker, podman]
    required: true
  fingerprint:
    description: Secret variables returned only as keyed fingerprints (absent variables as V(null)).
    type: list
    elements: str
    default: []
  read:
    description: Variables that are not secret, returned as their values (absent variables as V(null)).
    type: list
    elements: str
    default: []
  fingerprint_key:
    description:
      - The key of the fingerprints (at least 32 characters), the secrets bundle's
        (M(waent.onprem.secret) O(waent.onprem.secret#module:return_fingerprint_key=true)).
        Required when O(fingerprint) names a variable.
    type: str
attributes:
  check_mode:
    support: full
    description: The module reads only; check mode changes nothing about what it does.
  diff_mode:
    support: none
    description: Nothing changes, so there is nothing to show.
  idempotent:
    support: full
    description: Never changes anything.
seealso:
  - module: waent.onprem.secret
  - plugin: waent.onprem.secret_fingerprint
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Fingerprint WA_SECRET in the Webapp and read its TLS level
  waent.onprem.container_env_info:
    names: [waweb]
    engine: docker
    fingerprint: [WA_SECRET, WA_WEB_JWT_CRYPTO_KEY]
    read: [WA_WEB_SECURITY_LEVEL, WA_DB_SSL_VERIFY]
    fingerprint_key: "{{ bundle.fingerprint_key }}"
  register: webapp_env

- name: Assert the container runs the bundle's WA_SECRET
  ansible.builtin.assert:
    that: webapp_env.containers.waweb.fingerprints.WA_SECRET == bundle.secrets.wa_secret.fingerprint
"""

RETURN = r"""
containers:
  description: One entry per container of O(names), by name.
  returned: always
  type: dict
  contains:
    exists:
      description: Whether the engine knows the container.
      type: bool
    running:
      description: Whether it runs.
      type: bool
    fingerprints:
      description: Keyed fingerprint of each variable of O(fingerprint), V(null) when the container does not set it.
      type: dict
    values:
      description: Value of each variable of O(read), V(null) when the container does not set it.
      type: dict
  sample:
    waweb:
      exists: true
      running: true
      fingerprints: {"WA_SECRET": "hmac-sha256:6f1c0b4e..."}
      values: {"WA_WEB_SECURITY_LEVEL": "MODERN", "WA_DB_SSL_VERIFY": null}
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.waent.onprem.plugins.module_utils import _containers as ct
from ansible_collections.waent.onprem.plugins.module_utils._secrets_bundle import (
    SecretError,
    check_fingerprint_key,
    fingerprint,
)


def read_container(engine, name, fingerprint_names, read_names, key):
    inspected = engine.container(name)
    env = ct.runtime_env(inspected)
    return {
        "exists": inspected is not None,
        "running": bool(((inspected or {}).get("State") or {}).get("Running")),
        "fingerprints": {var: fingerprint(env[var], key) if var in env else None for var in fingerprint_names},
        "values": {var: env.get(var) for var in read_names},
    }


def main():
    module = AnsibleModule(
        argument_spec={
            "names": {"type": "list", "elements": "str", "required": True},
            "engine": {"type": "str", "required": True, "choices": ["docker", "podman"]},
            "fingerprint": {"type": "list", "elements": "str", "default": []},
            "read": {"type": "list", "elements": "str", "default": []},
            "fingerprint_key": {"type": "str", "no_log": True},
        },
        supports_check_mode=True,
    )
    params = module.params
    if params["fingerprint"]:
        try:
            check_fingerprint_key(params["fingerprint_key"], "fingerprint_key")
        except SecretError as exc:
            module.fail_json(msg=f"{exc} when fingerprint names a variable (the secrets bundle's key)")
    binary = module.get_bin_path(params["engine"])
    if binary is None:
        module.fail_json(msg=f"{params['engine']} is not installed on this host")
    engine = ct.Engine(module.run_command, binary)
    out = {}
    for name in params["names"]:
        try:
            out[name] = read_container(engine, name, params["fingerprint"], params["read"], params["fingerprint_key"])
        except ct.EngineError as exc:
            module.fail_json(msg=str(exc))
    module.exit_json(changed=False, containers=out)


if __name__ == "__main__":
    main()
