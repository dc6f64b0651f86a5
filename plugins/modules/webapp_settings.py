#!/usr/bin/python
# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
module: webapp_settings
short_description: Set the application settings of a WhatsApp Business API deployment
version_added: 0.2.0
author: waent.onprem developers (@waent)
description:
  - Sets the members of O(settings) in C(/v1/settings/application) (section 4.5 of the
    reference), for example C(webhooks.url), and leaves every other member as it is.
  - Idempotent by reading the settings and sending a C(PATCH) with only the members that differ
    (nested objects compared member by member).
  - Values are compared as given, so give them in the API's types (V(24), not V("24")).
  - Some settings (C(callback_persist), C(pass_through), C(webhooks.max_concurrent_requests), the
    DB garbage collector) take
    effect after a Coreapp restart; RV(restart_required) says when one of them changed.
extends_documentation_fragment:
  - waent.onprem.webapp_api
  - waent.onprem.webapp_api.auth
options:
  settings:
    description:
      - The wanted members, as the API names them. C(webhooks.url) must be an HTTPS URL (the
        Webapp refuses anything else).
    type: dict
    required: true
attributes:
  check_mode:
    support: full
    description: Reads the settings and reports the members that would change.
  diff_mode:
    support: full
    description: The changed members before and after.
  idempotent:
    support: full
    description: A second run finds every member as wanted and sends nothing.
"""

EXAMPLES = r"""
- name: Send callbacks to the receiver over HTTPS
  waent.onprem.webapp_settings:
    address: 127.0.0.1
    server_name: wa.example.com
    ca_file: /etc/waent/pki/ca.pem
    api_password: "{{ wa_secrets.admin_password }}"
    settings:
      webhooks:
        url: https://hooks.example.com/whatsapp
      callback_persist: true
  no_log: true
"""

RETURN = r"""
changed_members:
  description: Dotted names of the members that changed (or would in check mode).
  returned: always
  type: list
  elements: str
  sample: [webhooks.url]
restart_required:
  description: A member that takes effect only after a Coreapp restart changed.
  returned: always
  type: bool
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.waent.onprem.plugins.module_utils import _webapp_api as wa

PATH = "/v1/settings/application"
# Section 4.5: these take effect after a Coreapp restart.
RESTART_MEMBERS = ("callback_persist", "pass_through", "webhooks.max_concurrent_requests", "db_garbagecollector_enable")


def main():
    module = AnsibleModule(
        argument_spec={**wa.CONNECTION_ARGS, **wa.AUTH_ARGS, "settings": {"type": "dict", "required": True}},
        supports_check_mode=True,
    )
    webhooks = module.params["settings"].get("webhooks")
    if webhooks is not None and not isinstance(webhooks, dict):
        module.fail_json(msg="settings.webhooks must be a mapping, for example {url: https://hooks.example.com/wa}")
    url = (webhooks or {}).get("url")
    if url and not str(url).lower().startswith("https://"):
        module.fail_json(msg=f"settings.webhooks.url must be an HTTPS URL (section 4.5), got {url!r}")
    with wa.failing_module(module):
        client = wa.client_from_params(module.params)
        token = wa.token_from_params(client, module.params)
        answer = wa.expect(client.request("GET", PATH, token=token), 200, what="reading the settings").json() or {}
        current = (answer.get("settings") or {}).get("application") or {}
        try:
            patch, members = wa.settings_patch(current, module.params["settings"])
            if patch and not module.check_mode:
                wa.expect(client.request("PATCH", PATH, token=token, body=patch), 200, what="changing the settings")
        finally:
            wa.logout(client, token)
    result = {"changed": bool(patch), "changed_members": members,
              "restart_required": any(member in RESTART_MEMBERS for member in members)}
    if module._diff:
        result["diff"] = {"before": wa.members_of(current, patch), "after": patch}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
