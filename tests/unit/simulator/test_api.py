# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The simulator's API shapes and access rules against reference sections 4, 4.1 and 4.2."""

from __future__ import annotations

import json

import pytest
from waent_sim import api

ADMIN, USER, API = "ROLE_ADMIN", "ROLE_USER", "ROLE_API"
META = {"api_status": "stable", "version": "v2.63.0"}


def test_envelope_adds_meta_and_request_id():
    status, headers, body = api.respond(200, {"x": 1})
    assert status == 200
    assert body == {"x": 1, "meta": META}
    assert api.is_request_id(headers["X-Request-ID"])
    assert headers["Content-Type"] == "application/json"
    json.dumps(body)  # serialisable as is


def test_envelope_keeps_a_given_request_id_and_refuses_a_second_meta():
    assert api.respond(200, {}, request_id="abc")[1]["X-Request-ID"] == "abc"
    with pytest.raises(ValueError):
        api.respond(200, {"meta": {}})


def test_request_ids_are_random_and_well_formed():
    ids = {api.new_request_id() for _i in range(200)}
    assert len(ids) == 200
    assert all(api.is_request_id(value) for value in ids)
    assert not api.is_request_id("short")
    assert not api.is_request_id("a" * 19 + "-")


def test_password_change_required_is_401_error_1024():
    status, headers, body = api.password_change_required()
    assert status == 401
    (entry,) = body["errors"]
    assert (entry["code"], entry["title"]) == (1024, "Password must be changed")
    assert set(entry) == {"code", "title", "details"} and entry["details"]
    assert body["meta"] == META
    assert "X-Request-ID" in headers


def test_too_many_requests_is_429_error_1015():
    status, _headers, body = api.too_many_requests()
    assert status == 429
    assert [entry["code"] for entry in body["errors"]] == [1015]
    assert set(body["errors"][0]) == {"code", "title", "details"}


def test_registration_error_1005():
    status, _headers, body = api.error(1005, "registration is not possible on-premises")
    assert (status, body["errors"][0]["code"], body["errors"][0]["title"]) == (403, 1005, "Access denied")


def test_error_needs_documented_code_or_explicit_title_and_status():
    with pytest.raises(ValueError, match="title"):
        api.error(1006, "x", status=404)
    with pytest.raises(ValueError, match="status"):
        api.error(1006, "x", title="Resource not found")
    assert api.error(1006, "x", status=404, title="Resource not found")[0] == 404
    with pytest.raises(ValueError, match="4xx or 5xx"):
        api.error(1015, "x", status=200)


def test_failed_login_is_401_with_empty_body():
    status, headers, body = api.unauthorized()
    assert (status, body) == (401, None)
    assert "Content-Type" not in headers
    assert api.is_request_id(headers["X-Request-ID"])


def test_login_response():
    status, _headers, body = api.login("tok.en.sig", "2023-11-21 22:13:20+00:00")
    assert status == 200
    assert body == {"users": [{"token": "tok.en.sig", "expires_after": "2023-11-21 22:13:20+00:00"}], "meta": META}


@pytest.mark.parametrize("expires", ["2023-11-21T22:13:20+00:00", "2023-11-21 22:13:20", "2023-11-21 22:13:20Z"])
def test_login_refuses_other_expiry_formats(expires):
    with pytest.raises(ValueError):
        api.login("t", expires)


@pytest.mark.parametrize("state", ["connected", "connecting", "uninitialized", "unregistered"])
def test_health_single_states(state):
    status, _headers, body = api.health_single(state)
    assert status == 200
    assert body == {"health": {"gateway_status": state}, "meta": META}


@pytest.mark.parametrize("state", ["disconnected", "Connected", "up"])
def test_health_single_refuses_other_states(state):
    with pytest.raises(ValueError):
        api.health_single(state)


@pytest.mark.parametrize("state", ["connected", "connecting", "uninitialized", "unregistered", "disconnected"])
@pytest.mark.parametrize("role", ["primary_master", "secondary_master", "coreapp"])
def test_health_multi_states_and_roles(state, role):
    key = "wa-node-1:0123456789ab"
    _status, _headers, body = api.health_multi({key: (state, role)})
    assert body["health"] == {key: {"gateway_status": state, "role": role}}


def test_health_multi_cluster():
    nodes = {"m1:aaaaaaaaaaaa": ("connected", "primary_master"),
             "m2:bbbbbbbbbbbb": ("disconnected", "secondary_master"),
             "c1:cccccccccccc": ("connected", "coreapp")}
    assert set(api.health_multi(nodes)[2]["health"]) == set(nodes)
    with pytest.raises(ValueError, match="primary_master"):
        api.health_multi({**nodes, "m3:dddddddddddd": ("connected", "primary_master")})


