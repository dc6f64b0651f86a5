# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one X.509 layer: every rule, at the floor cryptography (38.0.4) and at the pinned one."""

from __future__ import annotations

import datetime

import pytest
from ansible_collections.waent.onprem.plugins.module_utils import _x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID
from x509_certs import make_cert

NOW = _x509.utcnow()
DAY = datetime.timedelta(days=1)
SERVER, CLIENT = ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH


def ec_key():
    return ec.generate_private_key(ec.SECP256R1())


def ku(digital_signature=True, cert_sign=False):
    return x509.KeyUsage(digital_signature=digital_signature, content_commitment=False, key_encipherment=False,
                         data_encipherment=False, key_agreement=False, key_cert_sign=cert_sign, crl_sign=cert_sign,
                         encipher_only=False, decipher_only=False)


def make(cn, key, issuer=None, issuer_key=None, *, start=None, **kwargs):
    return make_cert(cn, key, issuer, issuer_key, start=start or NOW - DAY, **kwargs)


def pem(*certs):
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs)


@pytest.fixture(scope="module")
def corp():
    """root -> intermediate -> leaf (server, two DNS names and an address)."""
    root_key, int_key, leaf_key = ec_key(), ec_key(), ec_key()
    root = make("Root", root_key, ca=True, days=3650, key_usage=ku(False, True))
    inter = make("Issuing", int_key, root, root_key, ca=True, days=1000)
    leaf = make("wa", leaf_key, inter, int_key, ca=False, names=["wa.example.com", "*.api.example.com", "192.0.2.1"],
                eku=[SERVER], key_usage=ku())
    return {"root": root, "root_key": root_key, "inter": inter, "int_key": int_key, "leaf": leaf, "leaf_key": leaf_key}


def rules(found):
    return sorted(f["rule"] for f in found)


# --------------------------------------------------------------------------- parsing


def test_load_certificates_reads_every_pem_block_from_str_or_bytes(corp):
    text = "junk before\n" + pem(corp["leaf"], corp["inter"]).decode() + "-----BEGIN PRIVATE KEY-----\nx\n"
    assert [c.subject for c in _x509.load_certificates(text)] == [corp["leaf"].subject, corp["inter"].subject]
    assert len(_x509.load_certificates(pem(corp["root"]))) == 1


@pytest.mark.parametrize(("data", "why"), [
    (b"", "no PEM certificate found"),
    ("not pem", "no PEM certificate found"),
    (b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "invalid PEM certificate"),
])
def test_load_certificates_errors(data, why):
    with pytest.raises(_x509.X509Error, match=why):
        _x509.load_certificates(data)


def test_load_private_key_errors_never_quote_the_key():
    key = ec_key()
    encrypted = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.BestAvailableEncryption(b"pass"))
    with pytest.raises(_x509.X509Error, match="encrypted") as info:
        _x509.load_private_key(encrypted)
    assert "BEGIN" not in str(info.value)
    with pytest.raises(_x509.X509Error, match="invalid or truncated"):
        _x509.load_private_key("-----BEGIN PRIVATE KEY-----\nMIGH\n-----END PRIVATE KEY-----\n")
    plain = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption())
    assert _x509.key_matches(_x509.load_private_key(plain.decode()), make("k", key))


# --------------------------------------------------------------------------- compatibility


class _Pre42Certificate:
    """What cryptography < 42 offers: naive datetimes, no *_utc accessors."""

    not_valid_before = datetime.datetime(2026, 1, 1, 12, 0)  # noqa: DTZ001 - naive, as the old API returns
    not_valid_after = datetime.datetime(2027, 1, 1, 12, 0)  # noqa: DTZ001


def test_validity_accessors_work_with_and_without_the_utc_api(corp):
    old = _Pre42Certificate()
    assert _x509.not_before(old) == datetime.datetime(2026, 1, 1, 12, 0, tzinfo=datetime.UTC)
    assert _x509.iso(_x509.not_after(old)) == "2027-01-01T12:00:00Z"
    assert _x509.not_after(corp["leaf"]).tzinfo is not None
    assert _x509.valid_at(corp["leaf"], NOW)


# --------------------------------------------------------------------------- names (RFC 6125)


