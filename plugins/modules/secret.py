#!/usr/bin/python
# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
---
module: secret
short_description: Manage a bundle of generated secrets on the controller, with policies, rotation and ansible-vault
version_added: 0.1.0
author: waent.onprem developers (@waent)
description:
  - Keeps named secrets (passwords, keys, tokens) in one YAML file on the controller, the B(bundle).
    The file is written atomically with mode V(0600); its directory is created with mode V(0700).
  - The bundle is encrypted with ansible-vault when the controller has a vault secret configured
    (C(--vault-password-file), C(--ask-vault-pass), C(--vault-id), E(ANSIBLE_VAULT_PASSWORD_FILE) or an
    AWX vault credential), see O(vault). A plaintext or an encrypted bundle is read back either way. With
    O(vault=auto) and no vault secret, every run warns (once per run) that the bundle is in plain text.
  - Each secret has a policy (length, alphabet, required character classes). Built-in policies cover what the
    WhatsApp Business API on-premises client needs, see O(secrets[].policy).
  - Idempotent. An existing value is kept. A value is generated (with Python's C(secrets) module) or replaced
    only when it is missing (V(missing)), no longer satisfies its policy (V(policy)), is older than
    O(secrets[].max_age_days) (V(max_age)), is named in O(rotate) (V(rotate)), or when the operator supplies a
    different value (V(adopted)). The reason is returned per secret.
  - A replaced value is kept in the bundle as the secret's C(previous) value (with its fingerprint and times)
    until O(drop_previous) names the secret (reason V(dropped_previous)), so that whatever deploys the values
    can still reach a service that has not switched yet. This module only keeps it; it changes nothing on any
    host and restarts nothing. Only one previous value is kept; a second replacement overwrites it.
  - Returns metadata only (policy, created/rotated times, keyed fingerprints, what changed and why). Values are
    returned only for the secrets named in O(return_values), the fingerprint key only with
    O(return_fingerprint_key); B(use C(no_log=true) on such a task). If you forget, the action hides the task
    output anyway and warns.
  - Fingerprints are keyed - C(hmac-sha256:) and the hex HMAC-SHA256 of the value under the bundle's
    B(fingerprint key), a random 256-bit key kept in the bundle itself (field C(fingerprint_key)), generated
    once and kept across runs. They can be printed and published - without the key, a fingerprint does not
    let anyone test guesses of a password offline. To compare a value read elsewhere (a host's env file, the
    audit), compute its fingerprint with the P(waent.onprem.secret_fingerprint#filter) filter and the key
    from O(return_fingerprint_key).
  - Operator-supplied values (O(secrets[].value), for example from extra vars or an AWX credential) are validated
    against the policy; a failing value is rejected with a message naming the secret and the broken rule, never
    the value.
  - A corrupted or partial bundle (invalid YAML, missing fields, wrong vault password) is an error with a clear
    message, and the file is left untouched.
  - This module is implemented as an action plugin and always runs on the controller.
attributes:
  action:
    description: Indicates this has a corresponding action plugin that runs on the controller.
    support: full
  async:
    description: Supports being used with the C(async) keyword.
    support: none
    details:
      - This action runs completely on the controller.
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details:
      - Reports per secret what would change and why; nothing is written.
      - A value that a real run would generate (reason V(missing), V(policy), V(max_age) or V(rotate)) is
        generated anyway, not stored, and returned with RV(secrets.preview=true) (its value when named in
        O(return_values), so that later tasks can preview with a value that satisfies the policy); a real run
        generates another one. Such a stand-in has no fingerprint (V(null)), and neither has any secret when
        the fingerprint key would be created or rotated.
      - A bundle with nothing to change returns its stored values and fingerprints and reports no change.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details:
      - The diff holds metadata only (fingerprints, times, reasons, encryption, file mode), never a value.
  idempotent:
    description: When run twice in a row outside check mode, the second invocation indicates no change.
    support: partial
    details:
      - Idempotent unless O(rotate) names a secret or O(rotate_fingerprint_key=true) (explicit, one-off
        rotations) or a value reaches O(secrets[].max_age_days).
  platform:
    description: Target OS/families that can be operated against.
    platforms: posix
    support: full
    details:
      - The bundle is always on the controller, whatever the target host is.
options:
  path:
    description:
      - Path of the bundle file on the controller. A relative path is relative to the playbook directory.
      - Parent directories that do not exist are created with mode V(0700).
    type: path
    required: true
  secrets:
    description:
      - The secrets to manage. Secrets already in the bundle but not listed here are kept untouched.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: Name of the secret, unique in the bundle.
        type: str
        required: true
      policy:
        description:
          - V(wa_secret) for C(WA_SECRET) (Webapp/Coreapp link encryption) - 32-256 characters (default 64) of visible
            ASCII without space, quotes, backslash, backtick, C($), C(#), C(;) (they break env files and the Webapp's
            PHP-FPM pool file), at least one lowercase, uppercase and digit, at least 16 distinct characters.
            Generated from letters, digits and C(-_.,:+/@%).
          - V(jwt_key) for C(WA_WEB_JWT_CRYPTO_KEY) - exactly 64 letters and digits, at least 16 distinct.
          - V(db_password) for C(WA_DB_PASSWORD) - 8-41 characters (default 32) without C(?{}&~!()^=) (rejected by
            the vendor's tooling) nor space, quotes, backslash, backtick, C($), C(#), C(;); at least one lowercase,
            uppercase, digit and special. Generated from letters, digits and C(-_.,+).
          - V(admin_password) for the Webapp admin password - 8-64 characters (default 24) of letters, digits and the
            specials the Webapp accepts (C(!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~)), at least one digit, uppercase,
            lowercase and special, as C(POST /v1/users/login) demands. Generated with the specials C(-_.,+%@*=)
            only, which need no quoting.
          - V(custom) uses O(secrets[].alphabet), O(secrets[].length) and O(secrets[].required). A value shorter than
            O(secrets[].length) no longer satisfies the policy.
        type: str
        choices: [wa_secret, jwt_key, db_password, admin_password, custom]
        default: custom
      length:
        description:
          - Length of a generated value. Must lie within the bounds of a built-in policy. Defaults to 64 for
            V(wa_secret) and V(jwt_key), 32 for V(db_password) and V(custom), 24 for V(admin_password).
          - Changing it does not replace an existing value that still satisfies the policy (except for V(custom),
            where it is also the minimum length); use O(rotate) for that.
        type: int
      alphabet:
        description:
          - Policy V(custom) only. Characters a value may contain (visible ASCII). Default letters and digits.
        type: str
      required:
        description:
          - Policy V(custom) only. Character classes a value must contain at least once; V(special) means any
            character of O(secrets[].alphabet) that is not a letter or digit.
        type: list
        elements: str
        choices: [lower, upper, digit, special]
      max_age_days:
        description:
          - Replace the value (reason V(max_age)) when it was set this many days ago or more. No age limit when unset.
        type: int
      value:
        description:
          - A value supplied by the operator. Validated against the policy and adopted (reason V(adopted)) when it
            differs from the stored one; the stored one is kept as the previous value.
          - An empty string counts as not supplied (what an unanswered AWX survey field sends).
          - Takes precedence over O(rotate) for this secret.
        type: str
  rotate:
    description:
      - Names of secrets to replace by a new generated value now (reason V(rotate)), or V(true) for all of
        O(secrets). The replaced value is kept as previous. Not idempotent by nature - use it in a one-off run.
      - V(true) (or V(all)) means every secret of O(secrets), not the fingerprint key - see
        O(rotate_fingerprint_key).
      - A comma-separated string is accepted too (AWX survey text field).
    type: raw
    default: []
  rotate_fingerprint_key:
    description:
      - Replace the bundle's fingerprint key by a new random one now (RV(file_changes) V(fingerprint_key_rotated)).
        Every fingerprint changes, no value does. A one-off action, for when the key may have leaked (a job
        log of a task with O(return_fingerprint_key) but without C(no_log), a copy of a decrypted bundle).
      - Not part of O(rotate=true) on purpose - rotating every value is routine, changing every fingerprint
        at once makes fingerprints recorded earlier (audit reports) incomparable.
    type: bool
    default: false
  drop_previous:
    description:
      - Names of secrets whose previous value is removed from the bundle (reason V(dropped_previous)), or V(true)
        for all. Use it once every host has rolled over to the current value.
      - A comma-separated string is accepted too.
    type: raw
    default: []
  return_values:
    description:
      - Names of secrets whose current (and previous) value are returned in RV(secrets). Use C(no_log=true) on the
        task.
    type: list
    elements: str
    default: []
  return_fingerprint_key:
    description:
      - Return the bundle's fingerprint key as RV(fingerprint_key), for the
        P(waent.onprem.secret_fingerprint#filter) filter. It is as secret as the values - use C(no_log=true) on the
        task.
    type: bool
    default: false
  vault:
    description:
      - V(auto) encrypts the bundle with ansible-vault when the controller has a vault secret, else writes it in
        plain text (still mode V(0600)) and warns, once per run, naming the file. A plaintext bundle is
        encrypted (a change, reported in RV(file_changes)) as soon as a vault secret is available.
      - V(always) requires a vault secret and fails with a clear message without one.
      - V(never) writes plain text without a warning (an encrypted bundle is still read, then written
        decrypted).
    type: str
    choices: [auto, always, never]
    default: auto
  vault_id:
    description:
      - Vault id (label) to encrypt with when several vault secrets are configured. Default the first one
        (or C(DEFAULT_VAULT_ENCRYPT_IDENTITY)'s behaviour of ansible-vault).
    type: str
notes:
  - Fingerprint key - field C(fingerprint_key) of the bundle, 64 hex characters from the OS CSPRNG, vault-encrypted
    with the bundle. It is never returned unless O(return_fingerprint_key=true), never logged, never part of a
    diff. Whoever has it and a fingerprint can test guesses of the value, so treat it like the values. Do not
    edit it by hand (the stored fingerprints would no longer match and every secret would be reported as
    V(adopted)); use O(rotate_fingerprint_key). A bundle without one (deleted by hand) gets a new one.
  - Upgrade - bundles of format C(waent.onprem.secret/1) had unkeyed SHA-256 fingerprints. Such a bundle is read
    and rewritten in place - a key is added (RV(file_changes) V(fingerprint_key_added)), every fingerprint changes
    once, no value changes, and the old fingerprints are never returned or shown in a diff. Releases that only know
    format C(/1) refuse a C(/2) bundle with a clear message instead of dropping its key.
  - Bundle format - a mapping with the keys C(format) (value C(waent.onprem.secret/2)), C(fingerprint_key) and
    C(secrets), one mapping per secret with C(policy), C(value), C(fingerprint), C(created), C(rotated) and
    optionally C(previous) (C(value), C(fingerprint), C(created), C(retired)). Times are ISO 8601 UTC.
  - Runs on one bundle are serialised with an exclusive lock on the bundle's directory (two AWX jobs at
    once would otherwise lose one's rotation).
seealso:
  - module: waent.onprem.pki
  - module: community.crypto.openssl_privatekey_pipe
  - name: Ansible Vault
    description: Encrypting content with Ansible Vault.
    link: https://docs.ansible.com/ansible/latest/vault_guide/index.html
"""

EXAMPLES = r"""
- name: Secrets of the WhatsApp on-premises deployment (metadata only)
  waent.onprem.secret:
    path: "{{ playbook_dir }}/../.waent-pki/secrets.yml"
    secrets:
      - name: wa_secret
        policy: wa_secret
      - name: wa_web_jwt_crypto_key
        policy: jwt_key
      - name: wa_db_password
        policy: db_password
        max_age_days: 180
      - name: wa_admin_password
        policy: admin_password
        value: "{{ awx_admin_password | default('') }}"
  delegate_to: localhost
  run_once: true
  register: waent_secrets

- name: Read the values a later task needs
  waent.onprem.secret:
    path: "{{ playbook_dir }}/../.waent-pki/secrets.yml"
    secrets:
      - name: wa_secret
        policy: wa_secret
    return_values: [wa_secret]
  delegate_to: localhost
  run_once: true
  no_log: true
  register: waent_secret_values

- name: Rotate the DB password, keeping the old one as previous
  waent.onprem.secret:
    path: /srv/ansible/waent/secrets.yml
    secrets:
      - {name: wa_db_password, policy: db_password}
    rotate: [wa_db_password]
    vault: always

- name: Compare a value read from a host with the bundle, showing fingerprints only
  waent.onprem.secret:
    path: "{{ playbook_dir }}/../.waent-pki/secrets.yml"
    secrets:
      - {name: wa_db_password, policy: db_password}
    return_fingerprint_key: true
  delegate_to: localhost
  run_once: true
  no_log: true
  register: waent_fingerprint_key

- name: Check the deployed password (deployed_password read from the host with no_log)
  ansible.builtin.assert:
    that: >-
      (deployed_password | waent.onprem.secret_fingerprint(waent_fingerprint_key.fingerprint_key))
      == waent_secrets.secrets.wa_db_password.fingerprint
    quiet: true
  no_log: true

- name: After every host uses the new value, forget the old one
  waent.onprem.secret:
    path: /srv/ansible/waent/secrets.yml
    secrets:
      - {name: wa_db_password, policy: db_password}
    drop_previous: [wa_db_password]

- name: A custom token (40 characters, hex)
  waent.onprem.secret:
    path: /srv/ansible/waent/secrets.yml
    secrets:
      - name: webhook_token
        policy: custom
        alphabet: 0123456789abcdef
        length: 40
        required: [digit]
"""

RETURN = r"""
path:
  description: Absolute path of the bundle.
  returned: always
  type: str
  sample: /srv/ansible/.waent-pki/secrets.yml
encrypted:
  description: Whether the bundle is (or, in check mode, would be) vault-encrypted.
  returned: always
  type: bool
file_changes:
  description:
    - File-level changes besides secrets - V(fingerprint_key_added) (a bundle without a fingerprint key got one,
      every fingerprint changed once), V(fingerprint_key_rotated) (O(rotate_fingerprint_key=true)), V(encrypted)
      (a plaintext bundle encrypted now that a vault secret exists), V(decrypted) (O(vault=never)), V(mode)
      (permissions reset to V(0600)). Empty for a new bundle.
  returned: always
  type: list
  elements: str
  sample: [encrypted]
changed_secrets:
  description: Names of the secrets that changed (or would change in check mode).
  returned: always
  type: list
  elements: str
  sample: [wa_db_password]
secrets:
  description: Metadata of every secret of O(secrets), keyed by name.
  returned: always
  type: dict
  contains:
    name:
      description: Name of the secret.
      type: str
    policy:
      description: The policy the value satisfies.
      type: str
      sample: db_password
    fingerprint:
      description:
        - C(hmac-sha256:) and the hex HMAC-SHA256 of the UTF-8 value under the bundle's fingerprint key (see
          the notes); P(waent.onprem.secret_fingerprint#filter) computes the same from a value and the key.
        - V(null) in check mode for a stand-in (RV(secrets.preview)) and when the key would be created or
          rotated.
      type: str
      sample: hmac-sha256:0d5ba0e4fb4e2a3c3b0c8f5a1e6b9d2c7f4a8e1b3d6c9f2a5e8b1d4c7f0a3e6b
    created:
      description: When the secret was first created (ISO 8601 UTC).
      type: str
      sample: '2026-11-24T23:00:00Z'
    rotated:
      description: When the current value replaced an earlier one (ISO 8601 UTC); V(null) if never.
      type: str
    age_days:
      description: Whole days since the current value was set.
      type: int
    changed:
      description: Whether this secret changed (or would change in check mode).
      type: bool
    preview:
      description:
        - In check mode, V(true) when the value is a stand-in - a real run would generate a new value
          (reason V(missing), V(policy), V(max_age) or V(rotate)); this one satisfies the policy but was
          not stored and will not be used. Its C(fingerprint) is V(null). Always V(false) outside check mode.
      type: bool
    reason:
      description:
        - Why it changed - V(missing), V(policy), V(max_age), V(rotate), V(adopted) or V(dropped_previous);
          V(null) when unchanged.
      type: str
      sample: rotate
    previous:
      description:
        - The replaced value's metadata (C(fingerprint), C(created), C(retired)) while it is kept; V(null) otherwise.
        - Includes C(value) when the secret is named in O(return_values).
      type: dict
    value:
      description:
        - The current value. Only for the secrets named in O(return_values).
        - In check mode, a stand-in when RV(secrets.preview) is V(true).
      type: str
      returned: when named in O(return_values)
fingerprint_key:
  description:
    - The bundle's fingerprint key, for P(waent.onprem.secret_fingerprint#filter). As secret as the values.
    - In check mode, a stand-in when the key would be created or rotated.
  returned: when O(return_fingerprint_key=true)
  type: str
"""
