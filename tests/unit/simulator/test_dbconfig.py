# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The simulator's database settings against reference section 2.1 and its DB-TLS caveats (issues #24, #81)."""

from __future__ import annotations

import dataclasses

import pytest
from waent_sim import dbconfig

CA = "/usr/local/waent/data/certs/db-ca.pem"
CERT = "/usr/local/waent/data/certs/db-cert.pem"
KEY = "/usr/local/waent/data/certs/db-key.pem"
CORE_ROLES = ("coreapp", "master")
ALL_ROLES = ("webapp", "coreapp", "master")


def env(**changes):
    value = {"WA_DB_ENGINE": "MYSQL", "WA_DB_HOSTNAME": "db", "WA_DB_PORT": "3306",
             "WA_DB_USERNAME": "wa", "WA_DB_PASSWORD": "pw"}
    value.update(changes)
    return {name: item for name, item in value.items() if item is not None}


# --- engine ---------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, engine", [("MYSQL", "mysql"), ("mysql", "mysql"), ("MySql", "mysql"),
                                         ("PGSQL", "pgsql"), ("pgsql", "pgsql")])
def test_webapp_lower_cases_the_engine(raw, engine):
    assert dbconfig.read(env(WA_DB_ENGINE=raw), "webapp").engine == engine


@pytest.mark.parametrize("role", CORE_ROLES)
@pytest.mark.parametrize("raw, engine", [("MYSQL", "mysql"), ("PGSQL", "pgsql")])
def test_core_takes_the_documented_spellings(role, raw, engine):
    assert dbconfig.read(env(WA_DB_ENGINE=raw), role).engine == engine


@pytest.mark.parametrize("role", CORE_ROLES)
@pytest.mark.parametrize("raw", ["mysql", "Pgsql"])
def test_core_refuses_other_spellings(role, raw):
    with pytest.raises(dbconfig.UnknownEngineError):
        dbconfig.read(env(WA_DB_ENGINE=raw), role)


@pytest.mark.parametrize("role", ALL_ROLES)
@pytest.mark.parametrize("raw", ["POSTGRES", "MARIADB", "sqlite", " MYSQL"])
def test_unknown_engine_is_refused(role, raw):
    with pytest.raises(dbconfig.UnknownEngineError, match="unknown WA_DB_ENGINE"):
        dbconfig.read(env(WA_DB_ENGINE=raw), role)


@pytest.mark.parametrize("value", [None, ""])
def test_webapp_without_engine_uses_sqlite(value):
    config = dbconfig.read(env(WA_DB_ENGINE=value, WA_DB_SSL_CA=CA), "webapp")
    assert (config.engine, config.host, config.port, config.tls) == ("sqlite", None, None, None)
    assert config.sqlite_path == "/usr/local/waent/data/web/waweb.db"
    assert config.ignored == ("WA_DB_SSL_CA",)


def test_webapp_sqlite_is_refused_with_multiconnect():
    assert dbconfig.read(env(WA_DB_ENGINE=None, WA_APP_MULTICONNECT="0"), "webapp").engine == "sqlite"
    with pytest.raises(dbconfig.DBConfigError, match="not allowed with WA_APP_MULTICONNECT=1"):
        dbconfig.read(env(WA_DB_ENGINE=None, WA_APP_MULTICONNECT="1"), "webapp")


@pytest.mark.parametrize("value", ["2", "true", "yes"])
def test_webapp_multiconnect_must_be_0_or_1(value):
    with pytest.raises(dbconfig.DBConfigError, match="must be 0 or 1"):
        dbconfig.read(env(WA_DB_ENGINE=None, WA_APP_MULTICONNECT=value), "webapp")


@pytest.mark.parametrize("role", CORE_ROLES)
@pytest.mark.parametrize("value", [None, ""])
def test_core_needs_an_engine(role, value):
    with pytest.raises(dbconfig.MissingVariableError) as info:
        dbconfig.read(env(WA_DB_ENGINE=value), role)
    assert info.value.variable == "WA_DB_ENGINE"


# --- host, port, credentials ---------------------------------------------------------------

