# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Webapp REST API (reference sections 4.1-4.5, with 2.2 for the JWT key and ``WA_API_KEY``).

Containers (one emptied MariaDB with TLS): a single-connect Coreapp; Webapps A and B on the same
database with the same ``WA_WEB_JWT_CRYPTO_KEY`` (each its own ``WA_WEB_SERVERNAME``, so a bad
certificate upload on B cannot touch A); Webapp C only for the rate limits (its limiter is its
own). The checks run in file order: the login state machine first (a fresh database), the
certificate that breaks B's next start last.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
import re
import socket
import ssl

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from conformance import apps
from conformance import podman as pm
from conformance.apps import ADMIN, ADMIN_PASSWORD, DEFAULT_PASSWORD

AUTOGEN_OU = "Enterprise Client - AutoGen CA"
TOKEN_LIFETIME = 604800  # 7 days
USER_NAME, USER_PASSWORD = "ctuser", "Ct-User-pw-2026!"


class State:
    """What earlier checks of this module established (file order)."""

    token = None
    autogen_der_a = None


@pytest.fixture(scope="module")
def cluster(mariadb):
    specs = [
        apps.coreapp_spec("api-core", mariadb),
        apps.webapp_spec("api-a", mariadb, coreapp="api-core", api_key=apps.API_KEY),
        apps.webapp_spec("api-b", mariadb, coreapp="api-core"),
        apps.webapp_spec("api-limits", mariadb, coreapp="api-core"),
    ]
    core = pm.run(**specs[0])
    a, b, c = apps.start_webapps(specs[1:])
    pm.wait_all([(core, apps.COREAPP_READY), (a.container, apps.WEBAPP_READY), (b.container, apps.WEBAPP_READY),
                 (c.container, apps.WEBAPP_READY)], timeout=120)
    yield {"core": core, "a": a, "b": b, "c": c}
    pm.remove_all([core, a.container, b.container, c.container])


@pytest.fixture(scope="module")
def a(cluster):
    return cluster["a"]


@pytest.fixture(scope="module")
def b(cluster):
    return cluster["b"]


def token_of(resp):
    assert resp.status == 200, resp
    body = resp.json()
    assert set(body) >= {"users", "meta"}, body
    (entry,) = body["users"]
    return entry["token"], entry["expires_after"]


def admin_token(web):
    if State.token is None:
        State.token = apps.admin_token(web)
    return State.token


def jwt_parts(token):
    def decode(segment):
        return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    header, payload, signature = token.split(".")
    return decode(header), decode(payload), f"{header}.{payload}".encode(), signature


def forge(token, key):
    """The same header and claims, signed with ``key``."""
    header, payload, _sig = token.split(".")
    mac = hmac.new(key.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}." + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def certificate_of(der):
    return x509.load_der_x509_certificate(der)


def validity_days(cert):
    return (cert.not_valid_after_utc - cert.not_valid_before_utc) / datetime.timedelta(days=1)


# -- 4.1 login state machine ----------------------------------------------------------------------------
def test_login_without_credentials(a):
    """§4.1: a login without valid credentials answers 401 with an empty body (the Helm chart's test)."""
    resp = a.request("POST", "/v1/users/login")
    assert resp.status == 401 and resp.body == b"", resp


def test_first_login_requires_new_password(a):
    """§4.1: the default ``admin``/``secret`` must set ``new_password`` on the first login:
    without it, HTTP 401 with error code 1024 ("Password must be changed")."""
    resp = a.login(ADMIN, DEFAULT_PASSWORD)
    assert resp.status == 401, resp
    assert 1024 in resp.error_codes(), resp
    assert resp.header("X-Request-ID"), "§4: responses carry X-Request-ID"


@pytest.mark.parametrize("weak", ["Sh0rt!x", "nouppercase1!", "NOLOWERCASE1!", "NoDigitsHere!", "NoSpecial123",
                                  "Aa1!" + "x" * 61])
def test_new_password_rules(a, weak):
    """§4.1: ``new_password`` needs 8-64 characters with a digit, an upper-case and a lower-case
    letter and a special character; a weak one is refused (no token) and the default stays."""
    resp = a.login(ADMIN, DEFAULT_PASSWORD, new_password=weak)
    assert 400 <= resp.status < 500 and b"token" not in resp.body, resp
    again = a.login(ADMIN, DEFAULT_PASSWORD)
    assert again.status == 401 and 1024 in again.error_codes(), again


