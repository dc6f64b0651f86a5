# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import copy
import datetime
import os
import stat

import pytest
from ansible_collections.waent.onprem.plugins.module_utils import _pki as pki
from ansible_collections.waent.onprem.plugins.module_utils import _pki_items as items
from ansible_collections.waent.onprem.plugins.module_utils import _pki_store, _x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

NOW = _x509.utcnow()
DAY = datetime.timedelta(days=1)

CA_DEFAULTS = {
    "name": "ca",
    "common_name": "waent.onprem internal CA",
    "key_type": "ec-p256",
    "validity_days": 3650,
    "renew_before": 90,
    "replace": "never",
}
CERT_DEFAULTS = {
    "common_name": None,
    "dns": [],
    "ip": [],
    "usage": "server",
    "key_type": "ec-p256",
    "validity_days": 365,
    "renew_before": 30,
    "signed_by": None,
    "key_path": None,
    "cert_path": None,
    "chain_path": None,
    "owner": None,
    "group": None,
    "bundles": [],
}


def cert_spec(name, **kw):
    spec = dict(CERT_DEFAULTS, name=name)
    spec.update(kw)
    return spec


def params(path, certs=None, ca=None, **kw):
    result = {
        "path": str(path),
        "state": "present",
        "ca": dict(CA_DEFAULTS, **(ca or {})),
        "organization": None,
        "certificates": certs if certs is not None else [cert_spec("web", dns=["wa.example.com"], ip=["192.0.2.1"])],
        "ca_bundle": None,
        "owner": None,
        "group": None,
        "key_mode": "0600",
        "cert_mode": "0644",
        "backup": False,
        "on_unreadable": "regenerate",
        "fail_on_invalid": True,
    }
    result.update(kw)
    return result


def run(p, check_mode=False, now=None):
    manager = pki.PkiManager(copy.deepcopy(p), check_mode=check_mode, now=now)
    result = manager.run()
    result["warnings"] = manager.warnings
    result["diff"] = manager.diff
    return result


def by_name(result):
    return {c["name"]: c for c in result["certificates"]}


def snapshot(directory):
    out = {}
    for root, _dirs, files in os.walk(directory):
        for name in files:
            full = os.path.join(root, name)
            with open(full, "rb") as handle:
                out[os.path.relpath(full, directory)] = handle.read()
    return out


def mode_of(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def load_cert(path):
    with open(path, "rb") as handle:
        return x509.load_pem_x509_certificate(handle.read())


# --------------------------------------------------------------------------- first run / idempotence


def test_first_run_creates_ca_and_certificates_with_modes(tmp_path):
    directory = tmp_path / "pki"
    result = run(params(directory))
    assert result["changed"]
    assert result["ca"]["reason"] == "missing"
    web = by_name(result)["web"]
    assert web["reason"] == "missing" and web["key_regenerated"]
    assert web["dns"] == ["wa.example.com"] and web["ip"] == ["192.0.2.1"]
    assert web["usage"] == "server" and web["key_type"] == "ec-p256"
    assert mode_of(directory) == 0o700
    assert mode_of(directory / "ca.key") == 0o600
    assert mode_of(directory / "web.key") == 0o600
    assert mode_of(directory / "ca.crt") == 0o644
    assert mode_of(directory / "web.crt") == 0o644
    ca = load_cert(directory / "ca.crt")
    bc = ca.extensions.get_extension_for_class(x509.BasicConstraints)
    assert bc.critical and bc.value.ca and bc.value.path_length == 0
    ku = ca.extensions.get_extension_for_class(x509.KeyUsage)
    assert ku.critical and ku.value.key_cert_sign and ku.value.crl_sign
    leaf = load_cert(directory / "web.crt")
    assert _x509.signed_by(leaf, ca)
    aki = leaf.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    ski = ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == ski.digest
    eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH]
    # no key material in results or diff
    text = repr(result)
    assert "PRIVATE KEY" not in text and "BEGIN CERTIFICATE" not in text


def test_second_run_changes_nothing(tmp_path):
    p = params(tmp_path)
    first = run(p)
    before = snapshot(tmp_path)
    second = run(p)
    assert not second["changed"]
    assert second["ca"]["reason"] is None
    assert by_name(second)["web"]["reason"] is None
    assert by_name(second)["web"]["fingerprint_sha256"] == by_name(first)["web"]["fingerprint_sha256"]
    assert snapshot(tmp_path) == before


