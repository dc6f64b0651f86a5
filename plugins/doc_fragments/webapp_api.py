# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations


class ModuleDocFragment:
    """How the webapp_* modules reach a Webapp's REST API."""

    DOCUMENTATION = r"""
options:
  address:
    description:
      - The address the Webapp is reached at from where the module runs, for example the
        published port on the Webapp host (C(127.0.0.1)) or the host's address.
    type: str
    required: true
  port:
    description: The HTTPS port (the official compose files publish 443 as 9090).
    type: int
    default: 9090
  server_name:
    description:
      - The name the Webapp's certificate is verified for (C(WA_WEB_SERVERNAME), or a name of the
        uploaded certificate). Defaults to O(address).
    type: str
  ca_file:
    description:
      - CA bundle the certificate is verified against (the collection's PKI CA), on the host the
        module runs on. Without it, that host's system trust store.
    type: path
  validate_certs:
    description:
      - Verify the certificate and its name. Only the first contact with a Webapp that still
        serves its self-signed certificate needs V(false).
    type: bool
    default: true
  timeout:
    description: Seconds for each connection and answer.
    type: float
    default: 10.0
notes:
  - The Webapp locks an address out for an hour after 30 failed logins (HTTP 429, error 1015);
    the modules log in once per run (webapp_password once more per wrong previous password), stop
    at the first 429, and log out at the end so that no valid token is left behind.
"""

    AUTH = r"""
options:
  api_username:
    description: The API user the module logs in as (an admin for the admin-only endpoints).
    type: str
    default: admin
  api_password:
    description: Its password (from the secrets bundle).
    type: str
    required: true
"""
