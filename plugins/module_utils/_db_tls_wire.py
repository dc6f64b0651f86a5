# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What both database wire clients share: failure kinds, the verifying TLS upgrade, socket reads.

Standard library only (the clients run on the app hosts, which carry no database driver). The
TLS context verifies the server against the CA file and the host name with the rules of
``_x509`` (TLS 1.2 or newer; no fallback to the subject's common name).
"""

from __future__ import annotations

import socket
import ssl

# Failure kinds, stable for callers (the audit keys findings on them).
KIND_CONNECT = "connect"
KIND_TLS_REFUSED = "tls_not_offered"
KIND_PLAINTEXT_REFUSED = "plaintext_refused"
KIND_VERIFY_CA = "untrusted_server_certificate"
KIND_VERIFY_HOSTNAME = "hostname_mismatch"
KIND_VERIFY_EXPIRED = "server_certificate_expired"
KIND_VERIFY_OTHER = "server_certificate_invalid"
KIND_HANDSHAKE = "tls_handshake_failed"
KIND_CLIENT_CERT_REQUIRED = "client_certificate_required"
KIND_AUTH = "authentication_failed"
KIND_PROTOCOL = "protocol_error"
KIND_NOT_ENCRYPTED = "server_reports_no_encryption"
KIND_SETTINGS = "bad_settings"

# OpenSSL X509_V_ERR_* codes that have a dedicated message.
_X509_EXPIRED = 10
_X509_NOT_YET_VALID = 9
_X509_UNTRUSTED = (2, 18, 19, 20, 21, 27, 28)
_X509_HOSTNAME = (62, 64)


class DbTlsError(Exception):
    """A failed check: ``kind`` is machine-readable, the message says what to fix."""

    def __init__(self, msg, kind, details=None):
        super().__init__(msg)
        self.msg = msg
        self.kind = kind
        self.details = details or {}


def xor_bytes(left, right):
    """Bytewise XOR of two equally long byte strings (the scrambles of both protocols)."""
    return (int.from_bytes(left, "big") ^ int.from_bytes(right, "big")).to_bytes(len(left), "big")


# --------------------------------------------------------------------------- TLS


def make_context(settings):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if settings.get("tls_max_version") == "TLSv1.2":
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    if settings.get("verify"):
        ctx.check_hostname = True
        ctx.verify_mode = ssl.CERT_REQUIRED
        # RFC 6125 as in _x509: names only from the subjectAltName, never the subject's CN.
        ctx.hostname_checks_common_name = False
        ctx.load_verify_locations(cafile=settings["ssl_ca"])
    else:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if settings.get("ssl_cert"):
        ctx.load_cert_chain(settings["ssl_cert"], settings["ssl_key"])
    return ctx


def classify_verify_error(exc, settings):
    """Turn an SSLCertVerificationError into a DbTlsError with a message saying what is wrong."""
    code = getattr(exc, "verify_code", None)
    detail = getattr(exc, "verify_message", None) or str(exc)
    where = "{}:{}".format(settings.get("hostname"), settings.get("port"))
    if code == _X509_EXPIRED:
        return DbTlsError(
            f"The database server certificate at {where} has expired ({detail}): renew it (waent.onprem.pki) and "
            "reload the database.", KIND_VERIFY_EXPIRED)
    if code == _X509_NOT_YET_VALID:
        return DbTlsError(
            f"The database server certificate at {where} is not valid yet ({detail}): check the clocks "
            "(waent.onprem.timesync) and the certificate's not_before.", KIND_VERIFY_EXPIRED)
    if code in _X509_HOSTNAME:
        return DbTlsError(
            "The database server certificate at {} does not cover the name {!r} ({}): connect with a "
            "name in its subjectAltName or reissue it with that name.".format(where, settings.get("hostname"), detail),
            KIND_VERIFY_HOSTNAME)
    if code in _X509_UNTRUSTED:
        return DbTlsError(
            "The database server certificate at {} is not signed by the CA in {} ({}): the server "
            "uses another CA, or WA_DB_SSL_CA points at the wrong file.".format(where, settings.get("ssl_ca"), detail),
            KIND_VERIFY_CA)
    return DbTlsError(
        f"The database server certificate at {where} failed verification: {detail}", KIND_VERIFY_OTHER)


def start_tls(sock, settings):
    ctx = make_context(settings)
    try:
        tls = ctx.wrap_socket(sock, server_hostname=settings["hostname"])
    except ssl.SSLCertVerificationError as exc:
        raise classify_verify_error(exc, settings) from None
    except (ssl.SSLError, OSError) as exc:
        raise DbTlsError(
            "TLS handshake with {}:{} failed: {}".format(settings["hostname"], settings["port"], exc),
            KIND_HANDSHAKE) from None
    return tls


def tls_facts(tls, settings):
    cipher = tls.cipher() or (None, None, None)
    cert = tls.getpeercert() if settings.get("verify") else None
    facts = {
        "tls_version": tls.version(),
        "cipher": cipher[0],
        "cipher_bits": cipher[2],
        "server_verified": bool(settings.get("verify")),
        "hostname_verified": bool(settings.get("verify")),
        "client_cert_sent": bool(settings.get("ssl_cert")),
    }
    if cert:
        facts["server_cert"] = {
            "subject": _flatten_name(cert.get("subject", ())),
            "issuer": _flatten_name(cert.get("issuer", ())),
            "not_after": cert.get("notAfter"),
            "subject_alt_names": ["{}:{}".format(*pair) for pair in cert.get("subjectAltName", ())],
        }
    return facts


def _flatten_name(name):
    return ",".join(f"{k}={v}" for rdn in name for (k, v) in rdn)


def open_socket(settings):
    try:
        return socket.create_connection((settings["hostname"], int(settings["port"])), timeout=settings["timeout"])
    except OSError as exc:
        raise DbTlsError(
            "Cannot reach the database at {}:{}: {} (address, port, firewall?)".format(
                settings["hostname"], settings["port"], exc), KIND_CONNECT) from None


def recv_exact(sock, count):
    chunks = []
    remaining = count
    while remaining:
        try:
            data = sock.recv(remaining)
        except (OSError, ssl.SSLError) as exc:
            raise DbTlsError(f"The database closed the connection: {exc}", KIND_PROTOCOL) from None
        if not data:
            raise DbTlsError("The database closed the connection unexpectedly", KIND_PROTOCOL)
        chunks.append(data)
        remaining -= len(data)
    return b"".join(chunks)
