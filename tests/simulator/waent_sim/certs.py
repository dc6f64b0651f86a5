# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Webapp's HTTPS certificate: first-start self-signed material, upload bundles, start-up check (section 4.3).

Documented behaviour (reference section 4.3, the Webapp's ``web_setup.sh`` [S20] and its PHP
sources [S22]):

* Without an uploaded certificate the Webapp makes, at first start, a throw-away root CA
  (RSA-2048, 365 days, "Enterprise Client - AutoGen CA"), whose key it deletes, and a server
  certificate (RSA-2048, 3650 days) for CN = ``WA_WEB_SERVERNAME`` (default ``localhost``) signed by
  it: ``generate_autogen``. [S20] runs ``openssl req -x509`` with the answers
  US / CA / Menlo Park / WhatsApp Inc / Enterprise Client - AutoGen CA / (no CN), so the name is the
  CA's organizational unit; the server CSR has only the CN, and ``openssl x509 -req`` adds no
  extension to it.
* ``POST /v1/certificates/external`` takes one ``text/plain`` PEM body: private key, server
  certificate, at least one CA certificate, in that order. The source splits the body on
  ``-----BEGIN CERTIFICATE-----`` and refuses fewer than 3 sections (HTTP 400, "Certificate must
  contain private key, cert and at least one CA certificate sections"); it checks nothing else, and
  stores section 0 + section 1 as the certificate and the rest as the CA bundle: ``parse_upload``.
* An invalid certificate makes the Webapp fail to start (recovery: stop it and delete the ``certs``
  table); a key that does not match the certificate is the case section 4.3 warns of. lighttpd
  loads the first certificate and the first private key of the stored PEM and checks that they
  match: ``load_server_material``, ``check_key_matches``.

Differences from the Webapp (the subjectAltName, the CA's e-mail address, X.509 v3) are listed in
``tests/simulator/DEVIATIONS.md`` ("Certificates").
"""

from __future__ import annotations

import dataclasses
import datetime
import ipaddress
import re

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

DEFAULT_SERVER_NAME = "localhost"
CN_MAX_LENGTH = 64  # ub-common-name (RFC 5280); "openssl req" refuses a longer CN
KEY_BITS = 2048
PUBLIC_EXPONENT = 65537
CA_DAYS = 365
SERVER_DAYS = 3650
AUTOGEN_CA_NAME = "Enterprise Client - AutoGen CA"
# [S20] create_rootCA, minus the e-mail address of a person (DEVIATIONS.md, "Certificates").
AUTOGEN_CA_SUBJECT = x509.Name([
    x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
    x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, "CA"),
    x509.NameAttribute(NameOID.LOCALITY_NAME, "Menlo Park"),
    x509.NameAttribute(NameOID.ORGANIZATION_NAME, "WhatsApp Inc"),
    x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, AUTOGEN_CA_NAME),
])

# [S22] Constants::CERT_MARKER and Util::validateSaveCertificate.
CERT_MARKER = "-----BEGIN CERTIFICATE-----"
MIN_SECTIONS = 3
EMPTY_MESSAGE = "Request had no (empty) content"
SECTIONS_MESSAGE = "Certificate must contain private key, cert and at least one CA certificate sections"

RECOVERY = "the Webapp does not start (reference 4.3); recover by stopping it and deleting the certs table"
_PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----.*?-----END \1-----", re.DOTALL)
_KEY_LABELS = ("PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY", "DSA PRIVATE KEY", "ENCRYPTED PRIVATE KEY")


class BundleError(ValueError):
    """An upload the Webapp refuses (HTTP 400, error parameter invalid); the message is the Webapp's."""


class CertificateStartupError(RuntimeError):
    """Stored certificate material the Webapp cannot start with; the message names the problem."""


class KeyMismatchError(CertificateStartupError):
    """The stored private key is not the key of the stored server certificate."""


@dataclasses.dataclass(frozen=True)
class ServerMaterial:
    """What the HTTPS listener serves: the key, the server certificate and the CA certificates."""

    key: object
    certificate: x509.Certificate
    ca_certificates: tuple

    def chain_pem(self):
        """The server certificate followed by the CA certificates, PEM (``ssl`` ``certfile``)."""
        certs = (self.certificate, *self.ca_certificates)
        return b"".join(cert.public_bytes(serialization.Encoding.PEM) for cert in certs)

    def key_pem(self):
        """The private key, unencrypted PKCS#8 PEM (``ssl`` ``keyfile``)."""
        return self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )


class _Stored:
    """Material in the form the Webapp keeps in its ``certs`` table: ``cert_blob`` and ``ca_blob``."""

    def load(self):
        """``load_server_material`` of this material: what the next start does with it."""
        return load_server_material(self.cert_blob, self.ca_blob)


@dataclasses.dataclass(frozen=True)
class AutogenMaterial(_Stored):
    """The first-start pair. The CA's private key is not kept: nothing can be signed with it again."""

    ca_certificate: x509.Certificate
    server_key: rsa.RSAPrivateKey
    server_certificate: x509.Certificate

    @property
    def cert_blob(self):
        """``www.cert`` of [S20]: the server certificate, then its key (``cat device.crt device.key``)."""
        key = self.server_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
        )
        return (self.server_certificate.public_bytes(serialization.Encoding.PEM) + key).decode("ascii")

    @property
    def ca_blob(self):
        """``ca.pem`` of [S20], served by ``GET /v1/certificates/external/ca``."""
        return self.ca_certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")


