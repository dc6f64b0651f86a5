#!/usr/bin/python
# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
---
module: db_tls_check
short_description: Prove that a WhatsApp Business API container's database connection is encrypted and verified
version_added: 0.1.0
author: waent.onprem developers (@waent)
description:
  - Opens a real connection to the MySQL/MariaDB or PostgreSQL database with exactly the settings of a
    container's DB env file (C(WA_DB_ENGINE), C(WA_DB_HOSTNAME), C(WA_DB_PORT), C(WA_DB_USERNAME),
    C(WA_DB_PASSWORD), C(WA_DB_SSL_CA), C(WA_DB_SSL_CERT), C(WA_DB_SSL_KEY), C(WA_DB_SSL_VERIFY)), the
    certificate paths being mapped from the container's data volume to the host's.
  - Speaks the database protocol itself (Python standard library only, nothing to install on the app
    hosts) - MySQL SSL request or PostgreSQL SSLRequest, then the TLS handshake with the server certificate
    verified against the CA and the host name, then authenticates and asks the server whether the session is
    encrypted (C(SHOW SESSION STATUS LIKE 'Ssl_%') or C(pg_stat_ssl)).
  - Fails with a clear message and a machine-readable O(ignore:kind) when the CA is wrong, the name is not in the
    server certificate, the certificate expired, the server wants a client certificate, or (with O(tls=false))
    when the server refuses plaintext - which is what a hardened server must do.
  - With O(mode=validate) it instead validates TLS material supplied by the user (key match, chain to the CA,
    expiry, usage, names) before any of it is written, with the same X.509 rules M(waent.onprem.pki) issues and
    validates with; this needs C(cryptography) where it runs (the controller).
  - Names follow RFC 6125, in both modes - a wildcard only as the whole left-most label, matching one label; an
    IP address only against an IP address SAN; the subject's common name is never used as a name (no CN
    fallback), so a certificate must list its names in subjectAltName.
options:
  mode:
    description:
      - V(connect) checks a live connection; V(validate) checks certificate material.
    type: str
    choices: [connect, validate]
    default: connect
  env_file:
    description:
      - The container's DB env file (C(KEY=value) lines). Its values are the defaults of every
        connection option below.
    type: path
  data_dir:
    description:
      - Host directory mounted as the container's data volume (O(container_data_path)). Certificate paths
        in the env file under O(container_data_path) are read from here.
    type: path
  container_data_path:
    description:
      - The data volume's mount point inside the container.
    type: str
    default: /usr/local/waent/data
  engine:
    description:
      - Overrides C(WA_DB_ENGINE).
    type: str
    choices: [MYSQL, PGSQL]
  hostname:
    description:
      - Overrides C(WA_DB_HOSTNAME); also the name the server certificate must cover.
    type: str
  port:
    description:
      - Overrides C(WA_DB_PORT).
    type: int
  username:
    description:
      - Overrides C(WA_DB_USERNAME).
    type: str
  password:
    description:
      - Overrides C(WA_DB_PASSWORD).
    type: str
  database:
    description:
      - PostgreSQL database to open the session in (the product creates its own databases later).
    type: str
    default: postgres
  ssl_ca:
    description:
      - Overrides the host path of the CA bundle (C(WA_DB_SSL_CA)), e.g. to prove a wrong CA is rejected.
    type: path
  ssl_cert:
    description:
      - Overrides the host path of the client certificate (C(WA_DB_SSL_CERT)).
    type: path
  ssl_key:
    description:
      - Overrides the host path of the client key (C(WA_DB_SSL_KEY)).
    type: path
  send_client_cert:
    description:
      - Set to V(false) to connect without the client certificate (to prove the server requires one).
    type: bool
    default: true
  verify:
    description:
      - Overrides C(WA_DB_SSL_VERIFY) (present for Webapps only; verification is on otherwise).
    type: bool
  tls:
    description:
      - Set to V(false) to attempt a plaintext session, which a hardened server must refuse.
    type: bool
    default: true
  tls_max_version:
    description:
      - Highest protocol version offered (the lowest is always TLS 1.2). V(TLSv1.2) proves the server's TLS 1.2
        side (cipher choice) when it would otherwise pick TLS 1.3.
    type: str
    choices: [TLSv1.2, TLSv1.3]
    default: TLSv1.3
  timeout:
    description:
      - Seconds for connecting and for each read.
    type: int
    default: 10
  ca_content:
    description:
      - O(mode=validate) - PEM CA bundle the certificate must chain to.
    type: str
  cert_content:
    description:
      - O(mode=validate) - PEM certificate, optionally followed by intermediates.
    type: str
  key_content:
    description:
      - O(mode=validate) - PEM private key (unencrypted) that must match O(cert_content).
    type: str
  purpose:
    description:
      - O(mode=validate) - the extended key usage the certificate needs when it has one (a key usage extension,
        when present, must allow digitalSignature).
    type: str
    choices: [server, client]
    default: server
  names:
    description:
      - O(mode=validate) - names (DNS or IP) the certificate must cover.
    type: list
    elements: str
    default: []
  min_days_valid:
    description:
      - O(mode=validate) - fail when the certificate or a CA certificate of its chain expires within this many
        days.
    type: int
    default: 0