def test_first_login_with_new_password(a):
    """§4.1: with a valid ``new_password`` the login succeeds: ``{"users": [{"token", "expires_after"}],
    "meta": {...}}``, ``expires_after`` = ``YYYY-MM-DD HH:MM:SS+00:00`` seven days ahead."""
    resp = a.login(ADMIN, DEFAULT_PASSWORD, new_password=ADMIN_PASSWORD)
    token, expires_after = token_of(resp)
    assert set(resp.json()["meta"]) >= {"api_status", "version"}, resp
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\+00:00", expires_after), expires_after
    expires = datetime.datetime.strptime(expires_after, "%Y-%m-%d %H:%M:%S%z")
    ahead = (expires - datetime.datetime.now(datetime.UTC)).total_seconds()
    assert abs(ahead - TOKEN_LIFETIME) < 120, f"token lives {ahead} s, §4.1 says 7 days"
    State.token = token


def test_default_password_no_longer_works(a):
    """§4.1: once changed, ``admin``/``secret`` is refused with 401 and an empty body (the Helm
    chart's "already changed" check); the new password logs in without ``new_password``."""
    resp = a.login(ADMIN, DEFAULT_PASSWORD)
    assert resp.status == 401 and resp.body == b"", resp
    token_of(a.login(ADMIN, ADMIN_PASSWORD))


def test_token_is_hs256_with_the_configured_key(a):
    """§2.2 / §4.1: the bearer token is a JWT, HS256 over ``WA_WEB_JWT_CRYPTO_KEY``, valid 7 days."""
    header, claims, signing_input, signature = jwt_parts(admin_token(a))
    assert header.get("alg") == "HS256", header
    expected = base64.urlsafe_b64encode(hmac.new(apps.JWT_KEY.encode(), signing_input, hashlib.sha256).digest())
    assert signature == expected.rstrip(b"=").decode(), "not signed with WA_WEB_JWT_CRYPTO_KEY"
    assert claims["exp"] - claims.get("iat", claims["exp"] - TOKEN_LIFETIME) == TOKEN_LIFETIME, claims


def test_bearer_tokens_are_checked(a):
    """§4.1 / §2.2: user endpoints need ``Authorization: Bearer``; a token signed with another key
    or altered is refused (401)."""
    token = admin_token(a)
    assert a.request("GET", f"/v1/users/{ADMIN}").status == 401
    assert a.request("GET", f"/v1/users/{ADMIN}", token=token).status == 200
    assert a.request("GET", f"/v1/users/{ADMIN}", token=forge(token, "another-key")).status == 401
    header, payload, sig = token.split(".")
    assert a.request("GET", f"/v1/users/{ADMIN}", token=f"{header}.{payload}.{sig[::-1]}").status == 401


def test_second_webapp_accepts_the_token(a, b):
    """§2.2: Webapps with the same ``WA_WEB_JWT_CRYPTO_KEY`` on one database accept each other's tokens."""
    assert b.request("GET", f"/v1/users/{ADMIN}", token=admin_token(a)).status == 200


def test_logout_revokes_on_every_webapp(a, b):
    """§4.1 / §2.2: ``POST /v1/users/logout`` revokes the token; tokens are checked against the
    database, so a second Webapp refuses it too."""
    token = token_of(a.login(ADMIN, ADMIN_PASSWORD))[0]
    assert b.request("GET", f"/v1/users/{ADMIN}", token=token).status == 200
    out = a.request("POST", "/v1/users/logout", token=token)
    assert out.status == 200, out
    assert a.request("GET", f"/v1/users/{ADMIN}", token=token).status == 401
    assert b.request("GET", f"/v1/users/{ADMIN}", token=token).status == 401
    assert b.request("GET", f"/v1/users/{ADMIN}", token=admin_token(a)).status == 200, "other tokens stay valid"


# -- 4.2 health -------------------------------------------------------------------------------------------
def test_health_needs_authorization(a):
    """§4.2: ``GET /v1/health`` without ``Authorization`` answers 401."""
    assert a.health().status == 401


def test_health_single_connect(a):
    """§4.2: single-connect health is ``{"health": {"gateway_status": ...}}``; with the Coreapp up
    and the link working it is ``connected``."""
    body = a.wait_health(admin_token(a), lambda j: j.get("health", {}).get("gateway_status") == "connected")
    assert body["health"] == {"gateway_status": "connected"}, body


def test_health_with_api_key(a):
    """§2.2 ``WA_API_KEY`` / §4.1 ROLE_API: ``Authorization: Apikey <key>`` is accepted for
    ``/v1/health`` only; a wrong key is refused."""
    assert a.health(auth=f"Apikey {apps.API_KEY}").status == 200
    assert a.health(auth="Apikey not-the-configured-key").status == 401
    assert a.request("GET", f"/v1/users/{ADMIN}", auth=f"Apikey {apps.API_KEY}").status == 401


