# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The simulator's state in the lab's real database, reached as :mod:`waent_sim.dbconfig` reads it.

Reference section 2.1: every container reaches the database with the ``WA_DB_*`` settings, TLS
from ``WA_DB_SSL_CA/CERT/KEY``; the client creates its own databases (``waweb``,
``clusterStore``, ``configStore``). Drivers: PyMySQL for ``MYSQL``, psycopg2 (libpq) for
``PGSQL``, ``sqlite3`` for the Webapp's fallback (section 3).

Not lenient by construction:

* TLS settings mean TLS: a MySQL server that does not offer TLS is refused ("the server does
  not offer TLS"), as libmysqlclient refuses it once a CA is given (PyMySQL alone would carry
  on in plaintext); the session's ``Ssl_version`` is checked after the handshake.
* Verification as the settings say: the server certificate against ``WA_DB_SSL_CA`` and the
  host name (``WA_DB_HOSTNAME``) against it, unless the Webapp's ``WA_DB_SSL_VERIFY=0`` turned
  both off (``dbconfig`` decides; D8). PostgreSQL: ``sslmode=verify-full`` (``verify-ca``
  without host-name check, ``require`` with no CA).
* No TLS settings: MySQL plain; PostgreSQL with libpq's default ``sslmode=prefer`` (the driver's
  own behaviour, PDO and Qt alike), which is not counted as TLS (D11).
