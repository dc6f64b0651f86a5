# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import hashlib
import struct

import pytest
from ansible_collections.waent.onprem.plugins.module_utils import _db_tls_wire, _mysql_wire
from ansible_collections.waent.onprem.plugins.module_utils._db_tls_wire import xor_bytes


def _server_checks_native(scramble, salt, password):
    stage2 = hashlib.sha1(hashlib.sha1(password.encode()).digest()).digest()  # noqa: S324
    mix = hashlib.sha1(salt + stage2).digest()  # noqa: S324
    candidate = xor_bytes(scramble, mix)
    return hashlib.sha1(candidate).digest() == stage2  # noqa: S324


def test_mysql_native_scramble_is_what_the_server_accepts():
    salt = bytes(range(20))
    assert _server_checks_native(_mysql_wire.mysql_native_scramble("s3cr3t!", salt), salt, "s3cr3t!")
    assert not _server_checks_native(_mysql_wire.mysql_native_scramble("other", salt), salt, "s3cr3t!")
    assert _mysql_wire.mysql_native_scramble("", salt) == b""


def test_caching_sha2_scramble_is_what_the_server_accepts():
    nonce = bytes(range(20, 40))
    scramble = _mysql_wire.caching_sha2_scramble("pw", nonce)
    stored = hashlib.sha256(hashlib.sha256(b"pw").digest()).digest()
    p1 = xor_bytes(scramble, hashlib.sha256(stored + nonce).digest())
    assert hashlib.sha256(p1).digest() == stored


def _greeting(caps=0xF7FF | _mysql_wire.CLIENT_SSL, caps_hi=0x81BF, plugin=b"mysql_native_password"):
    salt1, salt2 = b"abcdefgh", b"ijklmnopqrst"
    return (b"\x0a" + b"5.5.5-10.11.6-MariaDB\0" + struct.pack("<I", 7) + salt1 + b"\0"
            + struct.pack("<H", caps & 0xFFFF) + b"\x2d" + struct.pack("<H", 2) + struct.pack("<H", caps_hi)
            + bytes([21]) + b"\0" * 10 + salt2 + b"\0" + plugin + b"\0")


def test_parse_mysql_greeting():
    info = _mysql_wire.parse_mysql_greeting(_greeting())
    assert info["version"] == "5.5.5-10.11.6-MariaDB"
    assert info["salt"] == b"abcdefghijklmnopqrst"
    assert info["plugin"] == "mysql_native_password"
    assert info["capabilities"] & _mysql_wire.CLIENT_SSL


def test_parse_mysql_greeting_error_packet():
    payload = b"\xff" + struct.pack("<H", 1130) + b"Host '10.0.0.9' is not allowed to connect"
    with pytest.raises(_db_tls_wire.DbTlsError) as info:
        _mysql_wire.parse_mysql_greeting(payload)
    assert "not allowed" in info.value.msg


def test_parse_mysql_error_with_sqlstate():
    err = _mysql_wire.parse_mysql_error(b"\xff" + struct.pack("<H", 1045) + b"#28000Access denied")
    assert err == {"code": 1045, "sqlstate": "28000", "message": "Access denied"}


def test_mysql_packet_and_rows():
    assert _mysql_wire.mysql_packet(b"abc", 2) == b"\x03\x00\x00\x02abc"
    row = b"\x0bSsl_version\x07TLSv1.3\xfb"
    assert _mysql_wire.parse_mysql_row(row, 3) == ["Ssl_version", "TLSv1.3", None]


def test_lenenc_int_forms():
    assert _mysql_wire._lenenc_int(b"\xfc\x10\x27", 0) == (10000, 3)
    assert _mysql_wire._lenenc_int(b"\xfd\x01\x00\x01", 0) == (65537, 4)


def test_mysql_error_classification():
    plain = _mysql_wire.MySQLSession({"username": "waent", "tls": False, "ssl_cert": None})
    err = {"code": 3159, "message": "Connections using insecure transport are prohibited"}
    assert plain._auth_error(err).kind == _db_tls_wire.KIND_PLAINTEXT_REFUSED
    nocert = _mysql_wire.MySQLSession({"username": "waent", "tls": True, "ssl_cert": None})
    assert nocert._auth_error({"code": 1045, "message": "Access denied"}).kind == _db_tls_wire.KIND_CLIENT_CERT_REQUIRED
    full = _mysql_wire.MySQLSession({"username": "waent", "tls": True, "ssl_cert": "/c"})
    assert full._auth_error({"code": 1045, "message": "Access denied"}).kind == _db_tls_wire.KIND_AUTH
