# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""MySQL/MariaDB client protocol, as much as a TLS proof needs: greeting, SSL request, TLS,
HandshakeResponse41 with mysql_native_password or caching_sha2_password, COM_QUERY (standard library)."""

from __future__ import annotations

import hashlib
import struct

from ansible_collections.waent.onprem.plugins.module_utils._db_tls_wire import (
    KIND_AUTH,
    KIND_CLIENT_CERT_REQUIRED,
    KIND_CONNECT,
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

MAX_PACKET = 16 * 1024 * 1024

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


def mysql_native_scramble(password, salt):
    """mysql_native_password: SHA1(pw) XOR SHA1(salt + SHA1(SHA1(pw)))."""
    if not password:
        return b""
    stage1 = hashlib.sha1(password.encode("utf-8")).digest()  # noqa: S324 - the protocol's hash
    stage2 = hashlib.sha1(stage1).digest()  # noqa: S324
    mix = hashlib.sha1(salt + stage2).digest()  # noqa: S324
    return xor_bytes(stage1, mix)


def caching_sha2_scramble(password, nonce):
    """caching_sha2_password fast path: SHA256(pw) XOR SHA256(SHA256(SHA256(pw)) + nonce)."""
    if not password:
        return b""
    p1 = hashlib.sha256(password.encode("utf-8")).digest()
    p2 = hashlib.sha256(p1).digest()
    p3 = hashlib.sha256(p2 + nonce).digest()
    return xor_bytes(p1, p3)


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