def test_check_mode_on_empty_directory_writes_nothing(tmp_path):
    directory = tmp_path / "pki"
    result = run(params(directory), check_mode=True)
    assert result["changed"]
    assert not directory.exists()
    web = by_name(result)["web"]
    assert web["reason"] == "missing"
    assert web["fingerprint_sha256"] is None and web["serial"] is None
    assert web["subject"] == "CN=wa.example.com"
    assert result["diff"]["after"]["certificates"]["web"]["reason"] == "missing"


def test_check_mode_after_real_run_reports_no_change(tmp_path):
    p = params(tmp_path)
    run(p)
    assert not run(p, check_mode=True)["changed"]


def test_check_mode_reports_reason_without_writing(tmp_path):
    p = params(tmp_path)
    run(p)
    before = snapshot(tmp_path)
    p["certificates"][0]["dns"] = ["wa.example.com", "other.example.com"]
    result = run(p, check_mode=True)
    assert result["changed"] and by_name(result)["web"]["reason"] == "sans_changed"
    assert snapshot(tmp_path) == before


# --------------------------------------------------------------------------- predicate branches


def test_cert_missing_keeps_key(tmp_path):
    p = params(tmp_path)
    run(p)
    key_before = (tmp_path / "web.key").read_bytes()
    (tmp_path / "web.crt").unlink()
    web = by_name(run(p))["web"]
    assert web["reason"] == "missing" and not web["key_regenerated"]
    assert (tmp_path / "web.key").read_bytes() == key_before


def test_truncated_certificate_is_reissued_and_kept_as_backup(tmp_path):
    p = params(tmp_path)
    run(p)
    broken = (tmp_path / "web.crt").read_bytes()[:100]
    (tmp_path / "web.crt").write_bytes(broken)
    result = run(p)
    assert by_name(result)["web"]["reason"] == "unreadable"
    assert len(result["backup_files"]) == 1
    with open(result["backup_files"][0], "rb") as handle:
        assert handle.read() == broken


def test_truncated_key_is_regenerated_and_kept_as_backup(tmp_path):
    p = params(tmp_path)
    run(p)
    broken = (tmp_path / "web.key").read_bytes()[:60]
    (tmp_path / "web.key").write_bytes(broken)
    result = run(p)
    web = by_name(result)["web"]
    assert web["reason"] == "unreadable" and web["key_regenerated"]
    backups = [b for b in result["backup_files"] if "web.key" in b]
    assert backups and open(backups[0], "rb").read() == broken
    assert mode_of(backups[0]) == 0o600
    assert mode_of(tmp_path / "web.key") == 0o600


def test_truncated_key_with_on_unreadable_fail_destroys_nothing(tmp_path):
    p = params(tmp_path, on_unreadable="fail")
    run(p)
    (tmp_path / "web.key").write_bytes((tmp_path / "web.key").read_bytes()[:60])
    before = snapshot(tmp_path)
    with pytest.raises(pki.PkiError, match=r"web\.key cannot be read: invalid or truncated PEM private key"):
        run(p)
    assert snapshot(tmp_path) == before


def test_key_replaced_by_another_key_of_same_type_is_key_mismatch(tmp_path):
    p = params(tmp_path)
    run(p)
    other = ec.generate_private_key(ec.SECP256R1())
    (tmp_path / "web.key").write_bytes(items.key_pem(other))
    web = by_name(run(p))["web"]
    assert web["reason"] == "key_mismatch" and not web["key_regenerated"]
    cert = load_cert(tmp_path / "web.crt")
    assert _x509.spki(cert.public_key()) == _x509.spki(other.public_key())


def test_key_of_another_type_is_regenerated(tmp_path):
    p = params(tmp_path)
    run(p)
    (tmp_path / "web.key").write_bytes(items.key_pem(rsa.generate_private_key(public_exponent=65537, key_size=2048)))
    web = by_name(run(p))["web"]
    assert web["reason"] == "key_type_changed" and web["key_regenerated"]
    assert web["key_type"] == "ec-p256"


def test_key_type_option_change_regenerates_key(tmp_path):
    p = params(tmp_path)
    run(p)
    p["certificates"][0]["key_type"] = "rsa-2048"
    web = by_name(run(p))["web"]
    assert web["reason"] == "key_type_changed" and web["key_type"] == "rsa-2048"
    ku = load_cert(tmp_path / "web.crt").extensions.get_extension_for_class(x509.KeyUsage).value
    assert ku.digital_signature and ku.key_encipherment
    assert not run(p)["changed"]


