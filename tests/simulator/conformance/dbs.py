# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Real database servers for the suite (reference section 2.1), in the DB image, without systemd.

The container command initialises a fresh data directory (``mariadb-install-db`` / ``initdb``)
and runs the server in the foreground (``mariadbd`` / ``postgres``) with:

* MariaDB TLS: ``ssl_ca``/``ssl_cert``/``ssl_key``, ``require_secure_transport=ON``, account
  ``waent`` with a password, ``REQUIRE SSL``, all privileges on ``*.*`` from the network (the
  client creates its own databases, section 2.1).
* PostgreSQL 15 TLS: ``ssl=on``, ``hostssl ... scram-sha-256 clientcert=verify-full`` and
  nothing else over TCP; role ``waent`` with ``CREATEDB``.
* MariaDB plaintext: no TLS at all (``--skip-ssl``), the same account without ``REQUIRE SSL``.

The certificates come from the ``/pki`` mount and are copied, as root, to files the server's
user owns (PostgreSQL insists on a 0600 key it owns). Ready = the server's own ready line.
"""

from __future__ import annotations

from conformance import pki as pki_mod
from conformance import podman as pm

IMAGE = "localhost/waent-sim-db:bookworm"
USER = pki_mod.DB_USER
PASSWORD = "Conformance-DB-pw-7"  # test-only
MARIADB_PORT = 3306
PG_PORT = 5432
MARIADB_READY = r"mariadbd: ready for connections"
PG_READY = r"database system is ready to accept connections"
SYSTEM_DATABASES = ("information_schema", "mysql", "performance_schema", "sys")

_MARIADB = r"""
set -eu
D=/var/lib/waent-ct-mysql S=/etc/waent-ct-ssl
install -d -o mysql -g mysql -m 0750 "$S" /run/mysqld
if [ -n "${CT_CERT:-}" ]; then
  install -o mysql -g mysql -m 0644 "/pki/$CT_CA" "$S/ca.pem"
  install -o mysql -g mysql -m 0644 "/pki/$CT_CERT" "$S/server.pem"
  install -o mysql -g mysql -m 0600 "/pki/$CT_KEY" "$S/server-key.pem"
  TLS="--ssl-ca=$S/ca.pem --ssl-cert=$S/server.pem --ssl-key=$S/server-key.pem --require-secure-transport=ON"
  REQUIRE="REQUIRE SSL"
else
  TLS="--skip-ssl"
  REQUIRE=""
fi
mariadb-install-db --no-defaults --user=mysql --datadir="$D" --auth-root-authentication-method=socket \
  --skip-test-db > /tmp/install-db.log 2>&1 || { cat /tmp/install-db.log; exit 1; }
cat > /tmp/init.sql <<SQL
CREATE USER IF NOT EXISTS '$CT_USER'@'%' IDENTIFIED BY '$CT_PASSWORD' $REQUIRE;
GRANT ALL PRIVILEGES ON *.* TO '$CT_USER'@'%' WITH GRANT OPTION;
SQL
chown mysql /tmp/init.sql
# shellcheck disable=SC2086
exec mariadbd --no-defaults --user=mysql --datadir="$D" --socket=/run/mysqld/mysqld.sock \
  --bind-address=0.0.0.0 --port=3306 --skip-name-resolve --init-file=/tmp/init.sql $TLS
"""

_POSTGRES = r"""
set -eu
B=/usr/lib/postgresql/15/bin D=/var/lib/waent-ct-pg S=/etc/waent-ct-ssl
install -d -o postgres -g postgres -m 0700 "$D" "$S"
install -d -o postgres -g postgres -m 0755 /run/postgresql
install -o postgres -g postgres -m 0644 "/pki/$CT_CA" "$S/ca.pem"
install -o postgres -g postgres -m 0644 "/pki/$CT_CERT" "$S/server.pem"
install -o postgres -g postgres -m 0600 "/pki/$CT_KEY" "$S/server-key.pem"
AS_PG="setpriv --reuid=postgres --regid=postgres --init-groups"
$AS_PG "$B/initdb" -D "$D" -U postgres -E UTF8 --auth-local=trust --auth-host=reject > /tmp/initdb.log 2>&1 \
  || { cat /tmp/initdb.log; exit 1; }
