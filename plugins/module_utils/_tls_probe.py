# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What a TLS endpoint accepts, found with real handshakes from this host's own TLS stack (the
``ssl`` module): each protocol version alone, each TLS <= 1.2 cipher suite alone, the TLS 1.3 suite
it negotiates, and its certificate verified against a CA for a name.

Why the ``ssl`` module and not sslyze or testssl.sh: it is on every managed host (no install, no
download), and one process with a bounded thread pool does the whole scan in a fraction of their
time (benchmarks/). What the local OpenSSL cannot speak (SSLv3 on OpenSSL 3, suites compiled
out) is reported as *untestable*, never as refused: a probe that counts "could not try" as
"refused" would pass a server that accepts everything.

A connection that fails before TLS starts (refused, timeout, reset) is not a verdict about TLS:
it raises ``TlsProbeError`` instead of counting as a refusal, for the same reason.
"""

from __future__ import annotations

import concurrent.futures
import socket
import ssl
import time
import warnings

PROTOCOLS = ("SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")
ACCEPTED = "accepted"
REFUSED = "refused"
UNTESTABLE = "untestable"

_VERSIONS = {
    "SSLv3": (ssl.TLSVersion.SSLv3, "HAS_SSLv3"),
    "TLSv1": (ssl.TLSVersion.TLSv1, "HAS_TLSv1"),
    "TLSv1.1": (ssl.TLSVersion.TLSv1_1, "HAS_TLSv1_1"),
    "TLSv1.2": (ssl.TLSVersion.TLSv1_2, "HAS_TLSv1_2"),
    "TLSv1.3": (ssl.TLSVersion.TLSv1_3, "HAS_TLSv1_3"),
}
# Level 0: OpenSSL 3 refuses TLS 1.0/1.1, SHA-1 signatures and small DH groups above it; the probe
# must be able to *offer* what a weak server accepts.
_ALL_SUITES = "ALL:COMPLEMENTOFALL:@SECLEVEL=0"
# Suites that need a pre-shared key or SRP credentials cannot be offered without them.
_NEEDS_CREDENTIALS = ("PSK", "SRP")
MAX_WORKERS = 64


class TlsProbeError(Exception):
    """The endpoint could not be probed at all (no TCP connection, or no TLS on it)."""


class Target:
    """An endpoint: where to connect, which name to send (SNI) and verify, how long to wait."""

    def __init__(self, address, port, server_name=None, timeout=5.0):
        if not 1 <= int(port) <= 65535:
            raise ValueError(f"port {port} is not a TCP port (1-65535)")
        if not 0 < float(timeout) <= 60:
            raise ValueError(f"timeout must be in (0, 60] seconds, got {timeout}")
        self.address = address
        self.port = int(port)
        self.server_name = server_name or address
        self.timeout = float(timeout)

    def __str__(self):
        return f"{self.address}:{self.port}"


def _speakable(name):
    return bool(getattr(ssl, _VERSIONS[name][1], False))


def _client_context(low, high, suites=_ALL_SUITES):
    """An unverifying client context for versions ``low``..``high`` offering ``suites`` (TLS <= 1.2)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with warnings.catch_warnings():
        # Deprecated versions are what the probe is looking for.
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = _VERSIONS[low][0]
        context.maximum_version = _VERSIONS[high][0]
    context.set_ciphers(suites)
    return context


def local_suites():
    """The TLS <= 1.2 suites this host's OpenSSL can offer (OpenSSL names), PSK and SRP left out,
    grouped by key exchange, authentication and AEAD: ``{(kea, auth, aead): [names]}``."""
    context = _client_context("TLSv1.2", "TLSv1.2")
    families = {}
    for cipher in context.get_ciphers():
        if cipher["protocol"] == "TLSv1.3" or any(tag in cipher["name"] for tag in _NEEDS_CREDENTIALS):
            continue
        # AEAD apart: two shorter eliminations run side by side (the depth is what costs).
        families.setdefault((cipher.get("kea"), cipher.get("auth"), cipher.get("aead")), []).append(cipher["name"])
    return families


def local_suite_names():
    """Every suite of :func:`local_suites`, in OpenSSL's order."""
    return [name for family in local_suites().values() for name in family]


def _connect(target):
    """A TCP connection to ``target``; TlsProbeError when there is none (never a TLS verdict)."""
    try:
        return socket.create_connection((target.address, target.port), timeout=target.timeout)
    except OSError as exc:
        raise TlsProbeError(f"{target}: no TCP connection ({exc.strerror or exc})") from None


