# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one X.509 layer: parse, describe and validate certificates, with one set of rules.

The pki backend issues and checks (``state=validate``) with it, db_tls_check ``mode=validate``
(used by the database and db_client roles) checks with it, so what the PKI issues is exactly
what the validators accept. Read-only: nothing here creates keys or certificates.

The rules of ``check_certificate``:

* chain (``chain``): leaf, then intermediates (from the certificate file or a chain file), up to
  a certificate of the CA bundle (an anchor; it may be an intermediate itself). Every issuer on
  the way verifies the signature (RSA PKCS#1 v1.5, ECDSA, EdDSA), is a CA (basicConstraints
  CA:TRUE) and is valid now. Every certificate of the CA bundle must be a CA (``ca_bundle``).
* names (``names``, RFC 6125): a DNS name matches a dNSName SAN case-insensitively, a trailing
  dot ignored. A wildcard is only the whole left-most label (``*.example.com``) and stands for
  exactly one non-empty label: no partial wildcards (``w*.example.com``, ``*w.example.com``), no
  wildcard elsewhere, none with fewer than two labels after it (``*.com``) - OpenSSL's rules, so
  this agrees with the live TLS check. An IP address matches only an iPAddress SAN, compared as
  an address (``::1`` is ``0:0::1``), never a dNSName.
  CN fallback: never. The subject's common name is not a name; RFC 6125 6.4.4 tolerates it only
  without SANs and the CA/Browser Forum forbids relying on it. Every certificate the pki module
  issues carries its names as SANs, and db_tls_check's live check turns OpenSSL's fallback off.
* usage (``usage``): with an extendedKeyUsage extension it must list serverAuth and/or
  clientAuth as asked (anyExtendedKeyUsage alone is not enough, as for OpenSSL); with a keyUsage
  extension it must allow digitalSignature (TLS 1.3 and ECDHE sign with the key). Without these
  extensions a certificate is unrestricted.
* validity: ``not_yet_valid``, ``expired`` for the leaf; ``renew_window`` when the leaf or one of
  its issuers ends within ``renew_before`` days (the session breaks with the first to expire).
* key (``key_mismatch``): the private key's public key is the certificate's.

