# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import datetime
import hashlib
import socket
import ssl
import struct
import threading

import pytest
from ansible_collections.waent.onprem.plugins.module_utils import _db_tls
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

NOW = datetime.datetime(2026, 11, 24, tzinfo=datetime.UTC)


# ----------------------------------------------------------------- env files and settings

def test_parse_env_file_keeps_values_verbatim():
    env = _db_tls.parse_env_file("# c\n\nWA_DB_PASSWORD=a=b;c#d\nWA_DB_PORT=3306\nnoequals\n")
    assert env == {"WA_DB_PASSWORD": "a=b;c#d", "WA_DB_PORT": "3306"}


def test_settings_map_container_paths_to_the_host_volume():
    env = {"WA_DB_ENGINE": "pgsql", "WA_DB_HOSTNAME": "db1", "WA_DB_PORT": "5432", "WA_DB_USERNAME": "waent",
           "WA_DB_PASSWORD": "pw", "WA_DB_SSL_CA": "/usr/local/waent/data/certs/db-ca.pem",
           "WA_DB_SSL_CERT": "/usr/local/waent/data/certs/db-client.crt",
           "WA_DB_SSL_KEY": "/opt/elsewhere/key.pem"}
    st = _db_tls.settings_from_env(env, data_dir="/srv/waent/wacore")
    assert st["engine"] == "PGSQL"
    assert st["port"] == 5432
    assert st["ssl_ca"] == "/srv/waent/wacore/certs/db-ca.pem"
    assert st["ssl_cert"] == "/srv/waent/wacore/certs/db-client.crt"
    assert st["ssl_key"] == "/opt/elsewhere/key.pem"
    assert st["verify"] is True


@pytest.mark.parametrize(("value", "expected"), [("0", False), ("false", False), ("1", True), ("true", True)])
def test_ssl_verify_from_env(value, expected):
    assert _db_tls.settings_from_env({"WA_DB_SSL_VERIFY": value})["verify"] is expected


def test_overrides_win_but_none_does_not_erase():
    st = _db_tls.settings_from_env({"WA_DB_HOSTNAME": "db1", "WA_DB_PORT": "3306"},
                                   overrides={"hostname": "10.0.0.1", "port": None, "tls": False})
    assert st["hostname"] == "10.0.0.1"
    assert st["port"] == 3306
    assert st["tls"] is False


def test_check_settings_names_what_is_missing(tmp_path):
    problems = _db_tls.check_settings({"engine": "ORACLE", "tls": True, "verify": True, "ssl_cert": str(tmp_path)})
    text = " ".join(problems)
    assert "engine must be one of" in text
    assert "hostname is missing" in text
    assert "password is missing" in text
    assert "needs a CA file" in text
    assert "both ssl_cert and ssl_key" in text


def test_check_connection_refuses_bad_settings():
    with pytest.raises(_db_tls.DbTlsError) as info:
        _db_tls.check_connection({"engine": "MYSQL", "tls": True, "verify": True})
    assert info.value.kind == _db_tls.KIND_SETTINGS


# ----------------------------------------------------------------- MySQL protocol

def _server_checks_native(scramble, salt, password):
    stage2 = hashlib.sha1(hashlib.sha1(password.encode()).digest()).digest()  # noqa: S324
    mix = hashlib.sha1(salt + stage2).digest()  # noqa: S324
    candidate = _db_tls._xor(scramble, mix)
    return hashlib.sha1(candidate).digest() == stage2  # noqa: S324


def test_mysql_native_scramble_is_what_the_server_accepts():
    salt = bytes(range(20))
    assert _server_checks_native(_db_tls.mysql_native_scramble("s3cr3t!", salt), salt, "s3cr3t!")
    assert not _server_checks_native(_db_tls.mysql_native_scramble("other", salt), salt, "s3cr3t!")
    assert _db_tls.mysql_native_scramble("", salt) == b""


def test_caching_sha2_scramble_is_what_the_server_accepts():
    nonce = bytes(range(20, 40))
    scramble = _db_tls.caching_sha2_scramble("pw", nonce)
    stored = hashlib.sha256(hashlib.sha256(b"pw").digest()).digest()
    p1 = _db_tls._xor(scramble, hashlib.sha256(stored + nonce).digest())
    assert hashlib.sha256(p1).digest() == stored


def _greeting(caps=0xF7FF | _db_tls.CLIENT_SSL, caps_hi=0x81BF, plugin=b"mysql_native_password"):
    salt1, salt2 = b"abcdefgh", b"ijklmnopqrst"
    return (b"\x0a" + b"5.5.5-10.11.6-MariaDB\0" + struct.pack("<I", 7) + salt1 + b"\0"
            + struct.pack("<H", caps & 0xFFFF) + b"\x2d" + struct.pack("<H", 2) + struct.pack("<H", caps_hi)
            + bytes([21]) + b"\0" * 10 + salt2 + b"\0" + plugin + b"\0")


