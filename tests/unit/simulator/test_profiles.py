# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""WA_WEB_SECURITY_LEVEL profiles (reference section 5.1), proven by TLS handshakes over loopback."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import shutil
import socket
import ssl
import subprocess
import threading
import warnings

import pytest
from waent_sim import certs, profiles

TIMEOUT = 5.0
V = ssl.TLSVersion

# Reference section 5.1 (MODERN) and mozilla/ssl-config-generator guidelines/4.0.json, typed from the sources.
MOZILLA_4_0_MODERN = (
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:"
    "ECDHE-RSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-SHA384:ECDHE-RSA-AES256-SHA384:ECDHE-ECDSA-AES128-SHA256:ECDHE-RSA-AES128-SHA256"
)
# SHA-256 of the 4.0.json strings (intermediate and old "openssl_ciphersuites", old "ciphersuites"
# joined by ":"), computed from the JSON text, not from the module.
SHA256_4_0 = {
    "intermediate": "0c3147c479e388d0a71c9e01a1d3b54a1116cb022d9008fca2a3b25d63d2ee5f",
    "old": "04814a8313cc4f5c59ed9369043448595f8956f69623647780718fb3b1c601b5",
    "old expansion": "fdbdf22b2ac5e33164be93f3a9e4475781f91b9daf07e42e5c1d04874e9f32f6",
}
OLD_TAIL = (
    ":HIGH:SEED:!aNULL:!eNULL:!EXPORT:!DES:!RC4:!MD5:!PSK:!RSAPSK:!aDH:!aECDH:!EDH-DSS-DES-CBC3-SHA"
    ":!KRB5-DES-CBC3-SHA:!SRP"
)


# --- selection ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("MODERN", "MODERN"), ("modern", "MODERN"), ("Modern", "MODERN"),
        ("INTERMEDIATE", "INTERMEDIATE"), ("intermediate", "INTERMEDIATE"), ("InterMediate", "INTERMEDIATE"),
        ("OLD", "OLD"), ("old", "OLD"), ("oLd", "OLD"),
    ],
)
def test_known_level_is_case_insensitive(value, expected):
    assert profiles.select_profile(value).name == expected


@pytest.mark.parametrize(
    "value",
    # Unset, empty, unknown, padded (bash compares the whole value), and a non-ASCII "i" that only a
    # Unicode-aware upper() would turn into INTERMEDIATE (the container's bash runs in the C locale).
    [None, "", "strict", "OLDER", " old", "old ", "MODERN\n", "\u0131ntermed\u0131ate"],
)
def test_unknown_level_is_modern(value):
    assert profiles.select_profile(value) is profiles.MODERN


# --- data ----------------------------------------------------------------------------------------


def test_modern_is_the_webapp_string():
    # Section 5.1 quotes web_setup.sh: Mozilla 4.0 modern with DHE-RSA-AES128-SHA256 appended.
    assert profiles.MODERN.ciphers == MOZILLA_4_0_MODERN + ":DHE-RSA-AES128-SHA256"
    assert profiles.MODERN.protocols == ("TLSv1.2",)


def sha256(text):
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def test_intermediate_is_mozilla_4_0_intermediate():
    assert sha256(profiles.INTERMEDIATE.ciphers) == SHA256_4_0["intermediate"]
    ciphers = profiles.INTERMEDIATE.ciphers.split(":")
    assert len(ciphers) == 31
    assert ciphers[:2] == ["ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305"]
    assert ciphers[-4:] == ["AES128-SHA", "AES256-SHA", "DES-CBC3-SHA", "!DSS"]
    assert "EDH-RSA-DES-CBC3-SHA" in ciphers
    assert profiles.INTERMEDIATE.protocols == ("TLSv1", "TLSv1.1", "TLSv1.2")
    assert profiles.INTERMEDIATE.expansion == tuple(ciphers[:-1])


def test_old_is_mozilla_4_0_old():
    assert sha256(profiles.OLD.ciphers) == SHA256_4_0["old"]
    assert sha256(":".join(profiles.OLD.expansion)) == SHA256_4_0["old expansion"]
    ciphers = profiles.OLD.ciphers
    assert ciphers.startswith("ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:ECDHE-RSA-AES128-GCM-SHA256:")
    assert ciphers.endswith(":AES128-SHA:AES256-SHA:AES:DES-CBC3-SHA" + OLD_TAIL)
    assert ":DHE-DSS-AES128-GCM-SHA256:kEDH+AESGCM:" in ciphers
    assert len(ciphers.split(":")) == 49
    assert profiles.OLD.protocols == ("SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2")
    expansion = profiles.OLD.expansion
    assert len(expansion) == len(set(expansion)) == 56
    assert {"SEED-SHA", "DHE-DSS-SEED-SHA", "CAMELLIA128-SHA", "DES-CBC3-SHA"} <= set(expansion)


