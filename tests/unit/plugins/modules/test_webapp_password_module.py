# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""webapp_password through the module against the simulator's Webapp (``served``,
tests/unit/plugins/conftest.py): check mode, the change, idempotence, clear failures."""

from __future__ import annotations

import pytest
from ansible_collections.waent.onprem.plugins.modules import webapp_password

PASSWORD = "Bundle!Passw0rd"


@pytest.fixture
def run(module_runner, served):
    port, ca_file = served

    def run_module(check_mode=False, **extra):
        args = {"address": "127.0.0.1", "port": port, "server_name": "web.example", "ca_file": ca_file,
                "password": PASSWORD, "timeout": 5, "_ansible_check_mode": check_mode, **extra}
        return module_runner(webapp_password.main, args)

    return run_module


def test_check_then_change_then_nothing(run):
    assert run(check_mode=True) == {"failed": False, "changed": True, "username": "admin", "was_default": True}
    assert run(check_mode=True)["changed"]  # check mode changed nothing
    assert run() == {"failed": False, "changed": True, "username": "admin", "was_default": True}
    assert run() == {"failed": False, "changed": False, "username": "admin"}
    assert run(check_mode=True)["changed"] is False


def test_rotation_reports_it_was_not_the_default(run):
    run()
    result = run(password="Rotated#Passw0rd", previous_passwords=[PASSWORD])
    assert (result["changed"], result["was_default"]) == (True, False)


def test_the_password_never_appears_in_a_failure(run):
    run()
    result = run(password="Another#Passw0rd")
    assert result["failed"] and result["status"] == 401
    assert "Another#Passw0rd" not in repr(result) and PASSWORD not in repr(result)


def test_new_password_listed_as_previous_is_refused_before_any_login(run):
    result = run(previous_passwords=[PASSWORD])
    assert result["failed"] and "previous_passwords" in result["msg"]


def test_a_wrong_name_fails_with_the_verification_reason(run):
    result = run(server_name="other.example")
    assert result["failed"] and "does not verify for other.example" in result["msg"]


def test_bad_port_is_named(run):
    result = run(port=70000)
    assert result["failed"] and result["msg"].startswith("port 70000 is not a TCP port")
