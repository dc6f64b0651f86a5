# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Controller side of waent.onprem.secret: reads/writes the bundle with the controller's vault.

All decisions are taken by plugins/module_utils/_secrets.py; this file is glue: argument
validation, YAML, ansible-vault and the result shape.
"""

from __future__ import annotations

import os

from ansible.errors import AnsibleError
from ansible.plugins.action import ActionBase
from ansible_collections.waent.onprem.plugins.module_utils import _secrets as backend
from ansible_collections.waent.onprem.plugins.plugin_utils import _vault_bundle as vault_bundle

ARGUMENT_SPEC = dict(
    path=dict(type="path", required=True),
    secrets=dict(
        type="list",
        elements="dict",
        required=True,
        options=dict(
            name=dict(type="str", required=True),
            policy=dict(type="str", choices=list(backend.POLICY_NAMES), default="custom"),
            length=dict(type="int"),
            alphabet=dict(type="str"),
            required=dict(type="list", elements="str", choices=list(backend.CLASS_NAMES)),
            max_age_days=dict(type="int"),
            value=dict(type="str", no_log=True),
        ),
    ),
    rotate=dict(type="raw", default=[]),
    drop_previous=dict(type="raw", default=[]),
    return_values=dict(type="list", elements="str", default=[]),
    vault=dict(type="str", choices=["auto", "always", "never"], default="auto"),
    vault_id=dict(type="str"),
)

GENERATED = ("missing", "policy", "max_age", "rotate")
FILE_MODE = 0o600
DIR_MODE = 0o700


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
        except (backend.SecretError, AnsibleError) as exc:
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

        vault = vault_bundle.VaultBundle.from_loader(self._loader, params["vault"], params.get("vault_id"))
        with backend.BundleLock(path):
            raw = backend.read_bytes(path)
            exists = raw is not None
            encrypted_before = exists and vault_bundle.is_encrypted(raw)
            current = vault.load(raw, path) if exists else {}
            encrypt = vault.should_encrypt()

            planned = backend.plan(current, specs, rotate=rotate, drop_previous=drop_previous)
            file_reasons = []
            if exists and encrypted_before != encrypt:
                file_reasons.append("encrypted" if encrypt else "decrypted")
            must_write = planned.changed or bool(file_reasons) or not exists
            mode_before = backend.file_mode(path) if exists else None
            fix_mode = exists and not must_write and mode_before != FILE_MODE
            if fix_mode:
                file_reasons.append("mode")

            changed = must_write or fix_mode
            if changed and not self._task.check_mode:
                if must_write:
                    text = vault_bundle.dump_yaml(backend.render_bundle(planned.entries))
                    backend.write_atomic(path, vault.encrypt(text, encrypt), FILE_MODE, DIR_MODE)
                else:
                    os.chmod(path, FILE_MODE)

        secrets_out = {}
        for name in names:
            item = planned.results[name]
            meta = backend.metadata(name, planned.entries[name], include_value=name in return_values)
            meta.update(changed=item["changed"], reason=item["reason"])
            if self._task.check_mode and item["reason"] in GENERATED:
                # Nothing was stored: a fingerprint or value of a throw-away value would lie.
                meta["fingerprint"] = None
                if "value" in meta:
                    meta["value"] = None
            secrets_out[name] = meta

        result = {
            "changed": changed,
            "path": path,
            "encrypted": encrypt,
            "file_changes": file_reasons,
            "secrets": secrets_out,
            "changed_secrets": list(planned.changed_names),
        }
        if return_values and not self._task.no_log:
            # Defence in depth: the documentation says to use no_log, but a forgotten
            # no_log must not print values to the console or a log.
            result["_ansible_no_log"] = True
            self._display.warning("waent.onprem.secret: return_values is set, so the task output is hidden; "
                                  "set no_log: true on the task to make that explicit")
        if self._task.diff:
            result["diff"] = {
                "before_header": path,
                "after_header": path,
                "before": _diff_side(planned, names, "before", exists=exists, encrypted=encrypted_before,
                                     mode=mode_before),
                "after": _diff_side(planned, names, "after", exists=True, encrypted=encrypt, mode=FILE_MODE,
                                    check_mode=self._task.check_mode),
            }
        return result


def _diff_side(planned, names, side, *, exists, encrypted, mode, check_mode=False):
    """Metadata only: fingerprints, times and reasons, never a value."""
    if not exists:
        return {}
    out = {"encrypted": bool(encrypted), "mode": f"{mode:04o}" if mode is not None else None, "secrets": {}}
    for name in names:
        meta = planned.results[name][side]
        if meta is None:
            continue
        meta = {k: v for k, v in meta.items() if k not in ("value", "age_days")}
        reason = planned.results[name]["reason"]
        if side == "after" and reason:
            meta["reason"] = reason
            if check_mode and reason in GENERATED:
                meta["fingerprint"] = None
        out["secrets"][name] = meta
    return out