@pytest.mark.parametrize("role", ALL_ROLES)
@pytest.mark.parametrize("name", ["WA_DB_HOSTNAME", "WA_DB_USERNAME", "WA_DB_PASSWORD"])
@pytest.mark.parametrize("value", [None, ""])
def test_required_variables(role, name, value):
    with pytest.raises(dbconfig.MissingVariableError) as info:
        dbconfig.read(env(**{name: value}), role)
    assert info.value.variable == name
    assert name in str(info.value)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_host_user_password_are_read(role):
    config = dbconfig.read(env(WA_DB_HOSTNAME="db.example.net", WA_DB_USERNAME="u1", WA_DB_PASSWORD="p;1"), role)
    assert (config.host, config.user, config.password) == ("db.example.net", "u1", "p;1")


@pytest.mark.parametrize("host, expected", [("2001:db8::5", "[2001:db8::5]"), ("::1", "[::1]"),
                                            ("fe80::1%eth0", "[fe80::1%eth0]"), ("192.0.2.7", "192.0.2.7"),
                                            ("db", "db"), ("[2001:db8::5]", "[2001:db8::5]")])
def test_webapp_brackets_ipv6_literals(host, expected):
    assert dbconfig.read(env(WA_DB_HOSTNAME=host), "webapp").host == expected


@pytest.mark.parametrize("role", CORE_ROLES)
def test_core_keeps_ipv6_bare_and_refuses_brackets(role):
    assert dbconfig.read(env(WA_DB_HOSTNAME="2001:db8::5"), role).host == "2001:db8::5"
    with pytest.raises(dbconfig.DBConfigError, match="without brackets"):
        dbconfig.read(env(WA_DB_HOSTNAME="[2001:db8::5]"), role)


@pytest.mark.parametrize("value", [None, ""])
def test_webapp_port_defaults_to_3306(value):
    assert dbconfig.read(env(WA_DB_PORT=value), "webapp").port == 3306
    assert dbconfig.read(env(WA_DB_PORT=value, WA_DB_ENGINE="PGSQL"), "webapp").port == 3306


@pytest.mark.parametrize("role", CORE_ROLES)
def test_core_needs_a_port(role):
    with pytest.raises(dbconfig.MissingVariableError) as info:
        dbconfig.read(env(WA_DB_PORT=None), role)
    assert info.value.variable == "WA_DB_PORT"


@pytest.mark.parametrize("role", ALL_ROLES)
@pytest.mark.parametrize("raw, port", [("1", 1), ("5432", 5432), ("65535", 65535), ("03306", 3306)])
def test_port_is_read(role, raw, port):
    assert dbconfig.read(env(WA_DB_PORT=raw), role).port == port


@pytest.mark.parametrize("role", ALL_ROLES)
@pytest.mark.parametrize("raw", ["0", "65536", "-1", "+3306", " 3306", "3306 ", "33o6", "3306.0", "\u0663\u0663"])
def test_bad_port_is_refused(role, raw):
    with pytest.raises(dbconfig.BadPortError, match="not a port number"):
        dbconfig.read(env(WA_DB_PORT=raw), role)


def test_webapp_on_aws_reads_the_password_from_ssm():
    aws = env(WA_DB_PASSWORD=None, WA_RUNNING_ENV="AWS", AWS_REGION="eu-west-1", AWS_STACK_NAME="wa")
    config = dbconfig.read(aws, "webapp")
    assert (config.password, config.password_ssm_parameter) == (None, "wa-WA_DB_PASSWORD")
    for name in ("AWS_REGION", "AWS_STACK_NAME"):
        with pytest.raises(dbconfig.MissingVariableError) as info:
            dbconfig.read({**aws, name: ""}, "webapp")
        assert info.value.variable == name
    with pytest.raises(dbconfig.MissingVariableError):
        dbconfig.read(aws, "coreapp")  # the SSM lookup is the Webapp's
    assert dbconfig.read({**aws, "WA_DB_PASSWORD": "pw"}, "webapp").password_ssm_parameter is None


def test_unknown_role_is_refused():
    with pytest.raises(ValueError, match="unknown container role"):
        dbconfig.read(env(), "web")


def test_config_is_frozen():
    config = dbconfig.read(env(), "webapp")
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.port = 1


# --- Webapp TLS -------------------------------------------------------------------------------

def test_webapp_plain_without_ssl_variables():
    config = dbconfig.read(env(), "webapp")
    assert (config.tls, config.tls_source) == (None, None)
    assert "without TLS" in config.log_line


