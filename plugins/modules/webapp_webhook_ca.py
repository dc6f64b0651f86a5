#!/usr/bin/python
# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
module: webapp_webhook_ca
short_description: Manage the CA bundle the Coreapps verify webhook receivers with
version_added: 0.2.0
author: waent.onprem developers (@waent)
description:
  - Sets or removes the webhook CA bundle of a WhatsApp Business API deployment through
    C(/v1/certificates/webhooks/ca) (section 4.4 of the reference), needed when the webhook
    receiver's certificate comes from a private CA.
  - Idempotent by comparing the certificates the API returns with the wanted ones (DER, in
    order; PEM layout and comments do not count).
  - The Coreapps load the bundle when they start, so a change returns RV(restart_required), and the
    caller restarts every Coreapp (in multiconnect the command goes to the primary Master).
extends_documentation_fragment:
  - waent.onprem.webapp_api
  - waent.onprem.webapp_api.auth
options:
  state:
    description: V(present) sets the bundle, V(absent) removes it.
    type: str
    choices: [present, absent]
    default: present
  ca_content:
    description: The PEM bundle (one or more certificates) for O(state=present).
    type: str
  ca_path:
    description: A PEM bundle file on the host the module runs on, for O(state=present).
    type: path
attributes:
  check_mode:
    support: full
    description: Reads the current bundle and reports; changes nothing.
  diff_mode:
    support: full
    description: The PEM bundles before and after (certificates only, public material).
  idempotent:
    support: full
    description: A second run finds the same certificates and reports no change.
"""

EXAMPLES = r"""
- name: Trust the receiver's private CA for webhooks
  waent.onprem.webapp_webhook_ca:
    address: 127.0.0.1
    server_name: wa.example.com
    ca_file: /etc/waent/pki/ca.pem
    api_password: "{{ wa_secrets.admin_password }}"
    ca_path: /etc/waent/webhook-ca.pem
  register: webhook_ca
  no_log: true
"""

RETURN = r"""
restart_required:
  description: The bundle changed (or would in check mode); every Coreapp must restart to use it.
  returned: always
  type: bool
certificates:
  description: The number of certificates in the bundle the API returned before the module ran.
  returned: always
  type: int
  sample: 1
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.waent.onprem.plugins.module_utils import _webapp_api as wa

PATH = "/v1/certificates/webhooks/ca"


def _wanted(module):
    params = module.params
    if params["state"] == "absent":
        return None
    text = params["ca_content"]
    if text is None:
        try:
            with open(params["ca_path"], encoding="ascii", errors="replace") as stream:
                text = stream.read()
        except OSError as exc:
            module.fail_json(msg=f"ca_path {params['ca_path']}: {exc.strerror}")
    if "PRIVATE KEY" in text:
        module.fail_json(msg="the webhook CA bundle holds a private key: give only certificates")
    if not wa.pem_certificates(text):
        module.fail_json(msg="the webhook CA bundle holds no PEM certificate")
    return text


def main():
    module = AnsibleModule(
        argument_spec={
            **wa.CONNECTION_ARGS,
            **wa.AUTH_ARGS,
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
            "ca_content": {"type": "str"},
            "ca_path": {"type": "path"},
        },
        mutually_exclusive=[("ca_content", "ca_path")],
        required_if=[("state", "present", ("ca_content", "ca_path"), True)],
        supports_check_mode=True,
    )
    wanted = _wanted(module)
    with wa.failing_module(module):
        client = wa.client_from_params(module.params)
        token = wa.token_from_params(client, module.params)
        try:
            current = wa.expect(client.request("GET", PATH, token=token), 200, 404, what="reading the webhook CA")
            current_text = current.body.decode("ascii", "replace") if current.status == 200 else None
            before, after = wa.pem_certificates(current_text), wa.pem_certificates(wanted)
            changed = before != after
            if changed and not module.check_mode:
                if wanted is None:
                    wa.expect(client.request("DELETE", PATH, token=token), 200, 204, what="removing the webhook CA")
                else:
                    wa.expect(client.request("POST", PATH, token=token, body=wanted, content_type="text/plain"),
                              200, 201, what="setting the webhook CA")
        finally:
            wa.logout(client, token)
    result = {"changed": changed, "restart_required": changed, "certificates": len(before)}
    if module._diff:
        result["diff"] = {"before": current_text or "", "after": wanted or ""}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