cat > "$D/pg_hba.conf" <<HBA
local     all all                trust
hostssl   all all 0.0.0.0/0      scram-sha-256 clientcert=verify-full
hostnossl all all 0.0.0.0/0      reject
HBA
echo "CREATE ROLE $CT_USER LOGIN CREATEDB PASSWORD '$CT_PASSWORD';" \
  | $AS_PG "$B/postgres" --single -D "$D" postgres > /tmp/single.log 2>&1 || { cat /tmp/single.log; exit 1; }
exec $AS_PG "$B/postgres" -D "$D" -c listen_addresses='*' -c port=5432 -c unix_socket_directories=/run/postgresql \
  -c ssl=on -c ssl_ca_file="$S/ca.pem" -c ssl_cert_file="$S/server.pem" -c ssl_key_file="$S/server-key.pem" \
  -c password_encryption=scram-sha-256 -c log_connections=on
"""


class Database:
    """A database server container and how the apps reach it (``env`` = the ``WA_DB_*`` of section 2.1)."""

    def __init__(self, container, engine, port, tls, pki):
        self.container = container
        self.engine = engine  # "MYSQL" or "PGSQL"
        self.port = port
        self.tls = tls
        self.pki = pki

    @property
    def host(self):
        return self.container.name

    def env(self, *, ssl=True, client_cert=True):
        """The ``WA_DB_*`` variables for this server; ``ssl`` adds ``WA_DB_SSL_CA`` (+ client cert)."""
        env = {"WA_DB_ENGINE": self.engine, "WA_DB_HOSTNAME": self.host, "WA_DB_PORT": str(self.port),
               "WA_DB_USERNAME": USER, "WA_DB_PASSWORD": PASSWORD}
        if ssl:
            env["WA_DB_SSL_CA"] = self.pki.db_ca.cert_path()
            if client_cert:
                env["WA_DB_SSL_CERT"] = self.pki.db_client.cert_path()
                env["WA_DB_SSL_KEY"] = self.pki.db_client.key_path()
        return env

    # -- administration over the server's local socket (no TLS needed there) ----------------------
    def sql(self, statement, timeout=30):
        """Run SQL as the server's superuser through its local socket; returns stdout (tab-separated)."""
        if self.engine == "MYSQL":
            proc = self.container.exec("mariadb", "--no-defaults", "--socket=/run/mysqld/mysqld.sock", "-uroot",
                                       "-N", "-B", "-e", statement, timeout=timeout)
        else:
            proc = self.container.exec("setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups",
                                       "psql", "-h", "/run/postgresql", "-U", "postgres", "-At", "-F", "\t",
                                       "-v", "ON_ERROR_STOP=1", "-c", statement, timeout=timeout)
        if proc.returncode != 0:
            raise AssertionError(f"SQL on {self.host} failed ({proc.returncode}): {statement}\n{proc.stderr}")
        return proc.stdout

    def databases(self):
        if self.engine == "MYSQL":
            names = self.sql("SHOW DATABASES").split()
            return [n for n in names if n not in SYSTEM_DATABASES]
        names = self.sql("SELECT datname FROM pg_database WHERE NOT datistemplate").split()
        return [n for n in names if n != "postgres"]

    def reset(self):
        """Drop every database the apps created: the next module starts from an empty server."""
        for name in self.databases():
            if self.engine == "MYSQL":
                self.sql(f"DROP DATABASE `{name}`")
            else:
                self.sql(f'DROP DATABASE "{name}" WITH (FORCE)')

    def table_text(self, database, table):
        """A table's rows as text (for checks on documented table names whose columns are not)."""
        if self.engine == "MYSQL":
            return self.sql(f"SELECT * FROM `{database}`.`{table}`")  # noqa: S608 - test-chosen names
        raise NotImplementedError("only MariaDB tables are read")


