# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Webapp's HTTPS certificate (reference section 4.3): first-start material, uploads, start-up check."""

from __future__ import annotations

import dataclasses
import datetime
import ipaddress

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID
from waent_sim import certs


def validity(cert):
    """(not before, not after) as aware datetimes, with cryptography 38 (Debian 12) and newer."""
    if hasattr(cert, "not_valid_after_utc"):
        return cert.not_valid_before_utc, cert.not_valid_after_utc
    utc = datetime.UTC
    return cert.not_valid_before.replace(tzinfo=utc), cert.not_valid_after.replace(tzinfo=utc)


def attributes(name):
    return [(attribute.oid, attribute.value) for attribute in name]


def pem(obj):
    if isinstance(obj, x509.Certificate):
        return obj.public_bytes(serialization.Encoding.PEM).decode("ascii")
    return obj.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")


@pytest.fixture(scope="module")
def autogen():
    return certs.generate_autogen()


# --- first-start material -------------------------------------------------------------------------


def test_autogen_ca(autogen):
    ca = autogen.ca_certificate
    assert attributes(ca.subject) == [
        (NameOID.COUNTRY_NAME, "US"),
        (NameOID.STATE_OR_PROVINCE_NAME, "CA"),
        (NameOID.LOCALITY_NAME, "Menlo Park"),
        (NameOID.ORGANIZATION_NAME, "WhatsApp Inc"),
        (NameOID.ORGANIZATIONAL_UNIT_NAME, "Enterprise Client - AutoGen CA"),
    ]
    assert ca.issuer == ca.subject
    assert isinstance(ca.public_key(), rsa.RSAPublicKey)
    assert ca.public_key().key_size == 2048
    assert ca.public_key().public_numbers().e == 65537
    not_before, not_after = validity(ca)
    assert not_after - not_before == datetime.timedelta(days=365)
    assert abs(datetime.datetime.now(datetime.UTC) - not_before) < datetime.timedelta(minutes=5)
    constraints = ca.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.value.ca is True and constraints.critical is True
    assert isinstance(ca.signature_hash_algorithm, hashes.SHA256)
    ca.public_key().verify(ca.signature, ca.tbs_certificate_bytes, padding.PKCS1v15(), ca.signature_hash_algorithm)


def test_autogen_server_certificate(autogen):
    server, ca = autogen.server_certificate, autogen.ca_certificate
    assert attributes(server.subject) == [(NameOID.COMMON_NAME, "localhost")]
    assert server.issuer == ca.subject
    assert server.public_key().key_size == 2048
    not_before, not_after = validity(server)
    assert not_after - not_before == datetime.timedelta(days=3650)
    assert isinstance(server.signature_hash_algorithm, hashes.SHA256)
    # Signed by the CA (raises InvalidSignature otherwise).
    ca.public_key().verify(server.signature, server.tbs_certificate_bytes, padding.PKCS1v15(),
                           server.signature_hash_algorithm)
    # As the Webapp makes it: no extension, so no subjectAltName and no basicConstraints.
    assert list(server.extensions) == []


def test_autogen_keeps_no_ca_key(autogen):
    private_keys = [f.name for f in dataclasses.fields(autogen)
                    if isinstance(getattr(autogen, f.name), rsa.RSAPrivateKey)]
    assert private_keys == ["server_key"]
    assert autogen.server_key.public_key().public_numbers() == autogen.server_certificate.public_key().public_numbers()
    assert autogen.server_key.public_key().public_numbers() != autogen.ca_certificate.public_key().public_numbers()
    assert "PRIVATE KEY" not in autogen.ca_blob


@pytest.mark.parametrize(
    ("server_name", "cn", "san"),
    [
        (None, "localhost", x509.DNSName("localhost")),
        ("", "localhost", x509.DNSName("localhost")),
        ("wa.example.net", "wa.example.net", x509.DNSName("wa.example.net")),
        ("192.0.2.10", "192.0.2.10", x509.IPAddress(ipaddress.ip_address("192.0.2.10"))),
    ],
)
def test_autogen_server_name(server_name, cn, san):
    server = certs.generate_autogen(server_name, subject_alt_name=True).server_certificate
    assert attributes(server.subject) == [(NameOID.COMMON_NAME, cn)]
    assert list(server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value) == [san]


def test_autogen_as_the_webapp_makes_it_has_no_extension():
    server = certs.generate_autogen("wa.example.net").server_certificate
    assert list(server.extensions) == []
    assert attributes(server.subject) == [(NameOID.COMMON_NAME, "wa.example.net")]


def test_autogen_name_longer_than_a_cn_fails():
    assert certs.generate_autogen("a" * 64).server_certificate.subject.rfc4514_string() == "CN=" + "a" * 64
    with pytest.raises(ValueError, match="longer than a CN"):
        certs.generate_autogen("a" * 65)


def test_autogen_blobs_are_the_webapps_files(autogen):
    # www.cert is "cat device.crt device.key": certificate first, key second.
    blob = autogen.cert_blob
    assert blob.index("-----BEGIN CERTIFICATE-----") < blob.index("PRIVATE KEY-----")
    assert blob.count("-----BEGIN CERTIFICATE-----") == 1
    assert autogen.ca_blob == pem(autogen.ca_certificate)
    served = autogen.load()
    assert served.certificate == autogen.server_certificate
    assert served.ca_certificates == (autogen.ca_certificate,)
    assert served.chain_pem().decode("ascii") == pem(autogen.server_certificate) + pem(autogen.ca_certificate)


# --- upload bundles -------------------------------------------------------------------------------


def _certificate(subject, issuer, public_key, signing_key, is_ca):
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
        .sign(signing_key, hashes.SHA256())
    )


