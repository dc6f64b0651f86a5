# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import os
import stat
from unittest.mock import MagicMock

import pytest
import yaml
from ansible.parsing.vault import VaultLib, VaultSecret
from ansible_collections.waent.onprem.plugins.action.secret import ActionModule
from ansible_collections.waent.onprem.plugins.module_utils import _secrets as backend
from ansible_collections.waent.onprem.plugins.plugin_utils import _vault_bundle as vb

SECRETS = [
    {"name": "wa_secret", "policy": "wa_secret"},
    {"name": "jwt", "policy": "jwt_key"},
    {"name": "db", "policy": "db_password"},
    {"name": "admin", "policy": "admin_password"},
]


def vault_secrets(password=b"correct horse", vault_id="default"):
    return [(vault_id, VaultSecret(password))]


def run(tmp_path, args, *, secrets=None, check=False, diff=False, no_log=False):
    task = MagicMock()
    task.args = dict(args)
    task.async_val = 0
    task.check_mode = check
    task.diff = diff
    task.no_log = no_log
    task.action = "waent.onprem.secret"
    loader = MagicMock()
    loader.get_basedir.return_value = str(tmp_path)
    loader._vault.secrets = secrets or []
    connection = MagicMock()
    connection._shell.tmpdir = "/unused"
    action = ActionModule(task, connection, MagicMock(), loader, MagicMock(), MagicMock())
    action._display = MagicMock()
    return action.run(task_vars={})


# --------------------------------------------------------------------------- VaultBundle


def test_vault_round_trip_with_real_vaultlib():
    entries = backend.plan({}, backend.normalize_specs(SECRETS)).entries
    text = vb.dump_yaml(backend.render_bundle(entries))
    bundle = vb.VaultBundle(vault_secrets())
    raw = bundle.encrypt(text, bundle.should_encrypt())
    assert raw.startswith(b"$ANSIBLE_VAULT;1.1;AES256")
    assert entries["db"]["value"].encode() not in raw
    assert VaultLib(vault_secrets()).decrypt(raw).decode() == text
    assert bundle.load(raw, "b.yml") == backend.parse_bundle(yaml.safe_load(text))


def test_vault_id_label_is_written():
    bundle = vb.VaultBundle(vault_secrets(vault_id="prod"), vault_id="prod")
    assert bundle.encrypt("a: 1\n", True).startswith(b"$ANSIBLE_VAULT;1.2;AES256;prod")


def test_plaintext_is_read_with_or_without_vault():
    text = vb.dump_yaml(backend.new_bundle())
    assert vb.VaultBundle([]).load(text.encode(), "b") == {}
    assert vb.VaultBundle(vault_secrets()).load(text.encode(), "b") == {}
    assert vb.VaultBundle([]).should_encrypt() is False
    assert vb.VaultBundle(vault_secrets(), mode="never").should_encrypt() is False


def test_wrong_password_and_missing_secret():
    raw = vb.VaultBundle(vault_secrets()).encrypt("a: 1\n", True)
    with pytest.raises(backend.BundleError, match="cannot be decrypted with the configured vault secrets"):
        vb.VaultBundle(vault_secrets(b"wrong")).load(raw, "b.yml")
    with pytest.raises(backend.BundleError, match="vault-encrypted but no vault secret is configured"):
        vb.VaultBundle([]).load(raw, "b.yml")
    with pytest.raises(backend.SecretError, match="vault=always but no vault secret"):
        vb.VaultBundle([], mode="always")


def test_invalid_yaml_message_does_not_quote_the_line():
    raw = b"format: waent.onprem.secret/1\nsecrets:\n  a: {value: 'SuperSecretValue\n"
    with pytest.raises(backend.BundleError) as err:
        vb.VaultBundle([]).load(raw, "b.yml")
    assert "is not valid YAML" in str(err.value) and "line" in str(err.value)
    assert "SuperSecretValue" not in str(err.value)


def test_not_utf8():
    with pytest.raises(backend.BundleError, match="not UTF-8"):
        vb.VaultBundle([]).load(b"\xff\xfe", "b.yml")


# --------------------------------------------------------------------------- action


