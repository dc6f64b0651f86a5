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
from ansible_collections.waent.onprem.plugins.action.secret import PLAINTEXT_WARNING, ActionModule
from ansible_collections.waent.onprem.plugins.module_utils import _secrets as backend
from ansible_collections.waent.onprem.plugins.module_utils import _secrets_bundle as secrets_bundle
from ansible_collections.waent.onprem.plugins.module_utils import _secrets_policy as secrets_policy
from ansible_collections.waent.onprem.plugins.plugin_utils import _vault_bundle as vb

SECRETS = [
    {"name": "wa_secret", "policy": "wa_secret"},
    {"name": "jwt", "policy": "jwt_key"},
    {"name": "db", "policy": "db_password"},
    {"name": "admin", "policy": "admin_password"},
]


def vault_secrets(password=b"correct horse", vault_id="default"):
    return [(vault_id, VaultSecret(password))]


def run(tmp_path, args, *, secrets=None, check=False, diff=False, no_log=False, warnings=None):
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
    result = action.run(task_vars={})
    if warnings is not None:
        warnings.extend(call.args[0] for call in action._display.warning.call_args_list)
    return result


# --------------------------------------------------------------------------- VaultBundle


def test_vault_round_trip_with_real_vaultlib():
    planned = backend.plan({}, backend.normalize_specs(SECRETS))
    entries = planned.entries
    text = vb.dump_yaml(secrets_bundle.render_bundle(entries, planned.fingerprint_key))
    bundle = vb.VaultBundle(vault_secrets())
    raw = bundle.encrypt(text, bundle.should_encrypt())
    assert raw.startswith(b"$ANSIBLE_VAULT;1.1;AES256")
    assert entries["db"]["value"].encode() not in raw
    assert VaultLib(vault_secrets()).decrypt(raw).decode() == text
    loaded = bundle.load(raw, "b.yml")
    assert loaded.entries == secrets_bundle.parse_bundle(yaml.safe_load(text)).entries
    assert loaded.fingerprint_key == planned.fingerprint_key
    assert planned.fingerprint_key.encode() not in raw


def test_vault_id_label_is_written():
    bundle = vb.VaultBundle(vault_secrets(vault_id="prod"), vault_id="prod")
    assert bundle.encrypt("a: 1\n", True).startswith(b"$ANSIBLE_VAULT;1.2;AES256;prod")


def test_plaintext_is_read_with_or_without_vault():
    text = vb.dump_yaml(secrets_bundle.new_bundle())
    assert vb.VaultBundle([]).load(text.encode(), "b").entries == {}
    assert vb.VaultBundle(vault_secrets()).load(text.encode(), "b").entries == {}
    assert vb.VaultBundle([]).should_encrypt() is False
    assert vb.VaultBundle(vault_secrets(), mode="never").should_encrypt() is False


def test_wrong_password_and_missing_secret():
    raw = vb.VaultBundle(vault_secrets()).encrypt("a: 1\n", True)
    with pytest.raises(secrets_bundle.BundleError, match="cannot be decrypted with the configured vault secrets"):
        vb.VaultBundle(vault_secrets(b"wrong")).load(raw, "b.yml")
    with pytest.raises(secrets_bundle.BundleError, match="vault-encrypted but no vault secret is configured"):
        vb.VaultBundle([]).load(raw, "b.yml")
    with pytest.raises(secrets_bundle.SecretError, match="vault=always but no vault secret"):
        vb.VaultBundle([], mode="always")


def test_invalid_yaml_message_does_not_quote_the_line():
    raw = b"format: waent.onprem.secret/1\nsecrets:\n  a: {value: 'SuperSecretValue\n"
    with pytest.raises(secrets_bundle.BundleError) as err:
        vb.VaultBundle([]).load(raw, "b.yml")
    assert "is not valid YAML" in str(err.value) and "line" in str(err.value)
    assert "SuperSecretValue" not in str(err.value)


def test_not_utf8():
    with pytest.raises(secrets_bundle.BundleError, match="not UTF-8"):
        vb.VaultBundle([]).load(b"\xff\xfe", "b.yml")