@pytest.mark.parametrize("engine", ["MYSQL", "mysql"])
def test_webapp_mysql_uses_the_ssl_variables(engine):
    config = dbconfig.read(env(WA_DB_ENGINE=engine, WA_DB_SSL_CA=CA, WA_DB_SSL_CERT=CERT, WA_DB_SSL_KEY=KEY), "webapp")
    assert config.tls == dbconfig.TLS(ca=CA, cert=CERT, key=KEY, verify_server=True, verify_hostname=True)
    assert config.tls_source == "WA_DB_SSL_*"
    assert config.connect_options is None
    assert f"MYSQL_ATTR_SSL_CA={CA}" in config.log_line
    assert f"MYSQL_ATTR_SSL_CERT={CERT}" in config.log_line
    assert f"MYSQL_ATTR_SSL_KEY={KEY}" in config.log_line
    assert "MYSQL_ATTR_SSL_VERIFY_SERVER_CERT=true" in config.log_line


def test_webapp_ca_alone_is_enough():
    config = dbconfig.read(env(WA_DB_SSL_CA=CA), "webapp")
    assert (config.tls.ca, config.tls.cert, config.tls.key) == (CA, None, None)
    assert "MYSQL_ATTR_SSL_CERT" not in config.log_line


@pytest.mark.parametrize("role", ALL_ROLES)
@pytest.mark.parametrize("given, missing", [({"WA_DB_SSL_CERT": CERT}, "WA_DB_SSL_KEY"),
                                            ({"WA_DB_SSL_KEY": KEY}, "WA_DB_SSL_CERT")])
def test_client_cert_and_key_go_together(role, given, missing):
    with pytest.raises(dbconfig.MissingVariableError) as info:
        dbconfig.read(env(WA_DB_SSL_CA=CA, **given), role)
    assert info.value.variable == missing


def test_webapp_key_only_without_tls_is_refused_even_without_ca():
    with pytest.raises(dbconfig.MissingVariableError):
        dbconfig.read(env(WA_DB_SSL_KEY=KEY), "webapp")


def test_webapp_verify_is_on_by_default_and_0_disables():
    assert dbconfig.read(env(WA_DB_SSL_CA=CA), "webapp").tls.verify_server is True
    off = dbconfig.read(env(WA_DB_SSL_CA=CA, WA_DB_SSL_VERIFY="0"), "webapp")
    assert (off.tls.verify_server, off.tls.verify_hostname) == (False, False)
    assert "MYSQL_ATTR_SSL_VERIFY_SERVER_CERT=false" in off.log_line


@pytest.mark.parametrize("value", ["1", "false", "no", "off", " 0", "00", ""])
def test_webapp_verify_only_0_disables(value):
    tls = dbconfig.read(env(WA_DB_SSL_CA=CA, WA_DB_SSL_VERIFY=value), "webapp").tls
    assert (tls.verify_server, tls.verify_hostname) == (True, True)


def test_webapp_verify_alone_does_not_turn_tls_on():
    config = dbconfig.read(env(WA_DB_SSL_VERIFY="1"), "webapp")
    assert config.tls is None
    assert config.ignored == ("WA_DB_SSL_VERIFY",)


@pytest.mark.parametrize("engine", ["PGSQL", "pgsql"])
def test_webapp_ignores_the_ssl_variables_for_postgresql(engine):
    config = dbconfig.read(env(WA_DB_ENGINE=engine, WA_DB_SSL_CA=CA, WA_DB_SSL_VERIFY="0"), "webapp")
    assert (config.tls, config.tls_source) == (None, None)
    assert config.ignored == ("WA_DB_SSL_CA", "WA_DB_SSL_VERIFY")
    assert "not MySQL" in config.log_line


def test_webapp_ignores_the_legacy_option():
    config = dbconfig.read(env(WA_DB_CONNECTION_OPTION=f"SSL_CA={CA}"), "webapp")
    assert config.tls is None
    assert config.ignored == ("WA_DB_CONNECTION_OPTION",)


