# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Backend of waent.onprem.db_tls_check: a real, verified TLS session to the database.

Standard library only (the module runs on the app hosts, which carry no database driver):
the MySQL/MariaDB client protocol (SSL request, TLS, HandshakeResponse41 with
mysql_native_password or caching_sha2_password, COM_QUERY) and the PostgreSQL v3 protocol
(SSLRequest, TLS, startup, cleartext/MD5/SCRAM-SHA-256, simple query) are spoken directly,
so the proof uses exactly the files and settings of the containers' env file.

The optional material validation (key match, chain, expiry, names) needs ``cryptography``
and is meant to run on the controller.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import ipaddress
import os
import secrets
import socket
import ssl
import struct

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID

    HAS_CRYPTOGRAPHY = True
    CRYPTOGRAPHY_IMPORT_ERROR = None
except ImportError as _exc:  # pragma: no cover - depends on the host
    HAS_CRYPTOGRAPHY = False
    CRYPTOGRAPHY_IMPORT_ERROR = _exc

CONTAINER_DATA_PATH = "/usr/local/waent/data"
ENGINES = ("MYSQL", "PGSQL")
MAX_PACKET = 16 * 1024 * 1024

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


# --------------------------------------------------------------------------- settings


def parse_env_file(text):
    """Parse a docker/podman ``--env-file``: ``KEY=value`` lines, no quoting, ``#`` comments."""
    env = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep:
            continue
        env[key.strip()] = value
    return env


def container_to_host_path(path, data_dir, container_data_path=CONTAINER_DATA_PATH):
    """Map a path seen inside the container to the host path of the data volume."""
    if not path:
        return path
    if data_dir is None:
        return path
    prefix = container_data_path.rstrip("/") + "/"
    if path.startswith(prefix):
        return os.path.join(data_dir, path[len(prefix):])
    return path


def _truthy(value):
    return str(value).strip().lower() not in ("0", "false", "no", "off", "")


def settings_from_env(env, data_dir=None, container_data_path=CONTAINER_DATA_PATH, overrides=None):
    """Connection settings from an env file (as the container sees them), then overrides.

    ``WA_DB_SSL_VERIFY`` is honoured when present (Webapp env files); the Coreapp has no
    switch and always gets a verified session here.
    """
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    settings = {
        "engine": (env.get("WA_DB_ENGINE") or "MYSQL").upper(),
        "hostname": env.get("WA_DB_HOSTNAME"),
        "port": int(env.get("WA_DB_PORT") or 3306),
        "username": env.get("WA_DB_USERNAME"),
        "password": env.get("WA_DB_PASSWORD"),
        "ssl_ca": container_to_host_path(env.get("WA_DB_SSL_CA"), data_dir, container_data_path),
        "ssl_cert": container_to_host_path(env.get("WA_DB_SSL_CERT"), data_dir, container_data_path),
        "ssl_key": container_to_host_path(env.get("WA_DB_SSL_KEY"), data_dir, container_data_path),
        "verify": _truthy(env.get("WA_DB_SSL_VERIFY", "1")),
        "tls": True,
    }
    settings.update(overrides)
    settings["engine"] = str(settings["engine"]).upper()
    return settings


def check_settings(settings):
    """Return a list of problems with the settings (empty when usable)."""
    problems = []
    if settings.get("engine") not in ENGINES:
        problems.append("engine must be one of {}, got {!r}".format(", ".join(ENGINES), settings.get("engine")))
    for key in ("hostname", "username"):
        if not settings.get(key):
            problems.append(f"{key} is missing (WA_DB_{key.upper()} in the env file or the {key} option)")
    if settings.get("password") is None:
        problems.append("password is missing (WA_DB_PASSWORD in the env file or the password option)")
    if settings.get("tls"):
        if settings.get("verify") and not settings.get("ssl_ca"):
            problems.append("verification needs a CA file (WA_DB_SSL_CA or ssl_ca)")
        if bool(settings.get("ssl_cert")) != bool(settings.get("ssl_key")):
            problems.append("a client certificate needs both ssl_cert and ssl_key (WA_DB_SSL_CERT/WA_DB_SSL_KEY)")
        for key in ("ssl_ca", "ssl_cert", "ssl_key"):
            path = settings.get(key)
            if path and not os.path.isfile(path):
                problems.append(f"{key} file {path} does not exist on this host")
    return problems