def test_parse_mysql_greeting():
    info = _db_tls.parse_mysql_greeting(_greeting())
    assert info["version"] == "5.5.5-10.11.6-MariaDB"
    assert info["salt"] == b"abcdefghijklmnopqrst"
    assert info["plugin"] == "mysql_native_password"
    assert info["capabilities"] & _db_tls.CLIENT_SSL


def test_parse_mysql_greeting_error_packet():
    payload = b"\xff" + struct.pack("<H", 1130) + b"Host '10.0.0.9' is not allowed to connect"
    with pytest.raises(_db_tls.DbTlsError) as info:
        _db_tls.parse_mysql_greeting(payload)
    assert "not allowed" in info.value.msg


def test_parse_mysql_error_with_sqlstate():
    err = _db_tls.parse_mysql_error(b"\xff" + struct.pack("<H", 1045) + b"#28000Access denied")
    assert err == {"code": 1045, "sqlstate": "28000", "message": "Access denied"}


def test_mysql_packet_and_rows():
    assert _db_tls.mysql_packet(b"abc", 2) == b"\x03\x00\x00\x02abc"
    row = b"\x0bSsl_version\x07TLSv1.3\xfb"
    assert _db_tls.parse_mysql_row(row, 3) == ["Ssl_version", "TLSv1.3", None]


def test_lenenc_int_forms():
    assert _db_tls._lenenc_int(b"\xfc\x10\x27", 0) == (10000, 3)
    assert _db_tls._lenenc_int(b"\xfd\x01\x00\x01", 0) == (65537, 4)


# ----------------------------------------------------------------- PostgreSQL protocol

