#!/usr/bin/python
# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
module: webapp_user
short_description: Manage a least-privileged Webapp API user for client applications
version_added: 0.2.0
author: waent.onprem developers (@waent)
description:
  - Creates, updates the password of, or deletes a C(ROLE_USER) account of a WhatsApp Business
    API Webapp through C(POST /v1/users), C(PUT /v1/users/{username}) and
    C(DELETE /v1/users/{username}) (section 4.1 of the reference), so that client applications
    do not use the administrator (the security guide's "Login and Authentication best
    practices").
  - Idempotent by asking the API whether the user exists and by logging in with O(password)
    (a password is never served back); one failed login at most per run.
  - Refuses to manage a user that exists with a role above C(ROLE_USER) (the API cannot lower a
    role), since a least-privileged account must not be an administrator.
extends_documentation_fragment:
  - waent.onprem.webapp_api
  - waent.onprem.webapp_api.auth
options:
  username:
    description:
      - The user's name, 4 to 32 letters, digits, C(.), C(_) or C(-); not C(admin).
    type: str
    required: true
  password:
    description:
      - Its password for O(state=present) (from the secrets bundle). The Webapp requires 8 to 64
        characters with a digit, an upper-case and a lower-case letter and a special character.
    type: str
  state:
    description: V(present) creates the user or sets its password, V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
attributes:
  check_mode:
    support: full
    description: Reads the user and tries the password; creates, changes and deletes nothing.
  diff_mode:
    support: full
    description: Whether the user exists before and after, and its role; never a password.
  idempotent:
    support: full
    description: A second run finds the user and logs in with O(password); no change.
"""

EXAMPLES = r"""
- name: An API account for the CRM, its password from the secrets bundle
  waent.onprem.webapp_user:
    address: 127.0.0.1
    server_name: wa.example.com
    ca_file: /etc/waent/pki/ca.pem
    api_password: "{{ wa_secrets.admin_password }}"
    username: crm
    password: "{{ wa_secrets.api_user_password }}"
  no_log: true

- name: Remove it
  waent.onprem.webapp_user:
    address: 127.0.0.1
    server_name: wa.example.com
    ca_file: /etc/waent/pki/ca.pem
    api_password: "{{ wa_secrets.admin_password }}"
    username: crm
    state: absent
"""

RETURN = r"""
action:
  description:
    - What was done (or, in check mode, would be done) - V(none), V(create), V(set password) or V(delete).
  returned: always
  type: str
  sample: create
role:
  description: The user's role as the API served it before the module ran; null when it did not exist.
  returned: always
  type: str
  sample: ROLE_USER
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.waent.onprem.plugins.module_utils import _webapp_api as wa
from ansible_collections.waent.onprem.plugins.module_utils import _webapp_users as users


def main():
    module = AnsibleModule(
        argument_spec={
            **wa.CONNECTION_ARGS,
            **wa.AUTH_ARGS,
            "username": {"type": "str", "required": True},
            "password": {"type": "str", "no_log": True},
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
        },
        required_if=[("state", "present", ("password",))],
        supports_check_mode=True,
    )
    params = module.params
    problem = users.username_problem(params["username"])
    if problem:
        module.fail_json(msg=problem)
    with wa.failing_module(module):
        client = wa.client_from_params(params)
        token = wa.token_from_params(client, params)
        try:
            action, role = users.ensure_user(client, token, params["username"], params["password"],
                                             state=params["state"], check_mode=module.check_mode)
        finally:
            wa.logout(client, token)
    result = {"changed": action != users.NONE, "action": action, "role": role}
    if module._diff:
        exists_after = params["state"] == "present"
        result["diff"] = {
            "before": {"username": params["username"], "exists": role is not None, "role": role},
            "after": {"username": params["username"], "exists": exists_after,
                      "role": (role or "ROLE_USER") if exists_after else None},
        }
    module.exit_json(**result)


if __name__ == "__main__":
    main()