def test_strings_are_accepted_by_openssl_in_their_order():
    for profile in profiles.PROFILES.values():
        context = profiles.build_server_context(profile)[0]
        listed = [name for name in profile.ciphers.split(":") if "-" in name and not name.startswith("!")]
        offered = profiles.enabled_suites(context)
        named = [name for name in offered if name in listed]
        # Explicitly named suites keep the string's order (server order is what the string says).
        assert named == [name for name in listed if name in offered], profile.name
        assert offered[0] == listed[0], profile.name


# --- context ------------------------------------------------------------------------------------


@pytest.mark.parametrize("profile", list(profiles.PROFILES.values()), ids=list(profiles.PROFILES))
def test_context_settings(profile):
    context = profiles.build_server_context(profile)[0]
    for flag in (ssl.OP_CIPHER_SERVER_PREFERENCE, ssl.OP_NO_RENEGOTIATION, ssl.OP_NO_COMPRESSION):
        assert context.options & flag == flag
    assert context.maximum_version == V.TLSv1_2
    assert context.minimum_version == (V.TLSv1_2 if profile is profiles.MODERN else V.TLSv1)
    assert context.security_level == 0
    assert profiles.enabled_suites(context)


def _unavailable(names):
    """Suites this OpenSSL cannot select at all, probed one by one (independent of get_ciphers order)."""
    out = []
    for name in names:
        probe = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        try:
            probe.set_ciphers(name + ":" + profiles.SECURITY_LEVEL)
        except ssl.SSLError:
            out.append(name)
    return tuple(out)


@pytest.mark.parametrize("profile", list(profiles.PROFILES.values()), ids=list(profiles.PROFILES))
def test_gaps_are_what_openssl_cannot_do(profile):
    context, gaps = profiles.build_server_context(profile)
    offered = profiles.enabled_suites(context)
    assert gaps.missing_suites == _unavailable(profile.expansion)
    assert not set(gaps.missing_suites) & set(offered)
    assert gaps.extra_suites == tuple(name for name in offered if name not in profile.expansion)
    if "SSLv3" in profile.protocols and not ssl.HAS_SSLv3:
        assert gaps.protocols == ("SSLv3",)
    else:
        assert gaps.protocols == ()
    assert bool(gaps) == bool(gaps.protocols or gaps.missing_suites or gaps.extra_suites)


def test_gaps_under_openssl_3():
    if ssl.OPENSSL_VERSION_INFO[0] < 3:
        pytest.skip("the recorded gaps are those of OpenSSL 3")
    modern, intermediate, old = (profiles.build_server_context(p)[1] for p in profiles.PROFILES.values())
    assert not modern
    triple_des = {"ECDHE-ECDSA-DES-CBC3-SHA", "ECDHE-RSA-DES-CBC3-SHA", "EDH-RSA-DES-CBC3-SHA", "DES-CBC3-SHA"}
    assert set(intermediate.missing_suites) == triple_des
    assert not intermediate.protocols and not intermediate.extra_suites
    # SEED needs OpenSSL's legacy provider, which a default configuration does not load.
    assert triple_des <= set(old.missing_suites) <= triple_des | {"DHE-RSA-SEED-SHA", "DHE-DSS-SEED-SHA", "SEED-SHA"}
    assert old.protocols == (() if ssl.HAS_SSLv3 else ("SSLv3",))
    assert {"AES128-CCM", "ARIA128-GCM-SHA256"} <= set(old.extra_suites)


def test_gaps_is_false_only_when_empty():
    assert not profiles.Gaps()
    assert profiles.Gaps(protocols=("SSLv3",))
    assert profiles.Gaps(missing_suites=("SEED-SHA",))
    assert profiles.Gaps(extra_suites=("AES128-CCM",))


