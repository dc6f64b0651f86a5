#!/usr/bin/python
# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
---
module: pki
short_description: Manage a private CA and the certificates it signs, or validate operator-supplied certificates
version_added: 0.1.0
author: waent.onprem developers (@waent)
description:
  - One call manages a certificate authority (private key and self-signed certificate) and a list of
    certificates signed by it, all stored in one directory (O(path)).
  - For every item (the CA and each certificate) a single predicate decides whether it must be
    (re)written, and the reason is returned per item. Possible reasons are V(missing), V(unreadable),
    V(key_mismatch), V(issuer_mismatch), V(ca_replaced), V(subject_changed), V(sans_changed),
    V(usage_changed), V(key_type_changed), V(renew) (inside O(certificates[].renew_before) days of
    expiry) and V(expired). Only those items are rewritten; file attributes (owner, group, mode) are
    reconciled separately and reported as RV(certificates[].attributes_changed).
  - The CA is never silently regenerated. Replacing it requires O(ca.replace); when the CA is
    replaced every certificate is reissued with reason V(ca_replaced). A CA whose files cannot be
    read is an error unless O(ca.replace) allows replacing it.
  - Private keys are written atomically (temporary file and rename) with mode O(key_mode) (default
    V(0600)), certificates with O(cert_mode) (default V(0644)).
  - Check mode and diff mode report parsed facts (subject, SANs, validity, serial, SHA-256
    fingerprint, key type, reason), never PEM or key material.
  - With O(state=validate) the module changes nothing; it checks operator-supplied certificates (for
    example from a corporate CA) against their keys, the CA bundle O(ca_bundle), the required names,
    the usage and the expiry/renewal window, and reports every failed rule naming the file. These are the
    same X.509 rules M(waent.onprem.db_tls_check) validates with, and the ones the module issues by.
  - Names follow RFC 6125 - a wildcard only as the whole left-most label, matching exactly one label (no
    partial wildcards such as C(w*.example.com)); an IP address only against an IP address SAN, also when it
    is listed in O(certificates[].dns); the subject's common name is never used as a name (no CN fallback).
  - Per certificate, O(certificates[].bundles) writes the file shapes the product needs, for example
    the Webapp upload bundle (private key, server certificate, CA chain in one PEM, the order
    C(POST /v1/certificates/external) requires) and the database server/client C(key)/C(cert)/C(ca)
    files. A bundle is rewritten only when its content would change.
  - Keys are generated in-process with the Python C(cryptography) library; no subprocess is run.
requirements:
  - cryptography >= 38.0.4 (on the host that executes the module)
attributes:
  action:
    description:
      - Indicates this has a corresponding action plugin so some parts of the options can be executed on the controller.
    support: full
    details:
      - When the target is the controller itself (connection C(local), no C(become)) the whole task runs in-process
        in the action plugin; otherwise the module is executed on the target.
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: Reports per item what would change and why, with the facts known before generation.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details:
      - The diff holds parsed facts per item (subject, SANs, not_after, serial, fingerprint, key type, reason),
        never key or PEM bytes.
  idempotent:
    description:
      - When run twice in a row outside check mode, with the same arguments, the second invocation indicates no change.
    support: full
    details:
      - A second run with the same options changes nothing, unless a certificate is inside its renewal window
        (O(certificates[].renew_before) days or less before expiry), which by design reissues it.
