# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Webapp's TLS profiles, chosen by ``WA_WEB_SECURITY_LEVEL`` (reference sections 2.2 and 5.1).

Documented behaviour (reference section 5.1, from the Webapp's ``web_setup.sh`` [S20], a lighttpd
configuration):

* ``WA_WEB_SECURITY_LEVEL`` names the profile: ``MODERN`` (the default, and what any other value
  gives), ``INTERMEDIATE`` or ``OLD``; case-insensitive (the script tests ``${WA_WEB_SECURITY_LEVEL^^}``).
* Every profile: ``ssl.disable-client-renegotiation``, ``ssl.ec-curve = secp384r1``, SSLv2 off, the
  server's cipher order honoured.
* MODERN: SSLv3 off, the cipher string ``MODERN_CIPHERS``.
* INTERMEDIATE: SSLv3 off, exactly the Mozilla Server Side TLS 4.0 intermediate OpenSSL string.
* OLD: SSLv3 on, exactly the Mozilla 4.0 old OpenSSL string.
* The lists are Mozilla guideline 4.0's (2016), whose protocol versions are: modern TLS 1.2 only,
  intermediate TLS 1.0 to 1.2, old SSLv3 to TLS 1.2 (``tls_versions`` of the 4.0 JSON).

The Mozilla data come from ``mozilla/ssl-config-generator`` ``src/static/guidelines/4.0.json``
(``MOZILLA_4_0_SOURCE``): its ``openssl_ciphersuites`` strings are the cipher strings below, its
``ciphersuites`` lists are what those strings expanded to in 2016 (``Profile.expansion``), and its
``tls_versions`` give ``Profile.protocols``.

