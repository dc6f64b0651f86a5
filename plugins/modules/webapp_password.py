#!/usr/bin/python
# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
module: webapp_password
short_description: Set the password of a Webapp API user, including the mandatory first change of admin
version_added: 0.2.0
author: waent.onprem developers (@waent)
description:
  - Makes O(password) the password of O(username) on a WhatsApp Business API Webapp, through
    C(POST /v1/users/login) only.
  - The default account C(admin)/C(secret) must set a new password at its first login; this
    module does it with the password from the secrets bundle (the security guide's "change the
    default password").
  - Idempotent by logging in, never by remembering; when O(password) already logs in, nothing
    changes. Otherwise each of O(previous_passwords) is tried (the default C(secret), or the value
    a rotation replaces) and the first that logs in is replaced.
  - Spends at most one failed login more than the number of O(previous_passwords) (the one of
    O(password), then one per wrong previous password; two with the default) and stops at the
    Webapp's lockout (HTTP 429).
extends_documentation_fragment:
  - waent.onprem.webapp_api
options:
  username:
    description: The API user.
    type: str
    default: admin
  password:
    description:
      - The password to set. The Webapp requires 8 to 64 characters with a digit, an upper-case
        and a lower-case letter and a special character.
    type: str
    required: true
  previous_passwords:
    description:
      - Passwords that may still be the current one, tried in order when O(password) does not
        log in. When not given, the documented default C(secret).
    type: list
    elements: str
attributes:
  check_mode:
    support: full
    description: Logs in to find out whether a change is needed and changes nothing.
  diff_mode:
    support: none
    description: A password is never shown.
  idempotent:
    support: full
    description: A second run logs in with O(password) and reports no change.
"""

EXAMPLES = r"""
- name: Change the default admin password (first contact, self-signed certificate)
  waent.onprem.webapp_password:
    address: 127.0.0.1
    port: 9090
    validate_certs: false
    password: "{{ wa_secrets.admin_password }}"
  no_log: true

- name: Rotate it, the Webapp now serving the PKI certificate
  waent.onprem.webapp_password:
    address: "{{ wa_host_address }}"
    server_name: wa.example.com
    ca_file: /etc/waent/pki/ca.pem
    password: "{{ new_admin_password }}"
    previous_passwords: ["{{ old_admin_password }}"]
  no_log: true
"""

RETURN = r"""
username:
  description: The user whose password was checked or set.
  returned: always
  type: str
  sample: admin
was_default:
  description: Whether the password replaced was the documented default C(secret).
  returned: changed
  type: bool
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.waent.onprem.plugins.module_utils import _webapp_api as wa


def main():
    module = AnsibleModule(
        argument_spec={
            **wa.CONNECTION_ARGS,
            "username": {"type": "str", "default": wa.DEFAULT_USER},
            "password": {"type": "str", "required": True, "no_log": True},
            # No default here: AnsibleModule cannot mask a list default of a no_log option.
            "previous_passwords": {"type": "list", "elements": "str", "no_log": True},
        },
        supports_check_mode=True,
    )
    params = module.params
    previous = params["previous_passwords"]
    previous = [wa.DEFAULT_PASSWORD] if previous is None else previous
    if params["password"] in previous:
        module.fail_json(msg="password is also listed in previous_passwords: give the new value in password "
                             "and only the values it replaces in previous_passwords")
    with wa.failing_module(module):
        client = wa.client_from_params(params)
        changed, token, replaced = wa.ensure_password(
            client, params["password"], username=params["username"], previous=tuple(previous),
            check_mode=module.check_mode)
        if token:
            wa.logout(client, token)
    result = {"changed": changed, "username": params["username"]}
    if changed:
        result["was_default"] = replaced == wa.DEFAULT_PASSWORD
    module.exit_json(**result)


if __name__ == "__main__":
    main()