# --------------------------------------------------------------------------- action


def test_action_check_real_idempotent(tmp_path):
    args = {"path": "pki/secrets.yml", "secrets": SECRETS}
    check = run(tmp_path, args, check=True, diff=True)
    assert check["changed"] and not (tmp_path / "pki").exists()
    assert {m["reason"] for m in check["secrets"].values()} == {"missing"}
    assert all(m["fingerprint"] is None and m["preview"] for m in check["secrets"].values())
    assert all(m["fingerprint"] is None for m in check["diff"]["after"]["secrets"].values())
    assert check["diff"]["before"] == {} and check["diff"]["after"]["fingerprint_key"] == "added"
    real = run(tmp_path, args, diff=True)
    path = tmp_path / "pki" / "secrets.yml"
    assert real["changed"] and real["path"] == str(path) and not real["encrypted"]
    assert real["file_changes"] == []
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    data = yaml.safe_load(path.read_text())
    assert data["format"] == secrets_bundle.BUNDLE_FORMAT and len(data["fingerprint_key"]) == 64
    for name, meta in real["secrets"].items():
        assert "value" not in meta and meta["preview"] is False
        assert meta["fingerprint"] == secrets_bundle.fingerprint(data["secrets"][name]["value"],
                                                                 data["fingerprint_key"])
        assert data["secrets"][name]["value"] not in repr(real)
    assert data["fingerprint_key"] not in repr(real) and "fingerprint_key" not in real
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
    key = yaml.safe_load((tmp_path / "s.yml").read_text())["fingerprint_key"]
    assert secrets_bundle.fingerprint(db["value"], key) == db["fingerprint"]
    assert secrets_bundle.fingerprint(db["previous"]["value"], key) == first["secrets"]["db"]["fingerprint"]
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


# --------------------------------------------------------------------------- check mode previews


def test_check_mode_on_a_fresh_bundle_previews_values_that_satisfy_their_policies(tmp_path):
    args = {"path": str(tmp_path / "pki" / "s.yml"), "secrets": SECRETS,
            "return_values": [item["name"] for item in SECRETS], "return_fingerprint_key": True}
    check = run(tmp_path, args, check=True, no_log=True)
    assert check["changed"] and check["changed_secrets"] == ["wa_secret", "jwt", "db", "admin"]
    assert not (tmp_path / "pki").exists()
    for item in SECRETS:
        meta = check["secrets"][item["name"]]
        assert meta["reason"] == "missing" and meta["changed"] and meta["preview"] is True
        assert secrets_policy.BUILTIN_POLICIES[item["policy"]]().violations(meta["value"]) == []
        assert meta["fingerprint"] is None
    # a stand-in key, so that a filter applied to the stand-ins does not fail
    assert len(check["fingerprint_key"]) == 64
    # the stand-ins are not what a real run stores
    real = run(tmp_path, args, no_log=True)
    assert real["secrets"]["db"]["value"] != check["secrets"]["db"]["value"]
    assert real["fingerprint_key"] != check["fingerprint_key"]


def test_check_mode_on_a_converged_bundle_returns_the_stored_values_and_no_change(tmp_path):
    args = {"path": str(tmp_path / "s.yml"), "secrets": SECRETS,
            "return_values": [item["name"] for item in SECRETS], "return_fingerprint_key": True}
    real = run(tmp_path, args, no_log=True)
    before = (tmp_path / "s.yml").read_bytes()
    check = run(tmp_path, args, check=True, no_log=True, diff=True)
    assert not check["changed"] and check["changed_secrets"] == [] and check["file_changes"] == []
    assert check["fingerprint_key"] == real["fingerprint_key"]
    for name, meta in check["secrets"].items():
        assert meta["value"] == real["secrets"][name]["value"] and meta["preview"] is False
        assert meta["fingerprint"] == real["secrets"][name]["fingerprint"]
    assert check["diff"]["before"] == check["diff"]["after"]
    assert (tmp_path / "s.yml").read_bytes() == before