def test_certificate_from_another_ca_is_issuer_mismatch(tmp_path):
    other_dir = tmp_path / "other"
    mine = tmp_path / "mine"
    run(params(other_dir))
    run(params(mine))
    for name in ("web.crt", "web.key"):
        (mine / name).write_bytes((other_dir / name).read_bytes())
    web = by_name(run(params(mine)))["web"]
    assert web["reason"] == "issuer_mismatch" and not web["key_regenerated"]
    assert _x509.signed_by(load_cert(mine / "web.crt"), load_cert(mine / "ca.crt"))


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"common_name": "other.example.com"}, "subject_changed"),
        ({"dns": ["wa.example.com", "wa2.example.com"]}, "sans_changed"),
        ({"ip": ["192.0.2.2"]}, "sans_changed"),
        ({"usage": "client"}, "usage_changed"),
        ({"usage": "both"}, "usage_changed"),
    ],
)
def test_option_changes_reissue_with_reason(tmp_path, change, reason):
    p = params(tmp_path)
    run(p)
    p["certificates"][0].update(change)
    web = by_name(run(p))["web"]
    assert web["reason"] == reason and not web["key_regenerated"]
    assert not run(p)["changed"]


def test_organization_change_is_subject_changed_and_ca_kept_with_warning(tmp_path):
    p = params(tmp_path)
    run(p)
    p["organization"] = "Example Org"
    result = run(p)
    assert by_name(result)["web"]["reason"] == "subject_changed"
    assert result["ca"]["reason"] is None
    assert any("CA subject" in w for w in result["warnings"])


def test_sans_compare_ignores_order_and_dns_case(tmp_path):
    p = params(
        tmp_path,
        certs=[cert_spec("web", common_name="a", dns=["a.example.com", "b.example.com"], ip=["::1", "127.0.0.1"])],
    )
    run(p)
    p["certificates"][0].update(dns=["B.example.com", "a.example.com"], ip=["127.0.0.1", "0:0::1"])
    assert not run(p)["changed"]


def test_renew_window_reissues_every_run(tmp_path):
    p = params(tmp_path, certs=[cert_spec("web", validity_days=1, renew_before=2)])
    run(p)
    first = by_name(run(p))["web"]
    second = by_name(run(p))["web"]
    assert first["reason"] == second["reason"] == "renew"
    assert first["serial"] != second["serial"]
    assert not first["key_regenerated"]


def test_renew_by_time_and_expired(tmp_path):
    p = params(tmp_path, certs=[cert_spec("soon", renew_before=30), cert_spec("old", renew_before=30)])
    run(p, now=NOW - 400 * DAY)  # CA + both certificates issued 400 days ago, valid 365 days
    # re-issue "soon" 350 days ago: it expires in 15 days, inside the 30-day window
    (tmp_path / "soon.crt").unlink()
    run(p, now=NOW - 350 * DAY)
    result = by_name(run(p))
    assert result["old"]["reason"] == "expired"
    assert result["soon"]["reason"] == "renew"
    assert not run(p)["changed"]


def test_certificate_never_outlives_its_ca(tmp_path):
    p = params(tmp_path, ca={"validity_days": 100, "renew_before": 10}, certs=[cert_spec("web", validity_days=365)])
    result = run(p)
    assert by_name(result)["web"]["not_after"] <= result["ca"]["not_after"]


# --------------------------------------------------------------------------- CA


def test_unreadable_ca_is_an_error_and_nothing_is_destroyed(tmp_path):
    p = params(tmp_path)
    run(p)
    (tmp_path / "ca.key").write_bytes(b"-----BEGIN PRIVATE KEY-----\nMIGH\n")
    before = snapshot(tmp_path)
    with pytest.raises(pki.PkiError, match=r"ca\.key cannot be read.*ca\.replace=when_needed"):
        run(p)
    assert snapshot(tmp_path) == before


def test_ca_key_missing_is_an_error(tmp_path):
    p = params(tmp_path)
    run(p)
    (tmp_path / "ca.key").unlink()
    with pytest.raises(pki.PkiError, match="CA key .* is missing while its certificate exists"):
        run(p)


def test_ca_key_and_cert_that_do_not_match_is_an_error(tmp_path):
    p = params(tmp_path)
    run(p)
    (tmp_path / "ca.key").write_bytes(items.key_pem(ec.generate_private_key(ec.SECP256R1())))
    with pytest.raises(pki.PkiError, match="does not match the key"):
        run(p)