options:
  path:
    description:
      - Directory holding the CA and certificate files. Created (mode V(0700)) if missing in O(state=present).
      - Relative file names in the other options are relative to this directory.
    type: path
    required: true
  state:
    description:
      - V(present) creates, renews or keeps the CA and the certificates.
      - V(validate) only checks operator-supplied certificates (O(certificates[].cert_path),
        O(certificates[].key_path)) against O(ca_bundle); nothing is written.
    type: str
    choices: [present, validate]
    default: present
  ca:
    description:
      - The certificate authority that signs every certificate of this call (the signing CA).
      - Used with O(state=present); ignored with O(state=validate).
    type: dict
    default: {}
    suboptions:
      name:
        description:
          - Base name of the CA files, C(<name>.key) and C(<name>.crt) in O(path).
        type: str
        default: ca
      common_name:
        description: Common name (CN) of the CA certificate's subject.
        type: str
        default: waent.onprem internal CA
      key_type:
        description: Type of the CA private key.
        type: str
        choices: [ec-p256, ec-p384, rsa-2048, rsa-3072, rsa-4096]
        default: ec-p256
      validity_days:
        description: Validity of a newly created CA certificate, in days.
        type: int
        default: 3650
      renew_before:
        description:
          - When the CA certificate expires in fewer days than this, the module warns (O(ca.replace=never))
            or replaces the CA (O(ca.replace=when_needed)).
        type: int
        default: 90
      replace:
        description:
          - V(never) (default) never replaces an existing CA. A CA that differs from these options is kept
            and a warning is emitted; an unreadable or expired CA is an error.
          - V(when_needed) replaces the CA when it is unreadable, expired, inside O(ca.renew_before), or differs
            from O(ca.common_name), O(ca.key_type) or O(organization); every certificate is then reissued.
          - V(always) replaces the CA on every run (one-off rotation, for example after a key compromise); every
            certificate is then reissued. Not idempotent.
        type: str
        choices: [never, when_needed, always]
        default: never
  organization:
    description:
      - Organization (O) added to the subject of the CA and of every certificate. Omitted when not set.
    type: str
  certificates:
    description:
      - The certificates to manage (O(state=present)) or to validate (O(state=validate)).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description:
          - Unique name of the certificate; base name of its files C(<name>.key) and C(<name>.crt) in O(path)
            unless O(certificates[].key_path) / O(certificates[].cert_path) are set.
        type: str
        required: true
      common_name:
        description:
          - Common name (CN) of the subject. Defaults to the first DNS name, else the first IP address, else
            O(certificates[].name).
        type: str
      dns:
        description: DNS subject alternative names.
        type: list
        elements: str
        default: []
      ip:
        description: IP address subject alternative names (IPv4 or IPv6).
        type: list
        elements: str
        default: []
      usage:
        description:
          - V(server) sets extended key usage serverAuth, V(client) clientAuth, V(both) both.
          - Key usage is digitalSignature, plus keyEncipherment for RSA keys.
          - With O(state=validate) the certificate must allow this usage.
        type: str
        choices: [server, client, both]
        default: server
      key_type:
        description: Type of the private key.
        type: str
        choices: [ec-p256, ec-p384, rsa-2048, rsa-3072, rsa-4096]
        default: ec-p256
      validity_days:
        description:
          - Validity of a newly issued certificate, in days. Changing it does not reissue an existing
            certificate; the new value applies at the next renewal.
        type: int
        default: 365
      renew_before:
        description:
          - The certificate is reissued (reason V(renew)) when it expires in this many days or fewer.
          - With O(state=validate), a certificate inside this window fails the rule V(renew_window).
        type: int
        default: 30
      signed_by:
        description:
          - Name of the signing CA. Only the CA of this call (O(ca.name)) is supported; the option makes the
            signer explicit in playbooks and fails if it names another CA.
        type: str
      key_path:
        description: Path of the private key (relative to O(path)). Default C(<name>.key).
        type: path
      cert_path:
        description: Path of the certificate (relative to O(path)). Default C(<name>.crt).
        type: path
      chain_path:
        description:
          - O(state=validate) only. Optional PEM file with intermediate CA certificates delivered with the
            certificate; used together with O(ca_bundle) to build the chain.
        type: path
      owner:
        description: Owner of this certificate's files, overriding O(owner).
        type: str
      group:
        description: Group of this certificate's files, overriding O(group).
        type: str
      bundles:
        description:
          - Extra files assembled from this certificate's material, in the order given by
            O(certificates[].bundles[].content). Rewritten only when their content would change.
          - The Webapp upload bundle is C(content=[key, cert, ca]) (private key, server certificate, CA chain).
          - Database files are three bundles C([key]), C([cert]) and C([ca]) named as the product expects
            (for example C(db-key.pem), C(db-cert.pem), C(db-ca.pem)).
        type: list
        elements: dict
        default: []
        suboptions:
          path:
            description: File to write, relative to O(path) unless absolute.
            type: path
            required: true
          content:
            description:
              - Ordered parts of the file. V(key) is the private key, V(cert) the certificate, V(ca) the
                signing CA certificate (the chain).
            type: list
            elements: str
            choices: [key, cert, ca]
            required: true
          mode:
            description: File mode. Default O(key_mode) when the bundle contains the key, else O(cert_mode).
            type: raw
          owner:
            description: Owner; default the certificate's owner.
            type: str
          group:
            description: Group; default the certificate's group.
            type: str
  ca_bundle:
    description:
      - O(state=validate) only. PEM file with the trusted CA certificates (root and intermediates) the
        operator-supplied certificates must chain to. Required with O(state=validate).
    type: path
  owner:
    description: Owner of every written file (default the user running the module).
    type: str
  group:
    description: Group of every written file.
    type: str
  key_mode:
    description: Mode of private key files (and of bundles containing a key).
    type: raw
    default: '0600'
  cert_mode:
    description: Mode of certificate files (and of bundles without a key).
    type: raw
    default: '0644'
  backup:
    description:
      - Before a key, certificate or bundle is overwritten, keep a timestamped copy next to it; the names are
        returned in RV(backup_files).
      - An unreadable file that is replaced is always kept as a backup, whatever this option says.
    type: bool
    default: false
  on_unreadable:
    description:
      - What to do when a certificate's key or certificate file exists but cannot be parsed (truncated, wrong
        format, wrong type). V(regenerate) reissues it (reason V(unreadable)) and keeps the old file as a
        backup; V(fail) stops with an error naming the file. The CA is governed by O(ca.replace) instead.
    type: str
    choices: [regenerate, fail]
    default: regenerate
  fail_on_invalid:
    description:
      - O(state=validate) only. Fail the task when any rule fails (default). With V(false) the task succeeds
        and the failures are only returned in RV(certificates[].failures).
    type: bool
    default: true