@dataclasses.dataclass(frozen=True)
class UploadBundle(_Stored):
    """An accepted upload, cut as the Webapp cuts it; the parts are text, checked only at the next start."""

    key_pem: str
    certificate_pem: str
    ca_pems: tuple

    @property
    def cert_blob(self):
        """Sections 0 and 1 joined by the marker: what the Webapp stores as the certificate."""
        return self.key_pem + self.certificate_pem

    @property
    def ca_blob(self):
        """Sections 2 and later, each after its marker: what the Webapp stores as the CA bundle."""
        return "".join(self.ca_pems)


def _new_key():
    return rsa.generate_private_key(public_exponent=PUBLIC_EXPONENT, key_size=KEY_BITS)


def _subject_alt_name(server_name):
    try:
        return x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(server_name))])
    except ValueError:
        return x509.SubjectAlternativeName([x509.DNSName(server_name)])


def _issue(ca_key, subject, public_key, days, now, *, extensions=()):
    """A certificate issued by the AutoGen CA from ``now`` for ``days``; ``extensions``: (value, critical)."""
    builder = x509.CertificateBuilder(
        issuer_name=AUTOGEN_CA_SUBJECT,
        subject_name=subject,
        public_key=public_key,
        serial_number=x509.random_serial_number(),
        not_valid_before=now,
        not_valid_after=now + datetime.timedelta(days=days),
    )
    for value, critical in extensions:
        builder = builder.add_extension(value, critical=critical)
    return builder.sign(ca_key, hashes.SHA256())


def generate_autogen(server_name=None, *, subject_alt_name=False):
    """The self-signed material of a first start for ``WA_WEB_SERVERNAME=server_name`` (section 4.3).

    ``server_name`` unset or empty means ``localhost``, as in the Webapp. A name longer than 64
    characters cannot be a CN: ``ValueError``, as ``openssl req`` fails and the Webapp with it.
    By default the server certificate is the Webapp's: no extension at all, so clients that match
    names against the subjectAltName only (Python ``ssl``, curl, browsers) refuse it, as they refuse
    the real one. ``subject_alt_name=True`` adds a subjectAltName matching the name (a DNS name, or
    an IP address for an IP literal), for tests that need a verifiable default certificate.
    """
    server_name = server_name or DEFAULT_SERVER_NAME
    if len(server_name) > CN_MAX_LENGTH:  # checked here: cryptography 38 only warns
        raise ValueError(f"WA_WEB_SERVERNAME {server_name!r} is longer than a CN ({CN_MAX_LENGTH} characters)")
    now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)

    ca_key = _new_key()
    ca_public = ca_key.public_key()
    # The v3_ca section of OpenSSL's default openssl.cnf, which "openssl req -x509" applies.
    ca_extensions = (
        (x509.SubjectKeyIdentifier.from_public_key(ca_public), False),
        (x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_public), False),
        (x509.BasicConstraints(ca=True, path_length=None), True),
    )
    ca_certificate = _issue(ca_key, AUTOGEN_CA_SUBJECT, ca_public, CA_DAYS, now, extensions=ca_extensions)
    server_key = _new_key()
    server_subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, server_name)])
    server_extensions = ((_subject_alt_name(server_name), False),) if subject_alt_name else ()
    server_certificate = _issue(
        ca_key, server_subject, server_key.public_key(), SERVER_DAYS, now, extensions=server_extensions
    )
    del ca_key  # [S20] delete_rootCA_key: the CA signs this one certificate and nothing else
    return AutogenMaterial(ca_certificate, server_key, server_certificate)