def test_unreadable_ca_replaced_when_needed_keeps_backup_and_reissues(tmp_path):
    p = params(tmp_path)
    run(p)
    (tmp_path / "ca.crt").write_bytes(b"garbage")
    p["ca"]["replace"] = "when_needed"
    result = run(p)
    assert result["ca"]["reason"] == "unreadable"
    assert by_name(result)["web"]["reason"] == "ca_replaced"
    assert any(b.startswith(str(tmp_path / "ca.crt")) for b in result["backup_files"])


def test_ca_replace_always_cascades_to_every_certificate(tmp_path):
    certs = [cert_spec("web", dns=["wa.example.com"]), cert_spec("db-client", usage="client")]
    p = params(tmp_path, certs=certs)
    first = run(p)
    p["ca"]["replace"] = "always"
    p["backup"] = True
    second = run(p)
    assert second["ca"]["reason"] == "forced"
    assert second["ca"]["fingerprint_sha256"] != first["ca"]["fingerprint_sha256"]
    assert {c["reason"] for c in second["certificates"]} == {"ca_replaced"}
    ca = load_cert(tmp_path / "ca.crt")
    for name in ("web", "db-client"):
        assert _x509.signed_by(load_cert(tmp_path / (name + ".crt")), ca)
    assert len(second["backup_files"]) == 4  # ca.key, ca.crt, web.crt, db-client.crt
    p["ca"]["replace"] = "never"
    assert not run(p)["changed"]


def test_ca_drift_warns_with_never_and_replaces_with_when_needed(tmp_path):
    p = params(tmp_path)
    first = run(p)
    p["ca"]["common_name"] = "New CA"
    kept = run(p)
    assert not kept["changed"] and kept["ca"]["reason"] is None
    assert kept["warnings"] and "ca.replace=never" in kept["warnings"][0]
    p["ca"]["replace"] = "when_needed"
    replaced = run(p)
    assert replaced["ca"]["reason"] == "subject_changed"
    assert replaced["ca"]["fingerprint_sha256"] != first["ca"]["fingerprint_sha256"]
    assert by_name(replaced)["web"]["reason"] == "ca_replaced"
    assert not run(p)["changed"]


def test_no_renewal_churn_when_capped_at_the_ca_end_of_life(tmp_path):
    p = params(tmp_path, ca={"validity_days": 20, "renew_before": 5}, certs=[cert_spec("web", renew_before=30)])
    first = by_name(run(p))["web"]
    second = run(p)
    assert not second["changed"] and by_name(second)["web"]["serial"] == first["serial"]
    assert any("cannot be renewed beyond the CA" in w for w in second["warnings"])


def test_check_mode_key_only_bundle_is_unchanged_when_the_key_is_kept(tmp_path):
    p = params(tmp_path, certs=bundle_specs())
    run(p)
    p["certificates"][1]["usage"] = "both"
    result = by_name(run(p, check_mode=True))["db-server"]
    assert result["reason"] == "usage_changed"
    assert [b["changed"] for b in result["bundles"]] == [False, True, False]


def test_ca_in_renewal_window(tmp_path):
    # leaves are capped at the CA's end of life: keep their window shorter than the CA's remaining 30 days
    p = params(tmp_path, ca={"validity_days": 30, "renew_before": 60}, certs=[cert_spec("web", renew_before=5)])
    run(p)
    kept = run(p)
    assert not kept["changed"] and "renew_before" in kept["warnings"][0]
    p["ca"]["replace"] = "when_needed"
    assert run(p)["ca"]["reason"] == "renew"


def test_expired_ca_is_an_error_unless_replace_allows(tmp_path):
    p = params(tmp_path, ca={"validity_days": 10})
    run(p, now=NOW - 20 * DAY)
    with pytest.raises(pki.PkiError, match="expired on"):
        run(p)
    p["ca"]["replace"] = "when_needed"
    result = run(p)
    assert result["ca"]["reason"] == "expired"
    assert by_name(result)["web"]["reason"] == "ca_replaced"


def test_ca_check_mode_replacement_reports_cascade_without_writing(tmp_path):
    p = params(tmp_path)
    run(p)
    before = snapshot(tmp_path)
    p["ca"]["replace"] = "always"
    result = run(p, check_mode=True)
    assert result["ca"]["reason"] == "forced" and result["ca"]["fingerprint_sha256"] is None
    assert by_name(result)["web"]["reason"] == "ca_replaced"
    assert snapshot(tmp_path) == before


