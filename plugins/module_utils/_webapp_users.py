# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Least-privileged API users of a Webapp (reference section 4.1, the guide's "Login and
Authentication best practices"): ``POST /v1/users`` creates one (``ROLE_USER``),
``PUT /v1/users/{name}`` sets its password, ``DELETE /v1/users/{name}`` removes it.

A password cannot be read back, so whether it is the wanted one is found by logging in with it:
one login, failed at most once per run, far from the lockout of 30 per hour.
"""

from __future__ import annotations

import re

from ansible_collections.waent.onprem.plugins.module_utils import _webapp_api as wa

LEAST_PRIVILEGED_ROLES = ("ROLE_USER", "ROLE_API")
USERNAME_LENGTH = (4, 32)

# The actions of plan(): what must happen to the user.
NONE = "none"
CREATE = "create"
UPDATE = "set password"
DELETE = "delete"


def username_problem(username):
    """Why ``username`` cannot be a least-privileged API user, or None."""
    low, high = USERNAME_LENGTH
    if not low <= len(username) <= high:
        return f"username {username!r} must have {low} to {high} characters (reference section 4.1)"
    if username == wa.DEFAULT_USER:
        return "username admin is the administrator: name the least-privileged user otherwise"
    if not re.fullmatch(r"[A-Za-z0-9._-]+", username):
        return (f"username {username!r} may hold letters, digits, '.', '_' and '-' only "
                "(it goes into a URL path and a Basic credential, where ':' splits)")
    return None


def plan(state, exists, password_logs_in):
    """The one decision: what turns the user as found into the wanted one.

    ``exists``: the API knows the user; ``password_logs_in``: the wanted password logs in (None
    when not tried: the user is absent or is to be removed).
    """
    if state == "absent":
        return DELETE if exists else NONE
    if not exists:
        return CREATE
    return NONE if password_logs_in else UPDATE


def read_user(client, token, username):
    """The user as ``GET /v1/users/{name}`` serves it (``{"username", "role"}``), None when unknown."""
    response = wa.expect(client.request("GET", f"/v1/users/{username}", token=token), 200, 404,
                         what=f"reading user {username}")
    if response.status == 404:
        return None
    users = (response.json() or {}).get("users") or [{}]
    return users[0] if isinstance(users[0], dict) else {}


def password_logs_in(client, username, password):
    """Whether ``password`` logs ``username`` in; the token it got is revoked at once."""
    result = client.login(username, password)
    if result.outcome == wa.LOGGED_IN:
        wa.logout(client, result.token)
        return True
    if result.outcome == wa.RATE_LIMITED:
        wa.raise_if_stuck(result, username)
    # A wrong password (401) or the mandatory first change (1024): either way PUT sets it.
    return False


def ensure_user(client, token, username, password, *, state="present", check_mode=False):
    """Make ``username`` a least-privileged user whose password is ``password`` (or absent).

    Returns ``(action, role_before)``: the action of :func:`plan` done (or, in check mode, that
    would be done) and the role the API served before, None when the user did not exist. Raises
    ``WebappApiError`` when the API refuses, and when the user exists with a role above
    ``ROLE_USER``: a least-privileged user must not be an administrator, and the API cannot
    lower a role.
    """
    user = read_user(client, token, username)
    role = user.get("role") if user is not None else None
    if user is not None and state == "present" and role not in LEAST_PRIVILEGED_ROLES:
        raise wa.WebappApiError(f"user {username} exists with role {role}, not a least-privileged one "
                                f"({' or '.join(LEAST_PRIVILEGED_ROLES)}): choose another name, or delete it first")
    logs_in = password_logs_in(client, username, password) if user is not None and state == "present" else None
    action = plan(state, user is not None, logs_in)
    if check_mode or action == NONE:
        return action, role
    if action == CREATE:
        wa.expect(client.request("POST", "/v1/users", token=token, body={"username": username, "password": password}),
                  200, 201, what=f"creating user {username}")
    elif action == UPDATE:
        wa.expect(client.request("PUT", f"/v1/users/{username}", token=token, body={"password": password}),
                  200, 204, what=f"setting the password of {username}")
    else:
        wa.expect(client.request("DELETE", f"/v1/users/{username}", token=token), 200, 204,
                  what=f"deleting user {username}")
    return action, role