def parse_upload(body):
    """Cut a ``POST /v1/certificates/external`` body as the Webapp does, or raise ``BundleError``.

    ``body`` is ``bytes`` (decoded byte for byte, as PHP sees it) or ``str``. Nothing is parsed as
    PEM here: the Webapp accepts any body with at least 3 sections, and a bad one fails the next
    start (``UploadBundle.load``).
    """
    text = body.decode("latin-1") if isinstance(body, (bytes, bytearray)) else body
    if not text:
        raise BundleError(EMPTY_MESSAGE)
    sections = text.split(CERT_MARKER)
    if len(sections) < MIN_SECTIONS:
        raise BundleError(SECTIONS_MESSAGE)
    return UploadBundle(
        key_pem=sections[0],
        certificate_pem=CERT_MARKER + sections[1],
        ca_pems=tuple(CERT_MARKER + section for section in sections[2:]),
    )


def _blocks(text, labels):
    return [match.group(0).encode("latin-1") for match in _PEM_BLOCK.finditer(text) if match.group(1) in labels]


def _parse(block, loader, what):
    """``loader(block)``, or ``CertificateStartupError`` saying why ``what`` cannot be used."""
    try:
        return loader(block)
    except TypeError as exc:  # a private key under a passphrase: lighttpd has none to give
        problem, cause = "is encrypted", exc
    except (ValueError, UnsupportedAlgorithm) as exc:
        problem, cause = f"cannot be read ({exc})", exc
    raise CertificateStartupError(f"{what} {problem}: {RECOVERY}") from cause


def _private_key(block):
    return serialization.load_pem_private_key(block, password=None)


def _public_der(public_key):
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def check_key_matches(key, certificate):
    """Raise ``KeyMismatchError`` unless ``key`` is the private key of ``certificate``'s public key."""
    if _public_der(key.public_key()) != _public_der(certificate.public_key()):
        raise KeyMismatchError(
            "the stored private key does not match the public key of the server certificate "
            f"{certificate.subject.rfc4514_string()}: {RECOVERY}"
        )


def load_server_material(cert_blob, ca_blob):
    """What a Webapp start does with the stored certificate (section 4.3), or ``CertificateStartupError``.

    As lighttpd: the first certificate and the first private key of ``cert_blob`` (in either
    order), which must match; every certificate of ``ca_blob``, of which there must be one.
    """
    certificates = _blocks(cert_blob, ("CERTIFICATE",))
    keys = _blocks(cert_blob, _KEY_LABELS)
    if not certificates:
        raise CertificateStartupError(f"the stored certificate has no PEM certificate: {RECOVERY}")
    if not keys:
        raise CertificateStartupError(f"the stored certificate has no PEM private key: {RECOVERY}")
    certificate = _parse(certificates[0], x509.load_pem_x509_certificate, "the stored server certificate")
    key = _parse(keys[0], _private_key, "the stored private key")
    check_key_matches(key, certificate)
    ca_blocks = _blocks(ca_blob, ("CERTIFICATE",))
    if not ca_blocks:
        raise CertificateStartupError(f"the stored CA bundle has no PEM certificate: {RECOVERY}")
    cas = tuple(
        _parse(block, x509.load_pem_x509_certificate, f"CA certificate {n} of the stored bundle")
        for n, block in enumerate(ca_blocks, 1)
    )
    return ServerMaterial(key, certificate, cas)
