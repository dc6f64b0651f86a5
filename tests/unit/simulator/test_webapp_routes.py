# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Webapp's routes on a SQLite store (reference sections 4.1, 4.3, 6): login state machine,
token revocation shared through the database, access rules, certificate storage and restart."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives import serialization
from waent_sim import certs, certstore, dbconfig, headers, ratelimit, store, users, webapp_api

STRONG = "S3cure!pass"


class NoCores:
    """The Coreapp side is proven by the conformance suite; here it is simply unreachable."""

    def health(self):
        return "connecting"

    def control(self, request):
        raise AssertionError(f"no Coreapp call expected, got {request}")


def sqlite_store(path):
    cfg = dbconfig.DBConfig(role="webapp", engine=dbconfig.ENGINE_SQLITE, host=None, port=None, user=None,
                            password=None, tls=None, tls_source=None, log_line="", sqlite_path=str(path))
    return store.Store(cfg, "waweb")


@pytest.fixture
def database(tmp_path):
    return tmp_path / "web" / "waweb.db"


def make_api(database, clock, *, api_key=None):
    db = sqlite_store(database)
    users_db = users.Users(db, "k" * 32, clock=clock)
    users_db.create_schema()
    cert_store = certstore.CertStore(db)
    cert_store.create_schema()
    return webapp_api.WebApi(users_db=users_db, cert_store=cert_store, cores=NoCores(), server_name="web.example",
                             api_key=api_key, login_limiter=ratelimit.failed_login_limiter(clock=clock),
                             health_limiter=ratelimit.health_limiter(clock=clock), multiconnect=False)


def call(web, method, target, *, auth=None, body=b"", content_type=None, client="192.0.2.7"):
    head = {}
    if auth:
        head["authorization"] = auth
    if content_type:
        head["content-type"] = content_type
    if isinstance(body, dict):
        body = json.dumps(body).encode()
    return web.handle(webapp_api.Request(method, target, head, body, client))


def basic(user, password):
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def first_login(web, password=STRONG):
    status, _h, body = call(web, "POST", "/v1/users/login", auth=basic("admin", "secret"),
                            body={"new_password": password})
    assert status == 200, body
    return "Bearer " + body["users"][0]["token"]


def test_first_login_must_change_password(database, clock):
    web = make_api(database, clock)
    status, _h, body = call(web, "POST", "/v1/users/login", auth=basic("admin", "secret"))
    assert status == 401
    assert body["errors"][0]["code"] == 1024


def test_weak_new_password_is_refused_and_nothing_changes(database, clock):
    web = make_api(database, clock)
    status, _h, body = call(web, "POST", "/v1/users/login", auth=basic("admin", "secret"),
                            body={"new_password": "short"})
    assert status == 400
    assert "new_password" in body["errors"][0]["details"]
    assert call(web, "POST", "/v1/users/login", auth=basic("admin", "secret"))[2]["errors"][0]["code"] == 1024


def test_changed_password_is_the_only_one_accepted(database, clock):
    web = make_api(database, clock)
    first_login(web)
    assert call(web, "POST", "/v1/users/login", auth=basic("admin", "secret"))[:1] == (401,)
    assert call(web, "POST", "/v1/users/login", auth=basic("admin", "secret"))[2] is None  # empty body (Helm check)
    assert call(web, "POST", "/v1/users/login", auth=basic("admin", STRONG))[0] == 200


def test_thirty_failures_per_address_then_429(database, clock):
    web = make_api(database, clock)
    for _attempt in range(30):
        assert call(web, "POST", "/v1/users/login", auth=basic("admin", "nope"))[0] == 401
    status, _h, body = call(web, "POST", "/v1/users/login", auth=basic("admin", "secret"))
    assert (status, body["errors"][0]["code"]) == (429, 1015)
    # Another address is not punished.
    assert call(web, "POST", "/v1/users/login", auth=basic("admin", "secret"), client="192.0.2.8")[0] == 401
    clock.advance(3601)
    assert call(web, "POST", "/v1/users/login", auth=basic("admin", "secret"))[2]["errors"][0]["code"] == 1024


def test_logout_revokes_the_token_on_another_webapp_sharing_the_database(database, clock):
    one, two = make_api(database, clock), make_api(database, clock)
    token = first_login(one)
    assert call(two, "GET", "/v1/health", auth=token)[0] == 200
    assert call(one, "POST", "/v1/users/logout", auth=token)[0] == 200
    status, _h, body = call(two, "GET", "/v1/health", auth=token)
    assert (status, body) == (401, None)


def test_token_signed_with_another_key_is_refused(database, clock, tmp_path):
    token = first_login(make_api(database, clock))
    other_db = sqlite_store(tmp_path / "other" / "waweb.db")
    other = users.Users(other_db, "x" * 32, clock=clock)
    other.create_schema()
    assert other.authenticate(token.split()[1]) is None