notes:
  - Run it once on the controller (C(delegate_to=localhost), C(run_once=true)) and distribute the files
    with M(ansible.builtin.copy); the key files never need to leave the controller except to their host.
  - Certificates are compared by subject, SANs, usage, key type and issuer; a change of
    O(certificates[].validity_days) alone does not reissue a certificate.
  - When the task's target is the controller itself (connection C(local), for example with
    C(delegate_to=localhost), and no C(become)), an action plugin runs the same code in-process on the
    controller instead of executing the module, which saves the fixed cost of a module run (see
    C(benchmarks/README.md)). It then uses the controller's Python and C(cryptography). Set the variable
    C(waent_onprem_pki_in_process=false) for the task to force a normal module execution.
  - Give O(path) as an absolute path; relative paths depend on the working directory of the execution.
  - A certificate never outlives its CA; its end of validity is capped at the CA's.
seealso:
  - module: community.crypto.x509_certificate
  - module: community.crypto.x509_certificate_info
"""

EXAMPLES = r"""
- name: Internal CA, Webapp server certificate, DB server and client certificates
  waent.onprem.pki:
    path: /etc/waent/pki
    ca:
      common_name: waent.onprem internal CA
    certificates:
      - name: webapp
        dns: [wa.example.com]
        ip: [192.0.2.10]
        usage: server
        bundles:
          - path: webapp-upload.pem
            content: [key, cert, ca]
      - name: db-server
        dns: [db.example.com]
        usage: server
        bundles:
          - {path: db-server/db-key.pem, content: [key]}
          - {path: db-server/db-cert.pem, content: [cert]}
          - {path: db-server/db-ca.pem, content: [ca]}
      - name: db-client-core1
        common_name: core1
        usage: client
        signed_by: ca
  delegate_to: localhost
  run_once: true
  register: waent_pki

- name: Replace the CA (every certificate is reissued)
  waent.onprem.pki:
    path: /etc/waent/pki
    ca:
      replace: always
    certificates: "{{ waent_certificates }}"
  delegate_to: localhost
  run_once: true