# -- 4.3 web server certificate ------------------------------------------------------------------------------
def test_autogen_ca_and_server_certificate(a):
    """§4.3: without an upload the Webapp serves a certificate for CN = ``WA_WEB_SERVERNAME``
    (RSA-2048, 3650 days) from a throw-away root CA (OU "Enterprise Client - AutoGen CA",
    RSA-2048, 365 days), and ``GET /v1/certificates/external/ca`` returns that CA as text/plain."""
    resp = a.request("GET", "/v1/certificates/external/ca", token=admin_token(a))
    assert resp.status == 200, resp
    assert resp.header("Content-Type").split(";")[0] == "text/plain", resp.headers
    (ca,) = x509.load_pem_x509_certificates(resp.body)
    assert ca.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)[0].value == AUTOGEN_OU
    assert isinstance(ca.public_key(), rsa.RSAPublicKey) and ca.public_key().key_size == 2048
    assert round(validity_days(ca)) == 365, validity_days(ca)
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    der = a.served_certificate()
    server = certificate_of(der)
    assert [n.value for n in server.subject.get_attributes_for_oid(NameOID.COMMON_NAME)] == [a.server_name]
    assert server.issuer == ca.subject
    ca.public_key().verify(server.signature, server.tbs_certificate_bytes, padding.PKCS1v15(),
                           server.signature_hash_algorithm)
    assert server.public_key().key_size == 2048 and round(validity_days(server)) == 3650
    State.autogen_der_a = der


def test_upload_needs_key_certificate_and_ca(a, pki):
    """§4.3: the body must hold the private key, the certificate and at least one CA certificate;
    fewer sections (or nothing) is refused and nothing is stored."""
    server = pki.upload_server("upload-a", a.server_name, a.ip)
    token = admin_token(a)
    for body in (server.key_pem + server.cert_pem, ""):
        resp = a.request("POST", "/v1/certificates/external", token=token, body=body, content_type="text/plain")
        assert resp.status == 400, resp


def test_upload_served_only_after_restart(a, pki):
    """§4.3: an accepted upload (2xx) is served only after the Webapp restarts; then a client that
    trusts only the uploaded root CA verifies the chain and the name; ``external/ca`` returns the
    uploaded CA certificates."""
    server = pki.upload_server("upload-a", a.server_name, a.ip)
    resp = a.request("POST", "/v1/certificates/external", token=admin_token(a), body=pki.upload_bundle(server),
                     content_type="text/plain")
    assert 200 <= resp.status < 300, resp
    assert resp.body in (b"", b"null") or resp.json().get("meta"), resp
    assert a.served_certificate() == State.autogen_der_a, "served before the restart"
    a.restart()
    assert certificate_of(a.served_certificate()) == server.cert
    context = ssl.create_default_context(cadata=pki.upload_root.cert_pem)
    with socket.create_connection((a.ip, apps.HTTPS_PORT), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname=a.ip) as tls:
            assert tls.version()
    ca = a.request("GET", "/v1/certificates/external/ca", token=admin_token(a))
    assert ca.status == 200, ca
    got = x509.load_pem_x509_certificates(ca.body)
    assert pki.upload_intermediate.cert in got and pki.upload_root.cert in got, [c.subject for c in got]


# -- 4.4 webhook CA, 4.5 settings -----------------------------------------------------------------------------
def test_webhook_ca_set_get_delete(a, pki):
    """§4.4: ``GET /v1/certificates/webhooks/ca`` is 404 without a CA; ``POST`` (text/plain PEM
    bundle) stores it, ``GET`` returns it, ``DELETE`` removes it."""
    token = admin_token(a)
    path = "/v1/certificates/webhooks/ca"
    assert a.request("GET", path, token=token).status == 404
    bundle = pki.hook_ca.cert_pem + pki.upload_root.cert_pem
    resp = a.request("POST", path, token=token, body=bundle, content_type="text/plain")
    assert 200 <= resp.status < 300, resp
    got = a.request("GET", path, token=token)
    assert got.status == 200, got
    assert x509.load_pem_x509_certificates(got.body) == [pki.hook_ca.cert, pki.upload_root.cert]
    gone = a.request("DELETE", path, token=token)
    assert 200 <= gone.status < 300, gone
    assert a.request("GET", path, token=token).status == 404