def test_existing_certificates_with_new_ca_are_issuer_mismatch(tmp_path):
    p = params(tmp_path)
    run(p)
    (tmp_path / "ca.key").unlink()
    (tmp_path / "ca.crt").unlink()
    check = run(p, check_mode=True)
    assert by_name(check)["web"]["reason"] == "issuer_mismatch"
    assert by_name(run(p))["web"]["reason"] == "issuer_mismatch"


@pytest.mark.parametrize(
    "damage",
    ["ca_gone", "ca_gone_cert_truncated", "ca_gone_key_swapped", "cert_gone", "key_type", "sans", "ca_forced"],
)
def test_check_mode_predicts_the_real_run(tmp_path, damage):
    """One predicate per item: the reason check mode reports is the reason the real run acts on."""
    p = params(tmp_path)
    run(p)
    if damage.startswith("ca_gone"):
        (tmp_path / "ca.key").unlink()
        (tmp_path / "ca.crt").unlink()
    if damage == "ca_gone_cert_truncated":
        (tmp_path / "web.crt").write_bytes((tmp_path / "web.crt").read_bytes()[:80])
    if damage == "ca_gone_key_swapped":
        (tmp_path / "web.key").write_bytes(items.key_pem(ec.generate_private_key(ec.SECP256R1())))
    if damage == "cert_gone":
        (tmp_path / "web.crt").unlink()
    if damage == "key_type":
        p["certificates"][0]["key_type"] = "ec-p384"
    if damage == "sans":
        p["certificates"][0]["ip"] = []
    if damage == "ca_forced":
        p["ca"]["replace"] = "always"
    before = snapshot(tmp_path)
    check = run(p, check_mode=True)
    assert snapshot(tmp_path) == before
    real = run(p)
    assert check["ca"]["reason"] == real["ca"]["reason"]
    for field in ("reason", "key_regenerated"):
        assert by_name(check)["web"][field] == by_name(real)["web"][field], damage


def test_p384_and_rsa_ca(tmp_path):
    for key_type in ("ec-p384", "rsa-2048"):
        directory = tmp_path / key_type
        result = run(params(directory, ca={"key_type": key_type}))
        assert result["ca"]["key_type"] == key_type
        assert _x509.signed_by(load_cert(directory / "web.crt"), load_cert(directory / "ca.crt"))
        assert not run(params(directory, ca={"key_type": key_type}))["changed"]


# --------------------------------------------------------------------------- files


def test_attribute_change_is_separate_from_content(tmp_path):
    p = params(tmp_path)
    first = by_name(run(p))["web"]
    os.chmod(tmp_path / "web.key", 0o644)
    result = by_name(run(p))["web"]
    assert result["changed"] and result["attributes_changed"] and result["reason"] is None
    assert result["fingerprint_sha256"] == first["fingerprint_sha256"]
    assert mode_of(tmp_path / "web.key") == 0o600


def test_modes_options_and_numeric_mode(tmp_path):
    p = params(tmp_path, key_mode=0o640, cert_mode="0640")
    run(p)
    assert mode_of(tmp_path / "web.key") == 0o640
    assert mode_of(tmp_path / "web.crt") == 0o640


