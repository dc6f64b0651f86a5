# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.waent.onprem.plugins.module_utils._secrets_bundle import SecretError, fingerprint

DOCUMENTATION = r"""
name: secret_fingerprint
short_description: The keyed fingerprint of a secret value, as M(waent.onprem.secret) computes it
version_added: 0.1.0
author: waent.onprem developers (@waent)
description:
  - Returns C(hmac-sha256:) and the hex HMAC-SHA256 of the UTF-8 value under the UTF-8 bytes of the
    bundle's fingerprint key - the same string M(waent.onprem.secret) returns as the secret's
    C(fingerprint) (and the C(pki) role publishes in C(pki_secrets)).
  - For comparing a value read from a host (an env file, a configuration) with the bundle without
    printing it - the fingerprint is safe to show in a log or an audit report, the value is not.
  - The key comes from M(waent.onprem.secret) with O(waent.onprem.secret#module:return_fingerprint_key=true)
    (the C(pki) role publishes it as C(pki_secret_fingerprint_key)). It is as secret as the values -
    keep the task that handles it C(no_log).
  - Errors never include the value or the key.
positional: key
options:
  _input:
    description: The secret value.
    type: str
    required: true
  key:
    description: The bundle's fingerprint key (at least 32 characters).
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Read the DB settings of a Webapp container (they hold the password)
  ansible.builtin.slurp:
    src: /etc/waent/waweb/db.env
  register: __db_env
  no_log: true

- name: Fingerprint the deployed password with the bundle's key
  ansible.builtin.set_fact:
    __deployed: >-
      {{ __db_env.content | b64decode | regex_search('(?m)^WA_DB_PASSWORD=(.*)$', '\1') | first
         | waent.onprem.secret_fingerprint(pki_secret_fingerprint_key) }}
  no_log: true

- name: Compare with the bundle (fingerprints only in the output)
  ansible.builtin.assert:
    that: __deployed == pki_secrets.wa_db_password.fingerprint
    fail_msg: >-
      WA_DB_PASSWORD differs from the bundle: {{ __deployed }} deployed,
      {{ pki_secrets.wa_db_password.fingerprint }} in the bundle
"""

RETURN = r"""
_value:
  description: The keyed fingerprint.
  type: str
  sample: hmac-sha256:5b0c1f6c2d0e7d9b3c5a1f8e4d2b6a9c0e3f7a1b5d9c2e6f0a4b8c1d5e9f3a7b
"""


def secret_fingerprint(value, key):
    # The message must not quote what it was given: both arguments are secrets.
    if not isinstance(value, str):
        raise AnsibleFilterError(f"secret_fingerprint: the value must be a string, not {type(value).__name__}")
    try:
        return fingerprint(value, key)
    except SecretError as exc:
        raise AnsibleFilterError(f"secret_fingerprint: {exc}") from None


class FilterModule:
    def filters(self):
        return {"secret_fingerprint": secret_fingerprint}
