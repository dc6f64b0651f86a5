# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Backend of waent.onprem.db_tls_check: connection settings, the session proof, material checks.

``check_connection`` runs a real, verified TLS session with the settings of a container's env
file: the MySQL/MariaDB (``_mysql_wire``) or PostgreSQL (``_pgsql_wire``) protocol is spoken
directly over the TLS context of ``_db_tls_wire`` - standard library only, nothing to install on
the app hosts - so the proof uses exactly the files and settings the container uses.

``validate_material`` checks supplied PEM material with the X.509 rules of ``_x509`` (the pki
module issues and validates with the same); it needs ``cryptography`` and runs on the controller.
"""

from __future__ import annotations

import os

from ansible_collections.waent.onprem.plugins.module_utils import _x509
from ansible_collections.waent.onprem.plugins.module_utils._db_tls_wire import (
    KIND_NOT_ENCRYPTED,
    KIND_SETTINGS,
    DbTlsError,
)
from ansible_collections.waent.onprem.plugins.module_utils._envfile import CONTAINER_DATA_PATH, container_to_host_path
from ansible_collections.waent.onprem.plugins.module_utils._mysql_wire import MySQLSession
from ansible_collections.waent.onprem.plugins.module_utils._pgsql_wire import PostgreSQLSession

ENGINES = ("MYSQL", "PGSQL")
SESSIONS = {"MYSQL": MySQLSession, "PGSQL": PostgreSQLSession}


# --------------------------------------------------------------------------- settings


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


# --------------------------------------------------------------------------- session proof


def check_connection(settings):
    """Connect, authenticate and ask the server whether the session is encrypted.

    Returns a dict of facts; raises DbTlsError (with ``kind``) when anything is not as required.
    """
    settings = dict(settings)
    settings.setdefault("timeout", 10)
    problems = check_settings(settings)
    if problems:
        raise DbTlsError("Cannot check the database connection: " + "; ".join(problems), KIND_SETTINGS)
    session = SESSIONS[settings["engine"]](settings)
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


def _facts(leaf):
    dns, ips = _x509.sans_of(leaf)
    return {
        "subject": leaf.subject.rfc4514_string(),
        "issuer": leaf.issuer.rfc4514_string(),
        "not_after": _x509.not_after(leaf).isoformat(),
        "subject_alt_names": dns + ips,
        "fingerprint_sha256": _x509.der_sha256(leaf).hex(),
    }


def validate_material(ca_pem, cert_pem, key_pem, *, purpose="server", names=None, min_days=0, now=None):
    """Validate user-supplied TLS material before anything is written.

    Returns (problems, facts). Everything must parse, then every rule of ``_x509.check_certificate``
    applies: the key matches the certificate, the certificate chains to a CA of ``ca_pem`` (through
    intermediates appended to ``cert_pem``) whose entries are all CAs, the names in ``names`` are
    covered (RFC 6125), the usage fits ``purpose``, and the chain is valid for ``min_days`` more days.
    """
    try:
        anchors = _x509.load_certificates(ca_pem)
    except _x509.X509Error as exc:
        return [f"the CA bundle does not parse: {exc}"], {}
    try:
        leaf, *extra = _x509.load_certificates(cert_pem)
    except _x509.X509Error as exc:
        return [f"the certificate does not parse: {exc}"], {}
    facts = _facts(leaf)
    problems = []
    key = None
    if key_pem is not None:
        try:
            key = _x509.load_private_key(key_pem)
        except _x509.X509Error as exc:
            problems.append(f"the private key does not parse: {exc}")
    found = _x509.check_certificate(leaf, key=key, extra=extra, anchors=anchors, usage=purpose, names=names or [],
                                    renew_before=min_days, now=now)
    for finding in found:  # a ca_bundle finding names its CA; every other one is about the certificate
        where = "" if finding["rule"] == "ca_bundle" else "certificate {}: ".format(facts["subject"])
        problems.append(where + finding["msg"])
    return problems, facts