def _der_integers(der):
    """The INTEGERs of a DER SEQUENCE of INTEGERs (PKCS #3 DHParameter)."""
    def header(at):
        tag, length, at = der[at], der[at + 1], at + 2
        if length & 0x80:
            size = length & 0x7F
            length, at = int.from_bytes(der[at:at + size], "big"), at + size
        return tag, length, at

    tag, length, at = header(0)
    assert tag == 0x30 and at + length == len(der)
    values = []
    while at < len(der):
        tag, length, at = header(at)
        assert tag == 0x02
        values.append(int.from_bytes(der[at:at + length], "big"))
        at += length
    return values


def test_dh_group_is_lighttpds_rfc_5114_group():
    body = "".join(profiles.LIGHTTPD_DEFAULT_DH_PARAMS.strip().splitlines()[1:-1])
    p, g, private_value_length = _der_integers(base64.b64decode(body))
    # RFC 5114 section 2.1, as lighttpd 1.4's dh1024_p/dh1024_g arrays give it.
    assert p.bit_length() == 1024
    assert f"{p:x}".startswith("b10b8f96a080e01dde92de5eae5d54ec52c99fbcfb06a3c6")
    assert f"{p:x}".endswith("df1fb2bc2e4a4371")
    assert f"{g:x}".startswith("a4d1cbd5c3fd34126765a442efb99905f8104dd258ac507f")
    assert private_value_length == 160
    assert pow(g, p - 1, p) == 1 and pow(2, p - 1, p) == 1  # Fermat: p is (very probably) prime


# --- handshakes over loopback ---------------------------------------------------------------------


@dataclasses.dataclass
class Outcome:
    version: str | None = None
    cipher: str | None = None
    compression: str | None = None
    error: Exception | None = None


@pytest.fixture(scope="module")
def server_files(tmp_path_factory):
    """The first-start material for localhost, as files for ``load_cert_chain``, and the CA file."""
    material = certs.generate_autogen("localhost")
    served = material.load()
    folder = tmp_path_factory.mktemp("tls")
    (folder / "chain.pem").write_bytes(served.chain_pem())
    (folder / "key.pem").write_bytes(served.key_pem())
    (folder / "ca.pem").write_text(material.ca_blob, encoding="ascii")
    return folder


def server_context(profile, files):
    context = profiles.build_server_context(profile)[0]
    context.load_cert_chain(str(files / "chain.pem"), str(files / "key.pem"))
    return context


