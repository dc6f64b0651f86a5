# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Grade what ``_tls_probe`` found against the profile the deployment asked for
(``WA_WEB_SECURITY_LEVEL``, reference section 5.1) and, as advice, against the current Mozilla
Server Side TLS guideline (section 5.2).

The Webapp's profiles are cipher *strings* (Mozilla 4.0's, 2016). A suite is allowed when the
string selects it on this host's OpenSSL or when 2016's expansion listed it (the string's
``HIGH``/``AES`` grew since); anything else accepted, and any protocol version other than the
profile's, fails the grade. Data shipped here, not fetched: the audit runs in closed networks.
"""

from __future__ import annotations

import ssl

WEBAPP_SOURCE = "reference section 5.1 (the Webapp's web_setup.sh)"
MOZILLA_4_0 = "Mozilla Server Side TLS 4.0 (ssl-config-generator guidelines/4.0.json)"
MOZILLA_CURRENT = "Mozilla Server Side TLS 6.0 intermediate (ssl-config-generator guidelines/6.0.json)"

_MODERN = (
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:"
    "ECDHE-RSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-SHA384:ECDHE-RSA-AES256-SHA384:ECDHE-ECDSA-AES128-SHA256:ECDHE-RSA-AES128-SHA256:"
    "DHE-RSA-AES128-SHA256"
)
_INTERMEDIATE = (
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-GCM-SHA256:"
    "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-SHA256:ECDHE-RSA-AES128-SHA256:"
    "ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES256-SHA384:ECDHE-RSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA384:"
    "ECDHE-ECDSA-AES256-SHA:ECDHE-RSA-AES256-SHA:DHE-RSA-AES128-SHA256:DHE-RSA-AES128-SHA:"
    "DHE-RSA-AES256-SHA256:DHE-RSA-AES256-SHA:ECDHE-ECDSA-DES-CBC3-SHA:ECDHE-RSA-DES-CBC3-SHA:"
    "EDH-RSA-DES-CBC3-SHA:AES128-GCM-SHA256:AES256-GCM-SHA384:AES128-SHA256:AES256-SHA256:AES128-SHA:"
    "AES256-SHA:DES-CBC3-SHA:!DSS"
)
_OLD = (
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
# Mozilla 4.0 "ciphersuites" of old that its string no longer selects by name (CAMELLIA, SEED, DSS):
# allowed too, the 2016 expansion being the profile's meaning.
_OLD_2016_EXTRA = (
    "DHE-DSS-AES256-GCM-SHA384", "DHE-RSA-AES256-GCM-SHA384", "DHE-DSS-AES256-SHA256", "DHE-DSS-AES128-SHA",
    "DHE-RSA-CHACHA20-POLY1305", "ECDHE-RSA-CAMELLIA256-SHA384", "ECDHE-ECDSA-CAMELLIA256-SHA384",
    "DHE-RSA-CAMELLIA256-SHA256", "DHE-DSS-CAMELLIA256-SHA256", "DHE-RSA-CAMELLIA256-SHA", "DHE-DSS-CAMELLIA256-SHA",
    "CAMELLIA256-SHA256", "CAMELLIA256-SHA", "ECDHE-RSA-CAMELLIA128-SHA256", "ECDHE-ECDSA-CAMELLIA128-SHA256",
    "DHE-RSA-CAMELLIA128-SHA256", "DHE-DSS-CAMELLIA128-SHA256", "DHE-RSA-CAMELLIA128-SHA", "DHE-DSS-CAMELLIA128-SHA",
    "CAMELLIA128-SHA256", "CAMELLIA128-SHA", "DHE-RSA-SEED-SHA", "DHE-DSS-SEED-SHA", "SEED-SHA",
)

# WA_WEB_SECURITY_LEVEL -> (protocol versions, cipher string, suites allowed beyond what the string selects).
WEBAPP_PROFILES = {
    "MODERN": (("TLSv1.2",), _MODERN, ()),
    "INTERMEDIATE": (("TLSv1", "TLSv1.1", "TLSv1.2"), _INTERMEDIATE, ()),
    "OLD": (("SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2"), _OLD, _OLD_2016_EXTRA),
}

# Section 5.2: Mozilla 6.0 intermediate (the current guideline; "old" was removed in 6.0).
MOZILLA_INTERMEDIATE_PROTOCOLS = ("TLSv1.2", "TLSv1.3")
MOZILLA_INTERMEDIATE_SUITES = (
    "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
)
MOZILLA_TLS13_SUITES = ("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256")

# OpenSSL 1.1.0 renamed the EDH- suites DHE-; compare under the current names.
_RENAMED = {"EDH-RSA-DES-CBC3-SHA": "DHE-RSA-DES-CBC3-SHA", "EDH-DSS-DES-CBC3-SHA": "DHE-DSS-DES-CBC3-SHA"}


def _selected(cipher_string):
    """The TLS <= 1.2 suites ``cipher_string`` selects on this host's OpenSSL."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    try:
        context.set_ciphers(cipher_string + ":@SECLEVEL=0")
    except ssl.SSLError:
        return set()
    return {c["name"] for c in context.get_ciphers() if c["protocol"] != "TLSv1.3"}