- name: Validate an operator's corporate certificate before using it
  waent.onprem.pki:
    path: /etc/waent/operator
    state: validate
    ca_bundle: corporate-ca.pem
    certificates:
      - name: webapp
        cert_path: wa.crt
        key_path: wa.key
        chain_path: intermediates.pem
        dns: [wa.example.com]
        usage: server
        renew_before: 30
  delegate_to: localhost
  run_once: true
"""

RETURN = r"""
changed:
  description: Whether any file content or attribute changed (or would change in check mode).
  returned: always
  type: bool
ca:
  description: Facts about the CA (O(state=present)).
  returned: when O(state=present)
  type: dict
  contains:
    changed:
      description: Whether the CA key/certificate were (or would be) written, or their attributes changed.
      type: bool
    reason:
      description: Why the CA was (or would be) created or replaced; V(null) when it was kept.
      type: str
      sample: missing
    warnings:
      description: Conditions that would replace the CA if O(ca.replace) allowed it (differs, renewal window).
      type: list
      elements: str
    key_path:
      description: Absolute path of the CA private key.
      type: str
    cert_path:
      description: Absolute path of the CA certificate (the file to use as CA bundle / trust anchor).
      type: str
    subject:
      description: RFC 4514 subject string.
      type: str
      sample: CN=waent.onprem internal CA
    not_before:
      description: Start of validity, ISO 8601 UTC (V(null) in check mode for an item not yet generated).
      type: str
    not_after:
      description: End of validity, ISO 8601 UTC.
      type: str
      sample: '2036-11-22T23:00:00Z'
    serial:
      description: Serial number as hex string (V(null) in check mode for an item not yet generated).
      type: str
    fingerprint_sha256:
      description: SHA-256 fingerprint of the DER certificate, colon-separated hex (V(null) in check mode for an
        item not yet generated).
      type: str
    key_type:
      description: Key type (one of the O(ca.key_type) choices).
      type: str
      sample: ec-p256
certificates:
  description: One entry per O(certificates) item, in the same order.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: O(certificates[].name).
      type: str
    changed:
      description: Whether content or attributes of this certificate's files (including bundles) changed.
      type: bool
    reason:
      description:
        - O(state=present) only. Why the certificate was (or would be) issued; V(null) when kept.
        - One of V(missing), V(unreadable), V(key_mismatch), V(issuer_mismatch), V(ca_replaced),
          V(subject_changed), V(sans_changed), V(usage_changed), V(key_type_changed), V(renew), V(expired).
      type: str
      sample: renew
    key_regenerated:
      description: O(state=present) only. Whether a new private key was (or would be) generated.
      type: bool
    attributes_changed:
      description: O(state=present) only. Whether owner/group/mode of a file changed (content unchanged).
      type: bool
    key_path:
      description: Absolute path of the private key.
      type: str
    cert_path:
      description: Absolute path of the certificate.
      type: str
    ca_path:
      description: Absolute path of the signing CA certificate (O(state=present)) or of O(ca_bundle).
      type: str
    subject:
      description: RFC 4514 subject string.
      type: str
    common_name:
      description: Common name.
      type: str
    dns:
      description: DNS SANs.
      type: list
      elements: str
    ip:
      description: IP SANs.
      type: list
      elements: str
    usage:
      description: V(server), V(client) or V(both) as found in the certificate (V(none) if it has neither).
      type: str
    key_type:
      description: Key type, for example V(ec-p256) or V(rsa-3072) (V(other) when not one of the choices).
      type: str
    issuer:
      description: RFC 4514 issuer string.
      type: str
    not_before:
      description: Start of validity, ISO 8601 UTC (V(null) in check mode for a certificate not yet issued).
      type: str
    not_after:
      description: End of validity, ISO 8601 UTC (estimated in check mode for a certificate not yet issued).
      type: str
    serial:
      description: Serial number, hex (V(null) in check mode for a certificate not yet issued).
      type: str
    fingerprint_sha256:
      description: SHA-256 fingerprint of the DER certificate (V(null) in check mode for a certificate not yet issued).
      type: str
    bundles:
      description: O(state=present) only. The bundle files of this certificate.
      type: list
      elements: dict
      contains:
        path:
          description: Absolute path.
          type: str
        content:
          description: Parts in order.
          type: list
          elements: str
        changed:
          description: Whether the file content or attributes changed.
          type: bool
    valid:
      description: O(state=validate) only. Whether every rule passed.
      type: bool
    failures:
      description:
        - O(state=validate) only. Failed rules. Rules are V(unreadable), V(key_mismatch), V(ca_bundle) (a
          certificate of O(ca_bundle) is not a CA), V(chain), V(names), V(usage), V(not_yet_valid), V(expired),
          V(renew_window) (the certificate or a CA of its chain expires within
          O(certificates[].renew_before) days).
      type: list
      elements: dict
      contains:
        file:
          description: The file the rule failed on.
          type: str
        rule:
          description: The rule name.
          type: str
        msg:
          description: Human-readable message.
          type: str