# --------------------------------------------------------------------------- TLS


def make_context(settings):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if settings.get("tls_max_version") == "TLSv1.2":
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    if settings.get("verify"):
        ctx.check_hostname = True
        ctx.verify_mode = ssl.CERT_REQUIRED
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


# --------------------------------------------------------------------------- MySQL / MariaDB

CLIENT_LONG_PASSWORD = 0x1
CLIENT_LONG_FLAG = 0x4
CLIENT_PROTOCOL_41 = 0x200
CLIENT_SSL = 0x800
CLIENT_TRANSACTIONS = 0x2000
CLIENT_SECURE_CONNECTION = 0x8000
CLIENT_MULTI_RESULTS = 0x20000
CLIENT_PLUGIN_AUTH = 0x80000
MYSQL_CHARSET_UTF8MB4 = 45
MYSQL_CAPS = (CLIENT_LONG_PASSWORD | CLIENT_LONG_FLAG | CLIENT_PROTOCOL_41 | CLIENT_TRANSACTIONS
              | CLIENT_SECURE_CONNECTION | CLIENT_MULTI_RESULTS | CLIENT_PLUGIN_AUTH)


def _xor(left, right):
    return (int.from_bytes(left, "big") ^ int.from_bytes(right, "big")).to_bytes(len(left), "big")


def mysql_native_scramble(password, salt):
    """mysql_native_password: SHA1(pw) XOR SHA1(salt + SHA1(SHA1(pw)))."""
    if not password:
        return b""
    stage1 = hashlib.sha1(password.encode("utf-8")).digest()  # noqa: S324 - the protocol's hash
    stage2 = hashlib.sha1(stage1).digest()  # noqa: S324
    mix = hashlib.sha1(salt + stage2).digest()  # noqa: S324
    return _xor(stage1, mix)


def caching_sha2_scramble(password, nonce):
    """caching_sha2_password fast path: SHA256(pw) XOR SHA256(SHA256(SHA256(pw)) + nonce)."""
    if not password:
        return b""
    p1 = hashlib.sha256(password.encode("utf-8")).digest()
    p2 = hashlib.sha256(p1).digest()
    p3 = hashlib.sha256(p2 + nonce).digest()
    return _xor(p1, p3)


def mysql_packet(payload, seq):
    return struct.pack("<I", len(payload))[:3] + bytes([seq & 0xFF]) + payload


def parse_mysql_greeting(payload):
    """Parse the server's initial handshake (protocol 10)."""
    if payload[:1] == b"\xff":
        raise DbTlsError("The database refused the connection: {}".format(parse_mysql_error(payload)["message"]),
                         KIND_CONNECT)
    if payload[0] != 10:
        raise DbTlsError(f"Not a MySQL/MariaDB server (protocol {payload[0]})", KIND_PROTOCOL)
    end = payload.index(b"\0", 1)
    version = payload[1:end].decode("utf-8", "replace")
    pos = end + 1 + 4
    salt = payload[pos:pos + 8]
    pos += 9
    caps = struct.unpack("<H", payload[pos:pos + 2])[0]
    pos += 2
    if len(payload) > pos:
        pos += 3  # charset, status flags
        caps |= struct.unpack("<H", payload[pos:pos + 2])[0] << 16
        pos += 2
        salt_len = payload[pos]
        pos += 11
        if caps & CLIENT_SECURE_CONNECTION:
            part2 = max(13, salt_len - 8)
            salt += payload[pos:pos + part2].rstrip(b"\0")
            pos += part2
    plugin = "mysql_native_password"
    if caps & CLIENT_PLUGIN_AUTH and len(payload) > pos:
        plugin = payload[pos:].split(b"\0", 1)[0].decode("ascii", "replace") or plugin
    return {"version": version, "salt": salt, "capabilities": caps, "plugin": plugin}


def parse_mysql_error(payload):
    code = struct.unpack("<H", payload[1:3])[0]
    rest = payload[3:]
    state = None
    if rest[:1] == b"#":
        state = rest[1:6].decode("ascii", "replace")
        rest = rest[6:]
    return {"code": code, "sqlstate": state, "message": rest.decode("utf-8", "replace")}