def client_context(files, version=None, ciphers="ALL:" + profiles.SECURITY_LEVEL, curve=None):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(str(files / "ca.pem"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        if version is not None:
            context.minimum_version = context.maximum_version = version
    context.set_ciphers(ciphers)
    if curve:
        context.set_ecdh_curve(curve)
    return context


def serve_once(server, read_timeout=TIMEOUT):
    """A listener on 127.0.0.1 whose thread serves one TLS connection with ``server``: (listener, thread)."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(TIMEOUT)

    def serve():
        try:
            conn = listener.accept()[0]
            conn.settimeout(read_timeout)
            with server.wrap_socket(conn, server_side=True) as tls:
                tls.recv(1024)  # until the client closes, or read_timeout
        except (OSError, ssl.SSLError):
            pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return listener, thread


def handshake(server, client):
    """One TLS handshake between two contexts over a TCP connection on 127.0.0.1, bounded in time."""
    listener, thread = serve_once(server)
    try:
        with socket.create_connection(listener.getsockname(), timeout=TIMEOUT) as raw:
            try:
                with client.wrap_socket(raw, server_hostname="localhost") as tls:
                    return Outcome(tls.version(), tls.cipher()[0], tls.compression())
            except (OSError, ssl.SSLError) as exc:
                return Outcome(error=exc)
    finally:
        thread.join(TIMEOUT)
        listener.close()
        assert not thread.is_alive()


# Which client-only version each profile accepts, and the suite the server's order picks from a
# client offering ALL: its first suite for an RSA certificate.
VERSION_TABLE = [
    ("MODERN", V.TLSv1, None), ("MODERN", V.TLSv1_1, None),
    ("MODERN", V.TLSv1_2, "ECDHE-RSA-AES256-GCM-SHA384"), ("MODERN", V.TLSv1_3, None),
    ("INTERMEDIATE", V.TLSv1, "ECDHE-RSA-AES128-SHA"), ("INTERMEDIATE", V.TLSv1_1, "ECDHE-RSA-AES128-SHA"),
    ("INTERMEDIATE", V.TLSv1_2, "ECDHE-RSA-CHACHA20-POLY1305"), ("INTERMEDIATE", V.TLSv1_3, None),
    ("OLD", V.TLSv1, "ECDHE-RSA-AES128-SHA"), ("OLD", V.TLSv1_1, "ECDHE-RSA-AES128-SHA"),
    ("OLD", V.TLSv1_2, "ECDHE-RSA-CHACHA20-POLY1305"), ("OLD", V.TLSv1_3, None),
]
NAMES = {V.TLSv1: "TLSv1", V.TLSv1_1: "TLSv1.1", V.TLSv1_2: "TLSv1.2", V.TLSv1_3: "TLSv1.3"}


@pytest.mark.parametrize(
    ("level", "version", "cipher"), VERSION_TABLE, ids=[f"{row[0]}-{row[1].name}" for row in VERSION_TABLE]
)
def test_negotiated_versions(server_files, level, version, cipher):
    outcome = handshake(server_context(profiles.PROFILES[level], server_files), client_context(server_files, version))
    if cipher is None:
        assert outcome.error is not None, outcome
        assert NAMES[version] not in profiles.PROFILES[level].protocols
    else:
        assert outcome.error is None, outcome.error
        assert (outcome.version, outcome.cipher) == (NAMES[version], cipher)
        assert outcome.compression is None


@pytest.mark.parametrize(
    ("level", "client_order", "server_pick"),
    [
        ("MODERN", "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384"),
        ("INTERMEDIATE", "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305"),
        ("OLD", "AES256-SHA:ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256"),
    ],
)
def test_server_cipher_order(server_files, level, client_order, server_pick):
    server = server_context(profiles.PROFILES[level], server_files)
    client = client_context(server_files, V.TLSv1_2, client_order + ":" + profiles.SECURITY_LEVEL)
    assert handshake(server, client).cipher == server_pick
    # Control: without the server's order the client's first choice wins, so the check can tell.
    server.options &= ~ssl.OP_CIPHER_SERVER_PREFERENCE
    assert handshake(server, client).cipher == client_order.split(":")[0]


def test_ecdhe_uses_secp384r1_only(server_files):
    server = server_context(profiles.MODERN, server_files)
    ecdhe = "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256:" + profiles.SECURITY_LEVEL
    assert handshake(server, client_context(server_files, V.TLSv1_2, ecdhe, "secp384r1")).error is None
    for other in ("prime256v1", "secp521r1"):
        outcome = handshake(server, client_context(server_files, V.TLSv1_2, ecdhe, other))
        assert outcome.error is not None, (other, outcome)


def test_dhe_uses_lighttpds_1024_bit_group(server_files):
    server = server_context(profiles.MODERN, server_files)
    dhe = "DHE-RSA-AES128-SHA256"
    # A client without secp384r1 still gets MODERN's last suite, DHE (the server has DH parameters).
    offer = f"ECDHE-RSA-AES128-GCM-SHA256:{dhe}:{profiles.SECURITY_LEVEL}"
    outcome = handshake(server, client_context(server_files, V.TLSv1_2, offer, "prime256v1"))
    assert outcome.cipher == dhe, outcome
    # The group has 1024 bits: a client at OpenSSL security level 2 (Python's default) refuses it.
    strict = client_context(server_files, V.TLSv1_2, dhe + ":@SECLEVEL=2")
    assert strict.security_level == 2
    assert handshake(server, strict).error is not None


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
@pytest.mark.parametrize("allow", [False, True], ids=["profile", "control-allowing-renegotiation"])
def test_client_renegotiation_is_refused(server_files, allow):
    server = server_context(profiles.MODERN, server_files)
    if allow:  # SSL_OP_ALLOW_CLIENT_RENEGOTIATION (OpenSSL 3): shows that the check can fail
        server.options = (server.options | 0x100) & ~ssl.OP_NO_RENEGOTIATION
    listener, thread = serve_once(server, read_timeout=2.0)
    host, port = listener.getsockname()
    command = ["openssl", "s_client", "-connect", f"{host}:{port}", "-tls1_2", "-CAfile", str(server_files / "ca.pem")]
    with subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT) as client:
        try:
            # "R" asks s_client to renegotiate; its stdin stays open until the server has answered.
            client.stdin.write(b"R\n")
            client.stdin.flush()
            thread.join(TIMEOUT)
            output = client.communicate(timeout=TIMEOUT)[0].decode(errors="replace")
        finally:
            client.kill()
            listener.close()
    assert not thread.is_alive()
    assert "RENEGOTIATING" in output
    assert ("no renegotiation" in output) is not allow