@pytest.mark.parametrize(("name", "dns", "ips", "covered"), [
    ("wa.example.com", ["wa.example.com"], [], True),
    ("WA.Example.COM.", ["wa.example.com"], [], True),  # case and the trailing dot do not matter
    ("wa.example.com", ["WA.EXAMPLE.COM."], [], True),
    ("a.example.com", ["*.example.com"], [], True),  # one label
    ("a.b.example.com", ["*.example.com"], [], False),  # not two
    ("example.com", ["*.example.com"], [], False),  # not zero
    (".example.com", ["*.example.com"], [], False),  # not an empty label
    ("wa.example.com", ["w*.example.com"], [], False),  # no partial wildcards
    ("wa.example.com", ["*a.example.com"], [], False),
    ("a.b.example.com", ["a.*.example.com"], [], False),  # only the left-most label
    ("a.b.example.com", ["*.*.example.com"], [], False),
    ("example.com", ["*.com"], [], False),  # too broad
    ("a.com", ["*.com"], [], False),
    ("*.example.com", ["*.example.com"], [], True),  # a wildcard is covered by the same wildcard
    ("192.0.2.1", [], ["192.0.2.1"], True),
    ("192.0.2.1", ["192.0.2.1"], [], False),  # an address never matches a DNS SAN
    ("192.0.2.1", ["*.2.1"], [], False),
    ("192.0.2.2", [], ["192.0.2.1"], False),
    ("::1", [], ["0:0::1"], True),  # compared as addresses
    ("2001:db8::1", [], ["2001:DB8:0:0:0:0:0:1"], True),
    ("wa.example.com", [], ["192.0.2.1"], False),
    ("bücher.example", ["xn--bcher-kva.example"], [], True),  # U-label against the A-label SAN
])
def test_name_matching(name, dns, ips, covered):
    assert _x509.name_matches(name, dns, ips) is covered


def test_no_cn_fallback():
    key = ec_key()
    cn_only = make("wa.example.com", key, ca=False)
    found = _x509.check_certificate(cn_only, names=["wa.example.com"])
    assert rules(found) == ["names"] and "has DNS none; IP none" in found[0]["msg"]


# --------------------------------------------------------------------------- usage


@pytest.mark.parametrize(("eku", "usage", "lacking"), [
    ([SERVER], "server", None),
    ([SERVER], "client", "clientAuth"),
    ([CLIENT], "server", "serverAuth"),
    ([SERVER], "both", "clientAuth"),
    ([SERVER, CLIENT], "both", None),
    ([ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE], "server", "serverAuth"),  # as OpenSSL: not enough
    (None, "both", None),  # no extension: unrestricted
])
def test_extended_key_usage(eku, usage, lacking):
    cert = make("x", ec_key(), eku=eku)
    problems = _x509.usage_problems(cert, usage)
    if lacking is None:
        assert problems == []
    else:
        assert problems == [f"extendedKeyUsage lacks {lacking} required for usage={usage}"]


def test_key_usage_needs_digital_signature():
    assert _x509.usage_problems(make("x", ec_key(), key_usage=ku(True)), "server") == []
    assert _x509.usage_problems(make("x", ec_key(), key_usage=ku(False)), "server") == [
        "keyUsage lacks digitalSignature required for TLS"
    ]
    assert _x509.usage_of(make("x", ec_key(), eku=[SERVER, CLIENT])) == "both"
    assert _x509.usage_of(make("x", ec_key())) == "none"


# --------------------------------------------------------------------------- chain and CA checks


def test_a_good_chain_passes_every_rule(corp):
    found = _x509.check_certificate(corp["leaf"], key=corp["leaf_key"], extra=[corp["inter"]], anchors=[corp["root"]],
                                    names=["wa.example.com", "x.api.example.com", "192.0.2.1"], renew_before=30,
                                    now=NOW)
    assert found == []
    chain, why = _x509.build_chain(corp["leaf"], [corp["inter"]], [corp["root"]], NOW)
    assert why is None
    assert [c.subject for c in chain] == [corp["leaf"].subject, corp["inter"].subject, corp["root"].subject]
    # an intermediate in the bundle is an anchor itself
    chain, why = _x509.build_chain(corp["leaf"], [], [corp["inter"]], NOW)
    assert why is None and len(chain) == 2


def test_missing_intermediate(corp):
    found = _x509.check_certificate(corp["leaf"], anchors=[corp["root"]], now=NOW, bundle="bundle.pem")
    assert rules(found) == ["chain"]
    assert "does not chain to a CA in bundle.pem: no certificate of the CA bundle or chain signed it" in found[0]["msg"]


def test_a_stranger_ca_and_a_self_signed_leaf(corp):
    stranger_key = ec_key()
    stranger = make("Stranger", stranger_key, ca=True)
    assert "no certificate of the CA bundle or chain signed it (issuer CN=Issuing)" in _x509.build_chain(
        corp["leaf"], [], [stranger], NOW)[1]
    # the intermediate chains nowhere (a CA of the same name but another key): named as such
    assert "signed intermediate CN=Issuing" in _x509.build_chain(corp["leaf"], [corp["inter"]],
                                                                 [make("Root", stranger_key, ca=True)], NOW)[1]
    selfie = make("selfie", ec_key(), ca=True)
    assert _x509.build_chain(selfie, [], [stranger], NOW)[1] == "CN=selfie is self-signed and not in the CA bundle"
    # a self-signed CA delivered as an "intermediate" is not trusted either
    assert _x509.build_chain(selfie, [selfie], [stranger], NOW)[1] == (
        "the chain ends at CN=selfie, which is not in the CA bundle")