def _lenenc_int(data, pos):
    first = data[pos]
    if first < 0xFB:
        return first, pos + 1
    if first == 0xFB:
        return None, pos + 1
    if first == 0xFC:
        return struct.unpack("<H", data[pos + 1:pos + 3])[0], pos + 3
    if first == 0xFD:
        return struct.unpack("<I", data[pos + 1:pos + 4] + b"\0")[0], pos + 4
    return struct.unpack("<Q", data[pos + 1:pos + 9])[0], pos + 9


def parse_mysql_row(payload, columns):
    row = []
    pos = 0
    for _unused in range(columns):
        length, pos = _lenenc_int(payload, pos)
        if length is None:
            row.append(None)
            continue
        row.append(payload[pos:pos + length].decode("utf-8", "replace"))
        pos += length
    return row


class MySQLSession:
    def __init__(self, settings):
        self.settings = settings
        self.sock = None
        self.seq = 0

    def read(self):
        header = recv_exact(self.sock, 4)
        length = struct.unpack("<I", header[:3] + b"\0")[0]
        self.seq = (header[3] + 1) & 0xFF
        return recv_exact(self.sock, length) if length else b""

    def write(self, payload):
        self.sock.sendall(mysql_packet(payload, self.seq))
        self.seq = (self.seq + 1) & 0xFF

    def connect(self):
        st = self.settings
        self.sock = open_socket(st)
        greeting = parse_mysql_greeting(self.read())
        facts = {"server_version": greeting["version"], "tls": False}
        caps = MYSQL_CAPS
        if st["tls"]:
            if not greeting["capabilities"] & CLIENT_SSL:
                raise DbTlsError("The database server at {}:{} does not offer TLS (no ssl_cert/ssl_key configured?)"
                                 .format(st["hostname"], st["port"]), KIND_TLS_REFUSED)
            caps |= CLIENT_SSL
            self.write(struct.pack("<IIB", caps, MAX_PACKET, MYSQL_CHARSET_UTF8MB4) + b"\0" * 23)
            self.sock = start_tls(self.sock, st)
            facts.update(tls_facts(self.sock, st), tls=True)
        self._authenticate(greeting, caps)
        facts["authenticated"] = True
        return facts

    def _scramble(self, plugin, salt):
        if plugin == "caching_sha2_password":
            return caching_sha2_scramble(self.settings["password"], salt)
        if plugin == "mysql_clear_password":
            if not self.settings["tls"]:
                raise DbTlsError("Refusing to send a cleartext password without TLS", KIND_AUTH)
            return self.settings["password"].encode("utf-8") + b"\0"
        if plugin == "mysql_native_password":
            return mysql_native_scramble(self.settings["password"], salt)
        raise DbTlsError("Unsupported authentication plugin {!r} for user {}: use mysql_native_password or "
                         "caching_sha2_password".format(plugin, self.settings["username"]), KIND_AUTH)

    def _authenticate(self, greeting, caps):
        st = self.settings
        plugin = greeting["plugin"]
        if plugin not in ("mysql_native_password", "caching_sha2_password"):
            plugin = "mysql_native_password"
        auth = self._scramble(plugin, greeting["salt"])
        payload = (struct.pack("<IIB", caps, MAX_PACKET, MYSQL_CHARSET_UTF8MB4) + b"\0" * 23
                   + st["username"].encode("utf-8") + b"\0" + bytes([len(auth)]) + auth
                   + plugin.encode("ascii") + b"\0")
        self.write(payload)
        for _round in range(5):
            reply = self.read()
            marker = reply[:1]
            if marker == b"\x00":
                return
            if marker == b"\xff":
                raise self._auth_error(parse_mysql_error(reply))
            if marker == b"\xfe":
                plugin, _sep, data = reply[1:].partition(b"\0")
                plugin = plugin.decode("ascii", "replace")
                self.write(self._scramble(plugin, data.rstrip(b"\0")))
                continue
            if marker == b"\x01" and plugin == "caching_sha2_password":
                if reply[1:2] == b"\x03":  # fast auth succeeded, an OK packet follows
                    continue
                if reply[1:2] == b"\x04":  # full authentication: cleartext, only over TLS
                    if not st["tls"]:
                        raise DbTlsError("caching_sha2_password needs TLS or RSA for full authentication",
                                         KIND_AUTH)
                    self.write(st["password"].encode("utf-8") + b"\0")
                    continue
            raise DbTlsError("Unexpected authentication reply from the server", KIND_PROTOCOL)
        raise DbTlsError("Authentication did not finish", KIND_PROTOCOL)

    def _auth_error(self, err):
        st = self.settings
        msg = "The database refused user {!r}: [{}] {}".format(st["username"], err["code"], err["message"])
        if err["code"] == 3159 or "insecure transport" in err["message"].lower() or (
                not st["tls"] and err["code"] in (1045, 1158, 4151)):
            return DbTlsError(msg + " (plaintext connections are refused: this is the hardened setting)",
                              KIND_PLAINTEXT_REFUSED, err)
        if err["code"] == 1045 and st["tls"] and not st.get("ssl_cert"):
            return DbTlsError(msg + " (no client certificate was sent; the account requires one: REQUIRE X509)",
                              KIND_CLIENT_CERT_REQUIRED, err)
        return DbTlsError(msg, KIND_AUTH, err)

    def query(self, sql):
        self.seq = 0
        self.write(b"\x03" + sql.encode("utf-8"))
        first = self.read()
        if first[:1] == b"\xff":
            err = parse_mysql_error(first)
            raise DbTlsError("Query failed: [{}] {}".format(err["code"], err["message"]), KIND_PROTOCOL, err)
        if first[:1] == b"\x00":
            return []
        columns, _pos = _lenenc_int(first, 0)
        for _col in range(columns):
            self.read()
        packet = self.read()
        if packet[:1] == b"\xfe" and len(packet) < 9:  # EOF after the column definitions
            packet = self.read()
        rows = []
        while not (packet[:1] == b"\xfe" and len(packet) < 9):
            if packet[:1] == b"\xff":
                err = parse_mysql_error(packet)
                raise DbTlsError("Query failed: [{}] {}".format(err["code"], err["message"]), KIND_PROTOCOL, err)
            rows.append(parse_mysql_row(packet, columns))
            packet = self.read()
        return rows

    def server_view(self):
        status = dict((row[0], row[1]) for row in self.query("SHOW SESSION STATUS LIKE 'Ssl_%'"))
        user = self.query("SELECT CURRENT_USER()")
        return {
            "server_ssl_version": status.get("Ssl_version") or None,
            "server_ssl_cipher": status.get("Ssl_cipher") or None,
            "authenticated_as": user[0][0] if user else None,
        }

    def close(self):
        if self.sock is None:
            return
        try:
            self.seq = 0
            self.write(b"\x01")
        except (OSError, DbTlsError):
            pass
        self.sock.close()