def test_atomic_write_leaves_original_and_no_temp_on_failure(tmp_path, monkeypatch):
    store = _pki_store.FileStore()
    target = tmp_path / "file.key"
    target.write_bytes(b"original")

    def boom(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(_pki_store._io.os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        store.write(str(target), b"new", 0o600)
    assert target.read_bytes() == b"original"
    assert sorted(os.listdir(tmp_path)) == ["file.key"]


def test_atomic_write_sets_mode_and_replaces(tmp_path):
    store = _pki_store.FileStore()
    target = tmp_path / "sub" / "file.key"
    store.write(str(target), b"data", 0o600)
    assert target.read_bytes() == b"data" and mode_of(target) == 0o600
    assert mode_of(tmp_path / "sub") == 0o700
    assert sorted(os.listdir(tmp_path / "sub")) == ["file.key"]


def test_backup_option_keeps_copies(tmp_path):
    p = params(tmp_path, backup=True)
    run(p)
    old = (tmp_path / "web.crt").read_bytes()
    p["certificates"][0]["dns"] = ["new.example.com"]
    result = run(p)
    assert len(result["backup_files"]) == 1
    assert open(result["backup_files"][0], "rb").read() == old


def test_path_that_is_a_file_is_an_error(tmp_path):
    target = tmp_path / "file"
    target.write_text("x")
    with pytest.raises(pki.PkiError, match="not a directory"):
        run(params(target))


# --------------------------------------------------------------------------- bundles


def bundle_specs():
    return [
        cert_spec(
            "webapp",
            dns=["wa.example.com"],
            bundles=[{"path": "webapp-upload.pem", "content": ["key", "cert", "ca"], "mode": None}],
        ),
        cert_spec(
            "db-server",
            dns=["db.example.com"],
            bundles=[
                {"path": "db/db-key.pem", "content": ["key"], "mode": None},
                {"path": "db/db-cert.pem", "content": ["cert"], "mode": None},
                {"path": "db/db-ca.pem", "content": ["ca"], "mode": "0644"},
            ],
        ),
    ]


def test_bundles_have_the_order_the_webapp_api_requires(tmp_path):
    result = run(params(tmp_path, certs=bundle_specs()))
    data = (tmp_path / "webapp-upload.pem").read_bytes()
    sections = [line for line in data.splitlines() if line.startswith(b"-----BEGIN")]
    assert sections == [b"-----BEGIN PRIVATE KEY-----", b"-----BEGIN CERTIFICATE-----", b"-----BEGIN CERTIFICATE-----"]
    assert (
        data
        == (tmp_path / "webapp.key").read_bytes()
        + (tmp_path / "webapp.crt").read_bytes()
        + (tmp_path / "ca.crt").read_bytes()
    )
    assert mode_of(tmp_path / "webapp-upload.pem") == 0o600
    assert (tmp_path / "db" / "db-key.pem").read_bytes() == (tmp_path / "db-server.key").read_bytes()
    assert (tmp_path / "db" / "db-ca.pem").read_bytes() == (tmp_path / "ca.crt").read_bytes()
    assert mode_of(tmp_path / "db" / "db-key.pem") == 0o600
    assert mode_of(tmp_path / "db" / "db-cert.pem") == 0o644
    assert all(b["changed"] for c in result["certificates"] for b in c["bundles"])


def test_bundles_rewritten_only_when_content_changes(tmp_path):
    p = params(tmp_path, certs=bundle_specs())
    run(p)
    assert not run(p)["changed"]
    (tmp_path / "db" / "db-cert.pem").write_bytes(b"tampered")
    result = by_name(run(p))
    assert result["db-server"]["reason"] is None and result["db-server"]["changed"]
    assert [b["changed"] for b in result["db-server"]["bundles"]] == [False, True, False]
    assert not result["webapp"]["changed"]
    # a reissued certificate changes the bundles that contain it
    p["certificates"][0]["dns"] = ["wa.example.com", "wa2.example.com"]
    result = by_name(run(p))
    assert result["webapp"]["bundles"][0]["changed"]


def test_ca_replacement_updates_every_bundle_with_the_ca(tmp_path):
    p = params(tmp_path, certs=bundle_specs())
    run(p)
    p["ca"]["replace"] = "always"
    result = by_name(run(p))
    assert all(b["changed"] for b in result["db-server"]["bundles"][1:])
    assert (tmp_path / "db" / "db-ca.pem").read_bytes() == (tmp_path / "ca.crt").read_bytes()


# --------------------------------------------------------------------------- input validation


@pytest.mark.parametrize(
    ("certs", "message"),
    [
        ([cert_spec("a"), cert_spec("a")], "used twice"),
        ([cert_spec("a", ip=["300.1.1.1"])], "not an IPv4/IPv6 address"),
        ([cert_spec("a", signed_by="other")], "signed_by='other'"),
        ([cert_spec("ca")], "CA's file name"),
        ([cert_spec("x/y")], "file base name"),
        ([cert_spec("a", validity_days=0)], "validity_days must be at least 1"),
        ([cert_spec("a", owner="no-such-user-waent")], "no such user"),
        ([cert_spec("a", bundles=[{"path": "b", "content": ["key"], "mode": "rw"}])], "not an octal file mode"),
    ],
)
def test_bad_input_fails_before_anything_is_written(tmp_path, certs, message):
    directory = tmp_path / "pki"
    with pytest.raises(pki.PkiError, match=message):
        run(params(directory, certs=certs))
    assert not directory.exists()


# --------------------------------------------------------------------------- validate mode


def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_cert(subject, key, issuer_cert=None, issuer_key=None, *, ca=False, days=365, start=None, dns=(), eku=None):
    start = start or (NOW - DAY)
    issuer_name = issuer_cert.subject if issuer_cert is not None else _name(subject)
    signer = issuer_key or key
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + days * DAY)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if dns:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(d) for d in dns]), critical=False)
    if eku:
        builder = builder.add_extension(x509.ExtendedKeyUsage(eku), critical=False)
    return builder.sign(signer, hashes.SHA256())


def pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


@pytest.fixture
def corporate(tmp_path):
    """Root -> intermediate -> leaf, as an operator's corporate PKI would deliver it."""
    root_key = ec.generate_private_key(ec.SECP256R1())
    root = make_cert("Corp Root", root_key, ca=True, days=3650)
    int_key = ec.generate_private_key(ec.SECP256R1())
    inter = make_cert("Corp Issuing", int_key, root, root_key, ca=True, days=1000)
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = make_cert(
        "wa.corp.example",
        leaf_key,
        inter,
        int_key,
        dns=["wa.corp.example", "*.api.corp.example"],
        eku=[ExtendedKeyUsageOID.SERVER_AUTH],
    )
    (tmp_path / "root.pem").write_bytes(pem(root))
    (tmp_path / "bundle.pem").write_bytes(pem(root) + pem(inter))
    (tmp_path / "inter.pem").write_bytes(pem(inter))
    (tmp_path / "wa.crt").write_bytes(pem(leaf))
    (tmp_path / "wa.key").write_bytes(items.key_pem(leaf_key))
    return {"root": root, "root_key": root_key, "inter": inter, "int_key": int_key, "leaf_key": leaf_key}


def vparams(path, bundle="bundle.pem", **spec):
    cert = cert_spec("wa", cert_path="wa.crt", key_path="wa.key", dns=["wa.corp.example"])
    cert.update(spec)
    p = params(path, certs=[cert], state="validate", ca_bundle=bundle)
    return p


def rules(results):
    return sorted(f["rule"] for f in results[0]["failures"])


def test_validate_accepts_a_good_corporate_certificate(tmp_path, corporate):
    before = snapshot(tmp_path)
    results, messages = pki.validate_certificates(vparams(tmp_path, dns=["wa.corp.example", "x.api.corp.example"]))
    assert messages == [] and results[0]["valid"]
    assert results[0]["subject"] == "CN=wa.corp.example"
    # the intermediate may come from a separate chain file with only the root trusted
    results, messages = pki.validate_certificates(vparams(tmp_path, bundle="root.pem", chain_path="inter.pem"))
    assert messages == []
    assert snapshot(tmp_path) == before


def test_validate_accepts_certificates_issued_by_the_module(tmp_path):
    run(params(tmp_path))
    p = params(
        tmp_path,
        certs=[cert_spec("web", dns=["wa.example.com"], ip=["192.0.2.1"])],
        state="validate",
        ca_bundle="ca.crt",
    )
    results, messages = pki.validate_certificates(p)
    assert messages == []


def test_validate_chain_without_intermediate_fails(tmp_path, corporate):
    results, messages = pki.validate_certificates(vparams(tmp_path, bundle="root.pem"))
    assert rules(results) == ["chain"]
    assert "does not chain to a CA in" in messages[0] and "wa.crt" in messages[0]


def test_validate_reports_every_failed_rule_with_file(tmp_path, corporate):
    other_key = ec.generate_private_key(ec.SECP256R1())
    (tmp_path / "wa.key").write_bytes(items.key_pem(other_key))
    results, messages = pki.validate_certificates(
        vparams(tmp_path, dns=["wa.corp.example", "missing.example"], ip=["192.0.2.7"], usage="client")
    )
    assert rules(results) == ["key_mismatch", "names", "usage"]
    text = " ".join(messages)
    assert "missing.example, 192.0.2.7" in text
    assert "lacks clientAuth" in text
    assert "does not match the private key" in text
    assert all(f["file"].endswith("wa.crt") for f in results[0]["failures"])


