# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The least-privileged API user against the simulator's Webapp in this process (real HTTPS on
loopback): created, then nothing; its password rotated; check mode; deleted; an admin refused."""

from __future__ import annotations

import pytest
from ansible_collections.waent.onprem.plugins.module_utils import _webapp_api as wa
from ansible_collections.waent.onprem.plugins.module_utils import _webapp_users as users

ADMIN_PASSWORD = "Bundle!Passw0rd"
USER_PASSWORD = "Client#Passw0rd1"
# ``served``: the simulator's Webapp running in this process (tests/unit/plugins/conftest.py).


@pytest.fixture
def api(served):
    port, ca_file = served
    client = wa.WebappClient("127.0.0.1", port, server_name="web.example", ca_file=ca_file, timeout=5)
    _changed, token, _replaced = wa.ensure_password(client, ADMIN_PASSWORD)
    return client, token


@pytest.mark.parametrize(("state", "exists", "logs_in", "action"), [
    ("present", False, None, users.CREATE),
    ("present", True, True, users.NONE),
    ("present", True, False, users.UPDATE),
    ("absent", True, None, users.DELETE),
    ("absent", False, None, users.NONE),
])
def test_plan(state, exists, logs_in, action):
    assert users.plan(state, exists, logs_in) == action


@pytest.mark.parametrize(("name", "part"), [
    ("abc", "4 to 32"), ("x" * 33, "4 to 32"), ("admin", "administrator"), ("crm:app", "letters, digits"),
    ("crm app", "letters, digits"), ("crm/app", "letters, digits"),
])
def test_bad_usernames(name, part):
    assert part in users.username_problem(name)


def test_created_then_nothing_and_it_is_not_an_admin(api):
    client, token = api
    assert users.ensure_user(client, token, "crm1", USER_PASSWORD) == (users.CREATE, None)
    assert users.ensure_user(client, token, "crm1", USER_PASSWORD) == (users.NONE, "ROLE_USER")
    login = client.login("crm1", USER_PASSWORD)
    assert login.outcome == wa.LOGGED_IN
    denied = client.request("GET", "/v1/settings/application", token=login.token)
    assert denied.status == 403


def test_rotated_password_is_set_and_the_old_one_stops_working(api):
    client, token = api
    users.ensure_user(client, token, "crm1", USER_PASSWORD)
    assert users.ensure_user(client, token, "crm1", USER_PASSWORD + "x") == (users.UPDATE, "ROLE_USER")
    assert client.login("crm1", USER_PASSWORD).outcome == wa.BAD_CREDENTIALS
    assert client.login("crm1", USER_PASSWORD + "x").outcome == wa.LOGGED_IN


def test_check_mode_changes_nothing(api):
    client, token = api
    assert users.ensure_user(client, token, "crm1", USER_PASSWORD, check_mode=True) == (users.CREATE, None)
    assert users.read_user(client, token, "crm1") is None
    users.ensure_user(client, token, "crm1", USER_PASSWORD)
    assert users.ensure_user(client, token, "crm1", "Other#Passw0rd1", check_mode=True)[0] == users.UPDATE
    assert client.login("crm1", USER_PASSWORD).outcome == wa.LOGGED_IN
    assert users.ensure_user(client, token, "crm1", None, state="absent", check_mode=True)[0] == users.DELETE
    assert users.read_user(client, token, "crm1") is not None


def test_absent_deletes_then_nothing(api):
    client, token = api
    users.ensure_user(client, token, "crm1", USER_PASSWORD)
    assert users.ensure_user(client, token, "crm1", None, state="absent") == (users.DELETE, "ROLE_USER")
    assert users.ensure_user(client, token, "crm1", None, state="absent") == (users.NONE, None)
    assert client.login("crm1", USER_PASSWORD).outcome == wa.BAD_CREDENTIALS


def test_weak_password_is_refused_with_the_api_reason(api):
    client, token = api
    with pytest.raises(wa.WebappApiError, match="creating user crm1"):
        users.ensure_user(client, token, "crm1", "weak")


def test_an_admin_account_is_never_taken_over(api):
    client, token = api
    with pytest.raises(wa.WebappApiError, match="role ROLE_ADMIN, not a least-privileged"):
        users.ensure_user(client, token, "admin", ADMIN_PASSWORD)