# --------------------------------------------------------------------------- PostgreSQL

PG_SSL_REQUEST = 80877103
PG_PROTOCOL_3 = 196608


def scram_client_first(cnonce, username=""):
    bare = "n={},r={}".format(username.replace("=", "=3D").replace(",", "=2C"), cnonce)
    return "n,," + bare, bare


def scram_client_final(password, cnonce, client_first_bare, server_first):
    """Return (client_final_message, expected_server_signature) for SCRAM-SHA-256 (RFC 5802/7677)."""
    attrs = dict(item.split("=", 1) for item in server_first.split(","))
    nonce, salt, iterations = attrs.get("r", ""), attrs.get("s"), attrs.get("i")
    if not nonce.startswith(cnonce) or salt is None or iterations is None:
        raise DbTlsError("Invalid SCRAM challenge from the server", KIND_PROTOCOL)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), base64.b64decode(salt), int(iterations))
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    without_proof = "c=biws,r=" + nonce
    auth_message = ",".join((client_first_bare, server_first, without_proof)).encode("utf-8")
    signature = hmac.new(stored_key, auth_message, hashlib.sha256).digest()
    proof = _xor(client_key, signature)
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    server_signature = hmac.new(server_key, auth_message, hashlib.sha256).digest()
    final = without_proof + ",p=" + base64.b64encode(proof).decode("ascii")
    return final, base64.b64encode(server_signature).decode("ascii")


def pg_md5_password(password, username, salt):
    inner = hashlib.md5((password + username).encode("utf-8")).hexdigest()  # noqa: S324 - the protocol's hash
    return "md5" + hashlib.md5(inner.encode("ascii") + salt).hexdigest()  # noqa: S324