def test_check_mode_rotation_previews_a_new_value_and_keeps_the_stored_one_as_previous(tmp_path):
    args = {"path": str(tmp_path / "s.yml"), "secrets": SECRETS, "return_values": ["db"]}
    real = run(tmp_path, args, no_log=True)
    check = run(tmp_path, dict(args, rotate=["db"]), check=True, no_log=True, diff=True)
    db = check["secrets"]["db"]
    assert check["changed_secrets"] == ["db"] and db["reason"] == "rotate" and db["preview"] is True
    assert db["value"] != real["secrets"]["db"]["value"] and db["fingerprint"] is None
    assert db["previous"]["value"] == real["secrets"]["db"]["value"]
    assert db["previous"]["fingerprint"] == real["secrets"]["db"]["fingerprint"]
    assert check["secrets"]["jwt"]["preview"] is False
    assert check["secrets"]["jwt"]["fingerprint"] == real["secrets"]["jwt"]["fingerprint"]
    assert check["diff"]["after"]["secrets"]["db"]["fingerprint"] is None
    assert db["value"] not in repr(check["diff"])


def test_check_mode_adopted_value_is_not_a_stand_in(tmp_path):
    path = str(tmp_path / "s.yml")
    run(tmp_path, {"path": path, "secrets": SECRETS})
    args = {"path": path, "secrets": [{"name": "admin", "policy": "admin_password", "value": "Pa55word!x"}],
            "return_values": ["admin"], "return_fingerprint_key": True}
    check = run(tmp_path, args, check=True, no_log=True)
    admin = check["secrets"]["admin"]
    assert admin["reason"] == "adopted" and admin["preview"] is False and admin["value"] == "Pa55word!x"
    assert admin["fingerprint"] == secrets_bundle.fingerprint("Pa55word!x", check["fingerprint_key"])


# --------------------------------------------------------------------------- fingerprint key


def write_legacy_bundle(path):
    """A bundle as format /1 wrote it (no key, unkeyed SHA-256 fingerprints), with a previous value."""
    planned = backend.plan({}, backend.normalize_specs(SECRETS))
    planned = backend.plan(planned.entries, backend.normalize_specs(SECRETS), rotate=["db"],
                           fingerprint_key=planned.fingerprint_key)
    data = secrets_bundle.render_bundle(planned.entries, planned.fingerprint_key)
    data["format"] = "waent.onprem.secret/1"
    del data["fingerprint_key"]
    for entry in data["secrets"].values():
        entry["fingerprint"] = secrets_bundle.legacy_fingerprint(entry["value"])
        if "previous" in entry:
            entry["previous"]["fingerprint"] = secrets_bundle.legacy_fingerprint(entry["previous"]["value"])
    path.write_text(yaml.safe_dump(data))
    os.chmod(path, 0o600)
    return data


def test_legacy_bundle_is_upgraded_in_place(tmp_path):
    path = tmp_path / "s.yml"
    legacy = write_legacy_bundle(path)
    legacy_fingerprints = [e["fingerprint"][len("sha256:"):] for e in legacy["secrets"].values()]
    args = {"path": str(path), "secrets": SECRETS, "return_values": ["db"], "return_fingerprint_key": True}
    check = run(tmp_path, args, check=True, diff=True, no_log=True)
    assert check["changed"] and check["file_changes"] == ["fingerprint_key_added"]
    assert check["changed_secrets"] == [] and check["secrets"]["db"]["value"] == legacy["secrets"]["db"]["value"]
    # the key is a stand-in in check mode: no fingerprint under it is returned
    assert all(m["fingerprint"] is None for m in check["secrets"].values())
    assert check["secrets"]["db"]["previous"]["fingerprint"] is None
    assert check["diff"]["before"]["fingerprint_key"] == "absent"
    assert check["diff"]["after"]["fingerprint_key"] == "added"
    assert yaml.safe_load(path.read_text()) == legacy
    upgraded = run(tmp_path, args, diff=True, no_log=True)
    assert upgraded["changed"] and upgraded["file_changes"] == ["fingerprint_key_added"]
    assert upgraded["changed_secrets"] == []
    data = yaml.safe_load(path.read_text())
    key = data["fingerprint_key"]
    assert data["format"] == secrets_bundle.BUNDLE_FORMAT and upgraded["fingerprint_key"] == key
    for name, entry in data["secrets"].items():
        assert entry["value"] == legacy["secrets"][name]["value"]
        assert entry["fingerprint"] == secrets_bundle.fingerprint(entry["value"], key)
        assert upgraded["secrets"][name]["fingerprint"] == entry["fingerprint"]
    assert data["secrets"]["db"]["previous"]["fingerprint"] == secrets_bundle.fingerprint(
        legacy["secrets"]["db"]["previous"]["value"], key)
    # the unkeyed fingerprints are never shown again: not in the result, not in the diff
    for text in (repr(check), repr(upgraded)):
        assert not [fp for fp in legacy_fingerprints if fp in text]
    again = run(tmp_path, args, no_log=True)
    assert not again["changed"] and again["fingerprint_key"] == key


