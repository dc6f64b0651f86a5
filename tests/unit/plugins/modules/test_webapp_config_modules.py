# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""webapp_webhook_ca and webapp_settings against the simulator's Webapp and Coreapp
(``webapp_and_coreapp``, tests/unit/plugins/conftest.py): the master-only commands travel over the
real link; check mode, change, idempotence, removal, refusals."""

from __future__ import annotations

import pytest
from ansible_collections.waent.onprem.plugins.module_utils import _webapp_api as wa
from ansible_collections.waent.onprem.plugins.modules import webapp_health, webapp_settings, webapp_webhook_ca
from cryptography.hazmat.primitives import serialization
from waent_sim import certs, corelink

PASSWORD = "Bundle!Passw0rd"


@pytest.fixture
def run(module_runner, webapp_and_coreapp):
    port = webapp_and_coreapp["port"]
    wa.ensure_password(wa.WebappClient("127.0.0.1", port, validate_certs=False, timeout=5), PASSWORD)

    def run_module(main, check_mode=False, diff=False, **extra):
        args = {"address": "127.0.0.1", "port": port, "validate_certs": False, "api_password": PASSWORD,
                "timeout": 5, "_ansible_check_mode": check_mode, "_ansible_diff": diff, **extra}
        return module_runner(main, args)

    return run_module


def ca_pem():
    material = certs.generate_autogen("hooks.example")
    return material.ca_certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")


def test_webhook_ca_set_is_idempotent_and_removable(run):
    bundle = ca_pem()
    assert run(webapp_webhook_ca.main, check_mode=True, ca_content=bundle)["changed"]
    assert run(webapp_webhook_ca.main, check_mode=True, ca_content=bundle)["certificates"] == 0  # nothing stored
    result = run(webapp_webhook_ca.main, ca_content=bundle)
    assert (result["changed"], result["restart_required"]) == (True, True)
    reformatted = bundle.replace("\n", "\r\n") + "\n# a comment after the certificate\n"
    result = run(webapp_webhook_ca.main, ca_content=reformatted)
    assert (result["changed"], result["certificates"]) == (False, 1)
    assert run(webapp_webhook_ca.main, ca_content=ca_pem())["changed"]  # another CA replaces it
    assert run(webapp_webhook_ca.main, state="absent")["changed"]
    assert run(webapp_webhook_ca.main, state="absent")["changed"] is False


def test_webhook_ca_with_a_key_is_refused(run):
    result = run(webapp_webhook_ca.main, ca_content="-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
    assert result["failed"] and "private key" in result["msg"]


def test_settings_patch_only_what_differs(run):
    wanted = {"webhooks": {"url": "https://hooks.example/wa"}, "callback_persist": False}
    result = run(webapp_settings.main, check_mode=True, diff=True, settings=wanted)
    assert result["changed"] and sorted(result["changed_members"]) == ["callback_persist", "webhooks.url"]
    assert result["diff"]["before"] == {"webhooks": {"url": ""}, "callback_persist": True}
    assert result["restart_required"]
    result = run(webapp_settings.main, settings=wanted)
    assert result["changed"]
    result = run(webapp_settings.main, settings=wanted)
    assert (result["changed"], result["changed_members"], result["restart_required"]) == (False, [], False)
    result = run(webapp_settings.main, settings={"webhooks": {"url": "https://hooks.example/v2"}})
    assert result["changed_members"] == ["webhooks.url"] and not result["restart_required"]


def test_plain_http_webhook_is_refused_before_any_call(run):
    result = run(webapp_settings.main, settings={"webhooks": {"url": "http://hooks.example/wa"}})
    assert result["failed"] and "HTTPS" in result["msg"]


def test_the_coreapp_refusal_reaches_the_user(run):
    result = run(webapp_settings.main, settings={"no_such_member": 1})
    assert result["failed"] and result["status"] == 400 and "no_such_member" in result["msg"]


def test_wrong_api_password_is_named(run):
    result = run(webapp_settings.main, settings={}, api_password="Wrong!Passw0rd")
    assert result["failed"] and "wrong api_password" in result["msg"]


def test_health_connected_through_the_link(run):
    result = run(webapp_health.main, wait=True, retries=2, delay=0)
    assert result["connected"] and result["nodes"] == {"coreapp": {"gateway_status": "connected", "role": "coreapp"}}
    assert result["attempts"] == 1


def test_health_wait_fails_naming_the_node_when_the_link_is_down(run, webapp_and_coreapp):
    web_api = webapp_and_coreapp["api"]
    web_api.cores = corelink.SingleCore("127.0.0.1", 1, web_api.cores.link)  # nothing listens on port 3
    result = run(webapp_health.main, wait=True, retries=2, delay=0)
    assert result["failed"] and result["attempts"] == 2 and "not connected: coreapp" in result["msg"]
    assert result["nodes"]["coreapp"]["gateway_status"] == "connecting"


class RateLimitedThenUp:
    """A client whose first answers are 429 (another caller used up the 10 per minute)."""

    def __init__(self, limited):
        self.limited = limited

    def request(self, method, path, token=None):
        if self.limited:
            self.limited -= 1
            return wa.Response(429, {}, b'{"errors": [{"code": 1015}]}')
        return wa.Response(200, {}, b'{"health": {"gateway_status": "connected"}}')


def test_health_waits_out_429_without_counting_it():
    sleeps = []
    nodes, attempts = webapp_health.poll(RateLimitedThenUp(3), "t", wait=False, retries=1, delay=6, sleep=sleeps.append)
    assert (nodes["coreapp"]["gateway_status"], attempts, sleeps) == ("connected", 1, [10.0] * 3)
    with pytest.raises(wa.WebappApiError, match="429"):
        webapp_health.poll(RateLimitedThenUp(100), "t", wait=True, retries=5, delay=0, sleep=sleeps.append)