def test_health_needs_authorization_and_an_api_key_only_opens_health(database, clock):
    web = make_api(database, clock, api_key="k3y-for-probes")
    assert call(web, "GET", "/v1/health")[0] == 401
    status, _h, body = call(web, "GET", "/v1/health", auth="Apikey k3y-for-probes")
    assert (status, body["health"]) == (200, {"gateway_status": "connecting"})
    assert call(web, "GET", "/v1/health", auth="Apikey wrong-key-value")[0] == 401
    assert call(web, "GET", "/v1/certificates/external/ca", auth="Apikey k3y-for-probes")[0] == 401


def test_health_rate_limit(database, clock):
    web = make_api(database, clock)
    token = first_login(web)
    assert all(call(web, "GET", "/v1/health", auth=token)[0] == 200 for _call in range(10))
    assert call(web, "GET", "/v1/health", auth=token)[0] == 429


def test_a_user_may_not_do_admin_things(database, clock):
    web = make_api(database, clock)
    admin = first_login(web)
    assert call(web, "POST", "/v1/users", auth=admin, body={"username": "ops1", "password": STRONG})[0] == 201
    status, _h, body = call(web, "POST", "/v1/users/login", auth=basic("ops1", STRONG))
    user = "Bearer " + body["users"][0]["token"]
    status, _h, body = call(web, "POST", "/v1/certificates/external", auth=user, body=b"x",
                            content_type="text/plain")
    assert (status, body["errors"][0]["code"]) == (403, 1005)
    assert call(web, "GET", "/v1/settings/application", auth=user)[0] == 403
    assert call(web, "DELETE", "/v1/users/admin", auth=admin)[0] == 400  # admin cannot be deleted


def test_put_user_changes_a_password_the_admin_any_a_user_only_its_own(database, clock):
    web = make_api(database, clock)
    admin = first_login(web)
    other = STRONG + "2"
    for name in ("ops1", "ops2"):
        assert call(web, "POST", "/v1/users", auth=admin, body={"username": name, "password": STRONG})[0] == 201
    status, _h, body = call(web, "POST", "/v1/users/login", auth=basic("ops1", STRONG))
    ops1 = "Bearer " + body["users"][0]["token"]
    status, _h, body = call(web, "PUT", "/v1/users/ops2", auth=ops1, body={"password": other})
    assert (status, body["errors"][0]["code"]) == (403, 1005)
    assert call(web, "POST", "/v1/users/login", auth=basic("ops2", STRONG))[0] == 200, "ops2 unchanged"
    assert call(web, "PUT", "/v1/users/ops1", auth=ops1, body={"password": "weak"})[0] == 400
    assert call(web, "PUT", "/v1/users/ops1", auth=ops1, body={"password": other})[0] == 200
    assert call(web, "POST", "/v1/users/login", auth=basic("ops1", STRONG))[0] == 401
    assert call(web, "PUT", "/v1/users/ops2", auth=admin, body={"password": other})[0] == 200
    assert call(web, "POST", "/v1/users/login", auth=basic("ops2", other))[0] == 200
    assert call(web, "PUT", "/v1/users/nobody", auth=admin, body={"password": other})[0] == 404
    assert call(web, "PUT", "/v1/users/ops2", body={"password": other})[0] == 401


def test_web_admin_pages_carry_the_headers_and_the_api_none(database, clock):
    web = make_api(database, clock)
    _s, page_headers, _b = call(web, "GET", "/")
    _s, api_headers, _b = call(web, "POST", "/v1/users/login", auth=basic("admin", "secret"))
    assert {"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff"}.items() <= page_headers.items()
    assert not {name for name, _v in headers.WEB_ADMIN_HEADERS} & set(api_headers)


def bundle(key, certificate, *cas):
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    for cert in (certificate, *cas):
        pem += cert.public_bytes(serialization.Encoding.PEM)
    return pem


def test_upload_is_served_only_after_a_restart_and_a_bad_key_stops_the_next_start(database, clock):
    db = sqlite_store(database)
    cert_store = certstore.CertStore(db)
    cert_store.create_schema()
    kind, running = cert_store.startup_material("web.example")
    assert kind == certstore.AUTOGEN
    assert cert_store.startup_material("web.example")[1].certificate == running.certificate  # stored, not regenerated
    other = certs.generate_autogen("web.example")
    cert_store.save_upload("web.example", certs.parse_upload(
        bundle(other.server_key, other.server_certificate, other.ca_certificate).decode()))
    kind, after_restart = cert_store.startup_material("web.example")
    assert (kind, after_restart.certificate) == (certstore.UPLOAD, other.server_certificate)
    mismatched = bundle(running.key, other.server_certificate, other.ca_certificate).decode()
    cert_store.save_upload("web.example", certs.parse_upload(mismatched))
    with pytest.raises(certs.KeyMismatchError):
        cert_store.startup_material("web.example")


def test_upload_needs_text_plain_and_three_sections(database, clock):
    web = make_api(database, clock)
    admin = first_login(web)
    two_sections = b"key" + certs.CERT_MARKER.encode()
    status, _h, body = call(web, "POST", "/v1/certificates/external", auth=admin, body=two_sections,
                            content_type="text/plain")
    assert status == 400 and body["errors"][0]["details"] == certs.SECTIONS_MESSAGE
    assert call(web, "POST", "/v1/certificates/external", auth=admin, body=b"x",
                content_type="application/json")[0] == 400