def test_scram_sha256_rfc7677_vector():
    first, bare = _db_tls.scram_client_first("rOprNGfwEbeRWgbNEkqO", "user")
    assert first == "n,,n=user,r=rOprNGfwEbeRWgbNEkqO"
    server_first = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
    final, server_sig = _db_tls.scram_client_final("pencil", "rOprNGfwEbeRWgbNEkqO", bare, server_first)
    assert final == ("c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                     "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
    assert server_sig == "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="


def test_scram_rejects_a_nonce_the_client_did_not_start():
    with pytest.raises(_db_tls.DbTlsError):
        _db_tls.scram_client_final("pw", "abc", "n=,r=abc", "r=xyz,s=QUJD,i=4096")


def test_pg_md5_password():
    inner = hashlib.md5(b"pwuser").hexdigest()  # noqa: S324
    assert _db_tls.pg_md5_password("pw", "user", b"salt") == "md5" + hashlib.md5(inner.encode() + b"salt").hexdigest()  # noqa: S324


def test_parse_pg_error():
    body = b"SFATAL\0C28000\0Mno pg_hba.conf entry for host \"1.2.3.4\", no encryption\0\0"
    err = _db_tls.parse_pg_error(body)
    assert err["code"] == "28000"
    assert "no encryption" in err["message"]


def test_pg_error_classification():
    session = _db_tls.PostgreSQLSession({"username": "waent", "tls": False, "ssl_cert": None})
    assert session._error(b"Mno pg_hba.conf entry for host \"x\", no encryption\0\0").kind == \
        _db_tls.KIND_PLAINTEXT_REFUSED
    session = _db_tls.PostgreSQLSession({"username": "waent", "tls": True, "ssl_cert": None})
    assert session._error(b"Mconnection requires a valid client certificate\0\0").kind == \
        _db_tls.KIND_CLIENT_CERT_REQUIRED
    assert session._error(b"Mpassword authentication failed\0\0").kind == _db_tls.KIND_AUTH


def test_mysql_error_classification():
    plain = _db_tls.MySQLSession({"username": "waent", "tls": False, "ssl_cert": None})
    err = {"code": 3159, "message": "Connections using insecure transport are prohibited"}
    assert plain._auth_error(err).kind == _db_tls.KIND_PLAINTEXT_REFUSED
    nocert = _db_tls.MySQLSession({"username": "waent", "tls": True, "ssl_cert": None})
    assert nocert._auth_error({"code": 1045, "message": "Access denied"}).kind == _db_tls.KIND_CLIENT_CERT_REQUIRED
    full = _db_tls.MySQLSession({"username": "waent", "tls": True, "ssl_cert": "/c"})
    assert full._auth_error({"code": 1045, "message": "Access denied"}).kind == _db_tls.KIND_AUTH


# ----------------------------------------------------------------- certificates

def _key():
    return ec.generate_private_key(ec.SECP256R1())


def _cert(subject_key, issuer_key, cn, issuer_cn=None, *, ca=False, names=(), eku=None,
          not_before=NOW - datetime.timedelta(days=1), not_after=NOW + datetime.timedelta(days=365)):
    builder = (x509.CertificateBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
               .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_cn or cn)]))
               .public_key(subject_key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(not_before).not_valid_after(not_after)
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if names:
        import ipaddress
        entries = []
        for name in names:
            try:
                entries.append(x509.IPAddress(ipaddress.ip_address(name)))
            except ValueError:
                entries.append(x509.DNSName(name))
        builder = builder.add_extension(x509.SubjectAlternativeName(entries), critical=False)
    if eku:
        builder = builder.add_extension(x509.ExtendedKeyUsage(eku), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _pem(obj):
    if isinstance(obj, x509.Certificate):
        return obj.public_bytes(serialization.Encoding.PEM).decode()
    return obj.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


@pytest.fixture(scope="module")
def pki():
    ca_key, leaf_key, other_key = _key(), _key(), _key()
    ca = _cert(ca_key, ca_key, "waent CA", ca=True)
    server = _cert(leaf_key, ca_key, "db1", "waent CA", names=["db1.example", "10.0.0.5"],
                   eku=[ExtendedKeyUsageOID.SERVER_AUTH])
    return {"ca_key": ca_key, "ca": ca, "leaf_key": leaf_key, "server": server, "other_key": other_key}


def test_validate_material_accepts_good_server_material(pki):
    problems, facts = _db_tls.validate_material(_pem(pki["ca"]), _pem(pki["server"]), _pem(pki["leaf_key"]),
                                                names=["db1.example", "10.0.0.5"], now=NOW)
    assert problems == []
    assert facts["subject"] == "CN=db1"
    assert "PRIVATE" not in str(facts)


def test_validate_material_reports_each_problem(pki):
    problems, _facts = _db_tls.validate_material(_pem(pki["ca"]), _pem(pki["server"]), _pem(pki["other_key"]),
                                                 purpose="client", names=["db2.example"], now=NOW)
    text = " | ".join(problems)
    assert "does not match the certificate" in text
    assert "lacks the clientAuth" in text
    assert "does not cover the name db2.example" in text


def test_validate_material_expiry_and_chain(pki):
    stranger_key = _key()
    stranger_ca = _cert(stranger_key, stranger_key, "stranger CA", ca=True)
    expired = _cert(pki["leaf_key"], pki["ca_key"], "db1", "waent CA",
                    not_before=NOW - datetime.timedelta(days=30), not_after=NOW - datetime.timedelta(days=1))
    problems, _facts = _db_tls.validate_material(_pem(stranger_ca), _pem(expired), None, now=NOW)
    text = " | ".join(problems)
    assert "expired on" in text
    assert "is not signed by a CA of the supplied bundle" in text
    problems, _facts = _db_tls.validate_material(_pem(pki["ca"]), _pem(pki["server"]), None, min_days=400, now=NOW)
    assert any("within 400 days" in p for p in problems)


def test_validate_material_follows_intermediates(pki):
    inter_key = _key()
    inter = _cert(inter_key, pki["ca_key"], "inter", "waent CA", ca=True)
    leaf = _cert(pki["leaf_key"], inter_key, "db1", "inter", names=["db1"])
    problems, _facts = _db_tls.validate_material(_pem(pki["ca"]), _pem(leaf) + _pem(inter), None, names=["db1"],
                                                 now=NOW)
    assert problems == []


def test_validate_material_rejects_garbage():
    problems, _facts = _db_tls.validate_material("not pem", "not pem", None)
    assert "does not parse" in problems[0]


def test_name_matching_wildcards_and_ips():
    assert _db_tls._name_matches("db.example.com", ["*.example.com"], [])
    assert not _db_tls._name_matches("a.db.example.com", ["*.example.com"], [])
    assert _db_tls._name_matches("10.0.0.5", [], ["10.0.0.5"])
    assert not _db_tls._name_matches("10.0.0.6", ["10.0.0.6"], [])


def test_classify_verify_errors():
    settings = {"hostname": "db1", "port": 3306, "ssl_ca": "/ca.pem"}
    cases = {10: _db_tls.KIND_VERIFY_EXPIRED, 62: _db_tls.KIND_VERIFY_HOSTNAME, 64: _db_tls.KIND_VERIFY_HOSTNAME,
             20: _db_tls.KIND_VERIFY_CA, 19: _db_tls.KIND_VERIFY_CA, 7: _db_tls.KIND_VERIFY_OTHER}
    for code, kind in cases.items():
        exc = ssl.SSLCertVerificationError("verify failed")
        exc.verify_code = code
        exc.verify_message = f"detail {code}"
        err = _db_tls.classify_verify_error(exc, settings)
        assert err.kind == kind
        assert f"detail {code}" in err.msg


# ----------------------------------------------------------------- a real handshake on loopback
# A minimal PostgreSQL-speaking server (SSLRequest, TLS, trust auth, one query answered) so the
# client's TLS verification and error classification run against real OpenSSL errors.

def _pg_reply(kind, body):
    return kind + struct.pack("!I", len(body) + 4) + body


class _FakePg:
    def __init__(self, cert_file, key_file, accept_tls=True, address="127.0.0.1"):
        self.listener = socket.create_server((address, 0))
        self.port = self.listener.getsockname()[1]
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(cert_file, key_file)
        self.accept_tls = accept_tls
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        self.listener.settimeout(5)
        try:
            conn, _addr = self.listener.accept()
        except OSError:
            return
        conn.settimeout(5)
        try:
            conn.recv(8)
            if not self.accept_tls:
                conn.sendall(b"N")
                return
            conn.sendall(b"S")
            tls = self.ctx.wrap_socket(conn, server_side=True)
            length = struct.unpack("!I", tls.recv(4))[0]
            tls.recv(length - 4)
            tls.sendall(_pg_reply(b"R", struct.pack("!I", 0)) + _pg_reply(b"Z", b"I"))
            tls.recv(5)
            tls.recv(4096)
            values = [b"true", tls.version().encode(), tls.cipher()[0].encode(), b"256", b"waent"]
            row = struct.pack("!H", len(values)) + b"".join(struct.pack("!i", len(v)) + v for v in values)
            tls.sendall(_pg_reply(b"D", row) + _pg_reply(b"C", b"SELECT 1\0") + _pg_reply(b"Z", b"I"))
            tls.recv(5)
        except (OSError, ssl.SSLError):
            pass
        finally:
            conn.close()
            self.listener.close()


@pytest.fixture(scope="module")
def loopback_pki(tmp_path_factory, pki):
    base = tmp_path_factory.mktemp("pki")
    rogue_key = _key()
    files = {
        "ca": _pem(pki["ca"]),
        "rogue": _pem(_cert(rogue_key, rogue_key, "rogue CA", ca=True)),
        "server_key": _pem(pki["leaf_key"]),
        "server": _pem(_cert(pki["leaf_key"], pki["ca_key"], "db", "waent CA", names=["localhost", "127.0.0.1"],
                             not_before=datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=1),
                             not_after=datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=9))),
        "expired": _pem(_cert(pki["leaf_key"], pki["ca_key"], "db", "waent CA", names=["localhost"],
                              not_before=datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=9),
                              not_after=datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=1))),
    }
    paths = {}
    for name, text in files.items():
        path = base / (name + ".pem")
        path.write_text(text)
        paths[name] = str(path)
    return paths