"""

from __future__ import annotations

import contextlib
import logging
import os
import ssl
import threading

from waent_sim import dbconfig

LOG = logging.getLogger(__name__)

CONNECT_TIMEOUT = 15  # the Coreapp's connect_timeout=15 (section 2.1)

# Column types per engine: keys must be indexable in MySQL (no TEXT keys), PEM bundles long.
_TYPES = {
    dbconfig.ENGINE_MYSQL: {"key": "VARCHAR(190)", "text": "MEDIUMTEXT", "int": "BIGINT"},
    dbconfig.ENGINE_PGSQL: {"key": "VARCHAR(190)", "text": "TEXT", "int": "BIGINT"},
    dbconfig.ENGINE_SQLITE: {"key": "TEXT", "text": "TEXT", "int": "INTEGER"},
}


class StoreError(Exception):
    """The database cannot be used; the message says why (for the container's log)."""


def _mysql_context(tls):
    context = ssl.create_default_context(cafile=tls.ca) if tls.ca else ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if not tls.ca or not tls.verify_server:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    else:
        context.check_hostname = tls.verify_hostname
    if tls.cert:
        context.load_cert_chain(tls.cert, tls.key)
    return context


def _pg_sslmode(tls):
    if tls is None:
        return "prefer"
    if not tls.ca or not tls.verify_server:
        return "require"
    return "verify-full" if tls.verify_hostname else "verify-ca"


class Store:
    """One database of the client (``database``), one connection per thread, created on first use."""

    def __init__(self, cfg, database, *, timeout=CONNECT_TIMEOUT):
        self.cfg = cfg
        self.database = database if cfg.engine != dbconfig.ENGINE_PGSQL else database.lower()
        self.timeout = timeout
        self.types = _TYPES[cfg.engine]
        self._local = threading.local()
        self._created = False
        self.tls_description = None

    # -- connections -------------------------------------------------------------------------
    def _raw_connect(self, database):
        cfg = self.cfg
        if cfg.engine == dbconfig.ENGINE_SQLITE:
            import sqlite3

            path = os.path.join(os.path.dirname(cfg.sqlite_path), f"{self.database}.db") \
                if self.database != "waweb" else cfg.sqlite_path
            os.makedirs(os.path.dirname(path), exist_ok=True)
            return sqlite3.connect(path, timeout=self.timeout, isolation_level=None, check_same_thread=False)
        if cfg.engine == dbconfig.ENGINE_MYSQL:
            import pymysql

            kwargs = dict(host=cfg.host.strip("[]"), port=cfg.port, user=cfg.user, password=cfg.password or "",
                          database=database, connect_timeout=self.timeout, read_timeout=self.timeout,
                          write_timeout=self.timeout, autocommit=True, charset="utf8mb4")
            if cfg.tls is not None:
                kwargs["ssl"] = _mysql_context(cfg.tls)
            try:
                conn = pymysql.connect(**kwargs)
            except (pymysql.MySQLError, ssl.SSLError, OSError) as exc:
                raise StoreError(f"cannot connect to MySQL {cfg.host}:{cfg.port}: {exc}") from None
            if cfg.tls is not None:
                with conn.cursor() as cur:
                    cur.execute("SHOW SESSION STATUS LIKE 'Ssl_version'")
                    row = cur.fetchone()
                if not row or not row[1]:
                    conn.close()
                    raise StoreError(f"MySQL {cfg.host}:{cfg.port}: the server does not offer TLS but "
                                     f"WA_DB_SSL_* ask for it; refusing a plaintext connection")
                self.tls_description = f"TLS {row[1]}"
            return conn
        import psycopg2

        kwargs = dict(host=cfg.host.strip("[]"), port=cfg.port, user=cfg.user, password=cfg.password or "",
                      dbname=database, connect_timeout=self.timeout, sslmode=_pg_sslmode(cfg.tls))
        if cfg.tls is not None:
            for name, value in (("sslrootcert", cfg.tls.ca), ("sslcert", cfg.tls.cert), ("sslkey", cfg.tls.key)):
                if value:
                    kwargs[name] = value
        try:
            conn = psycopg2.connect(**kwargs)
        except psycopg2.Error as exc:
            raise StoreError(f"cannot connect to PostgreSQL {cfg.host}:{cfg.port}: "
                             f"{str(exc).strip()}") from None
        conn.autocommit = True
        in_use = conn.info.ssl_in_use
        self.tls_description = f"TLS {conn.info.ssl_attribute('protocol')}" if in_use else "no TLS"
        return conn

    def _create_database(self):
        if self.cfg.engine == dbconfig.ENGINE_SQLITE:
            return
        name = self.database
        if self.cfg.engine == dbconfig.ENGINE_MYSQL:
            conn = self._raw_connect(None)
            try:
                with conn.cursor() as cur:
                    cur.execute(f"CREATE DATABASE IF NOT EXISTS `{name}` CHARACTER SET utf8mb4")
            finally:
                conn.close()
            return
        import psycopg2
        import psycopg2.errors

        conn = self._raw_connect("postgres")
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
                if cur.fetchone() is None:
                    try:
                        cur.execute(f'CREATE DATABASE "{name}"')
                    except (psycopg2.errors.DuplicateDatabase, psycopg2.errors.UniqueViolation):
                        pass  # another container created it at the same moment
        except psycopg2.Error as exc:
            raise StoreError(f"cannot create database {name}: {str(exc).strip()}") from None
        finally:
            conn.close()

    def connection(self):
        """This thread's connection to the database (created, with the database, on first use)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            if not self._created:
                self._create_database()
                self._created = True
            conn = self._raw_connect(self.database)
            self._local.conn = conn
        return conn

    def drop_connection(self):
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            with contextlib.suppress(Exception):  # closing a broken connection may fail any way
                conn.close()

    # -- statements --------------------------------------------------------------------------
    def _sql(self, sql):
        return sql.replace("%s", "?") if self.cfg.engine == dbconfig.ENGINE_SQLITE else sql

    def run(self, sql, params=(), *, fetch=False):
        """Run one statement (``%s`` placeholders); rows as tuples when ``fetch``. Retries once on a lost link."""
        for attempt in (1, 2):
            conn = self.connection()
            try:
                cur = conn.cursor()
                try:
                    cur.execute(self._sql(sql), tuple(params))
                    rows = cur.fetchall() if fetch else None
                    count = cur.rowcount
                finally:
                    cur.close()
                return rows if fetch else count
            except Exception as exc:  # noqa: BLE001 - each driver has its own error hierarchy
                self.drop_connection()
                if attempt == 2 or not _is_connection_error(exc):
                    raise StoreError(f"database {self.database}: {type(exc).__name__}: {exc}") from None
                LOG.info("database %s: reconnecting after %s", self.database, exc)
        raise AssertionError("unreachable")

    def one(self, sql, params=()):
        rows = self.run(sql, params, fetch=True)
        return rows[0] if rows else None

    def create_tables(self, tables):
        """``tables``: name -> list of (column, type key of ``_TYPES`` or a literal), first column the primary key
        unless a ``("PRIMARY KEY", "a, b")`` entry says otherwise."""
        for name, columns in tables.items():
            parts = []
            primary = None
            for column, kind in columns:
                if column == "PRIMARY KEY":
                    primary = kind
                    continue
                parts.append(f"{column} {self.types.get(kind, kind)}")
            primary = primary or columns[0][0]
            parts.append(f"PRIMARY KEY ({primary})")
            sql = f"CREATE TABLE IF NOT EXISTS {name} ({', '.join(parts)})"
            try:
                self.run(sql)
            except StoreError:
                # PostgreSQL: two containers creating the same table at once, one gets a unique
                # violation on pg_type although IF NOT EXISTS; the second attempt sees the table.
                self.run(sql)

    def upsert(self, table, key, values):
        """Insert or replace the row of ``table`` whose primary key columns are ``key`` (dict)."""
        row = {**key, **values}
        columns = ", ".join(row)
        marks = ", ".join(["%s"] * len(row))
        if self.cfg.engine == dbconfig.ENGINE_MYSQL:
            update = ", ".join(f"{c} = VALUES({c})" for c in values) or f"{next(iter(key))} = {next(iter(key))}"
            sql = f"INSERT INTO {table} ({columns}) VALUES ({marks}) ON DUPLICATE KEY UPDATE {update}"  # noqa: S608 - names are the simulator's constants
        else:
            update = ", ".join(f"{c} = EXCLUDED.{c}" for c in values)
            conflict = "DO UPDATE SET " + update if values else "DO NOTHING"
            sql = f"INSERT INTO {table} ({columns}) VALUES ({marks}) ON CONFLICT ({', '.join(key)}) {conflict}"  # noqa: S608 - names are the simulator's constants
        self.run(sql, row.values())

    def insert_missing(self, table, row):
        """Insert ``row`` (dict) unless a row with its primary key exists (another container's is kept)."""
        columns = ", ".join(row)
        marks = ", ".join(["%s"] * len(row))
        if self.cfg.engine == dbconfig.ENGINE_MYSQL:
            sql = f"INSERT IGNORE INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608 - names are the simulator's constants
        else:
            sql = f"INSERT INTO {table} ({columns}) VALUES ({marks}) ON CONFLICT DO NOTHING"  # noqa: S608 - names are the simulator's constants
        return self.run(sql, row.values())

    def describe(self):
        cfg = self.cfg
        if cfg.engine == dbconfig.ENGINE_SQLITE:
            return f"sqlite {cfg.sqlite_path}"
        return f"{cfg.engine} {cfg.host}:{cfg.port}/{self.database} ({self.tls_description or 'not connected'})"


def _is_connection_error(exc):
    name = type(exc).__name__
    return name in {"OperationalError", "InterfaceError", "BrokenPipeError", "ConnectionResetError"}