requirements:
  - cryptography >= 38.0.4 (for O(mode=validate) only, where it runs - usually the controller)
notes:
  - Reads only; it never changes anything, so it runs in check mode too.
  - The authentication plugins handled are C(mysql_native_password), C(caching_sha2_password) (fast path, or
    full authentication over TLS) and, for PostgreSQL, C(scram-sha-256), C(md5) and C(password) (only over
    TLS).
attributes:
  check_mode:
    description:
      - Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: Read-only; runs the same in check mode.
  diff_mode:
    description:
      - Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
    details: Nothing to diff; it never changes anything.
  idempotent:
    description:
      - When run twice in a row outside check mode, with the same arguments, the second invocation indicates no
        change.
    support: full
    details: Never changes anything.
seealso:
  - module: waent.onprem.pki
"""

EXAMPLES = r"""
- name: Prove the Webapp's DB session is encrypted and verified
  waent.onprem.db_tls_check:
    env_file: /etc/waent/waweb/db.env
    data_dir: /srv/waent/waweb
  register: db_tls

- name: A wrong CA must be rejected
  waent.onprem.db_tls_check:
    env_file: /etc/waent/wacore/db.env
    data_dir: /srv/waent/wacore
    ssl_ca: /tmp/other-ca.pem
  register: wrong_ca
  failed_when: wrong_ca.kind | default('') != 'untrusted_server_certificate'

- name: Plaintext must be refused
  waent.onprem.db_tls_check:
    env_file: /etc/waent/wacore/db.env
    data_dir: /srv/waent/wacore
    tls: false
  register: plaintext
  failed_when: plaintext.kind | default('') != 'plaintext_refused'

- name: Validate a corporate DB server certificate before using it
  waent.onprem.db_tls_check:
    mode: validate
    ca_content: "{{ lookup('ansible.builtin.file', 'files/corp-ca.pem') }}"
    cert_content: "{{ lookup('ansible.builtin.file', 'files/db.crt') }}"
    key_content: "{{ lookup('ansible.builtin.file', 'files/db.key') }}"
    purpose: server
    names: [db.example.com]
    min_days_valid: 14
  delegate_to: localhost
"""

RETURN = r"""
kind:
  description: On failure, what went wrong, e.g. V(untrusted_server_certificate), V(hostname_mismatch),
    V(server_certificate_expired), V(client_certificate_required), V(plaintext_refused), V(tls_not_offered),
    V(authentication_failed), V(connect), V(bad_settings), V(invalid_material).
  returned: failure
  type: str
  sample: hostname_mismatch
engine:
  description: Database engine checked.
  returned: mode=connect, success
  type: str
  sample: MYSQL
hostname:
  description: Host name connected to and verified.
  returned: mode=connect, success
  type: str
  sample: db1.example.com
port:
  description: Port connected to.
  returned: mode=connect, success
  type: int
  sample: 3306
server_version:
  description: Server version from the MySQL greeting.
  returned: mode=connect, success, MYSQL
  type: str
  sample: 5.5.5-10.11.6-MariaDB-0+deb12u1
tls:
  description: Whether TLS was negotiated.
  returned: mode=connect, success
  type: bool
  sample: true
tls_version:
  description: Negotiated protocol, client view.
  returned: mode=connect, success
  type: str
  sample: TLSv1.3
cipher:
  description: Negotiated cipher suite, client view.
  returned: mode=connect, success
  type: str
  sample: TLS_AES_256_GCM_SHA384
cipher_bits:
  description: Secret bits of the cipher.
  returned: mode=connect, success
  type: int
  sample: 256
server_verified:
  description: The server certificate chained to the CA file.
  returned: mode=connect, success
  type: bool
  sample: true
hostname_verified:
  description: The server certificate covers O(hostname).
  returned: mode=connect, success
  type: bool
  sample: true
client_cert_sent:
  description: A client certificate was presented.
  returned: mode=connect, success
  type: bool
  sample: true
server_cert:
  description: Parsed facts of the verified server certificate.
  returned: mode=connect, success, verification on
  type: dict
  sample: {subject: CN=db1, issuer: CN=waent CA, not_after: "Nov 24 00:00:00 2027 GMT",
           subject_alt_names: ["DNS:db1.example.com"]}
authenticated:
  description: The server accepted the credentials.
  returned: mode=connect, success
  type: bool
  sample: true
authenticated_as:
  description: The account as the server sees it (C(CURRENT_USER()) / C(current_user)).
  returned: mode=connect, success
  type: str
  sample: waent@10.89.0.5
server_ssl_version:
  description: Protocol of this session as the server reports it (C(Ssl_version) / C(pg_stat_ssl.version)).
  returned: mode=connect, success
  type: str
  sample: TLSv1.3
server_ssl_cipher:
  description: Cipher of this session as the server reports it.
  returned: mode=connect, success
  type: str
  sample: TLS_AES_256_GCM_SHA384
