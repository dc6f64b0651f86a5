# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Backend of the waent.onprem.pki module: a private CA and the certificates it signs.

Structure (after community.crypto's module_backends): the module file only parses options and
reports; this file holds the items (`CAItem`, `CertificateItem`), each with ONE predicate
(`needs_regeneration`) that returns the reason an item must be (re)written, or None. Content
changes and file attribute changes are reconciled separately. Everything runs in-process on
`cryptography`; no subprocess.
"""

from __future__ import annotations

import datetime
import grp
import ipaddress
import os
import pwd
import shutil
import time

from ansible_collections.waent.onprem.plugins.module_utils import _io
from ansible_collections.waent.onprem.plugins.module_utils._cryptography_dep import HAS_CRYPTOGRAPHY

if HAS_CRYPTOGRAPHY:
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

KEY_TYPES = ("ec-p256", "ec-p384", "rsa-2048", "rsa-3072", "rsa-4096")
USAGES = ("server", "client", "both")
# Issued certificates start slightly in the past so that a peer whose clock lags a little
# does not see them as "not yet valid".
BACKDATE = datetime.timedelta(minutes=5)
# datetime.UTC needs Python 3.11; modules still support 3.9.
UTC = datetime.timezone(datetime.timedelta(0))

REASONS = (
    "missing",
    "unreadable",
    "key_mismatch",
    "issuer_mismatch",
    "ca_replaced",
    "subject_changed",
    "sans_changed",
    "usage_changed",
    "key_type_changed",
    "renew",
    "expired",
)


class PkiError(Exception):
    """An error to report to the user (clear message, nothing was changed by the failing step)."""


class Unreadable(PkiError):
    def __init__(self, path, why):
        super().__init__(f"{path} cannot be read: {why}")
        self.path = path
        self.why = why


# --------------------------------------------------------------------------- helpers


def utcnow():
    return datetime.datetime.now(UTC)


def not_before(cert):
    value = getattr(cert, "not_valid_before_utc", None)
    if value is None:
        value = cert.not_valid_before.replace(tzinfo=UTC)
    return value


def not_after(cert):
    value = getattr(cert, "not_valid_after_utc", None)
    if value is None:
        value = cert.not_valid_after.replace(tzinfo=UTC)
    return value


def iso(value):
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def colon_hex(data):
    return ":".join(f"{b:02X}" for b in bytearray(data))


def key_type_of(key):
    """Key type name (one of KEY_TYPES, or 'other') of a private or public key."""
    if isinstance(key, (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey)):
        return {"secp256r1": "ec-p256", "secp384r1": "ec-p384"}.get(key.curve.name, "other")
    if isinstance(key, (rsa.RSAPrivateKey, rsa.RSAPublicKey)):
        return {2048: "rsa-2048", 3072: "rsa-3072", 4096: "rsa-4096"}.get(key.key_size, "other")
    return "other"


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


def spki(public_key):
    return public_key.public_bytes(
        encoding=serialization.Encoding.DER, format=serialization.PublicFormat.SubjectPublicKeyInfo
    )


def signed_by(cert, issuer_cert):
    """True when `cert` names `issuer_cert` as issuer and its signature verifies with its key."""
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
    except (InvalidSignature, UnsupportedAlgorithm, TypeError, ValueError):
        return False
    return True


def _extension(cert, ext_class):
    try:
        return cert.extensions.get_extension_for_class(ext_class).value
    except x509.ExtensionNotFound:
        return None


def sans_of(cert):
    san = _extension(cert, x509.SubjectAlternativeName)
    if san is None:
        return [], []
    dns = [str(v) for v in san.get_values_for_type(x509.DNSName)]
    ips = [str(v) for v in san.get_values_for_type(x509.IPAddress)]
    return dns, ips


def usage_of(cert):
    eku = _extension(cert, x509.ExtendedKeyUsage)
    if eku is None:
        return "none"
    server = ExtendedKeyUsageOID.SERVER_AUTH in eku
    client = ExtendedKeyUsageOID.CLIENT_AUTH in eku
    if server and client:
        return "both"
    if server:
        return "server"
    if client:
        return "client"
    return "none"


def key_usage_flags(cert):
    ku = _extension(cert, x509.KeyUsage)
    if ku is None:
        return None
    return (ku.digital_signature, ku.key_encipherment)


def common_name_of(name):
    attrs = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(attrs[0].value) if attrs else None


def make_name(common_name, organization):
    attrs = []
    if organization:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attrs)


def cert_facts(cert, der=None):
    if der is None:
        der = cert.public_bytes(serialization.Encoding.DER)
    digest = hashes.Hash(hashes.SHA256())
    digest.update(der)
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
        "fingerprint_sha256": colon_hex(digest.finalize()),
    }


# --------------------------------------------------------------------------- file I/O


def read_bytes(path):
    """File content, or None when the file does not exist."""
    try:
        return _io.read_bytes(path)
    except OSError as exc:
        raise Unreadable(path, exc.strerror or str(exc)) from exc


def parse_certs(path, data):
    """All certificates of a PEM file (at least one), or Unreadable."""
    if b"-----BEGIN CERTIFICATE-----" not in data:
        raise Unreadable(path, "no PEM certificate found")
    try:
        if hasattr(x509, "load_pem_x509_certificates"):
            certs = x509.load_pem_x509_certificates(data)
        else:  # cryptography < 39: split the PEM sections ourselves
            certs = []
            for chunk in data.split(b"-----BEGIN CERTIFICATE-----")[1:]:
                certs.append(x509.load_pem_x509_certificate(b"-----BEGIN CERTIFICATE-----" + chunk))
    except ValueError as exc:
        raise Unreadable(path, f"invalid PEM certificate ({exc})") from exc
    return certs


def parse_key(path, data):
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError as exc:
        raise Unreadable(path, "the private key is encrypted; a passphrase is not supported") from exc
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise Unreadable(path, "invalid or truncated PEM private key") from exc
    if key_type_of(key) == "other" and not isinstance(key, (ec.EllipticCurvePrivateKey, rsa.RSAPrivateKey)):
        raise Unreadable(path, f"unsupported private key type {type(key).__name__}")
    return key


def parse_mode(value, option):
    if value is None:
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip()
    try:
        return int(text, 8)
    except ValueError as exc:
        raise PkiError(f"{option}: {value!r} is not an octal file mode such as '0600'") from exc


def resolve_uid(owner):
    if owner is None:
        return -1
    try:
        return pwd.getpwnam(owner).pw_uid
    except KeyError:
        if owner.isdigit():
            return int(owner)
        raise PkiError(f"owner {owner!r}: no such user") from None


def resolve_gid(group):
    if group is None:
        return -1
    try:
        return grp.getgrnam(group).gr_gid
    except KeyError:
        if group.isdigit():
            return int(group)
        raise PkiError(f"group {group!r}: no such group") from None


class FileStore:
    """Atomic writes, backups and attribute reconciliation; honours check mode."""

    def __init__(self, check_mode=False, backup=False):
        self.check_mode = check_mode
        self.backup = backup
        self.backup_files = []

    def make_backup(self, path, force=False):
        if not (self.backup or force) or self.check_mode or not os.path.lexists(path):
            return None
        stamp = time.strftime("%Y-%m-%d@%H:%M:%S", time.localtime())
        target = f"{path}.{os.getpid()}.{stamp}~"
        shutil.copy2(path, target)
        self.backup_files.append(target)
        return target

    def ensure_dir(self, path):
        if os.path.isdir(path):
            return False
        if not self.check_mode:
            os.makedirs(path, 0o700)
        return True

    def write(self, path, data, mode, uid=-1, gid=-1, force_backup=False):  # noqa: PLR0917
        """Write `data` to `path` atomically: temp file in the same directory, mode set before
        any byte is written, fsync, rename. Returns True (a write happened or would happen)."""
        if self.check_mode:
            return True
        self.ensure_dir(os.path.dirname(os.path.abspath(path)))
        self.make_backup(path, force=force_backup)
        _io.write_atomic(path, data, mode, uid, gid)
        return True

    def set_attributes(self, path, mode, uid=-1, gid=-1):
        """Bring mode/owner/group of an existing file in line. Returns True if anything differs."""
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            return False
        changed = False
        if mode is not None and (st.st_mode & 0o7777) != mode:
            changed = True
            if not self.check_mode:
                os.chmod(path, mode)
        want_uid = st.st_uid if uid == -1 else uid
        want_gid = st.st_gid if gid == -1 else gid
        if (want_uid, want_gid) != (st.st_uid, st.st_gid):
            changed = True
            if not self.check_mode:
                os.chown(path, want_uid, want_gid)
        return changed


# --------------------------------------------------------------------------- items


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
        except Unreadable as exc:
            self.key_error = exc
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
        return spki(self.key.public_key()) == spki(self.cert.public_key())


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
        self.replaced = False  # an existing CA was replaced in this run

    @property
    def existed(self):
        return not (self.pair.key_missing and self.pair.cert_missing)

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
        bc = _extension(pair.cert, x509.BasicConstraints)
        if bc is None or not bc.ca:
            return "unreadable", f"{pair.cert_path} is not a CA certificate (basicConstraints CA:TRUE missing)"
        if self.now >= not_after(pair.cert):
            return "expired", f"CA certificate {pair.cert_path} expired on {iso(not_after(pair.cert))}"
        return None, None

    def _drift(self):
        """(reason, message) for a usable CA that differs from the options or is due for renewal."""
        cert = self.pair.cert
        if cert.subject != make_name(self.spec["common_name"], self.organization):
            return "subject_changed", "CA subject is {}, options ask for {}".format(
                cert.subject.rfc4514_string(),
                make_name(self.spec["common_name"], self.organization).rfc4514_string(),
            )
        if key_type_of(self.pair.key) != self.spec["key_type"]:
            return "key_type_changed", "CA key type is {}, options ask for {}".format(
                key_type_of(self.pair.key),
                self.spec["key_type"],
            )
        left = not_after(cert) - self.now
        if left <= datetime.timedelta(days=self.spec["renew_before"]):
            return "renew", (
                f"CA certificate {self.pair.cert_path} expires on {iso(not_after(cert))} "
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
        spec = self.spec
        key = generate_key(spec["key_type"])
        name = make_name(spec["common_name"], self.organization)
        start = self.now - BACKDATE
        public_key = key.public_key()
        builder = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(self.now + datetime.timedelta(days=spec["validity_days"]))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=False,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public_key), critical=False)
        )
        cert = builder.sign(key, signing_hash(key))
        return key, cert

    def planned_facts(self, reason):
        return {
            "subject": make_name(self.spec["common_name"], self.organization).rfc4514_string(),
            "common_name": self.spec["common_name"],
            "issuer": make_name(self.spec["common_name"], self.organization).rfc4514_string(),
            "key_type": self.spec["key_type"],
            "not_before": None,
            "not_after": iso(self.now + datetime.timedelta(days=self.spec["validity_days"])),
            "serial": None,
            "fingerprint_sha256": None,
            "reason": reason,
        }


class CertificateItem:
    """One certificate signed by the CA, with its key and bundle files."""

    def __init__(self, spec, directory, organization, now):
        self.spec = spec
        self.name = spec["name"]
        self.directory = directory
        self.organization = organization
        self.now = now
        self.common_name = spec.get("common_name") or (spec["dns"] or spec["ip"] or [spec["name"]])[0]
        self.pair = LoadedPair(
            resolve(directory, spec.get("key_path") or spec["name"] + ".key"),
            resolve(directory, spec.get("cert_path") or spec["name"] + ".crt"),
        ).load()
        self.key_regenerated = False
        self.warnings = []

    # -- comparison helpers
    def wanted_name(self):
        return make_name(self.common_name, self.organization)

    def wanted_sans(self):
        return (
            {d.lower() for d in self.spec["dns"]},
            {ipaddress.ip_address(i) for i in self.spec["ip"]},
        )

    def wanted_key_usage(self):
        return (True, self.spec["key_type"].startswith("rsa-"))

    def needs_new_key(self, on_unreadable):
        """(reason, True) when the key itself must be replaced, else (None, False)."""
        pair = self.pair
        if pair.key_missing:
            return "missing"
        if pair.key_error is not None:
            if on_unreadable == "fail":
                raise PkiError(f"{pair.key_error} (on_unreadable=fail)")
            return "unreadable"
        if key_type_of(pair.key) != self.spec["key_type"]:
            return "key_type_changed"
        return None

    def needs_regeneration(self, ca_cert, ca_replaced, on_unreadable):
        """THE predicate for a certificate. Returns the reason to (re)issue it, or None.

        Sets `self.key_regenerated` when the private key has to be replaced too."""
        key_reason = self.needs_new_key(on_unreadable)
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
        if not signed_by(cert, ca_cert):
            return "issuer_mismatch"
        if cert.subject != self.wanted_name():
            return "subject_changed"
        dns, ips = sans_of(cert)
        if ({d.lower() for d in dns}, {ipaddress.ip_address(i) for i in ips}) != self.wanted_sans():
            return "sans_changed"
        if usage_of(cert) != self.spec["usage"] or key_usage_flags(cert) != self.wanted_key_usage():
            return "usage_changed"
        if self.now >= not_after(cert):
            return "expired"
        if not_after(cert) - self.now <= datetime.timedelta(days=self.spec["renew_before"]):
            ca_end = not_after(ca_cert)
            capped = self.now + datetime.timedelta(days=self.spec["validity_days"]) >= ca_end
            if capped and not_after(cert) >= ca_end - datetime.timedelta(hours=1):
                # Capped at the CA's end of life already: reissuing would not extend it, only churn.
                self.warnings.append(
                    f"certificate {self.name} expires on {iso(not_after(cert))} (within renew_before) and cannot be "
                    f"renewed beyond the CA's end of validity {iso(not_after(ca_cert))}; replace the CA "
                    "(ca.replace=when_needed)"
                )
                return None
            return "renew"
        return None

    def not_after_for(self, ca_cert):
        end = self.now + datetime.timedelta(days=self.spec["validity_days"])
        # Never outlive the CA: a chain with a leaf valid beyond its issuer fails in strict clients.
        return min(end, not_after(ca_cert))

    def issue(self, key, ca_key, ca_cert):
        public_key = key.public_key()
        eku = []
        if self.spec["usage"] in ("server", "both"):
            eku.append(ExtendedKeyUsageOID.SERVER_AUTH)
        if self.spec["usage"] in ("client", "both"):
            eku.append(ExtendedKeyUsageOID.CLIENT_AUTH)
        is_rsa = isinstance(key, rsa.RSAPrivateKey)
        builder = (
            x509.CertificateBuilder()
            .subject_name(self.wanted_name())
            .issuer_name(ca_cert.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(max(self.now - BACKDATE, not_before(ca_cert)))
            .not_valid_after(self.not_after_for(ca_cert))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=is_rsa,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
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

    def planned_facts(self, ca_cert_or_none, ca_subject, reason):
        end = self.now + datetime.timedelta(days=self.spec["validity_days"])
        if ca_cert_or_none is not None:
            end = self.not_after_for(ca_cert_or_none)
        return {
            "subject": self.wanted_name().rfc4514_string(),
            "common_name": self.common_name,
            "issuer": ca_subject,
            "dns": list(self.spec["dns"]),
            "ip": [str(ipaddress.ip_address(i)) for i in self.spec["ip"]],
            "usage": self.spec["usage"],
            "key_type": self.spec["key_type"],
            "not_before": None,
            "not_after": iso(end),
            "serial": None,
            "fingerprint_sha256": None,
            "reason": reason,
        }


def resolve(directory, path):
    return path if os.path.isabs(path) else os.path.join(directory, path)


# --------------------------------------------------------------------------- input validation


def validate_params(params):
    """Check the options before anything is touched; raise PkiError naming the option and the fix."""
    certs = params.get("certificates") or []
    seen = set()
    for index, spec in enumerate(certs):
        where = f"certificates[{index}] (name={spec.get('name')})"
        name = spec.get("name") or ""
        if not name or "/" in name or name in (".", ".."):
            raise PkiError(f"{where}: name must be a non-empty file base name without '/'")
        if name in seen:
            raise PkiError(f"{where}: the name is used twice; certificate names must be unique")
        seen.add(name)
        for address in spec.get("ip") or []:
            try:
                ipaddress.ip_address(address)
            except ValueError:
                raise PkiError(f"{where}: ip entry {address!r} is not an IPv4/IPv6 address") from None
        for dns in spec.get("dns") or []:
            if not dns or " " in dns or "/" in dns:
                raise PkiError(f"{where}: dns entry {dns!r} is not a DNS name")
        if params.get("state", "present") == "present":
            ca_name = (params.get("ca") or {}).get("name", "ca")
            if name == ca_name:
                raise PkiError(f"{where}: the name {name!r} is the CA's file name (ca.name); pick another")
            if spec.get("signed_by") not in (None, ca_name):
                raise PkiError(
                    f"{where}: signed_by={spec.get('signed_by')!r} but this call's signing CA is "
                    f"ca.name={ca_name!r}; use one module call per CA"
                )
            if spec.get("validity_days", 1) < 1:
                raise PkiError(f"{where}: validity_days must be at least 1")
            for bundle in spec.get("bundles") or []:
                if not bundle.get("content"):
                    raise PkiError("{}: bundle {} has an empty content list".format(where, bundle.get("path")))
        if spec.get("renew_before", 0) < 0:
            raise PkiError(f"{where}: renew_before must be 0 or more days")
    ca = params.get("ca") or {}
    if ca.get("validity_days", 1) < 1:
        raise PkiError("ca.validity_days must be at least 1")
    if ca.get("renew_before", 0) < 0:
        raise PkiError("ca.renew_before must be 0 or more days")


# --------------------------------------------------------------------------- present


class PkiManager:
    """Runs state=present: CA, then each certificate, then its bundles."""

    def __init__(self, params, check_mode=False, now=None):
        validate_params(params)
        self.params = params
        self.check_mode = check_mode
        self.now = now or utcnow()
        self.directory = os.path.abspath(params["path"])
        self.store = FileStore(check_mode=check_mode, backup=params.get("backup", False))
        self.key_mode = parse_mode(params.get("key_mode", "0600"), "key_mode")
        self.cert_mode = parse_mode(params.get("cert_mode", "0644"), "cert_mode")
        self.uid = resolve_uid(params.get("owner"))
        self.gid = resolve_gid(params.get("group"))
        self.on_unreadable = params.get("on_unreadable", "regenerate")
        self.warnings = []
        self.diff = {"before": {"ca": {}, "certificates": {}}, "after": {"ca": {}, "certificates": {}}}
        # validate owner/group/modes of every certificate and bundle before anything changes
        for spec in params.get("certificates") or []:
            resolve_uid(spec.get("owner"))
            resolve_gid(spec.get("group"))
            for bundle in spec.get("bundles") or []:
                parse_mode(bundle.get("mode"), "certificates[{}].bundles[{}].mode".format(spec["name"], bundle["path"]))
                resolve_uid(bundle.get("owner"))
                resolve_gid(bundle.get("group"))

    def run(self):
        if os.path.exists(self.directory) and not os.path.isdir(self.directory):
            raise PkiError(f"path {self.directory} exists and is not a directory")
        dir_created = self.store.ensure_dir(self.directory)
        ca_result, ca_key, ca_cert, ca_pem = self._ca()
        cert_results = [self._certificate(spec, ca_key, ca_cert, ca_pem) for spec in self.params["certificates"]]
        changed = dir_created or ca_result["changed"] or any(r["changed"] for r in cert_results)
        return {
            "changed": changed,
            "ca": ca_result,
            "certificates": cert_results,
            "backup_files": list(self.store.backup_files),
        }

    # -- CA
    def _ca(self):
        item = CAItem(self.params["ca"], self.directory, self.params.get("organization"), self.now)
        self.ca_item = item
        reason = item.needs_regeneration()
        self.warnings.extend(item.warnings)
        pair = item.pair
        before = cert_facts(pair.cert, None) if pair.cert is not None else {}
        if before:
            before["key_type"] = key_type_of(pair.key) if pair.key is not None else before["key_type"]
        result = {
            "reason": reason,
            "warnings": list(item.warnings),
            "key_path": pair.key_path,
            "cert_path": pair.cert_path,
        }
        if reason is None:
            key, cert, pem = pair.key, pair.cert, pair.cert_bytes
            facts = cert_facts(cert)
            facts["key_type"] = key_type_of(key)
            content_changed = False
        else:
            item.replaced = item.existed
            content_changed = True
            if self.check_mode:
                key, cert, pem = None, None, None
                facts = item.planned_facts(reason)
            else:
                key, cert = item.generate()
                pem = cert.public_bytes(serialization.Encoding.PEM)
                unreadable = reason in ("unreadable", "key_mismatch")
                self.store.write(pair.key_path, key_pem(key), self.key_mode, self.uid, self.gid, unreadable)
                self.store.write(pair.cert_path, pem, self.cert_mode, self.uid, self.gid, unreadable)
                facts = cert_facts(cert)
                facts["key_type"] = key_type_of(key)
        facts.pop("reason", None)
        attrs = self.store.set_attributes(pair.key_path, self.key_mode, self.uid, self.gid)
        attrs = self.store.set_attributes(pair.cert_path, self.cert_mode, self.uid, self.gid) or attrs
        for drop in ("dns", "ip", "usage"):
            facts.pop(drop, None)
            before.pop(drop, None)
        result.update(facts)
        result["changed"] = content_changed or attrs
        result["attributes_changed"] = attrs and not content_changed
        if content_changed:
            self.diff["before"]["ca"] = before
            self.diff["after"]["ca"] = dict(facts, reason=reason)
        return result, key, cert, pem

    # -- certificates
    def _certificate(self, spec, ca_key, ca_cert, ca_pem):
        item = CertificateItem(spec, self.directory, self.params.get("organization"), self.now)
        pair = item.pair
        uid = resolve_uid(spec.get("owner")) if spec.get("owner") is not None else self.uid
        gid = resolve_gid(spec.get("group")) if spec.get("group") is not None else self.gid
        if ca_cert is None:
            # check mode with a CA that would be (re)created: every certificate would be reissued
            key_reason = item.needs_new_key(self.on_unreadable)
            item.key_regenerated = key_reason is not None
            if key_reason is not None:
                reason = key_reason
            elif self.ca_item.existed:
                reason = "ca_replaced"
            elif pair.cert_missing:
                reason = "missing"
            else:
                reason = "issuer_mismatch"
        else:
            reason = item.needs_regeneration(ca_cert, self.ca_item.replaced, self.on_unreadable)
            self.warnings.extend(item.warnings)
        before = {}
        if pair.cert is not None:
            before = cert_facts(pair.cert)
        result = {
            "name": item.name,
            "reason": reason,
            "key_regenerated": item.key_regenerated if reason else False,
            "key_path": pair.key_path,
            "cert_path": pair.cert_path,
            "ca_path": self.ca_item.pair.cert_path,
        }
        key = pair.key
        key_bytes = pair.key_bytes
        cert_bytes = pair.cert_bytes
        if reason is None:
            facts = cert_facts(pair.cert)
        elif self.check_mode:
            ca_subject = (
                ca_cert.subject.rfc4514_string() if ca_cert is not None else self.ca_item.planned_facts(None)["subject"]
            )
            facts = item.planned_facts(ca_cert, ca_subject, reason)
            facts.pop("reason")
            cert_bytes = None
            if item.key_regenerated:
                key_bytes = None
        else:
            if item.key_regenerated:
                key = generate_key(spec["key_type"])
                key_bytes = key_pem(key)
                self.store.write(pair.key_path, key_bytes, self.key_mode, uid, gid, force_backup=reason == "unreadable")
            cert = item.issue(key, ca_key, ca_cert)
            cert_bytes = cert.public_bytes(serialization.Encoding.PEM)
            self.store.write(
                pair.cert_path,
                cert_bytes,
                self.cert_mode,
                uid,
                gid,
                force_backup=reason == "unreadable" and pair.cert_error is not None,
            )
            facts = cert_facts(cert)
        attrs = self.store.set_attributes(pair.key_path, self.key_mode, uid, gid)
        attrs = self.store.set_attributes(pair.cert_path, self.cert_mode, uid, gid) or attrs
        bundles, bundle_content_changed, bundle_attrs = self._bundles(spec, key_bytes, cert_bytes, ca_pem, uid, gid)
        content_changed = reason is not None or bundle_content_changed
        result.update(facts)
        result["bundles"] = bundles
        result["attributes_changed"] = (attrs or bundle_attrs) and not content_changed
        result["changed"] = content_changed or attrs or bundle_attrs
        if reason is not None:
            self.diff["before"]["certificates"][item.name] = before
            self.diff["after"]["certificates"][item.name] = dict(facts, reason=reason)
        return result

    def _bundles(self, spec, key_bytes, cert_bytes, ca_pem, uid, gid):  # noqa: PLR0917
        results = []
        any_content = False
        any_attrs = False
        parts = {"key": key_bytes, "cert": cert_bytes, "ca": ca_pem}
        for bundle in spec.get("bundles") or []:
            path = resolve(self.directory, bundle["path"])
            has_key = "key" in bundle["content"]
            mode = parse_mode(bundle.get("mode"), "bundle mode")
            if mode is None:
                mode = self.key_mode if has_key else self.cert_mode
            b_uid = resolve_uid(bundle["owner"]) if bundle.get("owner") is not None else uid
            b_gid = resolve_gid(bundle["group"]) if bundle.get("group") is not None else gid
            if any(parts[p] is None for p in bundle["content"]):
                # check mode, material would be regenerated: the bundle would change
                data = None
                content_changed = True
            else:
                data = b"".join(_pem_section(parts[p]) for p in bundle["content"])
                try:
                    existing = read_bytes(path)
                except Unreadable:
                    existing = None
                content_changed = existing != data
            if content_changed and data is not None:
                self.store.write(path, data, mode, b_uid, b_gid)
            attrs = self.store.set_attributes(path, mode, b_uid, b_gid)
            any_content = any_content or content_changed
            any_attrs = any_attrs or attrs
            results.append({"path": path, "content": list(bundle["content"]), "changed": content_changed or attrs})
        return results, any_content, any_attrs


def _pem_section(data):
    data = data.strip(b"\n") if data else b""
    return data + b"\n"


# --------------------------------------------------------------------------- validate


def _name_covered(name, dns_sans):
    name = name.lower().rstrip(".")
    for entry in dns_sans:
        san = entry.lower().rstrip(".")
        if san == name:
            return True
        if san.startswith("*.") and "." in name:
            head, tail = name.split(".", 1)
            if head and tail == san[2:]:
                return True
    return False


def _is_ca(cert):
    bc = _extension(cert, x509.BasicConstraints)
    return bc is not None and bc.ca


def build_chain(leaf, intermediates, anchors, now, max_depth=8):
    """Return (chain, None) when leaf chains to one of the anchors, else (None, why)."""
    anchor_der = {a.public_bytes(serialization.Encoding.DER) for a in anchors}
    pool = list(intermediates) + list(anchors)
    chain = [leaf]
    current = leaf
    for _depth in range(max_depth):
        if current.public_bytes(serialization.Encoding.DER) in anchor_der:
            return chain, None
        candidates = [c for c in pool if c.subject == current.issuer and signed_by(current, c)]
        if not candidates:
            if current is leaf:
                return (
                    None,
                    f"no certificate in the CA bundle/chain signed it (issuer {current.issuer.rfc4514_string()})",
                )
            return (
                None,
                f"no issuer found for intermediate {current.subject.rfc4514_string()} "
                f"(issuer {current.issuer.rfc4514_string()})",
            )
        issuer = candidates[0]
        if not _is_ca(issuer):
            return (
                None,
                f"issuer {issuer.subject.rfc4514_string()} is not a CA certificate (basicConstraints CA:TRUE missing)",
            )
        if not (not_before(issuer) <= now < not_after(issuer)):
            return (
                None,
                f"issuer {issuer.subject.rfc4514_string()} is not valid now "
                f"(valid {iso(not_before(issuer))} to {iso(not_after(issuer))})",
            )
        if issuer is current:  # self-signed but not an anchor
            break
        chain.append(issuer)
        current = issuer
    if current.public_bytes(serialization.Encoding.DER) in anchor_der:
        return chain, None
    return None, f"the chain ends at {current.subject.rfc4514_string()}, which is not in the CA bundle"


def add_failure(failures, path, rule, msg):
    failures.append({"file": path, "rule": rule, "msg": f"{path}: {msg}"})


def validate_certificates(params, now=None):
    """Run state=validate. Returns (results, messages); writes nothing."""
    validate_params(params)
    now = now or utcnow()
    directory = os.path.abspath(params["path"])
    bundle_path = resolve(directory, params["ca_bundle"])
    anchors = []
    bundle_failure = None
    try:
        data = read_bytes(bundle_path)
        if data is None:
            raise Unreadable(bundle_path, "file does not exist")
        anchors = parse_certs(bundle_path, data)
    except Unreadable as exc:
        bundle_failure = {"file": bundle_path, "rule": "unreadable", "msg": str(exc)}
    results = []
    messages = []
    for spec in params.get("certificates") or []:
        failures = []
        key_path = resolve(directory, spec.get("key_path") or spec["name"] + ".key")
        cert_path = resolve(directory, spec.get("cert_path") or spec["name"] + ".crt")

        if bundle_failure:
            failures.append(dict(bundle_failure))
        key = cert = None
        extra = []
        try:
            raw = read_bytes(cert_path)
            if raw is None:
                raise Unreadable(cert_path, "file does not exist")
            certs = parse_certs(cert_path, raw)
            cert, extra = certs[0], certs[1:]
        except Unreadable as exc:
            add_failure(failures, cert_path, "unreadable", f"certificate cannot be read ({exc.why})")
        try:
            raw = read_bytes(key_path)
            if raw is None:
                raise Unreadable(key_path, "file does not exist")
            key = parse_key(key_path, raw)
        except Unreadable as exc:
            add_failure(failures, key_path, "unreadable", f"private key cannot be read ({exc.why})")
        if spec.get("chain_path"):
            chain_path = resolve(directory, spec["chain_path"])
            try:
                raw = read_bytes(chain_path)
                if raw is None:
                    raise Unreadable(chain_path, "file does not exist")
                extra = extra + parse_certs(chain_path, raw)
            except Unreadable as exc:
                add_failure(failures, chain_path, "unreadable", f"chain cannot be read ({exc.why})")
        facts = {}
        if cert is not None:
            facts = cert_facts(cert)
            if key is not None and spki(key.public_key()) != spki(cert.public_key()):
                add_failure(
                    failures, cert_path, "key_mismatch", f"certificate does not match the private key {key_path}"
                )
            if anchors:
                _chain, why = build_chain(cert, extra, anchors, now)
                if why:
                    add_failure(failures, cert_path, "chain", f"does not chain to a CA in {bundle_path}: {why}")
            dns, ips = sans_of(cert)
            missing = [d for d in spec.get("dns") or [] if not _name_covered(d, dns)]
            have_ips = {ipaddress.ip_address(i) for i in ips}
            missing += [i for i in spec.get("ip") or [] if ipaddress.ip_address(i) not in have_ips]
            if missing:
                add_failure(
                    failures,
                    cert_path,
                    "names",
                    "subjectAltName does not cover {} (has DNS {}, IP {})".format(
                        ", ".join(missing), ", ".join(dns) or "none", ", ".join(ips) or "none"
                    ),
                )
            eku = _extension(cert, x509.ExtendedKeyUsage)
            wanted = spec.get("usage", "server")
            need = []
            if wanted in ("server", "both"):
                need.append(("serverAuth", ExtendedKeyUsageOID.SERVER_AUTH))
            if wanted in ("client", "both"):
                need.append(("clientAuth", ExtendedKeyUsageOID.CLIENT_AUTH))
            if eku is not None:
                lacking = [label for label, oid in need if oid not in eku]
                if lacking:
                    add_failure(
                        failures,
                        cert_path,
                        "usage",
                        "extendedKeyUsage lacks {} required for usage={}".format(", ".join(lacking), wanted),
                    )
            ku = _extension(cert, x509.KeyUsage)
            if ku is not None and not ku.digital_signature:
                add_failure(failures, cert_path, "usage", "keyUsage lacks digitalSignature required for TLS")
            if now < not_before(cert):
                add_failure(failures, cert_path, "not_yet_valid", f"not valid before {iso(not_before(cert))}")
            if now >= not_after(cert):
                add_failure(failures, cert_path, "expired", f"expired on {iso(not_after(cert))}")
            elif not_after(cert) - now <= datetime.timedelta(days=spec.get("renew_before", 30)):
                add_failure(
                    failures,
                    cert_path,
                    "renew_window",
                    f"expires on {iso(not_after(cert))}, within renew_before={spec.get('renew_before', 30)} days",
                )
        result = {
            "name": spec["name"],
            "key_path": key_path,
            "cert_path": cert_path,
            "ca_path": bundle_path,
            "valid": not failures,
            "failures": failures,
            "changed": False,
        }
        result.update(facts)
        results.append(result)
        messages.extend("{} [rule {}]".format(f["msg"], f["rule"]) for f in failures)
    return results, messages


# --------------------------------------------------------------------------- entry point


def execute(params, check_mode=False, diff=False):
    """Run the pki logic for validated module parameters.

    Shared by the module (executed on the target) and the action plugin (executed in-process on
    the controller when the target is the controller itself). Returns the result dict; a failure
    has `failed: true` and `msg`; warnings are returned in `warnings` for the caller to emit."""
    try:
        if params.get("state") == "validate":
            results, messages = validate_certificates(params)
            if messages and params.get("fail_on_invalid", True):
                return {
                    "failed": True,
                    "changed": False,
                    "msg": f"{len(messages)} certificate check(s) failed: " + "; ".join(messages),
                    "certificates": results,
                }
            return {"changed": False, "certificates": results}
        manager = PkiManager(params, check_mode=check_mode)
        result = manager.run()
        if manager.warnings:
            result["warnings"] = list(manager.warnings)
        if diff:
            result["diff"] = manager.diff
        return result
    except PkiError as exc:
        return {"failed": True, "changed": False, "msg": str(exc)}
    except OSError as exc:
        return {"failed": True, "changed": False, "msg": f"file system error: {exc}"}