def test_validate_expired_and_renew_window(tmp_path, corporate):
    inter = corporate["inter"]
    for name, start, days, expected in (
        ("expired", NOW - 100 * DAY, 50, "expired"),
        ("soon", NOW - 100 * DAY, 110, "renew_window"),
        ("future", NOW + 10 * DAY, 100, "not_yet_valid"),
    ):
        leaf = make_cert(
            "wa.corp.example",
            corporate["leaf_key"],
            inter,
            corporate["int_key"],
            days=days,
            start=start,
            dns=["wa.corp.example"],
        )
        (tmp_path / "wa.crt").write_bytes(pem(leaf))
        results, messages = pki.validate_certificates(vparams(tmp_path))
        assert rules(results) == [expected], name


def test_validate_unreadable_files(tmp_path, corporate):
    (tmp_path / "wa.key").write_bytes(b"-----BEGIN PRIVATE KEY-----\ntruncated")
    results, messages = pki.validate_certificates(vparams(tmp_path, bundle="nope.pem"))
    assert rules(results) == ["unreadable", "unreadable"]
    assert any("nope.pem" in m for m in messages) and any("wa.key" in m for m in messages)


def test_validate_rejects_a_non_ca_issuer(tmp_path):
    root_key = ec.generate_private_key(ec.SECP256R1())
    root = make_cert("Not A CA", root_key, ca=False)
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = make_cert("wa.corp.example", leaf_key, root, root_key, dns=["wa.corp.example"])
    (tmp_path / "bundle.pem").write_bytes(pem(root))
    (tmp_path / "wa.crt").write_bytes(pem(leaf))
    (tmp_path / "wa.key").write_bytes(items.key_pem(leaf_key))
    results, messages = pki.validate_certificates(vparams(tmp_path))
    assert rules(results) == ["ca_bundle", "chain"]
    failures = {f["rule"]: f for f in results[0]["failures"]}
    assert failures["ca_bundle"]["file"].endswith("bundle.pem") and failures["chain"]["file"].endswith("wa.crt")
    assert all("not a CA certificate" in m for m in messages)


def test_validate_checks_ip_names_against_ip_sans_only(tmp_path):
    run(params(tmp_path))  # web: DNS wa.example.com, IP 192.0.2.1
    spec = cert_spec("web", dns=["192.0.2.1"])  # an address listed as a DNS name is still an address
    results, messages = pki.validate_certificates(params(tmp_path, certs=[spec], state="validate", ca_bundle="ca.crt"))
    assert messages == []
    spec = cert_spec("web", dns=["*.example.com", "192.0.2.2"])  # wa.example.com covers neither
    results, messages = pki.validate_certificates(params(tmp_path, certs=[spec], state="validate", ca_bundle="ca.crt"))
    assert rules(results) == ["names"] and "does not cover *.example.com, 192.0.2.2" in messages[0]


def test_validate_renew_window_covers_the_issuing_ca(tmp_path):
    # a leaf valid for a year from a CA that ends in 20 days: the session breaks with the CA
    run(params(tmp_path, ca={"validity_days": 20, "renew_before": 1}, certs=[cert_spec("web", dns=["wa.example.com"])]))
    spec = cert_spec("web", dns=["wa.example.com"], renew_before=10)
    results, _messages = pki.validate_certificates(params(tmp_path, certs=[spec], state="validate", ca_bundle="ca.crt"))
    assert rules(results) == []
    spec["renew_before"] = 25
    results, messages = pki.validate_certificates(params(tmp_path, certs=[spec], state="validate", ca_bundle="ca.crt"))
    assert rules(results) == ["renew_window", "renew_window"]  # the leaf (capped at the CA's end) and the CA
    assert any("its issuer CN=waent.onprem internal CA" in m for m in messages)


@pytest.mark.skipif(os.geteuid() != 0, reason="changing the group of a file needs root")
def test_owner_and_group_options(tmp_path):
    import grp

    group = "nogroup" if "nogroup" in {g.gr_name for g in grp.getgrall()} else "daemon"
    gid = grp.getgrnam(group).gr_gid
    specs = bundle_specs()
    specs[1]["group"] = group
    p = params(tmp_path, certs=specs)
    run(p)
    assert os.stat(tmp_path / "db-server.key").st_gid == gid
    assert os.stat(tmp_path / "db" / "db-key.pem").st_gid == gid
    assert os.stat(tmp_path / "webapp.key").st_gid != gid or gid == 0
    assert not run(p)["changed"]
    os.chown(tmp_path / "db" / "db-cert.pem", 0, 0)
    result = by_name(run(p))["db-server"]
    assert result["attributes_changed"] and result["reason"] is None
    assert os.stat(tmp_path / "db" / "db-cert.pem").st_gid == gid
