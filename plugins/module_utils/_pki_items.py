# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The pki module's items - the CA and each certificate - with ONE predicate each, and issuance.

``CAItem.needs_regeneration()`` and ``CertificateItem.needs_regeneration()`` return the reason an
item must be (re)written, or None; the same predicate serves check mode and real runs (in check
mode a CA that would be created is passed as None). ``generate``/``issue`` then build it with the
same X.509 rules ``_x509`` validates with.
"""

from __future__ import annotations

import datetime
import ipaddress
import os

from ansible_collections.waent.onprem.plugins.module_utils import _x509
from ansible_collections.waent.onprem.plugins.module_utils._cryptography_dep import HAS_CRYPTOGRAPHY
from ansible_collections.waent.onprem.plugins.module_utils._pki_store import (
    PkiError,
    Unreadable,
    parse_certs,
    parse_key,
    read_bytes,
    resolve,
)

if HAS_CRYPTOGRAPHY:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

KEY_TYPES = ("ec-p256", "ec-p384", "rsa-2048", "rsa-3072", "rsa-4096")
# Issued certificates start slightly in the past so that a peer whose clock lags a little
# does not see them as "not yet valid".
BACKDATE = datetime.timedelta(minutes=5)


# --------------------------------------------------------------------------- issuance helpers


def generate_key(key_type):
    if key_type == "ec-p256":
        return ec.generate_private_key(ec.SECP256R1())
    if key_type == "ec-p384":
        return ec.generate_private_key(ec.SECP384R1())
    if key_type.startswith("rsa-"):
        return rsa.generate_private_key(public_exponent=65537, key_size=int(key_type[4:]))
    raise PkiError("unsupported key type {!r} (choose one of {})".format(key_type, ", ".join(KEY_TYPES)))


def signing_hash(key):
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.key_size >= 384:
        return hashes.SHA384()
    return hashes.SHA256()


def key_pem(key):
    return key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    )


def make_name(common_name, organization):
    attrs = []
    if organization:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attrs)


def _key_usage(*, digital_signature=False, key_encipherment=False, cert_sign=False):
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=False,
        key_encipherment=key_encipherment,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


# --------------------------------------------------------------------------- loaded files


class LoadedPair:
    """Key and certificate of one item, each parsed once."""

    def __init__(self, key_path, cert_path):
        self.key_path = key_path
        self.cert_path = cert_path
        self.key_bytes = None
        self.cert_bytes = None
        self.key = None
        self.cert = None
        self.key_error = None
        self.cert_error = None

    def load(self):
        try:
            self.key_bytes = read_bytes(self.key_path)
            if self.key_bytes is not None:
                self.key = parse_key(self.key_path, self.key_bytes)
                if not isinstance(self.key, (ec.EllipticCurvePrivateKey, rsa.RSAPrivateKey)):
                    raise Unreadable(self.key_path, f"unsupported private key type {type(self.key).__name__}")
        except Unreadable as exc:
            self.key, self.key_error = None, exc
        try:
            self.cert_bytes = read_bytes(self.cert_path)
            if self.cert_bytes is not None:
                self.cert = parse_certs(self.cert_path, self.cert_bytes)[0]
        except Unreadable as exc:
            self.cert_error = exc
        return self

    @property
    def key_missing(self):
        return self.key_bytes is None and self.key_error is None

    @property
    def cert_missing(self):
        return self.cert_bytes is None and self.cert_error is None

    def key_matches(self):
        return _x509.key_matches(self.key, self.cert)


# --------------------------------------------------------------------------- CA


class CAItem:
    """The signing CA: key + self-signed certificate. Never silently regenerated."""

    def __init__(self, spec, directory, organization, now):
        self.spec = spec
        self.name = spec["name"]
        self.organization = organization
        self.now = now
        self.pair = LoadedPair(
            os.path.join(directory, spec["name"] + ".key"), os.path.join(directory, spec["name"] + ".crt")
        ).load()
        self.warnings = []
        self.replaced = False  # an existing CA is (or would be) replaced in this run

    @property
    def existed(self):
        return not (self.pair.key_missing and self.pair.cert_missing)

    def wanted_name(self):
        return make_name(self.spec["common_name"], self.organization)

    def _problem(self):
        """(reason, message) of a CA that cannot be used as it is, or (None, None)."""
        pair = self.pair
        if pair.key_missing and pair.cert_missing:
            return "missing", None
        if pair.key_error or pair.cert_error:
            return "unreadable", str(pair.key_error or pair.cert_error)
        if pair.key_missing:
            return "unreadable", f"CA key {pair.key_path} is missing while its certificate exists"
        if pair.cert_missing:
            return "unreadable", f"CA certificate {pair.cert_path} is missing while its key exists"
        if not pair.key_matches():
            return "key_mismatch", f"CA certificate {pair.cert_path} does not match the key {pair.key_path}"
        if not _x509.is_ca(pair.cert):
            return "unreadable", f"{pair.cert_path} is not a CA certificate (basicConstraints CA:TRUE missing)"
        if self.now >= _x509.not_after(pair.cert):
            return "expired", f"CA certificate {pair.cert_path} expired on {_x509.iso(_x509.not_after(pair.cert))}"
        return None, None

    def _drift(self):
        """(reason, message) for a usable CA that differs from the options or is due for renewal."""
        cert = self.pair.cert
        if cert.subject != self.wanted_name():
            have, want = cert.subject.rfc4514_string(), self.wanted_name().rfc4514_string()
            return "subject_changed", f"CA subject is {have}, options ask for {want}"
        key_type = _x509.key_type_of(self.pair.key)
        if key_type != self.spec["key_type"]:
            return "key_type_changed", "CA key type is {}, options ask for {}".format(key_type, self.spec["key_type"])
        end = _x509.not_after(cert)
        if end - self.now <= datetime.timedelta(days=self.spec["renew_before"]):
            return "renew", (
                f"CA certificate {self.pair.cert_path} expires on {_x509.iso(end)} "
                f"(within ca.renew_before={self.spec['renew_before']} days)"
            )
        return None, None

    def needs_regeneration(self):
        """THE predicate for the CA. Returns the reason to (re)create it, or None to keep it.

        Raises PkiError for a CA that is unusable and may not be replaced."""
        replace = self.spec["replace"]
        reason, message = self._problem()
        if reason == "missing":
            return reason
        if reason is not None:
            if replace == "never":
                raise PkiError(
                    f"{message}. The CA is never replaced implicitly: set ca.replace=when_needed (or always) to "
                    "create a new CA and reissue every certificate, or restore the CA files."
                )
            return reason
        if replace == "always":
            return "forced"
        reason, message = self._drift()
        if reason is None:
            return None
        if replace == "when_needed":
            return reason
        self.warnings.append(f"{message}; kept because ca.replace=never")
        return None

    def generate(self):
        key = generate_key(self.spec["key_type"])
        name = self.wanted_name()
        public_key = key.public_key()
        builder = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(self.now - BACKDATE)
            .not_valid_after(self.now + datetime.timedelta(days=self.spec["validity_days"]))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_key_usage(cert_sign=True), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public_key), critical=False)
        )
        return key, builder.sign(key, signing_hash(key))

    def planned_facts(self):
        subject = self.wanted_name().rfc4514_string()
        return {
            "subject": subject,
            "common_name": self.spec["common_name"],
            "issuer": subject,
            "key_type": self.spec["key_type"],
            "not_before": None,
            "not_after": _x509.iso(self.now + datetime.timedelta(days=self.spec["validity_days"])),
            "serial": None,
            "fingerprint_sha256": None,
        }


# --------------------------------------------------------------------------- certificates


class CertificateItem:
    """One certificate signed by the CA, with its key."""

    def __init__(self, spec, directory, organization, now):
        self.spec = spec
        self.name = spec["name"]
        self.organization = organization
        self.now = now
        self.common_name = spec.get("common_name") or (spec["dns"] or spec["ip"] or [spec["name"]])[0]
        self.pair = LoadedPair(
            resolve(directory, spec.get("key_path") or spec["name"] + ".key"),
            resolve(directory, spec.get("cert_path") or spec["name"] + ".crt"),
        ).load()
        self.key_regenerated = False
        self.warnings = []

    def wanted_name(self):
        return make_name(self.common_name, self.organization)

    def wanted_sans(self):
        return ({d.lower() for d in self.spec["dns"]}, {ipaddress.ip_address(i) for i in self.spec["ip"]})

    def wanted_key_usage(self):
        return (True, self.spec["key_type"].startswith("rsa-"))

    def _key_reason(self, on_unreadable):
        """Why the private key itself must be replaced, or None."""
        pair = self.pair
        if pair.key_missing:
            return "missing"
        if pair.key_error is not None:
            if on_unreadable == "fail":
                raise PkiError(f"{pair.key_error} (on_unreadable=fail)")
            return "unreadable"
        if _x509.key_type_of(pair.key) != self.spec["key_type"]:
            return "key_type_changed"
        return None

    def needs_regeneration(self, ca_cert, ca_replaced, on_unreadable):
        """THE predicate for a certificate. Returns the reason to (re)issue it, or None.

        ``ca_cert`` is None when the CA does not exist yet (check mode before its creation);
        ``ca_replaced`` when an existing CA is (or would be) replaced. Sets
        ``self.key_regenerated`` when the private key has to be replaced too."""
        key_reason = self._key_reason(on_unreadable)
        self.key_regenerated = key_reason is not None
        if key_reason is not None:
            return key_reason
        if ca_replaced:
            return "ca_replaced"
        pair = self.pair
        if pair.cert_missing:
            return "missing"
        if pair.cert_error is not None:
            if on_unreadable == "fail":
                raise PkiError(f"{pair.cert_error} (on_unreadable=fail)")
            return "unreadable"
        cert = pair.cert
        if not pair.key_matches():
            return "key_mismatch"
        if ca_cert is None or not _x509.signed_by(cert, ca_cert):
            return "issuer_mismatch"
        if cert.subject != self.wanted_name():
            return "subject_changed"
        dns, ips = _x509.sans_of(cert)
        if ({d.lower() for d in dns}, {ipaddress.ip_address(i) for i in ips}) != self.wanted_sans():
            return "sans_changed"
        if _x509.usage_of(cert) != self.spec["usage"] or _x509.key_usage_flags(cert) != self.wanted_key_usage():
            return "usage_changed"
        end = _x509.not_after(cert)
        if self.now >= end:
            return "expired"
        if end - self.now <= datetime.timedelta(days=self.spec["renew_before"]):
            ca_end = _x509.not_after(ca_cert)
            capped = self.now + datetime.timedelta(days=self.spec["validity_days"]) >= ca_end
            if capped and end >= ca_end - datetime.timedelta(hours=1):
                # Capped at the CA's end of life already: reissuing would not extend it, only churn.
                self.warnings.append(
                    f"certificate {self.name} expires on {_x509.iso(end)} (within renew_before) and cannot be "
                    f"renewed beyond the CA's end of validity {_x509.iso(ca_end)}; replace the CA "
                    "(ca.replace=when_needed)"
                )
                return None
            return "renew"
        return None

    def not_after_for(self, ca_cert):
        end = self.now + datetime.timedelta(days=self.spec["validity_days"])
        # Never outlive the CA: a chain with a leaf valid beyond its issuer fails in strict clients.
        return end if ca_cert is None else min(end, _x509.not_after(ca_cert))

    def issue(self, key, ca_key, ca_cert):
        public_key = key.public_key()
        eku = []
        if self.spec["usage"] in ("server", "both"):
            eku.append(ExtendedKeyUsageOID.SERVER_AUTH)
        if self.spec["usage"] in ("client", "both"):
            eku.append(ExtendedKeyUsageOID.CLIENT_AUTH)
        builder = (
            x509.CertificateBuilder()
            .subject_name(self.wanted_name())
            .issuer_name(ca_cert.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(max(self.now - BACKDATE, _x509.not_before(ca_cert)))
            .not_valid_after(self.not_after_for(ca_cert))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                _key_usage(digital_signature=True, key_encipherment=isinstance(key, rsa.RSAPrivateKey)), critical=True
            )
            .add_extension(x509.ExtendedKeyUsage(eku), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_cert.public_key()), critical=False)
        )
        sans = [x509.DNSName(d) for d in self.spec["dns"]] + [
            x509.IPAddress(ipaddress.ip_address(i)) for i in self.spec["ip"]
        ]
        if sans:
            builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        return builder.sign(ca_key, signing_hash(ca_key))

    def planned_facts(self, ca_cert, ca_subject):
        return {
            "subject": self.wanted_name().rfc4514_string(),
            "common_name": self.common_name,
            "issuer": ca_subject,
            "dns": list(self.spec["dns"]),
            "ip": [str(ipaddress.ip_address(i)) for i in self.spec["ip"]],
            "usage": self.spec["usage"],
            "key_type": self.spec["key_type"],
            "not_before": None,
            "not_after": _x509.iso(self.not_after_for(ca_cert)),
            "serial": None,
            "fingerprint_sha256": None,
        }