def test_issuer_must_be_a_ca(corp):
    not_ca_key = ec_key()
    not_ca = make("Not A CA", not_ca_key, ca=False)
    no_bc = make("No Constraints", not_ca_key)
    for anchor in (not_ca, no_bc):
        leaf = make("wa", ec_key(), anchor, not_ca_key, names=["wa"])
        found = _x509.check_certificate(leaf, anchors=[anchor], now=NOW)
        assert rules(found) == ["ca_bundle", "chain"]
        assert all("is not a CA certificate (basicConstraints CA:TRUE missing)" in f["msg"] for f in found)


def test_issuer_must_be_valid_now(corp):
    old_key = ec_key()
    old_root = make("Old Root", old_key, ca=True, start=NOW - 100 * DAY, days=50)
    leaf = make("wa", ec_key(), old_root, old_key, start=NOW - DAY, days=30)
    _chain, why = _x509.build_chain(leaf, [], [old_root], NOW)
    assert why.startswith("issuer CN=Old Root is not valid now (valid ")


def test_a_renewed_ca_next_to_the_expired_one_is_preferred():
    key = ec_key()
    expired = make("CA", key, ca=True, start=NOW - 100 * DAY, days=50)
    renewed = make("CA", key, ca=True, start=NOW - DAY, days=3650)
    leaf = make("wa", ec_key(), renewed, key, days=30)
    assert _x509.build_chain(leaf, [], [expired, renewed], NOW)[1] is None


@pytest.mark.parametrize("key_factory", [
    lambda: ec.generate_private_key(ec.SECP384R1()),
    lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048),
    ed25519.Ed25519PrivateKey.generate,
])
def test_signatures_of_every_key_type(key_factory):
    ca_key = key_factory()
    ca = make("CA", ca_key, ca=True)
    leaf = make("wa", ec_key(), ca, ca_key)
    assert _x509.signed_by(leaf, ca)
    assert not _x509.signed_by(leaf, make("CA", key_factory(), ca=True))  # same name, other key
    assert not _x509.signed_by(ca, leaf)


# --------------------------------------------------------------------------- key, validity


def test_key_mismatch(corp):
    found = _x509.check_certificate(corp["leaf"], key=ec_key(), now=NOW)
    assert found == [{"rule": "key_mismatch", "msg": "the certificate does not match the private key"}]


@pytest.mark.parametrize(("start", "days", "renew_before", "expected"), [
    (NOW - 100 * DAY, 50, 0, ["expired"]),
    (NOW + 10 * DAY, 100, 0, ["not_yet_valid"]),
    (NOW - 100 * DAY, 110, 30, ["renew_window"]),
    (NOW - 100 * DAY, 110, 9, []),
    (NOW - 100 * DAY, 110, 10, ["renew_window"]),  # inclusive, as the pki module's renewal
])
def test_validity_rules(start, days, renew_before, expected):
    key = ec_key()
    ca = make("CA", key, ca=True, start=NOW - 200 * DAY, days=3650)
    leaf = make("wa", ec_key(), ca, key, start=start, days=days)
    found = _x509.check_certificate(leaf, anchors=[ca], renew_before=renew_before, now=NOW)
    assert rules(found) == expected


def test_renew_window_covers_the_issuers(corp):
    found = _x509.check_certificate(corp["leaf"], extra=[corp["inter"]], anchors=[corp["root"]], renew_before=999,
                                    now=NOW)
    assert rules(found) == ["renew_window", "renew_window"]
    assert found[1]["msg"].startswith("its issuer CN=Issuing expires on ")


def test_chain_rules_are_skipped_without_a_bundle(corp):
    assert _x509.check_certificate(corp["leaf"], anchors=None, now=NOW) == []


def test_cert_facts_and_key_types(corp):
    facts = _x509.cert_facts(corp["leaf"])
    assert facts["dns"] == ["wa.example.com", "*.api.example.com"] and facts["ip"] == ["192.0.2.1"]
    assert facts["usage"] == "server" and facts["key_type"] == "ec-p256" and facts["issuer"] == "CN=Issuing"
    assert len(facts["fingerprint_sha256"].split(":")) == 32
    assert _x509.key_type_of(rsa.generate_private_key(public_exponent=65537, key_size=3072)) == "rsa-3072"
    assert _x509.key_type_of(ed25519.Ed25519PrivateKey.generate()) == "other"
    assert _x509.is_ca(corp["root"]) and not _x509.is_ca(corp["leaf"])