What the local OpenSSL cannot do (SSLv3, 3DES and SEED suites under OpenSSL 3) is not hidden:
``build_server_context`` returns it as ``Gaps``, and ``tests/simulator/DEVIATIONS.md`` ("TLS
profiles") records it with the other choices made here (security level 0, lighttpd's DH group,
no TLS 1.3).
"""

from __future__ import annotations

import dataclasses
import os
import ssl
import string
import tempfile
import warnings

MOZILLA_4_0_SOURCE = (
    "mozilla/ssl-config-generator src/static/guidelines/4.0.json "
    "(commit 46f583855a7676c88281e93ca66c13f39dbd8243; https://ssl-config.mozilla.org/guidelines/4.0.json)"
)
WEBAPP_SOURCE = "reference section 5.1 [S20] (the Webapp's web_setup.sh)"

# Reference section 5.1, verbatim. Mozilla 4.0 modern plus a trailing DHE-RSA-AES128-SHA256.
MODERN_CIPHERS = (
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:"
    "ECDHE-RSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-SHA384:ECDHE-RSA-AES256-SHA384:ECDHE-ECDSA-AES128-SHA256:ECDHE-RSA-AES128-SHA256:"
    "DHE-RSA-AES128-SHA256"
)
# Mozilla 4.0 intermediate "openssl_ciphersuites" (MOZILLA_4_0_SOURCE).
INTERMEDIATE_CIPHERS = (
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-GCM-SHA256:"
    "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-SHA256:ECDHE-RSA-AES128-SHA256:"
    "ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES256-SHA384:ECDHE-RSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA384:"
    "ECDHE-ECDSA-AES256-SHA:ECDHE-RSA-AES256-SHA:DHE-RSA-AES128-SHA256:DHE-RSA-AES128-SHA:"
    "DHE-RSA-AES256-SHA256:DHE-RSA-AES256-SHA:ECDHE-ECDSA-DES-CBC3-SHA:ECDHE-RSA-DES-CBC3-SHA:"
    "EDH-RSA-DES-CBC3-SHA:AES128-GCM-SHA256:AES256-GCM-SHA384:AES128-SHA256:AES256-SHA256:AES128-SHA:"
    "AES256-SHA:DES-CBC3-SHA:!DSS"
)
# Mozilla 4.0 old "openssl_ciphersuites" (MOZILLA_4_0_SOURCE).
OLD_CIPHERS = (
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "DHE-RSA-AES128-GCM-SHA256:DHE-DSS-AES128-GCM-SHA256:kEDH+AESGCM:ECDHE-RSA-AES128-SHA256:"
    "ECDHE-ECDSA-AES128-SHA256:ECDHE-RSA-AES128-SHA:ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES256-SHA384:"
    "ECDHE-ECDSA-AES256-SHA384:ECDHE-RSA-AES256-SHA:ECDHE-ECDSA-AES256-SHA:DHE-RSA-AES128-SHA256:"
    "DHE-RSA-AES128-SHA:DHE-DSS-AES128-SHA256:DHE-RSA-AES256-SHA256:DHE-DSS-AES256-SHA:DHE-RSA-AES256-SHA:"
    "ECDHE-RSA-DES-CBC3-SHA:ECDHE-ECDSA-DES-CBC3-SHA:EDH-RSA-DES-CBC3-SHA:AES128-GCM-SHA256:"
    "AES256-GCM-SHA384:AES128-SHA256:AES256-SHA256:AES128-SHA:AES256-SHA:AES:DES-CBC3-SHA:HIGH:SEED:"
    "!aNULL:!eNULL:!EXPORT:!DES:!RC4:!MD5:!PSK:!RSAPSK:!aDH:!aECDH:!EDH-DSS-DES-CBC3-SHA:"
    "!KRB5-DES-CBC3-SHA:!SRP"
)

# Mozilla 4.0 "ciphersuites": what the intermediate and old strings selected in 2016.
INTERMEDIATE_EXPANSION = tuple(name for name in INTERMEDIATE_CIPHERS.split(":") if not name.startswith("!"))
OLD_EXPANSION = (
    "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305", "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-ECDSA-AES256-GCM-SHA384",
    "DHE-RSA-AES128-GCM-SHA256", "DHE-DSS-AES128-GCM-SHA256", "DHE-DSS-AES256-GCM-SHA384",
    "DHE-RSA-AES256-GCM-SHA384", "ECDHE-RSA-AES128-SHA256", "ECDHE-ECDSA-AES128-SHA256",
    "ECDHE-RSA-AES128-SHA", "ECDHE-ECDSA-AES128-SHA", "ECDHE-RSA-AES256-SHA384", "ECDHE-ECDSA-AES256-SHA384",
    "ECDHE-RSA-AES256-SHA", "ECDHE-ECDSA-AES256-SHA", "DHE-RSA-AES128-SHA256", "DHE-RSA-AES128-SHA",
    "DHE-DSS-AES128-SHA256", "DHE-RSA-AES256-SHA256", "DHE-DSS-AES256-SHA", "DHE-RSA-AES256-SHA",
    "ECDHE-RSA-DES-CBC3-SHA", "ECDHE-ECDSA-DES-CBC3-SHA", "EDH-RSA-DES-CBC3-SHA", "AES128-GCM-SHA256",
    "AES256-GCM-SHA384", "AES128-SHA256", "AES256-SHA256", "AES128-SHA", "AES256-SHA", "DHE-DSS-AES256-SHA256",
    "DHE-DSS-AES128-SHA", "DES-CBC3-SHA", "DHE-RSA-CHACHA20-POLY1305", "ECDHE-RSA-CAMELLIA256-SHA384",
    "ECDHE-ECDSA-CAMELLIA256-SHA384", "DHE-RSA-CAMELLIA256-SHA256", "DHE-DSS-CAMELLIA256-SHA256",
    "DHE-RSA-CAMELLIA256-SHA", "DHE-DSS-CAMELLIA256-SHA", "CAMELLIA256-SHA256", "CAMELLIA256-SHA",
    "ECDHE-RSA-CAMELLIA128-SHA256", "ECDHE-ECDSA-CAMELLIA128-SHA256", "DHE-RSA-CAMELLIA128-SHA256",
    "DHE-DSS-CAMELLIA128-SHA256", "DHE-RSA-CAMELLIA128-SHA", "DHE-DSS-CAMELLIA128-SHA", "CAMELLIA128-SHA256",
    "CAMELLIA128-SHA", "DHE-RSA-SEED-SHA", "DHE-DSS-SEED-SHA", "SEED-SHA",
)

# Section 5.1: "ssl.ec-curve = secp384r1" for every profile.
EC_CURVE = "secp384r1"
# OpenSSL 3 speaks TLS 1.0/1.1 (SHA-1 handshake signatures) and 1024-bit DH only at level 0;
# the Webapp's OpenSSL 1.x had no such limit (DEVIATIONS.md, "TLS profiles").
SECURITY_LEVEL = "@SECLEVEL=0"

# lighttpd 1.4's DH parameters when ssl.dh-file is unset (web_setup.sh sets none): the RFC 5114
# section 2.1 1024-bit MODP group with a 160-bit prime order subgroup, privateValueLength 160.
LIGHTTPD_DEFAULT_DH_PARAMS = """-----BEGIN DH PARAMETERS-----
MIIBDAKBgQCxC4+WoIDgHd6S3l6uXVTsUsmfvPsGo8aaap3KUtI7YWBz4oZ1oj0Y
mDjvHi7mUsAT7LSuqQYRIySXXDzUm4O/rMvdfZDEvXCYSI6cIZpzck7/1vrlZEc4
+qMaT/VbzMChUa9fDci0vUW/N982XBpl5oz9p21NpwjfH7K8LkpDcQKBgQCk0cvV
w/00EmdlpELvuZkF+BBN0lisUH/WQGz/FCZtMSZv6h5cQVZLd35pD1UE8hMWAhe0
sBuIal6RVH+eJ0n01/vX07mpLuGQnQ0iY/gKdqaiTAh6CR9THb8KAWm2oorWYqTR
jnOvoy13nVkY0IvIhY9Nzvl8KiSFXm7rIrOy5QICAKA=
-----END DH PARAMETERS-----
"""

# Documented protocol names, oldest first, with the ssl module's version and availability flag.
_VERSIONS = {
    "SSLv3": (ssl.TLSVersion.SSLv3, "HAS_SSLv3"),
    "TLSv1": (ssl.TLSVersion.TLSv1, "HAS_TLSv1"),
    "TLSv1.1": (ssl.TLSVersion.TLSv1_1, "HAS_TLSv1_1"),
    "TLSv1.2": (ssl.TLSVersion.TLSv1_2, "HAS_TLSv1_2"),
}
# OpenSSL 1.1.0 renamed the EDH- suites DHE-; compare under the current names.
_RENAMED = {"EDH-RSA-DES-CBC3-SHA": "DHE-RSA-DES-CBC3-SHA", "EDH-DSS-DES-CBC3-SHA": "DHE-DSS-DES-CBC3-SHA"}


@dataclasses.dataclass(frozen=True)
class Profile:
    """One documented profile: its TLS versions (oldest first), cipher string and 2016 expansion."""

    name: str
    protocols: tuple
    ciphers: str
    expansion: tuple
    source: str


MODERN = Profile(
    "MODERN", ("TLSv1.2",), MODERN_CIPHERS, tuple(MODERN_CIPHERS.split(":")), WEBAPP_SOURCE
)
INTERMEDIATE = Profile(
    "INTERMEDIATE", ("TLSv1", "TLSv1.1", "TLSv1.2"), INTERMEDIATE_CIPHERS, INTERMEDIATE_EXPANSION,
    MOZILLA_4_0_SOURCE,
)
OLD = Profile(
    "OLD", ("SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2"), OLD_CIPHERS, OLD_EXPANSION, MOZILLA_4_0_SOURCE
)
PROFILES = {profile.name: profile for profile in (MODERN, INTERMEDIATE, OLD)}
DEFAULT = MODERN

_ASCII_UPPER = str.maketrans(string.ascii_lowercase, string.ascii_uppercase)


def select_profile(value):
    """The profile ``WA_WEB_SECURITY_LEVEL=value`` gives (section 5.1): unset, empty or unknown is MODERN.

    Upper-cased as bash's ``${var^^}`` does in the container's C locale: ASCII letters only, no trimming.
    """
    return PROFILES.get((value or "").translate(_ASCII_UPPER), DEFAULT)


@dataclasses.dataclass(frozen=True)
class Gaps:
    """What a profile documents and the local OpenSSL cannot do, measured on the built context.

    ``protocols``: documented versions this OpenSSL cannot speak. ``missing_suites``: suites of the
    profile's 2016 expansion this OpenSSL does not offer. ``extra_suites``: suites the same cipher
    string selects here that it did not select in 2016 (OLD's ``HIGH`` and ``AES`` grew).
    """

    protocols: tuple = ()
    missing_suites: tuple = ()
    extra_suites: tuple = ()

    def __bool__(self):
        return bool(self.protocols or self.missing_suites or self.extra_suites)


def enabled_suites(context):
    """The TLS <= 1.2 cipher suites ``context`` offers, in its preference order."""
    return tuple(c["name"] for c in context.get_ciphers() if c["protocol"] != "TLSv1.3")


def _available(version_name):
    return bool(getattr(ssl, _VERSIONS[version_name][1], False))


def build_server_context(profile):
    """A server ``ssl.SSLContext`` configured as the Webapp's lighttpd is for ``profile`` (section 5.1).

    Returns ``(context, gaps)``. The context has the profile's protocol range (capped at TLS 1.2,
    the newest version Mozilla 4.0 names), its exact cipher string (TLS <= 1.2 suites) at OpenSSL
    security level 0, ``secp384r1`` as the only ECDHE group, lighttpd's default DH group for the DHE
    suites, the server's cipher order, no client renegotiation and no compression. The caller loads
    the certificate (``context.load_cert_chain``).
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    speakable = [name for name in profile.protocols if _available(name)]
    missing_protocols = tuple(name for name in profile.protocols if name not in speakable)
    with warnings.catch_warnings():
        # The ssl module deprecates TLS 1.0/1.1 and SSLv3; INTERMEDIATE and OLD document them.
        warnings.simplefilter("ignore", DeprecationWarning)
        if "SSLv3" in speakable:
            context.options &= ~ssl.OP_NO_SSLv3
        context.minimum_version = _VERSIONS[speakable[0]][0]
        context.maximum_version = _VERSIONS[speakable[-1]][0]
    context.options |= ssl.OP_CIPHER_SERVER_PREFERENCE | ssl.OP_NO_RENEGOTIATION | ssl.OP_NO_COMPRESSION
    context.set_ciphers(profile.ciphers + ":" + SECURITY_LEVEL)
    context.set_ecdh_curve(EC_CURVE)
    _load_dh_params(context, LIGHTTPD_DEFAULT_DH_PARAMS)

    offered = enabled_suites(context)
    expected = {_RENAMED.get(name, name) for name in profile.expansion}
    gaps = Gaps(
        protocols=missing_protocols,
        missing_suites=tuple(name for name in profile.expansion if _RENAMED.get(name, name) not in offered),
        extra_suites=tuple(name for name in offered if name not in expected),
    )
    return context, gaps


def _load_dh_params(context, pem):
    # SSLContext.load_dh_params reads only from a file.
    handle, path = tempfile.mkstemp(prefix="waent-sim-dh-", suffix=".pem")
    try:
        with os.fdopen(handle, "w", encoding="ascii") as stream:
            stream.write(pem)
        context.load_dh_params(path)
    finally:
        os.unlink(path)
