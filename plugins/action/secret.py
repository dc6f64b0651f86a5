# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Controller side of waent.onprem.secret: reads/writes the bundle with the controller's vault.

All decisions are taken by plugins/module_utils/_secrets*.py; this file is glue: argument
validation, YAML, ansible-vault and the result shape.
"""

from __future__ import annotations

import os

from ansible.errors import AnsibleError
from ansible.plugins.action import ActionBase
from ansible_collections.waent.onprem.plugins.module_utils import _secrets as backend
from ansible_collections.waent.onprem.plugins.module_utils import _secrets_bundle as secrets_bundle
from ansible_collections.waent.onprem.plugins.module_utils import _secrets_policy as secrets_policy
from ansible_collections.waent.onprem.plugins.plugin_utils import _vault_bundle as vault_bundle

ARGUMENT_SPEC = dict(
    path=dict(type="path", required=True),
    secrets=dict(
        type="list",
        elements="dict",
        required=True,
        options=dict(
            name=dict(type="str", required=True),
            policy=dict(type="str", choices=list(secrets_policy.POLICY_NAMES), default="custom"),
            length=dict(type="int"),
            alphabet=dict(type="str"),
            required=dict(type="list", elements="str", choices=list(secrets_policy.CLASS_NAMES)),
            max_age_days=dict(type="int"),
            value=dict(type="str", no_log=True),
        ),
    ),
    rotate=dict(type="raw", default=[]),
    drop_previous=dict(type="raw", default=[]),
    return_values=dict(type="list", elements="str", default=[]),
    return_fingerprint_key=dict(type="bool", default=False),
    rotate_fingerprint_key=dict(type="bool", default=False),
    vault=dict(type="str", choices=["auto", "always", "never"], default="auto"),
    vault_id=dict(type="str"),
)

FILE_MODE = 0o600
DIR_MODE = 0o700

# One text per bundle: Ansible shows a warning once per run however many tasks, plays and
# hosts emit it, so the role's two calls and every play of a run print it once.
PLAINTEXT_WARNING = (
    "waent.onprem.secret: no vault secret is configured, so the secrets bundle {path} is written and kept "
    "in PLAIN TEXT (mode 0600): whoever can read that file, or a copy of it (a backup, a synced inventory "
    "directory), reads every secret in it. To encrypt it, give Ansible a vault secret (--vault-id or "
    "--vault-password-file, ANSIBLE_VAULT_PASSWORD_FILE, or an AWX vault credential) and set vault: always "
    "(role waent.onprem.pki: pki_vault: always) so that a run without one fails instead; vault: never keeps "
    "plain text on purpose, without this warning."
)


def _plain(value):
    """Strip Ansible's tagged/unsafe str subclasses so PyYAML's safe dumper accepts them."""
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass").decode("utf-8", "surrogatepass")
    if isinstance(value, dict):
        return {_plain(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(ARGUMENT_SPEC)

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        try:
            validation, params = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
            del validation
            result.update(self._manage(_plain(params)))
        except (secrets_bundle.SecretError, AnsibleError) as exc:
            result["failed"] = True
            result["msg"] = str(exc)
            result["changed"] = False
        return result

    def _manage(self, params):
        path = params["path"]
        if not os.path.isabs(path):
            path = os.path.join(self._loader.get_basedir(), path)
        # A symlinked bundle stays a symlink: read and replace its target.
        path = os.path.realpath(path)
        specs = backend.normalize_specs(params["secrets"])
        names = [spec["name"] for spec in specs]
        rotate = backend.normalize_names("rotate", params["rotate"], names)
        drop_previous = backend.normalize_names("drop_previous", params["drop_previous"], names)
        return_values = backend.normalize_names("return_values", params["return_values"], names)
        check_mode = bool(self._task.check_mode)

        vault = vault_bundle.VaultBundle.from_loader(self._loader, params["vault"], params.get("vault_id"))
        with secrets_bundle.BundleLock(path):
            raw = secrets_bundle.read_bytes(path)
            exists = raw is not None
            encrypted_before = exists and vault_bundle.is_encrypted(raw)
            current = vault.load(raw, path) if exists else secrets_bundle.ParsedBundle()
            encrypt = vault.should_encrypt()

            planned = backend.plan(current.entries, specs, rotate=rotate, drop_previous=drop_previous,
                                   fingerprint_key=current.fingerprint_key,
                                   rotate_fingerprint_key=params["rotate_fingerprint_key"])
            file_reasons = []
            if exists and planned.key_change:
                file_reasons.append("fingerprint_key_" + planned.key_change)
            if exists and encrypted_before != encrypt:
                file_reasons.append("encrypted" if encrypt else "decrypted")
            must_write = planned.changed or bool(file_reasons) or not exists
            mode_before = secrets_bundle.file_mode(path) if exists else None
            fix_mode = exists and not must_write and mode_before != FILE_MODE
            if fix_mode:
                file_reasons.append("mode")

            changed = must_write or fix_mode
            if changed and not check_mode:
                if must_write:
                    text = vault_bundle.dump_yaml(
                        secrets_bundle.render_bundle(planned.entries, planned.fingerprint_key))
                    secrets_bundle.write_atomic(path, vault.encrypt(text, encrypt), FILE_MODE, DIR_MODE)
                else:
                    os.chmod(path, FILE_MODE)

        # In check mode nothing was stored: a generated value is a stand-in (it satisfies its
        # policy, so the host roles can preview with it, but a real run generates another),
        # and a key that would be created or rotated is a stand-in too. A fingerprint of a
        # stand-in would never match anything later, so none is returned for it.
        key_stand_in = check_mode and planned.key_change is not None
        secrets_out = {}
        for name in names:
            item = planned.results[name]
            meta = backend.metadata(name, planned.entries[name], include_value=name in return_values)
            stand_in = check_mode and item["generated"]
            meta.update(changed=item["changed"], reason=item["reason"], preview=stand_in)
            if stand_in or key_stand_in:
                meta["fingerprint"] = None
            if key_stand_in and meta["previous"]:
                meta["previous"]["fingerprint"] = None
            secrets_out[name] = meta

        result = {
            "changed": changed,
            "path": path,
            "encrypted": encrypt,
            "file_changes": file_reasons,
            "secrets": secrets_out,
            "changed_secrets": list(planned.changed_names),
        }
        if params["return_fingerprint_key"]:
            result["fingerprint_key"] = planned.fingerprint_key
        if (return_values or params["return_fingerprint_key"]) and not self._task.no_log:
            # Defence in depth: the documentation says to use no_log, but a forgotten
            # no_log must not print values or the key to the console or a log.
            result["_ansible_no_log"] = True
            self._display.warning("waent.onprem.secret: return_values or return_fingerprint_key is set, so the "
                                  "task output is hidden; set no_log: true on the task to make that explicit")
        if params["vault"] == "auto" and not encrypt:
            self._display.warning(PLAINTEXT_WARNING.format(path=path))
        if self._task.diff:
            result["diff"] = {
                "before_header": path,
                "after_header": path,
                "before": _diff_side(planned, names, "before", exists=exists, encrypted=encrypted_before,
                                     mode=mode_before, key=_key_state(current.fingerprint_key)),
                "after": _diff_side(planned, names, "after", exists=True, encrypted=encrypt, mode=FILE_MODE,
                                    key=planned.key_change or "present", check_mode=check_mode),
            }
        return result


def _key_state(key):
    return "present" if key is not None else "absent"


def _diff_side(planned, names, side, *, exists, encrypted, mode, key, check_mode=False):
    """Metadata only: fingerprints, times and reasons, never a value nor the key."""
    if not exists:
        return {}
    out = {"encrypted": bool(encrypted), "mode": f"{mode:04o}" if mode is not None else None,
           "fingerprint_key": key, "secrets": {}}
    key_stand_in = check_mode and planned.key_change is not None
    for name in names:
        meta = planned.results[name][side]
        if meta is None:
            continue
        meta = {k: v for k, v in meta.items() if k not in ("value", "age_days")}
        reason = planned.results[name]["reason"]
        if side == "after":
            if reason:
                meta["reason"] = reason
            if check_mode and (planned.results[name]["generated"] or key_stand_in):
                meta["fingerprint"] = None
            if key_stand_in and meta.get("previous"):
                meta["previous"] = dict(meta["previous"], fingerprint=None)
        out["secrets"][name] = meta
    return out
