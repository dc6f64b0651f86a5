# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""How the Webapp, Coreapp and Master read their database settings (reference sections 2.1, 2.3, 3, 7.3).

:func:`read` turns a container's environment into a :class:`DBConfig`, or refuses it with a
:class:`DBConfigError` as the product does. Documented behaviour:

* ``WA_DB_ENGINE`` (W, C, M) is ``MYSQL`` or ``PGSQL``; the Webapp lower-cases it for the
  engine choice and falls back to SQLite when it is unset, which multiconnect
  (``WA_APP_MULTICONNECT=1``) does not allow; ``WA_APP_MULTICONNECT`` is ``0`` or ``1`` only,
  the Webapp throws otherwise (sections 2.1, 2.3). The SQLite file is ``web/waweb.db`` under
  the data volume (section 3). Old Webapp builds applied the SSL driver options only when the
  raw value was exactly ``mysql`` (issue #24, sections 2.1 and 7.3): ``webapp_issue_24=True``
  reproduces those builds, so ``MYSQL`` then connects without TLS (what issue #31's "SSL
  connection is required" came from).
* ``WA_DB_HOSTNAME`` (W, C, M); the Webapp brackets IPv6 literals (section 2.1).
* ``WA_DB_PORT`` (W, C, M); Webapp default 3306 (section 2.1).
* ``WA_DB_USERNAME`` / ``WA_DB_PASSWORD`` (W, C, M). With ``WA_RUNNING_ENV=AWS`` the Webapp
  reads the password from the SSM parameter ``<stack>-WA_DB_PASSWORD`` and needs
  ``AWS_REGION`` and ``AWS_STACK_NAME`` (sections 2.1, 2.3).
* ``WA_DB_SSL_CA`` / ``WA_DB_SSL_CERT`` / ``WA_DB_SSL_KEY`` (W, C, M): paths inside the
  container (section 2.1). The Webapp applies them only for MySQL, as PDO mysql attributes
  (the DB-TLS caveats after section 2.1).
* ``WA_DB_SSL_VERIFY`` (W only): server-certificate verification, on by default, ``0``
  disables it (PDO ``MYSQL_ATTR_SSL_VERIFY_SERVER_CERT``). The Coreapp and Master ignore it:
  they always verify.
* ``WA_DB_CONNECTION_OPTION`` (C, M, deprecated): the Qt ``setConnectOptions`` list,
  ``KEY=value`` separated by ``;``. The Coreapp log shows ``SSL_CA=<path>;connect_timeout=15``
  built from ``WA_DB_SSL_CA``. MySQL takes the QMYSQL names (``SSL_KEY``, ``SSL_CERT``,
  ``SSL_CA``, ...); for PostgreSQL QPSQL hands the list to libpq, which refuses ``SSL_CA``
  with ``invalid connection option`` (issue #81): :class:`InvalidConnectionOptionError`.

Choices where the reference is silent are listed in ``DEVIATIONS.md``, section "Database
settings" (D1 to D14); each is named in the code where it is made.
"""

from __future__ import annotations

import dataclasses
import ipaddress

ROLE_WEBAPP = "webapp"
ROLE_COREAPP = "coreapp"
ROLE_MASTER = "master"
ROLES = (ROLE_WEBAPP, ROLE_COREAPP, ROLE_MASTER)

ENGINE_MYSQL = "mysql"
ENGINE_PGSQL = "pgsql"
ENGINE_SQLITE = "sqlite"

SOURCE_SSL_VARS = "WA_DB_SSL_*"
SOURCE_CONNECTION_OPTION = "WA_DB_CONNECTION_OPTION"

WEBAPP_DEFAULT_PORT = 3306
SQLITE_PATH = "/usr/local/waent/data/web/waweb.db"  # section 3
CONNECT_TIMEOUT_OPTION = "connect_timeout=15"  # the Coreapp log of section 2.1

SSL_VARIABLES = ("WA_DB_SSL_CA", "WA_DB_SSL_CERT", "WA_DB_SSL_KEY")

# Qt 5 QMYSQL's connect options (qsql_mysql.cpp), compared case-sensitively. Flags take no value.
QMYSQL_VALUE_OPTIONS = frozenset({
    "UNIX_SOCKET", "MYSQL_OPT_RECONNECT", "MYSQL_OPT_CONNECT_TIMEOUT", "MYSQL_OPT_READ_TIMEOUT",
    "MYSQL_OPT_WRITE_TIMEOUT", "SSL_KEY", "SSL_CERT", "SSL_CA", "SSL_CAPATH", "SSL_CIPHER",
})
QMYSQL_FLAG_OPTIONS = frozenset({
    "CLIENT_COMPRESS", "CLIENT_FOUND_ROWS", "CLIENT_IGNORE_SPACE", "CLIENT_SSL", "CLIENT_ODBC",
    "CLIENT_NO_SCHEMA", "CLIENT_INTERACTIVE",
})
# libpq (PostgreSQL 13) connection keywords: QPSQL passes the list to PQconnectdb, which refuses
# any other keyword. Host, port, user, password and dbname come from the WA_DB_* variables.
LIBPQ_KEYWORDS = frozenset({
    "host", "hostaddr", "port", "dbname", "user", "password", "passfile", "channel_binding",
    "connect_timeout", "client_encoding", "options", "application_name",
    "fallback_application_name", "keepalives", "keepalives_idle", "keepalives_interval",
    "keepalives_count", "tcp_user_timeout", "sslmode", "requiressl", "sslcompression", "sslcert",
    "sslkey", "sslpassword", "sslrootcert", "sslcrl", "requirepeer", "ssl_min_protocol_version",
    "ssl_max_protocol_version", "krbsrvname", "gsslib", "service", "target_session_attrs",
    "gssencmode",
})
LIBPQ_SSLMODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")


class DBConfigError(Exception):
    """Settings the container refuses to start with."""


class UnknownEngineError(DBConfigError):
    """``WA_DB_ENGINE`` names no engine the container knows."""


class MissingVariableError(DBConfigError):
    """A required variable is unset or empty; ``variable`` names it."""

    def __init__(self, variable, message):
        super().__init__(message)
        self.variable = variable


class BadPortError(DBConfigError):
    """``WA_DB_PORT`` is not a port number."""


class InvalidConnectionOptionError(DBConfigError):
    """libpq refuses a connection option (issue #81); ``option`` names it."""

    def __init__(self, option):
        super().__init__(f'invalid connection option "{option}"')
        self.option = option


@dataclasses.dataclass(frozen=True)
class TLS:
    """TLS to the database: file paths inside the container and what is verified."""

    ca: str | None
    cert: str | None
    key: str | None
    verify_server: bool
    verify_hostname: bool


@dataclasses.dataclass(frozen=True)
class DBConfig:
    """One container's database connection as it reads it from its environment.

    ``tls`` is None for a plain connection. ``tls_source`` is :data:`SOURCE_SSL_VARS`,
    :data:`SOURCE_CONNECTION_OPTION` or None. ``connect_options`` is the Qt option list a
    Coreapp/Master hands to its driver (None for the Webapp). ``ignored`` names the variables
    that were set but play no part; ``warnings`` holds what Qt would warn about.
    ``password_ssm_parameter`` is set when the Webapp reads its password from AWS SSM.
    """

    role: str
    engine: str
    host: str | None
    port: int | None
    user: str | None
    password: str | None
    tls: TLS | None
    tls_source: str | None
    log_line: str
    connect_options: str | None = None
    password_ssm_parameter: str | None = None
    sqlite_path: str | None = None
    ignored: tuple = ()
    warnings: tuple = ()


def _get(env, name):
    """The value of ``name``; empty counts as unset (D2: the Azure/GCP init command blanks
    ``WA_DB_SSL_CA`` to turn it off, section 2.1)."""
    value = env.get(name)
    if value is None or value == "":
        return None
    return value


def _require(env, name, role):
    value = _get(env, name)
    if value is None:
        raise MissingVariableError(name, f"{role}: {name} is required")
    return value


def _engine(env, role, webapp_issue_24):
    raw = _get(env, "WA_DB_ENGINE")
    if role == ROLE_WEBAPP:
        if raw is None:
            multiconnect = _get(env, "WA_APP_MULTICONNECT")
            if multiconnect not in (None, "0", "1"):
                raise DBConfigError(f"webapp: WA_APP_MULTICONNECT must be 0 or 1, not {multiconnect!r}")
            if multiconnect == "1":
                raise DBConfigError("webapp: SQLite (WA_DB_ENGINE unset) is not allowed with WA_APP_MULTICONNECT=1")
            return ENGINE_SQLITE, False
        engine = raw.lower()
        if engine not in (ENGINE_MYSQL, ENGINE_PGSQL):
            raise UnknownEngineError(f"webapp: unknown WA_DB_ENGINE {raw!r} (MYSQL or PGSQL)")
        # Issue #24: old builds compared the raw value with "mysql" before adding the SSL options.
        ssl_driver_options = engine == ENGINE_MYSQL and (raw == "mysql" or not webapp_issue_24)
        return engine, ssl_driver_options
    if raw is None:
        raise MissingVariableError("WA_DB_ENGINE", f"{role}: WA_DB_ENGINE is required (MYSQL or PGSQL)")
    # D1: the Coreapp/Master take the documented spellings only.
    if raw not in ("MYSQL", "PGSQL"):
        raise UnknownEngineError(f"{role}: unknown WA_DB_ENGINE {raw!r} (MYSQL or PGSQL)")
    return raw.lower(), True


def _port(env, role):
    raw = _get(env, "WA_DB_PORT")
    if raw is None:
        if role == ROLE_WEBAPP:
            return WEBAPP_DEFAULT_PORT
        raise MissingVariableError("WA_DB_PORT", f"{role}: WA_DB_PORT is required")  # D4
    # D5: ASCII digits only, 1..65535.
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= 65535:
        raise BadPortError(f"{role}: WA_DB_PORT {raw!r} is not a port number (1-65535)")
    return int(raw)


def _is_ipv6(host):
    try:
        ipaddress.IPv6Address(host)
    except ValueError:
        return False
    return True


def _host(env, role):
    host = _require(env, "WA_DB_HOSTNAME", role)
    if role == ROLE_WEBAPP:
        return f"[{host}]" if _is_ipv6(host) else host
    if host.startswith("["):  # D3: the Coreapp's drivers take a bare address
        raise DBConfigError(f"{role}: WA_DB_HOSTNAME {host!r}: give an IPv6 address without brackets")
    return host


def _password(env, role):
    password = _get(env, "WA_DB_PASSWORD")
    if password is not None:
        return password, None
    if role == ROLE_WEBAPP and _get(env, "WA_RUNNING_ENV") == "AWS":
        _require(env, "AWS_REGION", role)
        stack = _require(env, "AWS_STACK_NAME", role)
        return None, f"{stack}-WA_DB_PASSWORD"
    raise MissingVariableError("WA_DB_PASSWORD", f"{role}: WA_DB_PASSWORD is required")


def _ssl_files(env, role):
    ca, cert, key = (_get(env, name) for name in SSL_VARIABLES)
    if (cert is None) != (key is None):  # D6
        missing = "WA_DB_SSL_KEY" if key is None else "WA_DB_SSL_CERT"
        raise MissingVariableError(missing, f"{role}: WA_DB_SSL_CERT and WA_DB_SSL_KEY go together; {missing} is unset")
    return ca, cert, key


def _set_names(env, names):
    return tuple(name for name in names if _get(env, name) is not None)


def _read_webapp(env, webapp_issue_24):
    engine, ssl_driver_options = _engine(env, ROLE_WEBAPP, webapp_issue_24)
    ignored = _set_names(env, ("WA_DB_CONNECTION_OPTION",))  # C, M only
    ssl_set = _set_names(env, SSL_VARIABLES + ("WA_DB_SSL_VERIFY",))
    if engine == ENGINE_SQLITE:
        return DBConfig(
            role=ROLE_WEBAPP, engine=engine, host=None, port=None, user=None, password=None,
            tls=None, tls_source=None, sqlite_path=SQLITE_PATH, ignored=ignored + ssl_set,
            log_line=f"webapp: WA_DB_ENGINE unset, SQLite database {SQLITE_PATH}")
    host = _host(env, ROLE_WEBAPP)
    port = _port(env, ROLE_WEBAPP)
    user = _require(env, "WA_DB_USERNAME", ROLE_WEBAPP)
    password, ssm = _password(env, ROLE_WEBAPP)
    ca, cert, key = _ssl_files(env, ROLE_WEBAPP)
    base = dict(role=ROLE_WEBAPP, engine=engine, host=host, port=port, user=user,
                password=password, password_ssm_parameter=ssm)
    if engine != ENGINE_MYSQL:
        why = "the engine is not MySQL (PDO mysql attributes only)"
    elif not ssl_driver_options:
        why = f"WA_DB_ENGINE={env['WA_DB_ENGINE']} is not 'mysql' (issue #24 build)"
    elif not (ca or cert):
        why = "no WA_DB_SSL_CA/CERT/KEY"
    else:
        why = None
    if why is not None:
        line = f"webapp: {engine} {host}:{port} without TLS: {why}"
        if ssl_set:
            line += f"; ignored {', '.join(ssl_set)}"
        return DBConfig(**base, tls=None, tls_source=None, log_line=line, ignored=ignored + ssl_set)
    verify = _get(env, "WA_DB_SSL_VERIFY") != "0"  # D7: only "0" turns it off
    tls = TLS(ca=ca, cert=cert, key=key, verify_server=verify, verify_hostname=verify)  # D8
    attributes = ", ".join(f"MYSQL_ATTR_SSL_{name[10:]}={value}"
                           for name, value in zip(SSL_VARIABLES, (ca, cert, key), strict=True) if value)
    line = (f"webapp: mysql {host}:{port} with TLS from WA_DB_SSL_* (PDO {attributes}; "
            f"MYSQL_ATTR_SSL_VERIFY_SERVER_CERT={'true' if verify else 'false'})")
    return DBConfig(**base, tls=tls, tls_source=SOURCE_SSL_VARS, log_line=line, ignored=ignored)


def parse_connection_option(value, engine):
    """Split a Qt option list ``KEY=value;KEY;...`` into ``(options, warnings)``.

    MySQL (QMYSQL): the names are compared case-sensitively; an unknown name or a flag given a
    value is ignored with Qt's warning, as QMYSQL does. PostgreSQL (QPSQL): every name must
    be a libpq keyword, else :class:`InvalidConnectionOptionError` (issue #81).
    ``options`` maps each accepted name to its value (None for a flag); a later duplicate wins.
    """
    options = {}
    warnings = []
    for raw in value.split(";"):
        item = raw.strip()
        if not item:
            continue
        name, sep, val = item.partition("=")
        name = name.strip()
        val = val.strip() if sep else None
        if engine == ENGINE_PGSQL:
            if name not in LIBPQ_KEYWORDS:
                raise InvalidConnectionOptionError(name)
            if val is None:
                raise DBConfigError(f'missing "=" after "{name}" in connection info string')
            options[name] = val
        elif (val is not None and name in QMYSQL_VALUE_OPTIONS) or (val is None and name in QMYSQL_FLAG_OPTIONS):
            options[name] = val
        elif name == "connect_timeout" and val is not None:
            options[name] = val  # D10: the Coreapp's own option (its log of section 2.1)
        else:
            warnings.append(f"QMYSQLDriver::open: Illegal connect option value '{item}'")
    return options, tuple(warnings)


def build_connection_option(ca, cert, key):
    """The option list a Coreapp/Master builds from ``WA_DB_SSL_*`` (D9: key, cert, CA order)."""
    parts = [f"{name}={value}" for name, value in (("SSL_KEY", key), ("SSL_CERT", cert), ("SSL_CA", ca)) if value]
    return ";".join(parts + [CONNECT_TIMEOUT_OPTION])


def _tls_from_legacy(options, engine):
    """TLS as a legacy option list asks for it; None when it asks for none (D11)."""
    if engine == ENGINE_MYSQL:
        ca, cert, key = options.get("SSL_CA"), options.get("SSL_CERT"), options.get("SSL_KEY")
        if not (ca or cert or key):
            return None
        return TLS(ca=ca, cert=cert, key=key, verify_server=True, verify_hostname=True)
    mode = options.get("sslmode", "prefer")
    if mode not in LIBPQ_SSLMODES:
        raise DBConfigError(f'invalid sslmode value: "{mode}"')
    ca = options.get("sslrootcert")
    if mode in ("disable", "allow", "prefer"):
        return None
    # libpq: "require" with a root certificate file behaves like "verify-ca".
    verify_server = mode != "require" or ca is not None
    return TLS(ca=ca, cert=options.get("sslcert"), key=options.get("sslkey"),
               verify_server=verify_server, verify_hostname=mode == "verify-full")


def _read_core(env, role):
    engine = _engine(env, role, False)[0]
    host = _host(env, role)
    port = _port(env, role)
    user = _require(env, "WA_DB_USERNAME", role)
    password = _password(env, role)[0]
    ignored = _set_names(env, ("WA_DB_SSL_VERIFY",))  # W only: C, M always verify
    ca, cert, key = _ssl_files(env, role)
    legacy = _get(env, "WA_DB_CONNECTION_OPTION")
    base = dict(role=role, engine=engine, host=host, port=port, user=user, password=password)
    if ca or cert:
        if legacy is not None:
            ignored += ("WA_DB_CONNECTION_OPTION",)  # D12: the SSL variables win
        connect_options = build_connection_option(ca, cert, key)
        parse_connection_option(connect_options, engine)  # PGSQL: issue #81
        tls = TLS(ca=ca, cert=cert, key=key, verify_server=True, verify_hostname=True)  # D8
        return DBConfig(**base, tls=tls, tls_source=SOURCE_SSL_VARS, connect_options=connect_options,
                        ignored=ignored,
                        log_line=f"{role}: {engine} {host}:{port} options {connect_options} (from WA_DB_SSL_*)")
    if legacy is not None:
        options, warnings = parse_connection_option(legacy, engine)
        tls = _tls_from_legacy(options, engine)
        return DBConfig(**base, tls=tls, tls_source=SOURCE_CONNECTION_OPTION if tls else None,
                        connect_options=legacy, ignored=ignored, warnings=warnings,
                        log_line=f"{role}: {engine} {host}:{port} options {legacy} "
                                 f"(from deprecated WA_DB_CONNECTION_OPTION{'' if tls else ', no TLS'})")
    return DBConfig(**base, tls=None, tls_source=None, connect_options=CONNECT_TIMEOUT_OPTION, ignored=ignored,
                    log_line=f"{role}: {engine} {host}:{port} options {CONNECT_TIMEOUT_OPTION} (no TLS)")


def read(env, role, webapp_issue_24=False):
    """The database settings container ``role`` reads from ``env`` (a mapping of str to str).

    ``webapp_issue_24`` reproduces the old Webapp builds of issue #24 (raw ``mysql`` compare).
    """
    if role not in ROLES:
        raise ValueError(f"unknown container role {role!r} (one of {', '.join(ROLES)})")
    if role == ROLE_WEBAPP:
        return _read_webapp(env, webapp_issue_24)
    if webapp_issue_24:
        raise ValueError("webapp_issue_24 concerns the Webapp only")
    return _read_core(env, role)