def test_return_fingerprint_key_hides_the_output_and_matches_the_filter(tmp_path):
    from ansible_collections.waent.onprem.plugins.filter.secret_fingerprint import secret_fingerprint

    args = {"path": str(tmp_path / "s.yml"), "secrets": SECRETS}
    metadata_only = run(tmp_path, args)
    assert "fingerprint_key" not in metadata_only and "_ansible_no_log" not in metadata_only
    warnings = []
    with_key = run(tmp_path, dict(args, return_fingerprint_key=True), warnings=warnings)
    assert with_key["_ansible_no_log"] is True and any("output is hidden" in w for w in warnings)
    values = run(tmp_path, dict(args, return_values=["db", "admin"]), no_log=True)
    for name in ("db", "admin"):
        assert secret_fingerprint(values["secrets"][name]["value"], with_key["fingerprint_key"]) == \
            metadata_only["secrets"][name]["fingerprint"]


def test_rotate_fingerprint_key(tmp_path):
    args = {"path": str(tmp_path / "s.yml"), "secrets": SECRETS, "return_fingerprint_key": True}
    first = run(tmp_path, args, no_log=True)
    rotated = run(tmp_path, dict(args, rotate_fingerprint_key=True), no_log=True)
    assert rotated["changed"] and rotated["file_changes"] == ["fingerprint_key_rotated"]
    assert rotated["changed_secrets"] == [] and rotated["fingerprint_key"] != first["fingerprint_key"]
    for name in first["secrets"]:
        assert rotated["secrets"][name]["fingerprint"] != first["secrets"][name]["fingerprint"]
    # rotate=all is about the values, not the key
    all_values = run(tmp_path, dict(args, rotate=True), no_log=True)
    assert all_values["fingerprint_key"] == rotated["fingerprint_key"]
    assert "fingerprint_key_rotated" not in all_values["file_changes"]


# --------------------------------------------------------------------------- plaintext warning


def test_plaintext_bundle_is_announced_with_the_file_and_the_remedy(tmp_path):
    path = tmp_path / "pki" / "s.yml"
    for check in (True, False, False):  # check mode, first write, a run that changes nothing
        warnings = []
        run(tmp_path, {"path": str(path), "secrets": SECRETS}, check=check, warnings=warnings)
        assert len(warnings) == 1, warnings
        assert warnings[0] == PLAINTEXT_WARNING.format(path=path)
    text = warnings[0]
    for needle in (str(path), "PLAIN TEXT", "--vault-id", "ANSIBLE_VAULT_PASSWORD_FILE", "pki_vault: always"):
        assert needle in text


@pytest.mark.parametrize(("vault", "secrets"), [("auto", True), ("always", True), ("never", False),
                                                ("never", True)])
def test_no_plaintext_warning_with_a_vault_or_on_purpose(tmp_path, vault, secrets):
    warnings = []
    run(tmp_path, {"path": str(tmp_path / "s.yml"), "secrets": SECRETS, "vault": vault},
        secrets=vault_secrets() if secrets else None, warnings=warnings)
    assert warnings == []
