#!/usr/bin/python
# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
module: tls_probe
short_description: Find which TLS versions and cipher suites an endpoint accepts, and grade them
version_added: 0.2.0
author: waent.onprem developers (@waent)
description:
  - From the host it runs on, makes real handshakes with an HTTPS endpoint (the Webapp's port) -
    one per protocol version (SSLv3 to TLS 1.3), then, for each family of TLS 1.2-or-older cipher
    suites this host's OpenSSL can offer (same key exchange and authentication), the whole family
    offered again and again without the suite the server picked, until it refuses (one handshake
    per accepted suite, plus one); families in parallel, a bounded number of handshakes at a
    time. Reports what was accepted, the suite TLS 1.3 negotiates, and the certificate (verified
    against O(ca_file) for O(server_name), its names and days to expiry).
  - What the local OpenSSL cannot speak (SSLv3 on OpenSSL 3, suites compiled out) is reported as
    C(untestable), never as refused.
  - With O(level), grades the endpoint against that C(WA_WEB_SECURITY_LEVEL) profile (reference
    section 5.1) and, as advice only, against Mozilla's current intermediate guideline (6.0,
    section 5.2); the guideline data ship with the collection.
  - Read-only; a connection that fails before TLS starts fails the module instead of counting as
    a refusal.
requirements:
  - cryptography >= 38.0.4 (for the certificate facts)
options:
  address:
    description: Address or name to connect to.
    type: str
    required: true
  port:
    description: TCP port.
    type: int
    default: 9090
  server_name:
    description: The name sent (SNI) and verified. Defaults to O(address).
    type: str
  ca_file:
    description:
      - CA bundle, on the host the module runs on, that the served chain must verify against for
        O(server_name). Without it, RV(certificate.verified) is null.
    type: path
  level:
    description: The profile to grade against (C(WA_WEB_SECURITY_LEVEL)); no grade without it.
    type: str
    choices: [MODERN, INTERMEDIATE, OLD]
  timeout:
    description: Seconds for each connection and handshake.
    type: float
    default: 5.0
  workers:
    description: Handshakes at a time (1-64).
    type: int
    default: 16
attributes:
  check_mode:
    support: full
    description: The module never changes anything; check mode runs the same handshakes.
  diff_mode:
    support: none
    description: Nothing changes, so there is nothing to show.
  idempotent:
    support: full
    description: Read-only.
"""

EXAMPLES = r"""
- name: Grade the Webapp port against the deployment's profile, from the admin zone
  waent.onprem.tls_probe:
    address: 10.78.4.70
    port: 9090
    server_name: wa.example.com
    ca_file: /root/wa-ca.crt
    level: MODERN
  register: tls

- name: Fail when the port does not match the profile
  ansible.builtin.assert:
    that: tls.grade.passed
    fail_msg: "{{ tls.grade.problems }}"
"""

RETURN = r"""
protocols:
  description: Each protocol version and whether the endpoint accepted it (C(accepted), C(refused), C(untestable)).
  returned: always
  type: dict
  sample: {"SSLv3": "untestable", "TLSv1": "refused", "TLSv1.1": "refused", "TLSv1.2": "accepted", "TLSv1.3": "refused"}
suites:
  description: The TLS 1.2-or-older cipher suites accepted, by their OpenSSL names.
  returned: always
  type: list
  elements: str
  sample: ["ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-RSA-AES128-GCM-SHA256"]
suites_tried:
  description: How many suites were offered (none when no TLS 1.2-or-older version was accepted).
  returned: always
  type: int
tls13_suite:
  description: The suite a TLS 1.3 handshake negotiated; null when TLS 1.3 was not accepted.
  returned: always
  type: str
certificate:
  description: The leaf certificate served, its verification and its facts (never PEM).
  returned: always
  type: dict
  contains:
    verified:
      description: The chain verifies against O(ca_file) for O(server_name); null without O(ca_file).
      type: bool
    verify_error:
      description: OpenSSL's reason when it does not.
      type: str
    name_matches:
      description: O(server_name) is one of the certificate's names (DNS or IP).
      type: bool
    days_left:
      description: Whole days until it expires (negative when expired).
      type: int
    subject:
      description: Its subject.
      type: str
    not_after:
      description: When it expires (ISO 8601, UTC).
      type: str
    issuer:
      description: Its issuer.
      type: str
    dns:
      description: Its DNS names.
      type: list
      elements: str
    ip:
      description: Its IP addresses.
      type: list
      elements: str
    fingerprint_sha256:
      description: SHA-256 of its DER form, colon-separated hex.
      type: str
grade:
  description:
    - With O(level) - C(passed), the C(problems) (each naming what the profile says) and the
      C(untestable_suites) the profile allows but this host's OpenSSL cannot offer.
  returned: when level is given
  type: dict
  sample: {"level": "MODERN", "passed": true, "problems": [], "untestable_suites": []}
advice:
  description: How the endpoint departs from Mozilla's current intermediate guideline (not a failure).
  returned: always
  type: list
  elements: str
handshakes:
  description: Handshakes made.
  returned: always
  type: int
seconds:
  description: Wall time of the scan.
  returned: always
  type: float
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.waent.onprem.plugins.module_utils import _tls_grading as grading
from ansible_collections.waent.onprem.plugins.module_utils import _tls_probe as probe
from ansible_collections.waent.onprem.plugins.module_utils import _x509 as x509_layer
from ansible_collections.waent.onprem.plugins.module_utils._cryptography_dep import check_cryptography


def main():
    module = AnsibleModule(
        argument_spec={
            "address": {"type": "str", "required": True},
            "port": {"type": "int", "default": 9090},
            "server_name": {"type": "str"},
            "ca_file": {"type": "path"},
            "level": {"type": "str", "choices": list(grading.WEBAPP_PROFILES)},
            "timeout": {"type": "float", "default": 5.0},
            "workers": {"type": "int", "default": 16},
        },
        supports_check_mode=True,
    )
    check_cryptography(module)
    params = module.params
    try:
        target = probe.Target(params["address"], params["port"], params["server_name"], params["timeout"])
        found = probe.probe(target, ca_file=params["ca_file"], workers=params["workers"])
    except (ValueError, probe.TlsProbeError) as exc:
        module.fail_json(msg=str(exc))
    try:
        certificate = x509_layer.served_facts(found.pop("certificate_der"), target.server_name)
    except x509_layer.X509Error as exc:
        module.fail_json(msg=f"{target}: {exc}")
    certificate.update(verified=found.pop("verified"), verify_error=found.pop("verify_error"))
    result = {"changed": False, "certificate": certificate, "advice": grading.advise(found), **found}
    if params["level"]:
        problems = grading.grade(found, params["level"])
        result["grade"] = {"level": params["level"], "passed": not problems, "problems": problems,
                           "untestable_suites": grading.untestable_suites(params["level"], probe.local_suite_names())}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