def test_webapp_issue_24_build_skips_tls_for_upper_case_mysql():
    old = dbconfig.read(env(WA_DB_ENGINE="MYSQL", WA_DB_SSL_CA=CA), "webapp", webapp_issue_24=True)
    assert (old.engine, old.tls) == ("mysql", None)
    assert "issue #24" in old.log_line
    assert old.ignored == ("WA_DB_SSL_CA",)
    fixed = dbconfig.read(env(WA_DB_ENGINE="MYSQL", WA_DB_SSL_CA=CA), "webapp")
    assert fixed.tls.ca == CA
    lower = dbconfig.read(env(WA_DB_ENGINE="mysql", WA_DB_SSL_CA=CA), "webapp", webapp_issue_24=True)
    assert lower.tls.ca == CA


def test_issue_24_flag_is_webapp_only():
    with pytest.raises(ValueError):
        dbconfig.read(env(), "coreapp", webapp_issue_24=True)


# --- Coreapp / Master TLS -------------------------------------------------------------------

@pytest.mark.parametrize("role", CORE_ROLES)
def test_core_builds_the_logged_option_string_from_ssl_ca(role):
    config = dbconfig.read(env(WA_DB_SSL_CA=CA), role)
    assert config.connect_options == f"SSL_CA={CA};connect_timeout=15"
    assert f"SSL_CA={CA};connect_timeout=15" in config.log_line
    assert "WA_DB_SSL_*" in config.log_line
    assert config.tls_source == "WA_DB_SSL_*"
    assert config.tls == dbconfig.TLS(ca=CA, cert=None, key=None, verify_server=True, verify_hostname=True)


@pytest.mark.parametrize("role", CORE_ROLES)
def test_core_option_string_with_client_certificate(role):
    config = dbconfig.read(env(WA_DB_SSL_CA=CA, WA_DB_SSL_CERT=CERT, WA_DB_SSL_KEY=KEY), role)
    assert config.connect_options == f"SSL_KEY={KEY};SSL_CERT={CERT};SSL_CA={CA};connect_timeout=15"
    assert (config.tls.cert, config.tls.key) == (CERT, KEY)


@pytest.mark.parametrize("role", CORE_ROLES)
def test_core_plain_connection(role):
    config = dbconfig.read(env(), role)
    assert (config.tls, config.tls_source, config.connect_options) == (None, None, "connect_timeout=15")
    assert "no TLS" in config.log_line


@pytest.mark.parametrize("role", CORE_ROLES)
@pytest.mark.parametrize("value", ["0", "1"])
def test_core_ignores_ssl_verify_and_always_verifies(role, value):
    config = dbconfig.read(env(WA_DB_SSL_CA=CA, WA_DB_SSL_VERIFY=value), role)
    assert (config.tls.verify_server, config.tls.verify_hostname) == (True, True)
    assert config.ignored == ("WA_DB_SSL_VERIFY",)


@pytest.mark.parametrize("role", CORE_ROLES)
def test_core_postgresql_refuses_ssl_ca_from_ssl_variables(role):
    """Issue #81: QPSQL hands SSL_CA=...;connect_timeout=15 to libpq, which refuses it."""
    with pytest.raises(dbconfig.InvalidConnectionOptionError, match='invalid connection option "SSL_CA"') as info:
        dbconfig.read(env(WA_DB_ENGINE="PGSQL", WA_DB_SSL_CA=CA), role)
    assert info.value.option == "SSL_CA"


@pytest.mark.parametrize("role", CORE_ROLES)
def test_core_postgresql_without_tls_starts(role):
    assert dbconfig.read(env(WA_DB_ENGINE="PGSQL"), role).engine == "pgsql"


@pytest.mark.parametrize("role", CORE_ROLES)
def test_legacy_mysql_option_gives_tls(role):
    legacy = f"SSL_KEY={KEY};SSL_CERT={CERT};SSL_CA={CA}"
    config = dbconfig.read(env(WA_DB_CONNECTION_OPTION=legacy), role)
    assert config.tls == dbconfig.TLS(ca=CA, cert=CERT, key=KEY, verify_server=True, verify_hostname=True)
    assert config.tls_source == "WA_DB_CONNECTION_OPTION"
    assert config.connect_options == legacy
    assert "deprecated WA_DB_CONNECTION_OPTION" in config.log_line
    assert config.warnings == ()


@pytest.mark.parametrize("role", CORE_ROLES)
def test_legacy_mysql_names_are_case_sensitive(role):
    config = dbconfig.read(env(WA_DB_CONNECTION_OPTION=f"ssl_ca={CA}"), role)
    assert (config.tls, config.tls_source) == (None, None)
    assert config.warnings == (f"QMYSQLDriver::open: Illegal connect option value 'ssl_ca={CA}'",)