def p256():
    return ec.generate_private_key(ec.SECP256R1())


@dataclasses.dataclass(frozen=True)
class Chain:
    key: object
    server: x509.Certificate
    inter: x509.Certificate
    root: x509.Certificate


@pytest.fixture(scope="module")
def chain():
    """A server key and certificate under an intermediate and a root CA, EC P-256 for speed."""
    root_key, inter_key, key = p256(), p256(), p256()
    root = _certificate("Test Root", "Test Root", root_key.public_key(), root_key, True)
    inter = _certificate("Test Intermediate", "Test Root", inter_key.public_key(), root_key, True)
    server = _certificate("wa.example.net", "Test Intermediate", key.public_key(), inter_key, False)
    return Chain(key, server, inter, root)


def test_bundle_with_three_sections(chain):
    key, server, inter = chain.key, chain.server, chain.inter
    body = pem(key) + pem(server) + pem(inter)
    bundle = certs.parse_upload(body.encode("ascii"))
    assert bundle.key_pem == pem(key)
    assert bundle.certificate_pem == pem(server)
    assert bundle.ca_pems == (pem(inter),)
    # Stored as the Webapp stores it: sections 0+1, then the rest; nothing lost or added.
    assert bundle.cert_blob + bundle.ca_blob == body
    served = bundle.load()
    assert served.certificate == server
    assert served.ca_certificates == (inter,)
    assert served.key.public_key().public_numbers() == key.public_key().public_numbers()


def test_bundle_with_four_sections(chain):
    key, server, inter, root = chain.key, chain.server, chain.inter, chain.root
    bundle = certs.parse_upload(pem(key) + pem(server) + pem(inter) + pem(root))
    assert bundle.ca_pems == (pem(inter), pem(root))
    assert bundle.load().ca_certificates == (inter, root)


@pytest.mark.parametrize("parts", [("key", "server"), ("key",), ("server",), ()], ids=str)
def test_bundle_with_fewer_than_three_sections_is_refused(chain, parts):
    key, server, inter = chain.key, chain.server, chain.inter
    text = {"key": pem(key), "server": pem(server), "inter": pem(inter)}
    body = "".join(text[part] for part in parts) or "not a certificate"
    with pytest.raises(certs.BundleError) as caught:
        certs.parse_upload(body)
    assert str(caught.value) == (
        "Certificate must contain private key, cert and at least one CA certificate sections"
    )


@pytest.mark.parametrize("body", [b"", ""])
def test_empty_bundle_is_refused(body):
    with pytest.raises(certs.BundleError, match=r"^Request had no \(empty\) content$"):
        certs.parse_upload(body)


def test_two_certificates_without_a_key_pass_the_upload(chain):
    # The text before the first marker is section 0, even when empty: 3 sections, accepted.
    server, inter = chain.server, chain.inter
    bundle = certs.parse_upload(pem(server) + pem(inter))
    assert bundle.key_pem == ""
    assert (bundle.certificate_pem, bundle.ca_pems) == (pem(server), (pem(inter),))
    with pytest.raises(certs.CertificateStartupError, match="no PEM private key"):
        bundle.load()


def test_upload_checks_only_the_sections():
    # Three sections of nonsense pass the upload, as in the Webapp; the next start fails.
    marker = certs.CERT_MARKER
    bundle = certs.parse_upload("junk" + marker + "junk" + marker + "junk")
    assert bundle.key_pem == "junk"
    with pytest.raises(certs.CertificateStartupError, match="no PEM certificate"):
        bundle.load()


# --- start-up check -------------------------------------------------------------------------------


def test_key_that_does_not_match_fails_the_start(chain):
    server, inter = chain.server, chain.inter
    other = p256()
    bundle = certs.parse_upload(pem(other) + pem(server) + pem(inter))  # accepted by the upload
    with pytest.raises(certs.KeyMismatchError) as caught:
        bundle.load()
    message = str(caught.value)
    assert "does not match" in message and "CN=wa.example.net" in message and "certs table" in message


def test_check_key_matches(chain, autogen):
    key, server = chain.key, chain.server
    certs.check_key_matches(key, server)
    with pytest.raises(certs.KeyMismatchError):
        certs.check_key_matches(autogen.server_key, server)


def test_start_reads_key_and_certificate_in_either_order(chain):
    key, server, inter = chain.key, chain.server, chain.inter
    served = certs.load_server_material(pem(server) + pem(key), pem(inter))
    assert served.certificate == server


@pytest.mark.parametrize(
    ("cert_blob", "ca_blob", "problem"),
    [
        ("{server}", "{inter}", "no PEM private key"),
        ("{key}", "{inter}", "no PEM certificate"),
        ("{key}{server}", "", "CA bundle has no PEM certificate"),
        ("{key}{server}", "{broken}", "CA certificate 1 of the stored bundle cannot be read"),
        ("{key}{broken}", "{inter}", "server certificate cannot be read"),
        ("{encrypted}{server}", "{inter}", "private key is encrypted"),
        ("{broken_key}{server}", "{inter}", "private key cannot be read"),
    ],
)
def test_start_fails_with_a_clear_message(chain, cert_blob, ca_blob, problem):
    key, server, inter = chain.key, chain.server, chain.inter
    broken = certs.CERT_MARKER + "\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n"
    parts = {
        "key": pem(key), "server": pem(server), "inter": pem(inter), "broken": broken,
        "broken_key": "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n",
        "encrypted": key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"passphrase"),
        ).decode("ascii"),
    }
    with pytest.raises(certs.CertificateStartupError) as caught:
        certs.load_server_material(cert_blob.format(**parts), ca_blob.format(**parts))
    assert problem in str(caught.value)
    assert "does not start" in str(caught.value)