def pg_message(kind, body):
    return kind + struct.pack("!I", len(body) + 4) + body


def parse_pg_error(body):
    fields = {}
    for part in body.split(b"\0"):
        if part:
            fields[chr(part[0])] = part[1:].decode("utf-8", "replace")
    return {"severity": fields.get("S"), "code": fields.get("C"), "message": fields.get("M", ""),
            "detail": fields.get("D"), "hint": fields.get("H")}


class PostgreSQLSession:
    def __init__(self, settings):
        self.settings = settings
        self.sock = None

    def read(self):
        header = recv_exact(self.sock, 5)
        kind = header[:1]
        length = struct.unpack("!I", header[1:])[0] - 4
        return kind, recv_exact(self.sock, length) if length > 0 else b""

    def connect(self):
        st = self.settings
        self.sock = open_socket(st)
        facts = {"tls": False}
        if st["tls"]:
            self.sock.sendall(struct.pack("!II", 8, PG_SSL_REQUEST))
            answer = recv_exact(self.sock, 1)
            if answer != b"S":
                raise DbTlsError("The database server at {}:{} does not offer TLS (ssl = off?)"
                                 .format(st["hostname"], st["port"]), KIND_TLS_REFUSED)
            self.sock = start_tls(self.sock, st)
            facts.update(tls_facts(self.sock, st), tls=True)
        params = {"user": st["username"], "database": st.get("database") or "postgres",
                  "application_name": "waent-db_tls_check"}
        body = struct.pack("!I", PG_PROTOCOL_3) + b"".join(
            k.encode("utf-8") + b"\0" + v.encode("utf-8") + b"\0" for k, v in params.items()) + b"\0"
        self.sock.sendall(struct.pack("!I", len(body) + 4) + body)
        self._authenticate()
        facts["authenticated"] = True
        return facts

    def _error(self, body):
        st = self.settings
        err = parse_pg_error(body)
        msg = "The database refused user {!r}: {}".format(st["username"], err["message"])
        text = err["message"].lower()
        if "no encryption" in text or (not st["tls"] and "pg_hba.conf" in text):
            return DbTlsError(msg + " (plaintext connections are refused: this is the hardened setting)",
                              KIND_PLAINTEXT_REFUSED, err)
        if "certificate" in text and not st.get("ssl_cert"):
            return DbTlsError(msg + " (no client certificate was sent; pg_hba requires clientcert=verify-full)",
                              KIND_CLIENT_CERT_REQUIRED, err)
        if "certificate" in text:
            return DbTlsError(msg, KIND_CLIENT_CERT_REQUIRED, err)
        if st.get("ssl_cert"):
            msg += (" (wrong password, or with clientcert=verify-full the client certificate's CN is not"
                    " {!r}: the server log says which)".format(st["username"]))
        return DbTlsError(msg, KIND_AUTH, err)

    def _authenticate(self):
        st = self.settings
        password = st["password"] or ""
        cnonce = client_bare = expected = None
        for _round in range(10):
            kind, body = self.read()
            if kind == b"E":
                raise self._error(body)
            if kind != b"R":
                raise DbTlsError(f"Unexpected message {kind!r} during authentication", KIND_PROTOCOL)
            code = struct.unpack("!I", body[:4])[0]
            if code == 0:
                break
            if code == 3:
                if not st["tls"]:
                    raise DbTlsError("Refusing to send a cleartext password without TLS", KIND_AUTH)
                self.sock.sendall(pg_message(b"p", password.encode("utf-8") + b"\0"))
            elif code == 5:
                self.sock.sendall(pg_message(b"p", pg_md5_password(password, st["username"], body[4:8])
                                             .encode("ascii") + b"\0"))
            elif code == 10:
                mechanisms = [m.decode("ascii") for m in body[4:].split(b"\0") if m]
                if "SCRAM-SHA-256" not in mechanisms:
                    raise DbTlsError(f"No supported SASL mechanism in {mechanisms}", KIND_AUTH)
                cnonce = base64.b64encode(secrets.token_bytes(18)).decode("ascii")
                first, client_bare = scram_client_first(cnonce)
                data = first.encode("utf-8")
                self.sock.sendall(pg_message(b"p", b"SCRAM-SHA-256\0" + struct.pack("!I", len(data)) + data))
            elif code == 11:
                final, expected = scram_client_final(password, cnonce, client_bare, body[4:].decode("utf-8"))
                self.sock.sendall(pg_message(b"p", final.encode("utf-8")))
            elif code == 12:
                attrs = dict(item.split("=", 1) for item in body[4:].decode("utf-8").split(",") if "=" in item)
                if not hmac.compare_digest(attrs.get("v", ""), expected or ""):
                    raise DbTlsError("The server's SCRAM signature is wrong: not the server we expect", KIND_AUTH)
            else:
                raise DbTlsError(f"Unsupported PostgreSQL authentication method {code}", KIND_AUTH)
        else:
            raise DbTlsError("Authentication did not finish", KIND_PROTOCOL)
        while True:
            kind, body = self.read()
            if kind == b"E":
                raise self._error(body)
            if kind == b"Z":
                return

    def query(self, sql):
        self.sock.sendall(pg_message(b"Q", sql.encode("utf-8") + b"\0"))
        rows, error = [], None
        while True:
            kind, body = self.read()
            if kind == b"D":
                count = struct.unpack("!H", body[:2])[0]
                pos, row = 2, []
                for _col in range(count):
                    length = struct.unpack("!i", body[pos:pos + 4])[0]
                    pos += 4
                    if length < 0:
                        row.append(None)
                    else:
                        row.append(body[pos:pos + length].decode("utf-8", "replace"))
                        pos += length
                rows.append(row)
            elif kind == b"E":
                error = parse_pg_error(body)
            elif kind == b"Z":
                break
        if error:
            raise DbTlsError("Query failed: {}".format(error["message"]), KIND_PROTOCOL, error)
        return rows

    def server_view(self):
        rows = self.query("SELECT ssl::text, version, cipher, bits::text, current_user "
                          "FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        if not rows:
            return {"server_ssl_version": None, "server_ssl_cipher": None, "authenticated_as": None}
        ssl_on, version, cipher, _bits, user = rows[0]
        return {
            "server_ssl_version": version if ssl_on in ("true", "t") else None,
            "server_ssl_cipher": cipher if ssl_on in ("true", "t") else None,
            "authenticated_as": user,
        }

    def close(self):
        if self.sock is None:
            return
        try:
            self.sock.sendall(pg_message(b"X", b""))
        except OSError:
            pass
        self.sock.close()


# --------------------------------------------------------------------------- entry point


def check_connection(settings):
    """Connect, authenticate and ask the server whether the session is encrypted.

    Returns a dict of facts; raises DbTlsError (with ``kind``) when anything is not as required.
    """
    settings = dict(settings)
    settings.setdefault("timeout", 10)
    problems = check_settings(settings)
    if problems:
        raise DbTlsError("Cannot check the database connection: " + "; ".join(problems), KIND_SETTINGS)
    session = (MySQLSession if settings["engine"] == "MYSQL" else PostgreSQLSession)(settings)
    try:
        facts = session.connect()
        facts.update(session.server_view())
    finally:
        session.close()
    facts.update({"engine": settings["engine"], "hostname": settings["hostname"], "port": int(settings["port"])})
    facts["encrypted"] = bool(facts.get("tls") and facts.get("server_ssl_version"))
    if settings["tls"] and not facts["encrypted"]:
        raise DbTlsError("The server says this session is not encrypted", KIND_NOT_ENCRYPTED, facts)
    return facts


# --------------------------------------------------------------------------- material validation


def _load_pem_certs(pem):
    if isinstance(pem, str):
        pem = pem.encode("ascii")
    return x509.load_pem_x509_certificates(pem)


def _cert_names(cert):
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return [], []
    return san.get_values_for_type(x509.DNSName), [str(ip) for ip in san.get_values_for_type(x509.IPAddress)]


def _name_matches(name, dns_names, ip_names):
    try:
        return str(ipaddress.ip_address(name)) in ip_names
    except ValueError:
        pass
    name = name.lower().rstrip(".")
    for pattern in (d.lower().rstrip(".") for d in dns_names):
        if pattern == name:
            return True
        if pattern.startswith("*.") and "." in name and name.split(".", 1)[1] == pattern[2:]:
            return True
    return False


def _signed_by(cert, issuer):
    key = issuer.public_key()
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(), cert.signature_hash_algorithm)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(cert.signature_hash_algorithm))
        else:
            key.verify(cert.signature, cert.tbs_certificate_bytes)
    except Exception:  # noqa: BLE001 - any failure means "not signed by this issuer"
        return False
    return cert.issuer == issuer.subject


