# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Webapp API client against the simulator's Webapp, run in this process over real HTTPS on
loopback (SQLite database): first-login password change, its idempotence and check mode, the
failure budget, name verification and the served certificate."""

from __future__ import annotations

import pathlib

import pytest
from ansible_collections.waent.onprem.plugins.module_utils import _webapp_api as wa
from cryptography import x509
from cryptography.hazmat.primitives import serialization

DESIRED = "Bundle!Passw0rd"
# ``served``: the simulator's Webapp running in this process (tests/unit/plugins/conftest.py).


def client(served, **kwargs):
    port, ca_file = served
    kwargs.setdefault("server_name", "web.example")
    kwargs.setdefault("ca_file", ca_file)
    return wa.WebappClient("127.0.0.1", port, timeout=5, **kwargs)


def test_first_run_changes_the_default_password_then_nothing(served):
    api = client(served)
    assert api.login("admin", "secret").outcome == wa.MUST_CHANGE
    changed, token, replaced = wa.ensure_password(api, DESIRED)
    assert changed and token and replaced == "secret"
    changed, token, replaced = wa.ensure_password(api, DESIRED)
    assert (changed, bool(token), replaced) == (False, True, None)
    assert api.login("admin", "secret").outcome == wa.BAD_CREDENTIALS


def test_check_mode_changes_nothing(served):
    api = client(served)
    assert wa.ensure_password(api, DESIRED, check_mode=True) == (True, None, "secret")
    assert api.login("admin", "secret").outcome == wa.MUST_CHANGE  # still the default


def test_rotation_from_a_previous_password(served):
    api = client(served)
    wa.ensure_password(api, DESIRED)
    changed, token, replaced = wa.ensure_password(api, "Rotated#Passw0rd", previous=(DESIRED, "secret"))
    assert changed and token and replaced == DESIRED
    assert api.login("admin", DESIRED).outcome == wa.BAD_CREDENTIALS


def test_unknown_current_password_fails_after_two_attempts(served):
    api = client(served)
    wa.ensure_password(api, DESIRED)
    with pytest.raises(wa.WebappApiError, match="neither the desired password"):
        wa.ensure_password(api, "Another#Passw0rd")  # tries it, then "secret": both wrong


def test_weak_password_is_refused_with_the_api_reason(served):
    api = client(served)
    with pytest.raises(wa.WebappApiError, match="refused the new password"):
        wa.ensure_password(api, "weak")
    assert api.login("admin", "secret").outcome == wa.MUST_CHANGE


def test_lockout_stops_at_once(served):
    api = client(served)
    for _attempt in range(30):
        assert api.login("admin", "wrong").outcome == wa.BAD_CREDENTIALS
    with pytest.raises(wa.WebappApiError, match="locks this address out") as info:
        wa.ensure_password(api, DESIRED)
    assert info.value.status == 429


def test_the_name_is_verified(served):
    with pytest.raises(wa.WebappApiError, match="does not verify for other.example"):
        client(served, server_name="other.example").login("admin", "secret")
    with pytest.raises(wa.WebappApiError, match="does not verify"):
        client(served, ca_file=None).login("admin", "secret")  # system store: the autogen CA is unknown
    assert client(served, validate_certs=False, ca_file=None).login("admin", "secret").outcome == wa.MUST_CHANGE


def test_peer_certificate_is_the_served_leaf(served):
    leaf = x509.load_der_x509_certificate(client(served).peer_certificate())
    assert leaf.subject.rfc4514_string() == "CN=web.example"
    ca = x509.load_pem_x509_certificate(pathlib.Path(served[1]).read_bytes())
    assert leaf.issuer == ca.subject
    assert leaf.public_bytes(serialization.Encoding.DER) != ca.public_bytes(serialization.Encoding.DER)


def test_unknown_current_password_spends_exactly_two_failed_logins(served, monkeypatch):
    api = client(served)
    wa.ensure_password(api, DESIRED)
    calls = []
    real = api.login
    monkeypatch.setattr(api, "login", lambda *args, **kwargs: calls.append(args[1]) or real(*args, **kwargs))
    with pytest.raises(wa.WebappApiError):
        wa.ensure_password(api, "Another#Passw0rd")
    assert calls == ["Another#Passw0rd", "secret"]


def test_settings_patch_names_the_members_of_a_missing_object():
    patch, members = wa.settings_patch({"callback_persist": True},
                                       {"webhooks": {"url": "https://h.example/", "max_concurrent_requests": 3}})
    assert patch == {"webhooks": {"url": "https://h.example/", "max_concurrent_requests": 3}}
    assert sorted(members) == ["webhooks.max_concurrent_requests", "webhooks.url"]
    assert wa.settings_patch({"webhooks": {"url": "x", "y": 1}}, {"webhooks": {"url": "x"}}) == ({}, [])


def test_a_closed_port_is_an_api_error_not_a_traceback():
    with pytest.raises(wa.WebappApiError, match="127.0.0.1:1"):
        wa.WebappClient("127.0.0.1", 1, validate_certs=False, timeout=2).peer_certificate()
