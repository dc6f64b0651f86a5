# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Webapp's certificate upload bundle (reference section 4.3), checked before it is sent.

The Webapp accepts any body with at least three ``BEGIN CERTIFICATE``-separated sections and
stores it; a bundle whose key does not match its certificate makes the **next start** fail, and
the recovery is to stop the Webapp and delete the ``certs`` table. So everything the Webapp would
only find out at that restart is checked here, before the upload: the order (private key, server
certificate, at least one CA certificate), the key against the certificate, the chain, the
validity, the names.
"""

from __future__ import annotations

import datetime

from ansible_collections.waent.onprem.plugins.module_utils import _x509

MARKER = "-----BEGIN CERTIFICATE-----"


class Bundle:
    def __init__(self, key, certificate, cas, text):
        self.key = key
        self.certificate = certificate
        self.cas = cas
        self.text = text

    def facts(self):
        """What the module returns about the bundle: never the key."""
        return {**_x509.cert_facts(self.certificate), "ca_count": len(self.cas)}


def parse(text):
    """``(Bundle or None, problems)``; the bundle is returned only when there is no problem."""
    problems = []
    sections = text.split(MARKER)
    if len(sections) < 3:
        return None, ["the bundle must hold, in this order, the private key, the server certificate and at "
                      f"least one CA certificate (section 4.3): it has {max(len(sections) - 1, 0)} certificate(s)"]
    if "PRIVATE KEY-----" not in sections[0]:
        problems.append("the bundle must start with the private key (section 4.3's order: key, certificate, CAs)")
    try:
        key = _x509.load_private_key(sections[0].encode("ascii", "replace"))
    except _x509.X509Error as exc:
        return None, problems + [f"the private key cannot be read: {exc}"]
    try:
        certificates = _x509.load_certificates(text.encode("ascii", "replace"))
    except _x509.X509Error as exc:
        return None, problems + [f"a certificate cannot be read: {exc}"]
    leaf, cas = certificates[0], certificates[1:]
    if not cas:
        return None, problems + ["the bundle holds one readable certificate: add at least one CA certificate after "
                                 "the server certificate (section 4.3)"]
    if not _x509.key_matches(key, leaf):
        problems.append("the private key does not match the server certificate: the Webapp would accept the upload "
                        "and then fail to start (section 4.3)")
    if _x509.is_ca(leaf):
        problems.append("the first certificate is a CA certificate: put the server certificate right after the key")
    if not _x509.signed_by(leaf, cas[0]):
        problems.append(f"the server certificate is not signed by the next certificate "
                        f"({_x509.common_name_of(cas[0].subject) or cas[0].subject.rfc4514_string()})")
    return (None if problems else Bundle(key, leaf, cas, text)), problems


def usability_problems(bundle, names, min_days_valid, now=None):
    """Names not covered and a validity ending within ``min_days_valid`` days."""
    problems = []
    dns, ips = _x509.sans_of(bundle.certificate)
    for name in names:
        if not _x509.name_matches(name, dns, ips):
            listed = ", ".join(dns + ips) or "none"
            problems.append(f"the server certificate does not cover {name} (its names: {listed})")
    now = now or _x509.utcnow()
    if _x509.not_after(bundle.certificate) < now + datetime.timedelta(days=min_days_valid):
        problems.append(f"the server certificate expires on {_x509.iso(_x509.not_after(bundle.certificate))}, within "
                        f"{min_days_valid} days")
    if _x509.not_before(bundle.certificate) > now:
        problems.append("the server certificate is not valid yet")
    return problems