encrypted:
  description: Both ends agree the session is encrypted.
  returned: mode=connect, success
  type: bool
  sample: true
problems:
  description: O(mode=validate) - what is wrong with the material (empty when valid).
  returned: mode=validate
  type: list
  elements: str
  sample: ["certificate CN=db1: subjectAltName does not cover db.example.com (has DNS db1; IP none)"]
certificate:
  description: O(mode=validate) - parsed facts of the certificate (never PEM).
  returned: mode=validate, when it parses
  type: dict
  sample: {subject: CN=db1, issuer: CN=corp CA, not_after: "2027-11-24T00:00:00+00:00",
           subject_alt_names: [db1.example.com], fingerprint_sha256: 3f0c...}
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.waent.onprem.plugins.module_utils import _db_tls
from ansible_collections.waent.onprem.plugins.module_utils._cryptography_dep import check_cryptography
from ansible_collections.waent.onprem.plugins.module_utils._db_tls_wire import KIND_SETTINGS, DbTlsError
from ansible_collections.waent.onprem.plugins.module_utils._envfile import CONTAINER_DATA_PATH, read_env_file

CONNECTION_OPTIONS = ("engine", "hostname", "port", "username", "password", "ssl_ca", "ssl_cert", "ssl_key",
                      "verify", "tls", "timeout", "database", "tls_max_version")


def run_validate(module):
    params = module.params
    check_cryptography(module)
    missing = [k for k in ("ca_content", "cert_content") if not params[k]]
    if missing:
        module.fail_json(msg="mode=validate needs {}".format(" and ".join(missing)), kind=KIND_SETTINGS)
    problems, facts = _db_tls.validate_material(
        params["ca_content"], params["cert_content"], params["key_content"], purpose=params["purpose"],
        names=params["names"], min_days=params["min_days_valid"])
    if problems:
        module.fail_json(msg="Invalid {} certificate material: {}".format(params["purpose"], "; ".join(problems)),
                         kind="invalid_material", problems=problems, certificate=facts)
    module.exit_json(changed=False, problems=[], certificate=facts)


def run_connect(module):
    params = module.params
    env = {}
    if params["env_file"]:
        try:
            env = read_env_file(params["env_file"])
        except OSError as exc:
            module.fail_json(msg="Cannot read the env file {}: {}".format(params["env_file"], exc),
                             kind=KIND_SETTINGS)
    if env.get("WA_DB_PASSWORD"):
        module.no_log_values.add(env["WA_DB_PASSWORD"])
    overrides = {k: params[k] for k in CONNECTION_OPTIONS}
    settings = _db_tls.settings_from_env(env, data_dir=params["data_dir"],
                                         container_data_path=params["container_data_path"], overrides=overrides)
    if not params["send_client_cert"]:
        settings["ssl_cert"] = settings["ssl_key"] = None
    warnings = []
    if settings["tls"] and not settings["verify"]:
        warnings.append("Server certificate verification is OFF (WA_DB_SSL_VERIFY=0): the session is encrypted "
                        "but the server identity is not proven.")
    try:
        facts = _db_tls.check_connection(settings)
    except DbTlsError as exc:
        module.fail_json(msg=exc.msg, kind=exc.kind, hostname=settings["hostname"], port=settings["port"],
                         engine=settings["engine"], tls=settings["tls"])
    for warning in warnings:
        module.warn(warning)
    module.exit_json(changed=False, **facts)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            mode=dict(type="str", choices=["connect", "validate"], default="connect"),
            env_file=dict(type="path"),
            data_dir=dict(type="path"),
            container_data_path=dict(type="str", default=CONTAINER_DATA_PATH),
            engine=dict(type="str", choices=list(_db_tls.ENGINES)),
            hostname=dict(type="str"),
            port=dict(type="int"),
            username=dict(type="str"),
            password=dict(type="str", no_log=True),
            database=dict(type="str", default="postgres"),
            ssl_ca=dict(type="path"),
            ssl_cert=dict(type="path"),
            ssl_key=dict(type="path", no_log=False),
            send_client_cert=dict(type="bool", default=True),
            verify=dict(type="bool"),
            tls=dict(type="bool", default=True),
            tls_max_version=dict(type="str", choices=["TLSv1.2", "TLSv1.3"], default="TLSv1.3"),
            timeout=dict(type="int", default=10),
            ca_content=dict(type="str"),
            cert_content=dict(type="str"),
            key_content=dict(type="str", no_log=True),
            purpose=dict(type="str", choices=["server", "client"], default="server"),
            names=dict(type="list", elements="str", default=[]),
            min_days_valid=dict(type="int", default=0),
        ),
        supports_check_mode=True,
    )
    if module.params["mode"] == "validate":
        run_validate(module)
    if module.params["env_file"] and not os.path.isfile(module.params["env_file"]):
        module.fail_json(msg="The env file {} does not exist on this host".format(module.params["env_file"]),
                         kind=KIND_SETTINGS)
    run_connect(module)


if __name__ == "__main__":
    main()
