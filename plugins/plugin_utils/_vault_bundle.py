# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Controller-only glue between the secret bundle and ansible-vault / YAML."""

from __future__ import annotations

import yaml
from ansible.errors import AnsibleError
from ansible.parsing.vault import VaultLib, match_encrypt_secret
from ansible.parsing.vault import is_encrypted as _is_encrypted
from ansible_collections.waent.onprem.plugins.module_utils._secrets_bundle import BundleError, SecretError, parse_bundle

HEADER = (
    "# Managed by waent.onprem.secret. Values may be edited (ansible-vault edit); the\n"
    "# fingerprint is then refreshed and the value adopted on the next run.\n"
    "# fingerprint_key keys every fingerprint (HMAC-SHA256): it is as secret as the values.\n"
    "# Do not edit it; rotate it with rotate_fingerprint_key.\n"
)

NO_SECRET_HINT = (
    "configure one with --vault-password-file, --ask-vault-pass, --vault-id, "  # noqa: S105 - a hint, not a password
    "ANSIBLE_VAULT_PASSWORD_FILE or an AWX vault credential"
)


def is_encrypted(raw):
    return _is_encrypted(raw)


def loader_secrets(loader):
    """The vault secrets the controller was started with (empty list when none)."""
    vault = getattr(loader, "_vault", None)
    return list(getattr(vault, "secrets", None) or [])


def dump_yaml(data):
    return HEADER + yaml.safe_dump(data, default_flow_style=False, sort_keys=False, width=4096,
                                   allow_unicode=True)


class VaultBundle:
    def __init__(self, secrets, mode="auto", vault_id=None):
        self.secrets = list(secrets or [])
        self.mode = mode
        self.vault_id = vault_id
        if mode == "always" and not self.secrets:
            raise SecretError("vault=always but no vault secret is configured: " + NO_SECRET_HINT)

    @classmethod
    def from_loader(cls, loader, mode="auto", vault_id=None):
        return cls(loader_secrets(loader), mode, vault_id)

    def should_encrypt(self):
        return self.mode != "never" and bool(self.secrets)

    def load(self, raw, source):
        """Parse the bytes of a bundle file (vault-encrypted or not): a ParsedBundle."""
        if is_encrypted(raw):
            if not self.secrets:
                raise BundleError(f"{source} is vault-encrypted but no vault secret is configured: {NO_SECRET_HINT}")
            try:
                raw = VaultLib(self.secrets).decrypt(raw)
            except AnsibleError:
                raise BundleError(f"{source} cannot be decrypted with the configured vault secrets "
                                  "(wrong vault password or vault id?); the file was left untouched") from None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise BundleError(f"{source} is not UTF-8 text; the file was left untouched") from None
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            # Only the problem and position: PyYAML's full message quotes the line, which
            # may hold a secret value.
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            problem = getattr(exc, "problem", None) or "invalid YAML"
            raise BundleError(f"{source} is not valid YAML ({problem}{where}); the file was left untouched") from None
        return parse_bundle(data, source)

    def encrypt(self, text, encrypt):
        data = text.encode("utf-8")
        if not encrypt:
            return data
        match = match_encrypt_secret(self.secrets, self.vault_id)
        if not match:
            raise SecretError(f"no vault secret matches vault_id {self.vault_id}: {NO_SECRET_HINT}")
        vault_id, secret = match
        return VaultLib(self.secrets).encrypt(data, secret, vault_id=vault_id)