def _spki(key):
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def validate_material(ca_pem, cert_pem, key_pem, *, purpose="server", names=None, min_days=0, now=None):
    """Validate user-supplied TLS material before anything is written.

    Returns (problems, facts). Checks: everything parses, the key matches the certificate,
    the certificate chains to a CA in ``ca_pem`` (through any intermediates appended to
    ``cert_pem``), every certificate is inside its validity period (and valid for at least
    ``min_days`` more days), the usage fits ``purpose`` and, for servers, every name in
    ``names`` is covered by the subjectAltName.
    """
    now = now or datetime.datetime.now(datetime.timezone.utc)  # noqa: UP017 - Python 3.9 targets
    problems, facts = [], {}
    try:
        cas = _load_pem_certs(ca_pem)
    except ValueError as exc:
        return [f"the CA bundle does not parse as PEM certificates: {exc}"], facts
    try:
        chain = _load_pem_certs(cert_pem)
    except ValueError as exc:
        return [f"the certificate does not parse as PEM: {exc}"], facts
    leaf = chain[0]
    dns_names, ip_names = _cert_names(leaf)
    facts.update({
        "subject": leaf.subject.rfc4514_string(),
        "issuer": leaf.issuer.rfc4514_string(),
        "not_after": leaf.not_valid_after_utc.isoformat(),
        "subject_alt_names": dns_names + ip_names,
        "fingerprint_sha256": leaf.fingerprint(hashes.SHA256()).hex(),
    })
    if key_pem is not None:
        try:
            key = serialization.load_pem_private_key(key_pem.encode("ascii") if isinstance(key_pem, str) else key_pem,
                                                     password=None)
        except (ValueError, TypeError) as exc:
            problems.append(f"the private key does not parse (unencrypted PEM expected): {type(exc).__name__}")
        else:
            if _spki(key.public_key()) != _spki(leaf.public_key()):
                problems.append("the private key does not match the certificate {}".format(facts["subject"]))
    for cert in chain + cas:
        label = cert.subject.rfc4514_string()
        if cert.not_valid_after_utc <= now:
            problems.append(f"{label} expired on {cert.not_valid_after_utc.isoformat()}")
        elif cert.not_valid_after_utc <= now + datetime.timedelta(days=min_days):
            problems.append(f"{label} expires on {cert.not_valid_after_utc.isoformat()}, within {min_days} days")
        if cert.not_valid_before_utc > now:
            problems.append(f"{label} is not valid before {cert.not_valid_before_utc.isoformat()}")
    # Walk leaf -> intermediates -> a CA of the bundle.
    current, pool, chained = leaf, list(chain[1:]), False
    for _depth in range(8):
        if any(_signed_by(current, ca) for ca in cas):
            chained = True
            break
        parent = next((c for c in pool if _signed_by(current, c)), None)
        if parent is None:
            break
        pool.remove(parent)
        current = parent
    if not chained:
        problems.append("{} is not signed by a CA of the supplied bundle (issuer {})".format(
            facts["subject"], facts["issuer"]))
    for ca in cas:
        try:
            basic = ca.extensions.get_extension_for_class(x509.BasicConstraints).value
            is_ca = basic.ca
        except x509.ExtensionNotFound:
            is_ca = False
        if not is_ca:
            problems.append(f"{ca.subject.rfc4514_string()} in the CA bundle is not a CA certificate")
    try:
        eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        wanted = ExtendedKeyUsageOID.SERVER_AUTH if purpose == "server" else ExtendedKeyUsageOID.CLIENT_AUTH
        if wanted not in eku:
            problems.append("{} lacks the {}Auth extended key usage".format(facts["subject"], purpose))
    except x509.ExtensionNotFound:
        pass
    for name in names or []:
        if not _name_matches(name, dns_names, ip_names):
            problems.append("{} does not cover the name {} (subjectAltName: {})".format(
                facts["subject"], name, ", ".join(dns_names + ip_names) or "none"))
    return problems, facts
