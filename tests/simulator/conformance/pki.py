# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The suite's test PKI, made with ``cryptography`` on the host and bind-mounted read-only at ``/pki``.

* DB CA: a server certificate per database container (its name and address), one for another
  name (the verification check), the DB client certificate (CN ``waent``: PostgreSQL's
  ``clientcert=verify-full`` compares it with the user name).
* Webhook CA, separate: the callback receiver's server certificate (reference section 4.4).
* Upload bundles for ``POST /v1/certificates/external`` (section 4.3): root CA, intermediate CA,
  server certificate and key; and one whose key is not the certificate's.

Certificates are 0644, keys 0600 (libpq refuses a key others can read); the containers read them
as root, and the database containers copy theirs to files their server user owns.
"""

from __future__ import annotations

import dataclasses
import datetime
import ipaddress
import os
import pathlib

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

MOUNT = "/pki"
DB_USER = "waent"


@dataclasses.dataclass
class Material:
    """One certificate and its key, with their file names under the PKI directory."""

    name: str
    key: rsa.RSAPrivateKey
    cert: x509.Certificate
    cert_file: str
    key_file: str

    @property
    def cert_pem(self):
        return self.cert.public_bytes(serialization.Encoding.PEM).decode("ascii")

    @property
    def key_pem(self):
        return key_pem(self.key)

    def cert_path(self, mount=MOUNT):
        return f"{mount}/{self.cert_file}"

    def key_path(self, mount=MOUNT):
        return f"{mount}/{self.key_file}"


def key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode("ascii")


def new_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class PKI:
    """Certificates written under ``directory`` (the host side of the ``/pki`` mount)."""

    def __init__(self, directory):
        self.dir = pathlib.Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
        self.items = {}

    def path(self, file_name):
        return self.dir / file_name

    def _write(self, file_name, text, mode):
        path = self.path(file_name)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "w", encoding="ascii") as stream:
            stream.write(text)
        os.chmod(path, mode)
        return path

    def write_text(self, file_name, text):
        """A further file under ``/pki`` (a bundle, a script) for the containers."""
        return self._write(file_name, text, 0o644)

    def _issue(self, subject, key, issuer, *, ca, dns=(), ips=(), usage=(), days=30, path_length=None):
        """A certificate for ``key`` signed by ``issuer`` (a Material), or self-signed when it is None."""
        public_key = key.public_key()
        signer, issuer_name, issuer_ski = (
            (issuer.key, issuer.cert.subject,
             issuer.cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value)
            if issuer is not None else (key, subject, None))
        builder = (x509.CertificateBuilder()
                   .subject_name(subject).issuer_name(issuer_name).public_key(public_key)
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(self.now - datetime.timedelta(hours=1))
                   .not_valid_after(self.now + datetime.timedelta(days=days))
                   .add_extension(x509.BasicConstraints(ca=ca, path_length=path_length), critical=True)
                   .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False))
        if issuer_ski is not None:
            builder = builder.add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(issuer_ski), critical=False)
        if ca:
            builder = builder.add_extension(x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False, data_encipherment=False,
                key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False),
                critical=True)
        else:
            builder = builder.add_extension(x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=True, data_encipherment=False,
                key_agreement=False, key_cert_sign=False, crl_sign=False, encipher_only=False, decipher_only=False),
                critical=True)
            builder = builder.add_extension(x509.ExtendedKeyUsage(list(usage)), critical=False)
            alt = [x509.DNSName(d) for d in dns] + [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
            if alt:
                builder = builder.add_extension(x509.SubjectAlternativeName(alt), critical=False)
        return builder.sign(signer, hashes.SHA256())

    def ca(self, name, common_name, *, parent=None, days=30):
        """A CA (root when ``parent`` is None); written as ``<name>.pem``."""
        if name in self.items:
            return self.items[name]
        key = new_key()
        subject = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "waent.onprem conformance"),
                             x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
        cert = self._issue(subject, key, parent, ca=True, days=days,
                           path_length=None if parent is None else 0)
        return self._store(name, key, cert)

    def leaf(self, name, issuer, common_name, *, dns=(), ips=(), client=False, key=None, days=30):
        """A server (or, ``client=True``, client) certificate; ``<name>.pem`` and ``<name>-key.pem``."""
        if name in self.items:
            return self.items[name]
        key = key or new_key()
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
        usage = (ExtendedKeyUsageOID.CLIENT_AUTH,) if client else (ExtendedKeyUsageOID.SERVER_AUTH,)
        cert = self._issue(subject, key, issuer, ca=False, dns=dns, ips=ips, usage=usage, days=days)
        return self._store(name, key, cert)

    def _store(self, name, key, cert):
        material = Material(name, key, cert, f"{name}.pem", f"{name}-key.pem")
        self._write(material.cert_file, material.cert_pem, 0o644)
        self._write(material.key_file, material.key_pem, 0o600)
        self.items[name] = material
        return material

    # -- the suite's material ---------------------------------------------------------------------
    @property
    def db_ca(self):
        return self.ca("db-ca", "waent conformance DB CA")

    def db_server(self, container_name, ip):
        """The server certificate of a database container: its name and its address."""
        return self.leaf(f"db-server-{container_name}", self.db_ca, container_name, dns=(container_name,), ips=(ip,))

    @property
    def db_server_other_name(self):
        """A valid DB server certificate (same CA) for a name no container has."""
        return self.leaf("db-server-other-name", self.db_ca, "db.elsewhere.invalid", dns=("db.elsewhere.invalid",))

    @property
    def db_client(self):
        return self.leaf("db-client", self.db_ca, DB_USER, client=True)

    @property
    def hook_ca(self):
        return self.ca("hook-ca", "waent conformance webhook receiver CA")

    def hook_server(self, container_name, ip):
        return self.leaf(f"hook-server-{container_name}", self.hook_ca, container_name, dns=(container_name,),
                         ips=(ip,))

    @property
    def upload_root(self):
        return self.ca("upload-root-ca", "waent conformance upload root CA")

    @property
    def upload_intermediate(self):
        return self.ca("upload-intermediate-ca", "waent conformance upload intermediate CA", parent=self.upload_root)

    def upload_server(self, name, server_name, ip):
        return self.leaf(name, self.upload_intermediate, server_name, dns=(server_name,), ips=(ip,))

    def upload_bundle(self, server):
        """Section 4.3's body: private key, server certificate, intermediate CA, root CA (in that order)."""
        return server.key_pem + server.cert_pem + self.upload_intermediate.cert_pem + self.upload_root.cert_pem

    def mismatched_bundle(self, server):
        """The same shape, but the key is not the certificate's (section 4.3: the next start fails)."""
        return (key_pem(new_key()) + server.cert_pem + self.upload_intermediate.cert_pem
                + self.upload_root.cert_pem)


def load_pem_certificates(text):
    """Every certificate in a PEM text, in order."""
    return x509.load_pem_x509_certificates(text.encode("ascii") if isinstance(text, str) else text)