backup_files:
  description: Backup copies made before overwriting (O(backup)) or of unreadable files that were replaced.
  returned: O(state=present)
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.waent.onprem.plugins.module_utils._cryptography_dep import check_cryptography
from ansible_collections.waent.onprem.plugins.module_utils._pki import execute
from ansible_collections.waent.onprem.plugins.module_utils._pki_items import KEY_TYPES

REQUIRED_IF = [("state", "validate", ["ca_bundle"])]


def argument_spec():
    return dict(
        path=dict(type="path", required=True),
        state=dict(type="str", choices=["present", "validate"], default="present"),
        ca=dict(
            type="dict",
            default={},
            options=dict(
                name=dict(type="str", default="ca"),
                common_name=dict(type="str", default="waent.onprem internal CA"),
                key_type=dict(type="str", choices=list(KEY_TYPES), default="ec-p256"),
                validity_days=dict(type="int", default=3650),
                renew_before=dict(type="int", default=90),
                replace=dict(type="str", choices=["never", "when_needed", "always"], default="never"),
            ),
        ),
        organization=dict(type="str"),
        certificates=dict(
            type="list",
            elements="dict",
            default=[],
            options=dict(
                name=dict(type="str", required=True),
                common_name=dict(type="str"),
                dns=dict(type="list", elements="str", default=[]),
                ip=dict(type="list", elements="str", default=[]),
                usage=dict(type="str", choices=["server", "client", "both"], default="server"),
                key_type=dict(type="str", choices=list(KEY_TYPES), default="ec-p256"),
                validity_days=dict(type="int", default=365),
                renew_before=dict(type="int", default=30),
                signed_by=dict(type="str"),
                key_path=dict(type="path"),
                cert_path=dict(type="path"),
                chain_path=dict(type="path"),
                owner=dict(type="str"),
                group=dict(type="str"),
                bundles=dict(
                    type="list",
                    elements="dict",
                    default=[],
                    options=dict(
                        path=dict(type="path", required=True),
                        content=dict(type="list", elements="str", choices=["key", "cert", "ca"], required=True),
                        mode=dict(type="raw"),
                        owner=dict(type="str"),
                        group=dict(type="str"),
                    ),
                ),
            ),
        ),
        ca_bundle=dict(type="path"),
        owner=dict(type="str"),
        group=dict(type="str"),
        key_mode=dict(type="raw", default="0600", no_log=False),
        cert_mode=dict(type="raw", default="0644"),
        backup=dict(type="bool", default=False),
        on_unreadable=dict(type="str", choices=["regenerate", "fail"], default="regenerate"),
        fail_on_invalid=dict(type="bool", default=True),
    )


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(),
        required_if=REQUIRED_IF,
        supports_check_mode=True,
    )
    check_cryptography(module)
    result = execute(module.params, check_mode=module.check_mode, diff=module._diff)
    for warning in result.pop("warnings", []):
        module.warn(warning)
    if result.pop("failed", False):
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