def _settings(port, ca, hostname="localhost"):
    return {"engine": "PGSQL", "hostname": hostname, "port": port, "username": "waent", "password": "pw",
            "ssl_ca": ca, "ssl_cert": None, "ssl_key": None, "verify": True, "tls": True, "timeout": 5}


def test_loopback_session_is_verified_and_encrypted(loopback_pki):
    server = _FakePg(loopback_pki["server"], loopback_pki["server_key"])
    facts = _db_tls.check_connection(_settings(server.port, loopback_pki["ca"]))
    assert facts["encrypted"] is True
    assert facts["tls_version"] in ("TLSv1.2", "TLSv1.3")
    assert facts["server_ssl_version"] == facts["tls_version"]
    assert facts["server_verified"] and facts["hostname_verified"]
    assert "DNS:localhost" in facts["server_cert"]["subject_alt_names"]


@pytest.mark.parametrize(("cert", "ca", "hostname", "kind"), [
    ("server", "rogue", "localhost", _db_tls.KIND_VERIFY_CA),
    ("server", "ca", "127.0.0.2", _db_tls.KIND_VERIFY_HOSTNAME),
    ("expired", "ca", "localhost", _db_tls.KIND_VERIFY_EXPIRED),
])
def test_loopback_refusals(loopback_pki, cert, ca, hostname, kind):
    # 127.0.0.2 is a loopback address the certificate does not name (Linux routes 127/8 locally).
    address = hostname if hostname.startswith("127.") else "127.0.0.1"
    server = _FakePg(loopback_pki[cert], loopback_pki["server_key"], address=address)
    settings = _settings(server.port, loopback_pki[ca], hostname)
    with pytest.raises(_db_tls.DbTlsError) as info:
        _db_tls.check_connection(settings)
    assert info.value.kind == kind, info.value.msg


def test_loopback_server_without_tls(loopback_pki):
    server = _FakePg(loopback_pki["server"], loopback_pki["server_key"], accept_tls=False)
    with pytest.raises(_db_tls.DbTlsError) as info:
        _db_tls.check_connection(_settings(server.port, loopback_pki["ca"]))
    assert info.value.kind == _db_tls.KIND_TLS_REFUSED
