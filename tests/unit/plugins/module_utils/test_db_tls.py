# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import copy
import datetime
import socket
import ssl
import struct
import threading

import pytest
from ansible_collections.waent.onprem.plugins.module_utils import _db_tls, _db_tls_wire, _pki
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from x509_certs import make_cert

NOW = datetime.datetime(2026, 11, 24, tzinfo=datetime.UTC)


# ----------------------------------------------------------------- settings

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
    with pytest.raises(_db_tls_wire.DbTlsError) as info:
        _db_tls.check_connection({"engine": "MYSQL", "tls": True, "verify": True})
    assert info.value.kind == _db_tls_wire.KIND_SETTINGS


# ----------------------------------------------------------------- certificates

def _key():
    return ec.generate_private_key(ec.SECP256R1())


def _cert(subject_key, issuer_key, cn, issuer_cn=None, *, ca=False, names=(), eku=None,
          not_before=NOW - datetime.timedelta(days=1), not_after=NOW + datetime.timedelta(days=365)):
    return make_cert(cn, subject_key, issuer_cn, issuer_key, ca=ca, start=not_before, end=not_after, names=names,
                     eku=eku)


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
    assert "certificate CN=db1: the certificate does not match the private key" in text
    assert "extendedKeyUsage lacks clientAuth required for usage=client" in text
    assert "subjectAltName does not cover db2.example (has DNS db1.example; IP 10.0.0.5)" in text


def test_validate_material_expiry_and_chain(pki):
    stranger_key = _key()
    stranger_ca = _cert(stranger_key, stranger_key, "stranger CA", ca=True)
    expired = _cert(pki["leaf_key"], pki["ca_key"], "db1", "waent CA",
                    not_before=NOW - datetime.timedelta(days=30), not_after=NOW - datetime.timedelta(days=1))
    problems, _facts = _db_tls.validate_material(_pem(stranger_ca), _pem(expired), None, now=NOW)
    text = " | ".join(problems)
    assert "expired on" in text
    assert "does not chain to a CA in the CA bundle" in text
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


def test_validate_material_rules_the_old_validator_lacked(pki):
    # keyUsage without digitalSignature, a non-CA in the CA bundle, a wildcard standing for two labels,
    # an address only as a DNS SAN: each is a problem now, as for the pki module.
    no_sign = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "db1")]))
               .issuer_name(pki["ca"].subject).public_key(pki["leaf_key"].public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(NOW - datetime.timedelta(days=1)).not_valid_after(NOW + datetime.timedelta(days=30))
               .add_extension(x509.SubjectAlternativeName([x509.DNSName("*.db.example"), x509.DNSName("10.0.0.9")]),
                              critical=False)
               .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=True,
                                            data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                            crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
               .sign(pki["ca_key"], hashes.SHA256()))
    problems, _facts = _db_tls.validate_material(_pem(pki["ca"]) + _pem(pki["server"]), _pem(no_sign), None,
                                                 names=["x.db.example", "a.b.db.example", "10.0.0.9"], now=NOW)
    text = " | ".join(problems)
    assert "keyUsage lacks digitalSignature" in text
    assert "CN=db1 in the CA bundle is not a CA certificate" in text
    assert "does not cover a.b.db.example, 10.0.0.9 (has DNS *.db.example, 10.0.0.9; IP none)" in text


def _issue(directory):
    spec = {"common_name": None, "dns": [], "ip": [], "usage": "server", "key_type": "ec-p256", "validity_days": 30,
            "renew_before": 1, "signed_by": None, "key_path": None, "cert_path": None, "chain_path": None,
            "owner": None, "group": None, "bundles": []}
    params = {"path": str(directory), "state": "present", "organization": None, "owner": None, "group": None,
              "ca": {"name": "ca", "common_name": "waent CA", "key_type": "ec-p256", "validity_days": 60,
                     "renew_before": 1, "replace": "never"},
              "certificates": [dict(copy.deepcopy(spec), name="db1", dns=["db1.example"], ip=["10.0.0.5"]),
                               dict(copy.deepcopy(spec), name="core1", common_name="waent", usage="client",
                                    key_type="rsa-2048")],
              "key_mode": "0600", "cert_mode": "0644", "backup": False, "on_unreadable": "regenerate"}
    _pki.PkiManager(params).run()
    return {p.stem + p.suffix: p.read_text() for p in directory.iterdir()}


def test_roles_validate_with_the_rules_the_pki_issued_with(tmp_path):
    files = _issue(tmp_path)
    problems, facts = _db_tls.validate_material(files["ca.crt"], files["db1.crt"], files["db1.key"],
                                                purpose="server", names=["db1.example", "10.0.0.5"], min_days=7)
    assert problems == [] and facts["subject_alt_names"] == ["db1.example", "10.0.0.5"]
    problems, facts = _db_tls.validate_material(files["ca.crt"], files["core1.crt"], files["core1.key"],
                                                purpose="client", min_days=7)
    assert problems == [] and facts["subject"] == "CN=waent"
    problems, _facts = _db_tls.validate_material(files["ca.crt"], files["core1.crt"], files["core1.key"],
                                                 purpose="server", names=["waent"])
    text = " | ".join(problems)
    assert "lacks serverAuth" in text
    assert "does not cover waent" in text  # the CN is never a name


def test_classify_verify_errors():
    settings = {"hostname": "db1", "port": 3306, "ssl_ca": "/ca.pem"}
    wire = _db_tls_wire
    cases = {10: wire.KIND_VERIFY_EXPIRED, 62: wire.KIND_VERIFY_HOSTNAME, 64: wire.KIND_VERIFY_HOSTNAME,
             20: wire.KIND_VERIFY_CA, 19: wire.KIND_VERIFY_CA, 7: wire.KIND_VERIFY_OTHER}
    for code, kind in cases.items():
        exc = ssl.SSLCertVerificationError("verify failed")
        exc.verify_code = code
        exc.verify_message = f"detail {code}"
        err = _db_tls_wire.classify_verify_error(exc, settings)
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
        # no SAN, the name only as CN: refused by the live check as by the validators (no CN fallback)
        "cn_only": _pem(_cert(pki["leaf_key"], pki["ca_key"], "localhost", "waent CA",
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
    ("server", "rogue", "localhost", _db_tls_wire.KIND_VERIFY_CA),
    ("server", "ca", "127.0.0.2", _db_tls_wire.KIND_VERIFY_HOSTNAME),
    ("expired", "ca", "localhost", _db_tls_wire.KIND_VERIFY_EXPIRED),
    ("cn_only", "ca", "localhost", _db_tls_wire.KIND_VERIFY_HOSTNAME),
])
def test_loopback_refusals(loopback_pki, cert, ca, hostname, kind):
    # 127.0.0.2 is a loopback address the certificate does not name (Linux routes 127/8 locally).
    address = hostname if hostname.startswith("127.") else "127.0.0.1"
    server = _FakePg(loopback_pki[cert], loopback_pki["server_key"], address=address)
    settings = _settings(server.port, loopback_pki[ca], hostname)
    with pytest.raises(_db_tls_wire.DbTlsError) as info:
        _db_tls.check_connection(settings)
    assert info.value.kind == kind, info.value.msg


def test_loopback_server_without_tls(loopback_pki):
    server = _FakePg(loopback_pki["server"], loopback_pki["server_key"], accept_tls=False)
    with pytest.raises(_db_tls_wire.DbTlsError) as info:
        _db_tls.check_connection(_settings(server.port, loopback_pki["ca"]))
    assert info.value.kind == _db_tls_wire.KIND_TLS_REFUSED