def test_settings_webhook_url_must_be_https(a):
    """§4.5: ``PATCH /v1/settings/application`` changes only the given fields; ``webhooks.url``
    must be HTTPS (an http:// URL is refused); ``GET`` shows the stored URL."""
    token = admin_token(a)
    path = "/v1/settings/application"
    refused = a.request("PATCH", path, token=token, body={"webhooks": {"url": "http://hooks.example.test/cb"}})
    assert 400 <= refused.status < 500, refused
    url = "https://hooks.example.test/cb"
    ok = a.request("PATCH", path, token=token, body={"webhooks": {"url": url}})
    assert 200 <= ok.status < 300, ok
    got = a.request("GET", path, token=token)
    assert got.status == 200, got
    assert json.dumps(got.json()).count(json.dumps(url)) == 1, got


# -- 4.1 access rules ------------------------------------------------------------------------------------------
def test_role_user_cannot_do_admin_things(a, pki):
    """§4.1 access rules: a ``ROLE_USER`` (created by the admin with ``POST /v1/users``) may use
    user endpoints and health, but not ``/v1/settings``, ``POST/DELETE /v1/users``, ``POST/DELETE
    /v1/certificates*`` or ``GET /v1/certificates/webhooks``."""
    created = a.request("POST", "/v1/users", token=admin_token(a),
                        body={"username": USER_NAME, "password": USER_PASSWORD})
    if created.status in (404, 405, 501):
        pytest.skip(f"the Webapp does not implement POST /v1/users ({created.status}): no ROLE_USER to test with")
    assert 200 <= created.status < 300, created
    login = a.login(USER_NAME, USER_PASSWORD)
    if login.status == 401 and 1024 in login.error_codes():
        login = a.login(USER_NAME, USER_PASSWORD, new_password=USER_PASSWORD + "x")
    token = token_of(login)[0]
    assert a.request("GET", f"/v1/users/{USER_NAME}", token=token).status == 200
    assert a.request("GET", "/v1/certificates/external/ca", token=token).status == 200
    assert a.health(token=token).status == 200
    denied = [
        ("GET", "/v1/settings/application", None),
        ("PATCH", "/v1/settings/application", {"webhooks": {"url": "https://x.example.test/"}}),
        ("POST", "/v1/users", {"username": "ctother", "password": USER_PASSWORD}),
        ("DELETE", f"/v1/users/{ADMIN}", None),
        ("POST", "/v1/certificates/external", "x"),
        ("GET", "/v1/certificates/webhooks/ca", None),
        ("POST", "/v1/certificates/webhooks/ca", pki.hook_ca.cert_pem),
        ("DELETE", "/v1/certificates/webhooks/ca", None),
    ]
    allowed = []
    for method, path, body in denied:
        ctype = "text/plain" if isinstance(body, str) else None
        resp = a.request(method, path, token=token, body=body, content_type=ctype)
        if resp.status not in (401, 403):
            allowed.append((method, path, resp.status))
    assert not allowed, f"ROLE_USER got through: {allowed}"


# -- rate limits (their own Webapp) -----------------------------------------------------------------------
def test_health_rate_limit(cluster, a):
    """§4.2: 10 health calls per 60 s from one address, then 429."""
    c = cluster["c"]
    token = admin_token(a)
    statuses = [c.request("GET", "/v1/health", token=token).status for _call in range(10)]
    assert statuses == [200] * 10, statuses
    assert c.request("GET", "/v1/health", token=token).status == 429


def test_login_rate_limit(cluster):
    """§4.1: 30 failed logins from one address within the hour, then HTTP 429 with error 1015 -
    even for the right password."""
    c = cluster["c"]
    statuses = [c.login(ADMIN, f"Wrong-pw-{i}!").status for i in range(30)]
    assert statuses == [401] * 30, statuses
    resp = c.login(ADMIN, ADMIN_PASSWORD)
    assert resp.status == 429 and 1015 in resp.error_codes(), resp


# -- last: a bad upload stops B's next start (§4.3); recovery drops the certs table ------------------
def test_mismatched_key_makes_the_next_start_fail(b, pki, mariadb):
    """§4.3: a bundle whose key is not the certificate's is accepted (only the sections are
    checked) but the next start fails; recovery = stop the Webapp and delete the ``certs`` table."""
    server = pki.upload_server("upload-b", b.server_name, b.ip)
    resp = b.request("POST", "/v1/certificates/external", token=admin_token(b), body=pki.mismatched_bundle(server),
                     content_type="text/plain")
    assert 200 <= resp.status < 300, resp
    assert b.container.running(), "the upload itself must not stop the Webapp"
    position = b.restart(wait=False)
    code = b.container.wait_exit(timeout=60)
    log = b.container.logs()[position:]
    assert code != 0, log
    assert re.search(r"key", log, re.IGNORECASE), log
    mariadb.sql("DROP TABLE waweb.certs")
    position = b.container.start()
    b.container.wait_for_log(apps.WEBAPP_READY, timeout=60, since=position)