@pytest.mark.parametrize("role", CORE_ROLES)
def test_legacy_mysql_without_ssl_names_is_plain(role):
    config = dbconfig.read(env(WA_DB_CONNECTION_OPTION="CLIENT_COMPRESS;MYSQL_OPT_CONNECT_TIMEOUT=5"), role)
    assert config.tls is None
    assert config.warnings == ()
    assert "no TLS" in config.log_line


@pytest.mark.parametrize("role", CORE_ROLES)
def test_legacy_postgresql_refuses_ssl_ca(role):
    with pytest.raises(dbconfig.InvalidConnectionOptionError, match='invalid connection option "SSL_CA"'):
        dbconfig.read(env(WA_DB_ENGINE="PGSQL", WA_DB_CONNECTION_OPTION=f"SSL_CA={CA}"), role)


@pytest.mark.parametrize("role", CORE_ROLES)
@pytest.mark.parametrize("mode, verify_server, verify_hostname, with_ca", [
    ("verify-full", True, True, True), ("verify-ca", True, False, True),
    ("require", True, False, True), ("require", False, False, False)])
def test_legacy_postgresql_libpq_keywords(role, mode, verify_server, verify_hostname, with_ca):
    legacy = f"sslmode={mode};sslcert={CERT};sslkey={KEY}" + (f";sslrootcert={CA}" if with_ca else "")
    config = dbconfig.read(env(WA_DB_ENGINE="PGSQL", WA_DB_CONNECTION_OPTION=legacy), role)
    assert config.tls == dbconfig.TLS(ca=CA if with_ca else None, cert=CERT, key=KEY,
                                      verify_server=verify_server, verify_hostname=verify_hostname)
    assert config.tls_source == "WA_DB_CONNECTION_OPTION"


@pytest.mark.parametrize("mode", ["disable", "allow", "prefer"])
def test_legacy_postgresql_opportunistic_modes_are_not_tls(mode):
    config = dbconfig.read(env(WA_DB_ENGINE="PGSQL", WA_DB_CONNECTION_OPTION=f"sslmode={mode}"), "coreapp")
    assert (config.tls, config.tls_source) == (None, None)


def test_legacy_postgresql_bad_sslmode_and_missing_value():
    with pytest.raises(dbconfig.DBConfigError, match="invalid sslmode"):
        dbconfig.read(env(WA_DB_ENGINE="PGSQL", WA_DB_CONNECTION_OPTION="sslmode=VERIFY-FULL"), "coreapp")
    with pytest.raises(dbconfig.DBConfigError, match='missing "="'):
        dbconfig.read(env(WA_DB_ENGINE="PGSQL", WA_DB_CONNECTION_OPTION="sslmode"), "coreapp")


@pytest.mark.parametrize("role", CORE_ROLES)
def test_ssl_variables_win_over_the_legacy_option(role):
    config = dbconfig.read(env(WA_DB_SSL_CA=CA, WA_DB_CONNECTION_OPTION="SSL_CA=/other.pem"), role)
    assert config.tls.ca == CA
    assert config.tls_source == "WA_DB_SSL_*"
    assert config.ignored == ("WA_DB_CONNECTION_OPTION",)


def test_parse_connection_option_details():
    options, warnings = dbconfig.parse_connection_option(" SSL_CA = /a.pem ;; CLIENT_SSL;connect_timeout=15;", "mysql")
    assert options == {"SSL_CA": "/a.pem", "CLIENT_SSL": None, "connect_timeout": "15"}
    assert warnings == ()
    warnings = dbconfig.parse_connection_option("SSL_CA;CLIENT_SSL=1", "mysql")[1]  # value/flag mismatch
    assert len(warnings) == 2
    options = dbconfig.parse_connection_option("sslmode=require;connect_timeout=15", "pgsql")[0]
    assert options == {"sslmode": "require", "connect_timeout": "15"}


def test_build_connection_option():
    assert dbconfig.build_connection_option(CA, None, None) == f"SSL_CA={CA};connect_timeout=15"
    assert dbconfig.build_connection_option(None, CERT, KEY) == f"SSL_KEY={KEY};SSL_CERT={CERT};connect_timeout=15"