@pytest.mark.parametrize("nodes", [
    {}, {"node1": ("connected", "coreapp")}, {"node1:": ("connected", "coreapp")},
    {"n:XYZ123456789": ("connected", "coreapp")}, {"n:aaaaaaaaaaaa": ("up", "coreapp")},
    {"n:aaaaaaaaaaaa": ("connected", "master")}])
def test_health_multi_refuses_bad_nodes(nodes):
    with pytest.raises(ValueError):
        api.health_multi(nodes)


# --- access rules of section 4.1, one row at a time -------------------------------------------

@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize("path", ["/v1/admin", "/v1/admin/x", "/v1/account", "/v1/account/verify",
                                  "/v1/account/shards", "/v1/settings", "/v1/settings/application",
                                  "/v1/settings/account/two-step", "/v1/settings/"])
def test_admin_prefixes(method, path):
    assert api.required_role(method, path) == ADMIN


@pytest.mark.parametrize("path", ["/v1/settingsx", "/v1/accounts", "/v1/administrator"])
def test_admin_prefixes_match_whole_segments(path):
    assert api.required_role("GET", path) == USER


@pytest.mark.parametrize("method", ["POST", "DELETE"])
@pytest.mark.parametrize("path", ["/v1/users", "/v1/users/alice"])
def test_post_delete_users_is_admin(method, path):
    assert api.required_role(method, path) == ADMIN


@pytest.mark.parametrize("method, path", [("GET", "/v1/users/alice"), ("PUT", "/v1/users/alice"),
                                          ("GET", "/v1/users"), ("POST", "/v1/users/logout")])
def test_other_users_calls_are_user(method, path):
    assert api.required_role(method, path) == USER


def test_login_is_public():
    assert api.required_role("POST", "/v1/users/login") is api.PUBLIC
    assert api.allowed(None, "POST", "/v1/users/login")


@pytest.mark.parametrize("method", ["POST", "DELETE"])
@pytest.mark.parametrize("path", ["/v1/certificates", "/v1/certificates/external", "/v1/certificates/external/ca",
                                  "/v1/certificates/webhooks/ca"])
def test_post_delete_certificates_is_admin(method, path):
    assert api.required_role(method, path) == ADMIN


@pytest.mark.parametrize("path", ["/v1/certificates/webhooks", "/v1/certificates/webhooks/ca"])
def test_get_webhook_certificates_is_admin(path):
    assert api.required_role("GET", path) == ADMIN


def test_get_external_ca_is_user():
    assert api.required_role("GET", "/v1/certificates/external/ca") == USER


def test_get_health_is_api():
    assert api.required_role("GET", "/v1/health") == API
    assert api.required_role("POST", "/v1/health") == USER


@pytest.mark.parametrize("method, path", [("GET", "/v1/stats/app"), ("GET", "/v1/stats/db"), ("GET", "/v1/support"),
                                          ("GET", "/metrics"), ("POST", "/v1/messages"), ("GET", "/")])
def test_everything_else_is_user(method, path):
    assert api.required_role(method, path) == USER


def test_query_string_and_trailing_slash():
    assert api.required_role("GET", "/v1/health?x=1") == API
    assert api.required_role("POST", "/v1/users/") == ADMIN


@pytest.mark.parametrize("method, path", [("post", "/v1/users"), ("FOO", "/v1/x"), ("GET", "v1/health"),
                                          ("GET", "//v1/admin"), ("GET", "/v1/./admin"), ("GET", "/v1/x/../admin"),
                                          ("GET", "/v1/%61dmin"), ("GET", "/v1\\admin")])
def test_ambiguous_requests_are_refused(method, path):
    with pytest.raises(ValueError):
        api.required_role(method, path)


@pytest.mark.parametrize("role, path, expected", [
    (ADMIN, "/v1/settings/application", True), (USER, "/v1/settings/application", False),
    (API, "/v1/settings/application", False),
    (ADMIN, "/v1/stats/app", True), (USER, "/v1/stats/app", True), (API, "/v1/stats/app", False),
    (ADMIN, "/v1/health", True), (USER, "/v1/health", True), (API, "/v1/health", True),
    (None, "/v1/health", False), (None, "/v1/stats/app", False)])
def test_allowed_follows_role_order(role, path, expected):
    assert api.allowed(role, "GET", path) is expected


def test_allowed_refuses_unknown_roles():
    with pytest.raises(ValueError):
        api.allowed("ROLE_ROOT", "GET", "/v1/health")