def allowed_suites(level):
    _protocols, string, extra = WEBAPP_PROFILES[level]
    named = {_RENAMED.get(name, name) for name in string.split(":") if name and not name.startswith("!")}
    return _selected(string) | named | set(extra)


def untestable_suites(level, local):
    """The suites ``level`` allows that this host's OpenSSL (``local``) cannot offer: the grade
    cannot see whether the endpoint accepts them (3DES, SEED, CAMELLIA on OpenSSL 3)."""
    return sorted(allowed_suites(level) - set(local))


def grade(result, level):
    """The problems of ``result`` (a ``_tls_probe.probe`` result) against ``level``: each a sentence
    naming what was accepted or refused and what the profile says. Empty: the endpoint matches."""
    if level not in WEBAPP_PROFILES:
        raise ValueError(f"unknown WA_WEB_SECURITY_LEVEL {level!r}: MODERN, INTERMEDIATE or OLD")
    protocols, _string, _extra = WEBAPP_PROFILES[level]
    problems = []
    for name, status in result["protocols"].items():
        wanted = name in protocols
        # TLS 1.3 is newer than every profile (Mozilla 4.0 predates it): accepting it is no downgrade.
        if status == "accepted" and not wanted and name != "TLSv1.3":
            problems.append(f"{name} accepted: the {level} profile offers {', '.join(protocols)} only")
        elif status == "refused" and wanted:
            problems.append(f"{name} refused: the {level} profile offers it")
    extra = sorted(set(result["suites"]) - allowed_suites(level))
    if extra:
        problems.append(f"{len(extra)} suites outside the {level} profile accepted: {', '.join(extra)}")
    if not result["suites"] and any(result["protocols"][name] == "accepted" for name in protocols if name != "TLSv1.3"):
        problems.append("no TLS <= 1.2 suite accepted although the protocol is")
    return problems


def advise(result):
    """How ``result`` departs from Mozilla's current intermediate guideline: advice, not failure
    (the Webapp's own profiles predate it; a TLS-terminating proxy can meet it, section 5.1)."""
    notes = []
    old = [name for name, status in result["protocols"].items()
           if status == "accepted" and name not in MOZILLA_INTERMEDIATE_PROTOCOLS]
    if old:
        notes.append(f"{', '.join(old)} accepted: {MOZILLA_CURRENT} offers TLSv1.2 and TLSv1.3 only")
    if result["protocols"].get("TLSv1.3") != "accepted":
        notes.append(f"TLSv1.3 not offered: {MOZILLA_CURRENT} recommends it")
    weak = sorted(set(result["suites"]) - set(MOZILLA_INTERMEDIATE_SUITES))
    if weak:
        notes.append(f"{len(weak)} TLS <= 1.2 suites beyond {MOZILLA_CURRENT}'s six: {', '.join(weak)}")
    if result.get("tls13_suite") and result["tls13_suite"] not in MOZILLA_TLS13_SUITES:
        notes.append(f"TLS 1.3 negotiated {result['tls13_suite']}, not one of {', '.join(MOZILLA_TLS13_SUITES)}")
    return notes