Compatibility with the floor (cryptography 38.0.4, Debian 12): the ``*_utc`` validity accessors
(42) are used only when present, and PEM files with several certificates are split here
(``load_pem_x509_certificates`` is 39).
"""

from __future__ import annotations

import datetime
import ipaddress
import math
import re

from ansible_collections.waent.onprem.plugins.module_utils._cryptography_dep import HAS_CRYPTOGRAPHY

if HAS_CRYPTOGRAPHY:
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# datetime.UTC needs Python 3.11; modules still support 3.9.
UTC = datetime.timezone(datetime.timedelta(0))
USAGES = ("server", "client", "both")
MAX_CHAIN_DEPTH = 8
_PEM_CERTIFICATE = re.compile(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.DOTALL)


class X509Error(ValueError):
    """Material that cannot be used; the message says why, never quoting the material."""


# --------------------------------------------------------------------------- time


def utcnow():
    return datetime.datetime.now(UTC)


def not_before(cert):
    value = getattr(cert, "not_valid_before_utc", None)  # cryptography >= 42
    return value if value is not None else cert.not_valid_before.replace(tzinfo=UTC)


def not_after(cert):
    value = getattr(cert, "not_valid_after_utc", None)  # cryptography >= 42
    return value if value is not None else cert.not_valid_after.replace(tzinfo=UTC)


def iso(value):
    return None if value is None else value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def valid_at(cert, now):
    return not_before(cert) <= now < not_after(cert)


# --------------------------------------------------------------------------- parsing


def _as_bytes(data):
    return data.encode("utf-8") if isinstance(data, str) else (data or b"")


def load_certificates(data):
    """Every certificate of a PEM text (str or bytes), in order; X509Error when there is none."""
    blocks = _PEM_CERTIFICATE.findall(_as_bytes(data))
    if not blocks:
        raise X509Error("no PEM certificate found")
    try:
        return [x509.load_pem_x509_certificate(block) for block in blocks]
    except ValueError as exc:
        raise X509Error(f"invalid PEM certificate ({exc})") from None


def load_private_key(data):
    """The unencrypted PEM private key of ``data`` (str or bytes); X509Error otherwise."""
    try:
        return serialization.load_pem_private_key(_as_bytes(data), password=None)
    except TypeError:
        raise X509Error("the private key is encrypted; a passphrase is not supported") from None
    except (ValueError, UnsupportedAlgorithm):
        raise X509Error("invalid or truncated PEM private key") from None


# --------------------------------------------------------------------------- facts


def spki(public_key):
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def key_matches(key, cert):
    """True when the private ``key`` belongs to ``cert``."""
    return spki(key.public_key()) == spki(cert.public_key())


def key_type_of(key):
    """ec-p256, ec-p384, rsa-2048/3072/4096 (the pki module's choices) or 'other', for any key."""
    if isinstance(key, (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey)):
        return {"secp256r1": "ec-p256", "secp384r1": "ec-p384"}.get(key.curve.name, "other")
    if isinstance(key, (rsa.RSAPrivateKey, rsa.RSAPublicKey)):
        return {2048: "rsa-2048", 3072: "rsa-3072", 4096: "rsa-4096"}.get(key.key_size, "other")
    return "other"


def extension(cert, ext_class):
    try:
        return cert.extensions.get_extension_for_class(ext_class).value
    except x509.ExtensionNotFound:
        return None


def is_ca(cert):
    constraints = extension(cert, x509.BasicConstraints)
    return constraints is not None and constraints.ca


def sans_of(cert):
    """(dNSName values, iPAddress values as text) of the subjectAltName."""
    san = extension(cert, x509.SubjectAlternativeName)
    if san is None:
        return [], []
    return [str(v) for v in san.get_values_for_type(x509.DNSName)], [
        str(v) for v in san.get_values_for_type(x509.IPAddress)
    ]


def usage_of(cert):
    """server, client, both or none, from the extendedKeyUsage."""
    eku = extension(cert, x509.ExtendedKeyUsage)
    server = eku is not None and ExtendedKeyUsageOID.SERVER_AUTH in eku
    client = eku is not None and ExtendedKeyUsageOID.CLIENT_AUTH in eku
    return {(True, True): "both", (True, False): "server", (False, True): "client"}.get((server, client), "none")


def key_usage_flags(cert):
    """(digitalSignature, keyEncipherment), or None without a keyUsage extension."""
    ku = extension(cert, x509.KeyUsage)
    return None if ku is None else (ku.digital_signature, ku.key_encipherment)


def common_name_of(name):
    attrs = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(attrs[0].value) if attrs else None


def der(cert):
    return cert.public_bytes(serialization.Encoding.DER)


def der_sha256(cert):
    """SHA-256 digest (bytes) of the DER certificate: its fingerprint."""
    digest = hashes.Hash(hashes.SHA256())
    digest.update(der(cert))
    return digest.finalize()


def cert_facts(cert):
    """What the pki module reports about a certificate (never PEM)."""
    dns, ips = sans_of(cert)
    return {
        "subject": cert.subject.rfc4514_string(),
        "common_name": common_name_of(cert.subject),
        "issuer": cert.issuer.rfc4514_string(),
        "dns": dns,
        "ip": ips,
        "usage": usage_of(cert),
        "key_type": key_type_of(cert.public_key()),
        "not_before": iso(not_before(cert)),
        "not_after": iso(not_after(cert)),
        "serial": f"{cert.serial_number:X}",
        "fingerprint_sha256": ":".join(f"{b:02X}" for b in bytearray(der_sha256(cert))),
    }


def served_facts(der_bytes, server_name, now=None):
    """The facts of a certificate a server sent (DER): whether ``server_name`` is one of its names,
    whole days to expiry (negative once expired), subject, expiry, names and fingerprint."""
    try:
        cert = x509.load_der_x509_certificate(der_bytes)
    except ValueError as exc:
        raise X509Error(f"the served certificate cannot be parsed ({exc})") from None
    facts = cert_facts(cert)
    left = not_after(cert) - (now or utcnow())
    return {
        "name_matches": name_matches(server_name, facts["dns"], facts["ip"]),
        "days_left": math.floor(left / datetime.timedelta(days=1)),
        **{key: facts[key] for key in ("subject", "issuer", "not_after", "dns", "ip", "fingerprint_sha256")},
    }


# --------------------------------------------------------------------------- chain


def signed_by(cert, issuer_cert):
    """True when ``cert`` names ``issuer_cert`` as issuer and its signature verifies with its key."""
    if cert.issuer != issuer_cert.subject:
        return False
    public_key = issuer_cert.public_key()
    try:
        if isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(cert.signature_hash_algorithm))
        elif isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(
                cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(), cert.signature_hash_algorithm
            )
        else:
            public_key.verify(cert.signature, cert.tbs_certificate_bytes)
    except (InvalidSignature, UnsupportedAlgorithm, TypeError, ValueError, AttributeError):
        return False
    return True