def test_action_check_real_idempotent(tmp_path):
    args = {"path": "pki/secrets.yml", "secrets": SECRETS}
    check = run(tmp_path, args, check=True, diff=True)
    assert check["changed"] and not (tmp_path / "pki").exists()
    assert {m["reason"] for m in check["secrets"].values()} == {"missing"}
    assert all(m["fingerprint"] is None for m in check["secrets"].values())
    assert all(m["fingerprint"] is None for m in check["diff"]["after"]["secrets"].values())
    real = run(tmp_path, args, diff=True)
    path = tmp_path / "pki" / "secrets.yml"
    assert real["changed"] and real["path"] == str(path) and not real["encrypted"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    data = yaml.safe_load(path.read_text())
    for name, meta in real["secrets"].items():
        assert "value" not in meta
        assert meta["fingerprint"] == backend.fingerprint(data["secrets"][name]["value"])
        assert data["secrets"][name]["value"] not in repr(real)
    again_check = run(tmp_path, args, check=True)
    again = run(tmp_path, args)
    assert not again_check["changed"] and not again["changed"]
    assert again["secrets"]["db"]["fingerprint"] == real["secrets"]["db"]["fingerprint"]


def test_action_vault_encrypts_plaintext_bundle_and_reads_it_back(tmp_path):
    args = {"path": str(tmp_path / "s.yml"), "secrets": SECRETS}
    first = run(tmp_path, args)
    plain = yaml.safe_load((tmp_path / "s.yml").read_text())
    enc = run(tmp_path, args, secrets=vault_secrets())
    assert enc["changed"] and enc["file_changes"] == ["encrypted"] and enc["encrypted"]
    assert enc["changed_secrets"] == []
    raw = (tmp_path / "s.yml").read_bytes()
    assert raw.startswith(b"$ANSIBLE_VAULT")
    decrypted = yaml.safe_load(VaultLib(vault_secrets()).decrypt(raw))
    assert decrypted["secrets"] == plain["secrets"]
    assert not run(tmp_path, args, secrets=vault_secrets())["changed"]
    assert first["secrets"]["jwt"]["fingerprint"] == enc["secrets"]["jwt"]["fingerprint"]
    # wrong password: clear error, file untouched
    bad = run(tmp_path, args, secrets=vault_secrets(b"nope"))
    assert bad["failed"] and "cannot be decrypted" in bad["msg"]
    assert (tmp_path / "s.yml").read_bytes() == raw
    # vault=never decrypts
    dec = run(tmp_path, dict(args, vault="never"), secrets=vault_secrets())
    assert dec["file_changes"] == ["decrypted"] and not (tmp_path / "s.yml").read_bytes().startswith(b"$ANSIBLE")


def test_action_vault_always_without_secret_fails_before_writing(tmp_path):
    result = run(tmp_path, {"path": str(tmp_path / "s.yml"), "secrets": SECRETS, "vault": "always"})
    assert result["failed"] and "vault=always" in result["msg"]
    assert not (tmp_path / "s.yml").exists()


def test_action_rotation_return_values_and_no_log(tmp_path):
    args = {"path": str(tmp_path / "s.yml"), "secrets": SECRETS}
    first = run(tmp_path, args)
    rotated = run(tmp_path, dict(args, rotate=["db"], return_values=["db"]), diff=True)
    assert rotated["_ansible_no_log"] is True  # forgotten no_log is enforced
    db = rotated["secrets"]["db"]
    assert db["reason"] == "rotate" and db["previous"]["fingerprint"] == first["secrets"]["db"]["fingerprint"]
    assert backend.fingerprint(db["value"]) == db["fingerprint"]
    assert backend.fingerprint(db["previous"]["value"]) == first["secrets"]["db"]["fingerprint"]
    assert "value" not in rotated["secrets"]["jwt"]
    # the diff never carries values
    assert db["value"] not in repr(rotated["diff"]) and db["previous"]["value"] not in repr(rotated["diff"])
    assert rotated["diff"]["after"]["secrets"]["db"]["reason"] == "rotate"
    explicit = run(tmp_path, dict(args, return_values=["db"]), no_log=True)
    assert "_ansible_no_log" not in explicit and explicit["secrets"]["db"]["value"] == db["value"]


def test_action_rejects_bad_value_without_echo(tmp_path):
    args = {"path": str(tmp_path / "s.yml"),
            "secrets": [{"name": "admin", "policy": "admin_password", "value": "password123"}]}
    result = run(tmp_path, args)
    assert result["failed"] and "secret admin" in result["msg"] and "password123" not in result["msg"]
    assert not (tmp_path / "s.yml").exists()


def test_action_adopts_value(tmp_path):
    args = {"path": str(tmp_path / "s.yml"),
            "secrets": [{"name": "admin", "policy": "admin_password", "value": "Pa55word!x"}]}
    result = run(tmp_path, args)
    assert result["secrets"]["admin"]["reason"] == "adopted"
    assert not run(tmp_path, args)["changed"]


def test_action_corrupted_bundle_left_untouched(tmp_path):
    path = tmp_path / "s.yml"
    path.write_text("format: waent.onprem.secret/1\nsecrets:\n  db: {value: abc}\n")
    before = path.read_bytes()
    result = run(tmp_path, {"path": str(path), "secrets": SECRETS})
    assert result["failed"] and "secret db is missing the field fingerprint" in result["msg"]
    assert path.read_bytes() == before


def test_action_fixes_mode(tmp_path):
    args = {"path": str(tmp_path / "s.yml"), "secrets": SECRETS}
    run(tmp_path, args)
    os.chmod(tmp_path / "s.yml", 0o644)
    check = run(tmp_path, args, check=True)
    assert check["changed"] and check["file_changes"] == ["mode"]
    assert stat.S_IMODE((tmp_path / "s.yml").stat().st_mode) == 0o644
    fixed = run(tmp_path, args)
    assert fixed["changed"] and stat.S_IMODE((tmp_path / "s.yml").stat().st_mode) == 0o600


def test_action_bad_arguments(tmp_path):
    result = run(tmp_path, {"path": str(tmp_path / "s.yml"), "secrets": SECRETS, "rotate": ["nope"]})
    assert result["failed"] and "rotate names nope" in result["msg"]
    result = run(tmp_path, {"path": str(tmp_path / "s.yml"), "secrets": [{"name": "a", "policy": "x"}]})
    assert result["failed"] and "policy" in result["msg"]


def test_action_follows_a_symlinked_bundle(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    run(tmp_path, {"path": str(real / "s.yml"), "secrets": SECRETS})
    (tmp_path / "link.yml").symlink_to(real / "s.yml")
    result = run(tmp_path, {"path": str(tmp_path / "link.yml"), "secrets": SECRETS, "rotate": ["db"]})
    assert result["changed"] and result["path"] == str(real / "s.yml")
    assert (tmp_path / "link.yml").is_symlink()