def start_mariadb(name, pki, *, tls=True, server=None):
    """A MariaDB container; ``tls=False``: plaintext only. ``server``: the server Material to use
    (default: one for the container's own name and address). Does not wait."""
    full = pm.full_name(name)
    ip = pm.reserve(full)
    env = {"CT_USER": USER, "CT_PASSWORD": PASSWORD}
    if tls:
        server = server or pki.db_server(full, ip)
        env.update(CT_CA=pki.db_ca.cert_file, CT_CERT=server.cert_file, CT_KEY=server.key_file)
    container = pm.run(full, IMAGE, ip=ip, env=env, mounts=[(str(pki.dir), pki_mod.MOUNT)],
                       command=["sh", "-c", _MARIADB])
    return Database(container, "MYSQL", MARIADB_PORT, tls, pki)


def start_postgres(name, pki):
    """A PostgreSQL 15 container with TLS and client-certificate verification. Does not wait."""
    full = pm.full_name(name)
    ip = pm.reserve(full)
    server = pki.db_server(full, ip)
    env = {"CT_USER": USER, "CT_PASSWORD": PASSWORD, "CT_CA": pki.db_ca.cert_file, "CT_CERT": server.cert_file,
           "CT_KEY": server.key_file}
    container = pm.run(full, IMAGE, ip=ip, env=env, mounts=[(str(pki.dir), pki_mod.MOUNT)],
                       command=["sh", "-c", _POSTGRES])
    return Database(container, "PGSQL", PG_PORT, True, pki)


def wait_ready(db, timeout=90.0):
    db.container.wait_for_log(MARIADB_READY if db.engine == "MYSQL" else PG_READY, timeout=timeout)
    db.container.wait_for_port(db.port, timeout=30)


# -- real clients, run in a client container on the test network --------------------------------------
def mariadb_client(client, db, *, host=None, ssl=True, verify=True, client_cert=True, query="SELECT 1"):
    """``mariadb`` CLI from ``client`` (a container on the network) to ``db``; returns the CompletedProcess."""
    pki = db.pki
    args = ["mariadb", "--no-defaults", "-h", host or db.host, "-P", str(db.port), "-u", USER, f"-p{PASSWORD}",
            "-N", "-B", "--connect-timeout=10"]
    if ssl:
        args += ["--ssl", f"--ssl-ca={pki.db_ca.cert_path()}"]
        if client_cert:
            args += [f"--ssl-cert={pki.db_client.cert_path()}", f"--ssl-key={pki.db_client.key_path()}"]
        args += ["--ssl-verify-server-cert"] if verify else ["--disable-ssl-verify-server-cert"]
    else:
        args += ["--skip-ssl"]
    return client.exec(*args, "-e", query, timeout=30)


def psql_client(client, db, *, sslmode="verify-full", client_cert=True, query="SELECT 1"):
    """``psql`` from ``client`` to ``db`` with a libpq connection string; returns the CompletedProcess."""
    pki = db.pki
    parts = [f"host={db.host}", f"port={db.port}", f"user={USER}", "dbname=postgres", f"sslmode={sslmode}",
             "connect_timeout=10"]
    if sslmode != "disable":
        parts.append(f"sslrootcert={pki.db_ca.cert_path()}")
        if client_cert:
            parts += [f"sslcert={pki.db_client.cert_path()}", f"sslkey={pki.db_client.key_path()}"]
    return client.exec("psql", " ".join(parts), "-At", "-c", query, env={"PGPASSWORD": PASSWORD}, timeout=30)


def describe(proc):
    return f"exit {proc.returncode}; stdout {proc.stdout.strip()!r}; stderr {proc.stderr.strip()!r}"
