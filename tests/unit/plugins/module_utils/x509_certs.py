# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Test helper: certificates with exactly the extensions a test needs (works at the floor cryptography)."""

from __future__ import annotations

import datetime
import ipaddress

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.x509.oid import NameOID

DAY = datetime.timedelta(days=1)


def make_cert(cn, key, issuer=None, issuer_key=None, *, ca=None, start=None, end=None, days=365, names=(), eku=None,
              key_usage=None):
    """A certificate for ``key`` named CN=``cn``.

    ``issuer``: the issuing certificate, or its CN as text, or None to self-sign; ``ca``: the
    basicConstraints CA flag, None to leave the extension out; ``names``: SANs, addresses as
    iPAddress and the rest as dNSName; ``start``/``end``: validity (default from yesterday for
    ``days``)."""
    start = start or datetime.datetime.now(datetime.UTC) - DAY
    end = end or start + days * DAY
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    if isinstance(issuer, x509.Certificate):
        issuer_name = issuer.subject
    else:
        issuer_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]) if issuer else subject
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer_name)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(start).not_valid_after(end))
    if ca is not None:
        builder = builder.add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    if names:
        entries = []
        for name in names:
            try:
                entries.append(x509.IPAddress(ipaddress.ip_address(name)))
            except ValueError:
                entries.append(x509.DNSName(name))
        builder = builder.add_extension(x509.SubjectAlternativeName(entries), critical=False)
    if eku:
        builder = builder.add_extension(x509.ExtendedKeyUsage(eku), critical=False)
    if key_usage is not None:
        builder = builder.add_extension(key_usage, critical=True)
    signer = issuer_key or key
    return builder.sign(signer, None if isinstance(signer, ed25519.Ed25519PrivateKey) else hashes.SHA256())