def _handshake(target, context):
    """One handshake: ``(version, suite, peer_der)`` when the server completed it, None when it
    refused (an alert or a closed connection during the handshake); TlsProbeError without TCP."""
    raw = _connect(target)
    try:
        with context.wrap_socket(raw, server_hostname=target.server_name) as tls:
            return tls.version(), tls.cipher()[0], tls.getpeercert(binary_form=True)
    except (ssl.SSLError, ConnectionResetError, BrokenPipeError):
        return None
    except socket.timeout:  # noqa: UP041 - module_utils must run on Python 3.9 (not yet TimeoutError)
        raise TlsProbeError(f"{target}: no answer to the TLS handshake within {target.timeout} s") from None
    except OSError:
        return None
    finally:
        raw.close()


def _protocol(target, name):
    if not _speakable(name):
        return name, UNTESTABLE, None
    try:
        context = _client_context(name, name)
    except (ValueError, ssl.SSLError):
        return name, UNTESTABLE, None
    answer = _handshake(target, context)
    return name, (ACCEPTED if answer else REFUSED), answer


def _eliminate(target, family, low, high):
    """The suites of ``family`` the server accepts: offer them all, take the one it picks out, offer
    the rest again, until it refuses. A server that accepts any suite of an offer completes the
    handshake with one of them, so each round finds one accepted suite and the last proves the
    rest refused: accepted + 1 handshakes, at most len(family) + 1."""
    remaining, accepted = list(family), []
    while remaining:
        answer = _handshake(target, _client_context(low, high, ":".join(remaining) + ":@SECLEVEL=0"))
        if not answer or answer[1] not in remaining:
            break
        accepted.append(answer[1])
        remaining.remove(answer[1])
    return accepted, len(accepted) + 1


def verify(target, ca_file):
    """Whether the served chain verifies against ``ca_file`` for ``target.server_name``:
    ``(verified, reason)``, the reason being OpenSSL's when it does not."""
    context = ssl.create_default_context(cafile=ca_file)
    raw = _connect(target)
    try:
        with context.wrap_socket(raw, server_hostname=target.server_name):
            return True, None
    except ssl.SSLCertVerificationError as exc:
        return False, exc.verify_message
    except (ssl.SSLError, OSError) as exc:
        return False, f"handshake failed ({exc})"
    finally:
        raw.close()


def probe(target, ca_file=None, workers=16):
    """Every handshake of a scan, ``workers`` at a time; returns the plain-data result.

    ``protocols``: {name: accepted|refused|untestable}; ``suites``: the TLS <= 1.2 suites accepted
    (local OpenSSL names, in the local order); ``suites_tried``: how many were offered;
    ``tls13_suite``: the suite TLS 1.3 negotiated, or None; ``certificate_der``: the leaf served;
    ``verified``/``verify_error``: the chain against ``ca_file`` for the name (None without one);
    ``handshakes`` and ``seconds``: the cost.
    """
    if not 1 <= workers <= MAX_WORKERS:
        raise ValueError(f"workers must be 1 to {MAX_WORKERS}, got {workers}")
    started = time.monotonic()
    families = local_suites()
    speakable = [name for name in PROTOCOLS[:-1] if _speakable(name)]
    # One phase: the versions, the chain and the suite families all at once. The families need not
    # wait for the versions: offered the whole range up to TLS 1.2, the server negotiates the
    # newest it accepts, where every suite it accepts for an older version exists too (SHA-1 CBC
    # suites included), and a suite only TLS 1.2 has (SHA-256, GCM) is found there.
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        checked = pool.submit(verify, target, ca_file) if ca_file else None
        eliminated = [pool.submit(_eliminate, target, family, speakable[0], speakable[-1])
                      for family in families.values()]
        found = list(pool.map(lambda name: _protocol(target, name), PROTOCOLS))
        found_suites = [future.result() for future in eliminated]
        verified, verify_error = checked.result() if checked else (None, None)
    protocols = {name: status for name, status, _answer in found}
    answers = [answer for _name, _status, answer in found if answer]
    if not answers:
        raise TlsProbeError(f"{target}: no protocol version completed a handshake: not a TLS endpoint, "
                            "or it accepts nothing this host can offer")
    order = [name for family in families.values() for name in family]
    accepted = {name for names, _cost in found_suites for name in names}
    result = {
        "protocols": protocols,
        "suites": [name for name in order if name in accepted],
        "suites_tried": len(order),
        "tls13_suite": next((answer[1] for name, _status, answer in found if name == "TLSv1.3" and answer), None),
        "certificate_der": answers[-1][2],
        "verified": verified,
        "verify_error": verify_error,
    }
    suite_handshakes = sum(cost for _names, cost in found_suites)
    result["handshakes"] = len(PROTOCOLS) + suite_handshakes + (1 if ca_file else 0)
    result["seconds"] = round(time.monotonic() - started, 3)
    return result
