# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""PostgreSQL v3 client protocol, as much as a TLS proof needs: SSLRequest, TLS, startup,
cleartext/MD5/SCRAM-SHA-256 authentication, simple query (standard library)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct

from ansible_collections.waent.onprem.plugins.module_utils._db_tls_wire import (
    KIND_AUTH,
    KIND_CLIENT_CERT_REQUIRED,
    KIND_PLAINTEXT_REFUSED,
    KIND_PROTOCOL,
    KIND_TLS_REFUSED,
    DbTlsError,
    open_socket,
    recv_exact,
    start_tls,
    tls_facts,
    xor_bytes,
)

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
    proof = xor_bytes(client_key, signature)
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
