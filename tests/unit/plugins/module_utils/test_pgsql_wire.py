# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import hashlib

import pytest
from ansible_collections.waent.onprem.plugins.module_utils import _db_tls_wire, _pgsql_wire


def test_scram_sha256_rfc7677_vector():
    first, bare = _pgsql_wire.scram_client_first("rOprNGfwEbeRWgbNEkqO", "user")
    assert first == "n,,n=user,r=rOprNGfwEbeRWgbNEkqO"
    server_first = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
    final, server_sig = _pgsql_wire.scram_client_final("pencil", "rOprNGfwEbeRWgbNEkqO", bare, server_first)
    assert final == ("c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                     "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
    assert server_sig == "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="


def test_scram_rejects_a_nonce_the_client_did_not_start():
    with pytest.raises(_db_tls_wire.DbTlsError):
        _pgsql_wire.scram_client_final("pw", "abc", "n=,r=abc", "r=xyz,s=QUJD,i=4096")


def test_pg_md5_password():
    inner = hashlib.md5(b"pwuser").hexdigest()  # noqa: S324
    expected = "md5" + hashlib.md5(inner.encode() + b"salt").hexdigest()  # noqa: S324
    assert _pgsql_wire.pg_md5_password("pw", "user", b"salt") == expected


def test_parse_pg_error():
    body = b"SFATAL\0C28000\0Mno pg_hba.conf entry for host \"1.2.3.4\", no encryption\0\0"
    err = _pgsql_wire.parse_pg_error(body)
    assert err["code"] == "28000"
    assert "no encryption" in err["message"]


def test_pg_error_classification():
    session = _pgsql_wire.PostgreSQLSession({"username": "waent", "tls": False, "ssl_cert": None})
    assert session._error(b"Mno pg_hba.conf entry for host \"x\", no encryption\0\0").kind == \
        _db_tls_wire.KIND_PLAINTEXT_REFUSED
    session = _pgsql_wire.PostgreSQLSession({"username": "waent", "tls": True, "ssl_cert": None})
    assert session._error(b"Mconnection requires a valid client certificate\0\0").kind == \
        _db_tls_wire.KIND_CLIENT_CERT_REQUIRED
    assert session._error(b"Mpassword authentication failed\0\0").kind == _db_tls_wire.KIND_AUTH
