# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Database connections of the Webapp and the Coreapp (reference section 2.1, issues #31 and #81 of section 7.3).

First the database servers themselves are proven with real clients (``mariadb``, ``psql`` from
another container): TLS is enforced, so an app that starts against them did connect over TLS.
"""

from __future__ import annotations

import re

import pytest

from conformance import apps, dbs
from conformance import podman as pm


@pytest.fixture(scope="module")
def postgres(lab, pki):
    db = dbs.start_postgres("postgres", pki)
    dbs.wait_ready(db)
    yield db
    db.container.remove()


@pytest.fixture(scope="module")
def started(mariadb, postgres, pki):
    """Every app container of this module, started at once; each check waits for its own. Those
    expected to fail retry their first database connection for 3 s only (``apps.FAST_FAIL``)."""
    ca, cert, key = pki.db_ca.cert_path(), pki.db_client.cert_path(), pki.db_client.key_path()
    specs = {
        "webapp_tls": apps.webapp_spec("db-web-tls", mariadb, coreapp="db-core-ssl"),
        "webapp_no_tls": apps.webapp_spec("db-web-notls", mariadb, db_env=mariadb.env(ssl=False),
                                          env=apps.FAST_FAIL),
        "webapp_pgsql": apps.webapp_spec("db-web-pg", postgres, env=apps.FAST_FAIL),
        "core_ssl": apps.coreapp_spec("db-core-ssl", mariadb),
        "core_legacy": apps.coreapp_spec("db-core-legacy", mariadb, db_env={
            **mariadb.env(ssl=False), "WA_DB_CONNECTION_OPTION": f"SSL_KEY={key};SSL_CERT={cert};SSL_CA={ca}"}),
        "pg_core_ssl": apps.coreapp_spec("db-pgcore-ssl", postgres, env=apps.FAST_FAIL),
        "pg_core_legacy": apps.coreapp_spec("db-pgcore-legacy", postgres, db_env={
            **postgres.env(ssl=False),
            "WA_DB_CONNECTION_OPTION": f"sslmode=verify-full;sslrootcert={ca};sslcert={cert};sslkey={key}"}),
    }
    containers = dict(zip(specs, pm.run_many(list(specs.values())), strict=True))
    yield containers
    pm.remove_all(containers.values())


def _ssl_version(proc):
    match = re.search(r"Ssl_version\s+(\S+)", proc.stdout)
    return match.group(1) if match else None


# -- the servers -----------------------------------------------------------------------------------
def test_mariadb_fixture_enforces_verified_tls(mariadb, client):
    """§2.1 (DB TLS; §8 item 7): the MariaDB the apps use accepts only TLS; a client verifying the
    server certificate against the DB CA and the host name connects with TLS 1.2+."""
    ok = dbs.mariadb_client(client, mariadb, query="SHOW SESSION STATUS LIKE 'Ssl_version'")
    assert ok.returncode == 0, dbs.describe(ok)
    assert _ssl_version(ok) in ("TLSv1.2", "TLSv1.3"), dbs.describe(ok)
    plain = dbs.mariadb_client(client, mariadb, ssl=False)
    assert plain.returncode != 0, f"plaintext accepted: {dbs.describe(plain)}"
    assert mariadb.sql("SELECT @@have_ssl, @@require_secure_transport").split() == ["YES", "1"]
    by_address = dbs.mariadb_client(client, mariadb, host=mariadb.container.ip)
    assert by_address.returncode == 0, f"the server certificate must also name the address: {dbs.describe(by_address)}"
    grants = mariadb.sql("SHOW GRANTS FOR 'waent'@'%'")
    assert "ALL PRIVILEGES ON *.*" in grants, grants
    assert "REQUIRE SSL" in mariadb.sql("SHOW CREATE USER 'waent'@'%'")


def test_postgres_fixture_enforces_client_certificates(postgres, client):
    """§2.1 (DB TLS): the PostgreSQL 15 the Coreapp checks use takes only ``hostssl`` with
    scram-sha-256 and ``clientcert=verify-full``: libpq with ``sslmode=verify-full`` and the client
    certificate connects; without the certificate, or without TLS, it is refused."""
    ok = dbs.psql_client(client, postgres, query="SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
    assert ok.returncode == 0, dbs.describe(ok)
    assert ok.stdout.strip().startswith("t|TLSv1."), dbs.describe(ok)
    no_cert = dbs.psql_client(client, postgres, client_cert=False)
    assert no_cert.returncode != 0, f"accepted without a client certificate: {dbs.describe(no_cert)}"
    plain = dbs.psql_client(client, postgres, sslmode="disable")
    assert plain.returncode != 0, f"plaintext accepted: {dbs.describe(plain)}"
    assert postgres.sql("SELECT rolcreatedb FROM pg_roles WHERE rolname = 'waent'").strip() == "t"


# -- the Webapp --------------------------------------------------------------------------------------
def test_webapp_mariadb_tls(started):
    """§2.1: the Webapp reaches MySQL/MariaDB with ``WA_DB_SSL_CA/CERT/KEY`` (server verified, as
    ``WA_DB_SSL_VERIFY`` is on by default) against a server that requires TLS, and starts."""
    web = started["webapp_tls"]
    web.wait_for_log(apps.WEBAPP_READY, timeout=90)
    assert web.running()


def test_webapp_without_ssl_settings_fails_on_tls_only_server(started):
    """§2.1 and issue #31 (§7.3): without ``WA_DB_SSL_*`` the Webapp connects in plaintext, the
    server requiring secure transport refuses it, and the Webapp exits non-zero saying why."""
    web = started["webapp_no_tls"]
    code = web.wait_exit(timeout=90)
    log = web.logs()
    assert code != 0, log
    assert re.search(r"insecure transport|SSL|TLS", log, re.IGNORECASE), log


def test_webapp_pgsql_ignores_ssl_settings(started):
    """§2.1 DB-TLS caveats: the Webapp applies the SSL variables only for MySQL (PDO mysql
    attributes); against PostgreSQL requiring client certificates it cannot connect and exits non-zero."""
    web = started["webapp_pgsql"]
    code = web.wait_exit(timeout=90)
    log = web.logs()
    assert code != 0, log
    assert "WA_DB_SSL" in log or "TLS" in log, log


# -- the Coreapp -------------------------------------------------------------------------------------
def test_coreapp_mariadb_tls_from_ssl_variables(started, pki):
    """§2.1: the Coreapp builds its Qt option string from ``WA_DB_SSL_*`` (the log shows
    ``SSL_CA=<path>;connect_timeout=15``), connects over TLS and says which setting it used."""
    core = started["core_ssl"]
    core.wait_for_log(apps.COREAPP_READY, timeout=90)
    log = core.logs()
    assert f"SSL_CA={pki.db_ca.cert_path()};connect_timeout=15" in log, log
    assert "WA_DB_SSL_" in log, log


def test_coreapp_mariadb_tls_from_legacy_option(started, pki):
    """§2.1: the deprecated ``WA_DB_CONNECTION_OPTION`` (QMYSQL ``SSL_KEY``/``SSL_CERT``/``SSL_CA``)
    still gives TLS to MariaDB; the log names the deprecated option as the source."""
    core = started["core_legacy"]
    core.wait_for_log(apps.COREAPP_READY, timeout=90)
    log = core.logs()
    assert "WA_DB_CONNECTION_OPTION" in log, log
    assert f"SSL_CA={pki.db_ca.cert_path()}" in log, log


def test_coreapp_pgsql_ssl_variables_fail_issue_81(started):
    """§2.1 and issue #81 (§7.3): with PostgreSQL the Coreapp hands ``SSL_...=...;connect_timeout=15``
    to QPSQL/libpq, which refuses it ("invalid connection option"): the Coreapp exits non-zero."""
    core = started["pg_core_ssl"]
    code = core.wait_exit(timeout=90)
    log = core.logs()
    assert code != 0, log
    assert "invalid connection option" in log, log


def test_coreapp_pgsql_legacy_libpq_keys(started, postgres):
    """§2.1: with PostgreSQL the deprecated ``WA_DB_CONNECTION_OPTION`` with libpq keywords
    (``sslmode=verify-full;sslrootcert;sslcert;sslkey``) works: the Coreapp connects with its client
    certificate over TLS (seen from the server) and logs the deprecated option as its source."""
    core = started["pg_core_legacy"]
    core.wait_for_log(apps.COREAPP_READY, timeout=90)
    log = core.logs()
    assert "WA_DB_CONNECTION_OPTION" in log, log
    # log_connections=on: "connection authorized: user=waent ... SSL enabled (protocol=..., ...)".
    authorized = re.findall(r"connection authorized: user=waent .*", postgres.container.logs())
    assert authorized, "the server saw no session of the Coreapp's user"
    assert all("SSL enabled" in line for line in authorized), authorized