def build_chain(leaf, intermediates, anchors, now, max_depth=MAX_CHAIN_DEPTH):
    """(chain from the leaf to an anchor, None), or (None, why it does not chain)."""
    anchor_der = {der(a) for a in anchors}
    pool = list(intermediates) + list(anchors)
    chain = [leaf]
    current = leaf
    while len(chain) <= max_depth:
        if der(current) in anchor_der:
            return chain, None
        signers = [c for c in pool if signed_by(current, c)]
        if not signers and signed_by(current, current):
            return None, f"{current.subject.rfc4514_string()} is self-signed and not in the CA bundle"
        if not signers:
            what = "it" if current is leaf else f"intermediate {current.subject.rfc4514_string()}"
            issuer_name = current.issuer.rfc4514_string()
            return None, f"no certificate of the CA bundle or chain signed {what} (issuer {issuer_name})"
        # Prefer a usable issuer when several share a name and key (a renewed CA next to the old one).
        issuer = next((c for c in signers if is_ca(c) and valid_at(c, now)), signers[0])
        label = issuer.subject.rfc4514_string()
        if not is_ca(issuer):
            return None, f"issuer {label} is not a CA certificate (basicConstraints CA:TRUE missing)"
        if not valid_at(issuer, now):
            period = f"{iso(not_before(issuer))} to {iso(not_after(issuer))}"
            return None, f"issuer {label} is not valid now (valid {period})"
        if any(der(issuer) == der(c) for c in chain):  # self-signed (or a loop) outside the bundle
            break
        chain.append(issuer)
        current = issuer
    return None, f"the chain ends at {current.subject.rfc4514_string()}, which is not in the CA bundle"


# --------------------------------------------------------------------------- names (RFC 6125)


def _as_ip(name):
    try:
        return ipaddress.ip_address(str(name).strip())
    except ValueError:
        return None


def _dns_form(name):
    name = str(name).strip().rstrip(".").lower()
    try:
        return name.encode("idna").decode("ascii") if not name.isascii() else name
    except UnicodeError:
        return name


def _dns_matches(host, pattern):
    if not host or not pattern:
        return False
    if "*" not in pattern:
        return host == pattern
    wildcard, _dot, parent = pattern.partition(".")
    if wildcard != "*" or "*" in parent or "." not in parent:
        return False  # partial, not left-most, or too broad (*.com)
    label, dot, rest = host.partition(".")
    return bool(label and dot) and rest == parent


def name_matches(name, dns_sans, ip_sans):
    """Whether the DNS name or IP address ``name`` is covered by the SANs (rules above)."""
    address = _as_ip(name)
    if address is not None:
        return any(_as_ip(value) == address for value in ip_sans)
    host = _dns_form(name)
    return any(_dns_matches(host, _dns_form(pattern)) for pattern in dns_sans)


# --------------------------------------------------------------------------- usage

_EKU_LABELS = (("server", "serverAuth"), ("client", "clientAuth"))


def usage_problems(cert, usage):
    """Messages for what the KU/EKU of ``cert`` does not allow for ``usage`` (server/client/both)."""
    problems = []
    eku = extension(cert, x509.ExtendedKeyUsage)
    if eku is not None:
        oids = {"server": ExtendedKeyUsageOID.SERVER_AUTH, "client": ExtendedKeyUsageOID.CLIENT_AUTH}
        lacking = [label for role, label in _EKU_LABELS if usage in (role, "both") and oids[role] not in eku]
        if lacking:
            problems.append("extendedKeyUsage lacks {} required for usage={}".format(", ".join(lacking), usage))
    flags = key_usage_flags(cert)
    if flags is not None and not flags[0]:
        problems.append("keyUsage lacks digitalSignature required for TLS")
    return problems


# --------------------------------------------------------------------------- all rules


def check_certificate(
    leaf, *, key=None, extra=(), anchors=None, usage="server", names=(), renew_before=0, now=None,
    bundle="the CA bundle",
):
    """Every rule of this module for one certificate: a list of {rule, msg}, empty when valid.

    ``extra``: intermediates delivered with it; ``anchors``: the CA bundle (None skips the
    chain rules, when the caller could not read it); ``bundle``: how messages name the bundle."""
    now = now or utcnow()
    found = []

    def fail(rule, msg):
        found.append({"rule": rule, "msg": msg})

    if key is not None and not key_matches(key, leaf):
        fail("key_mismatch", "the certificate does not match the private key")
    chain = [leaf]
    if anchors is not None:
        for ca in anchors:
            if not is_ca(ca):
                fail("ca_bundle", f"{ca.subject.rfc4514_string()} in {bundle} is not a CA certificate "
                     "(basicConstraints CA:TRUE missing)")
        built, why = build_chain(leaf, extra, anchors, now)
        if why:
            fail("chain", f"does not chain to a CA in {bundle}: {why}")
        else:
            chain = built
    dns, ips = sans_of(leaf)
    missing = [str(n) for n in names if not name_matches(n, dns, ips)]
    if missing:
        fail("names", "subjectAltName does not cover {} (has DNS {}; IP {})".format(
            ", ".join(missing), ", ".join(dns) or "none", ", ".join(ips) or "none"))
    for problem in usage_problems(leaf, usage):
        fail("usage", problem)
    if now < not_before(leaf):
        fail("not_yet_valid", f"not valid before {iso(not_before(leaf))}")
    if now >= not_after(leaf):
        fail("expired", f"expired on {iso(not_after(leaf))}")
        return found
    window = datetime.timedelta(days=renew_before)
    for cert in chain:
        if not_after(cert) - now <= window:
            who = "" if cert is leaf else f"its issuer {cert.subject.rfc4514_string()} "
            fail("renew_window", f"{who}expires on {iso(not_after(cert))}, within {renew_before} days")
    return found
