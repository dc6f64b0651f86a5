#!/usr/bin/python
# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
module: webapp_certificate
short_description: Upload the Webapp's HTTPS certificate bundle when the port serves another certificate
version_added: 0.2.0
author: waent.onprem developers (@waent)
description:
  - Makes a WhatsApp Business API Webapp serve the server certificate of a bundle (private key,
    server certificate, at least one CA certificate, in that order) through
    C(POST /v1/certificates/external).
  - Idempotent by looking at what the port serves; when its certificate is the bundle's, nothing
    is uploaded. The Webapp serves an upload only after a restart of every Webapp container, so a
    change returns RV(restart_required).
  - The bundle is checked before it is sent, because the Webapp only checks the sections and a
    bundle whose key does not match makes its next start fail (recovery is deleting its C(certs)
    table). Checked are the sections, the key against the certificate, the signature of the
    first CA, the names of O(names) and the remaining validity.
extends_documentation_fragment:
  - waent.onprem.webapp_api
  - waent.onprem.webapp_api.auth
requirements:
  - cryptography >= 38.0.4 where the module runs
options:
  bundle_content:
    description: The bundle as text (it holds the private key).
    type: str
  bundle_path:
    description: A file with the bundle, on the host the module runs on.
    type: path
  names:
    description:
      - Names the server certificate must cover. Defaults to O(server_name) when it is set.
    type: list
    elements: str
  min_days_valid:
    description: Refuse a certificate that expires within this many days.
    type: int
    default: 7
attributes:
  check_mode:
    support: full
    description: Compares and reports; uploads nothing.
  diff_mode:
    support: full
    description: The served and the bundle's certificate facts (never key material).
  idempotent:
    support: full
    description: Once the Webapps restarted, the served certificate is the bundle's and nothing is uploaded.
notes:
  - Until the Webapps restart after an upload, the port still serves the previous certificate and
    a second run uploads the bundle again, which is harmless because the Webapp overwrites it.
  - The first upload is made while the Webapp serves its self-signed certificate, so it needs
    O(validate_certs=false); run it over loopback on the Webapp host.
"""

EXAMPLES = r"""
- name: Serve the PKI's Webapp certificate (the first time the self-signed one is served)
  waent.onprem.webapp_certificate:
    address: 127.0.0.1
    server_name: wa.example.com
    validate_certs: false
    api_password: "{{ wa_secrets.admin_password }}"
    bundle_path: /etc/waent/webapp/upload-bundle.pem
  register: webapp_cert
  no_log: true

- name: Restart the Webapps when a new certificate was uploaded
  ansible.builtin.command: podman restart waent-webapp
  when: webapp_cert.restart_required
  changed_when: true
"""

RETURN = r"""
restart_required:
  description: A bundle was uploaded (or would be in check mode); the Webapps serve it after a restart.
  returned: always
  type: bool
served:
  description: Facts of the certificate the port served before the module ran.
  returned: always
  type: dict
  sample: {subject: CN=localhost, fingerprint_sha256: "AB:CD:..."}
certificate:
  description: Facts of the bundle's server certificate (never the key).
  returned: always
  type: dict
  sample: {subject: CN=wa.example.com, dns: [wa.example.com], not_after: "2027-12-01T00:00:00Z", ca_count: 1}
"""

import ssl

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.waent.onprem.plugins.module_utils import _cryptography_dep, _webapp_bundle, _x509
from ansible_collections.waent.onprem.plugins.module_utils import _webapp_api as wa


def _read_bundle(module):
    params = module.params
    if params["bundle_content"] is not None:
        return params["bundle_content"]
    try:
        with open(params["bundle_path"], encoding="ascii", errors="replace") as stream:
            return stream.read()
    except OSError as exc:
        module.fail_json(msg=f"bundle_path {params['bundle_path']}: {exc.strerror}")
    return None


def main():
    module = AnsibleModule(
        argument_spec={
            **wa.CONNECTION_ARGS,
            **wa.AUTH_ARGS,
            "bundle_content": {"type": "str", "no_log": True},
            "bundle_path": {"type": "path"},
            "names": {"type": "list", "elements": "str"},
            "min_days_valid": {"type": "int", "default": 7},
        },
        required_one_of=[("bundle_content", "bundle_path")],
        mutually_exclusive=[("bundle_content", "bundle_path")],
        supports_check_mode=True,
    )
    _cryptography_dep.check_cryptography(module)
    params = module.params
    bundle, problems = _webapp_bundle.parse(_read_bundle(module))
    if bundle is not None:
        names = params["names"] if params["names"] is not None else [n for n in [params["server_name"]] if n]
        problems = _webapp_bundle.usability_problems(bundle, names, params["min_days_valid"])
    if problems:
        module.fail_json(msg="The bundle is not uploaded: " + "; ".join(problems), problems=problems)
    with wa.failing_module(module):
        client = wa.client_from_params(params)
        served_der = client.peer_certificate()
        served = _x509.cert_facts(_x509.load_certificates(ssl.DER_cert_to_PEM_cert(served_der))[0])
        wanted = bundle.facts()
        changed = served_der != _x509.der(bundle.certificate)
        if changed and not module.check_mode:
            token = wa.token_from_params(client, params)
            try:
                wa.expect(client.request("POST", "/v1/certificates/external", token=token, body=bundle.text,
                                         content_type="text/plain"), 200, 201, what="certificate upload refused")
            finally:
                wa.logout(client, token)
    result = {"changed": changed, "restart_required": changed, "served": served, "certificate": wanted}
    if module._diff:
        result["diff"] = {"before": {"served": served}, "after": {"served": wanted}}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
