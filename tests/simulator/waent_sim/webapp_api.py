# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Webapp's routes (reference sections 4.1-4.5, 6): one request in, ``(status, headers, body)`` out.

``body`` is a dict (JSON, ``meta`` included by :mod:`waent_sim.api`), a str (``text/plain`` or the
Web Admin's HTML), or None (no body). Authentication and the access rules of section 4.1 run
before any route; the Web Admin pages (any path outside ``/v1/``) carry the five headers of
section 6 and the API none (:mod:`waent_sim.headers`).
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hmac
import json
import logging

from waent_sim import api, certs, corelink, headers, jwt, passwords, users

LOG = logging.getLogger(__name__)

WEB_ADMIN_PAGE = ("<!DOCTYPE html>\n<html><head><title>WhatsApp Business API</title></head>"
                  "<body><h1>WhatsApp Business API (waent simulator)</h1></body></html>\n")


@dataclasses.dataclass(frozen=True)
class Request:
    method: str
    target: str
    headers: dict  # lower-case names
    body: bytes
    client: str


def http_error(status, title, details, request_id=None):
    """An error the reference gives no code for: the HTTP status is the code (DEVIATIONS.md A10)."""
    return api.error(status, details, status=status, title=title, request_id=request_id)


def _json_body(request):
    if not request.body:
        return {}
    try:
        value = json.loads(request.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _text_plain(request):
    return request.headers.get("content-type", "").split(";")[0].strip().lower() == "text/plain"


class WebApi:
    """``server_name``: WA_WEB_SERVERNAME; ``cert_store``: the certs table; ``cores``: corelink.*."""

    def __init__(self, *, users_db, cert_store, cores, server_name, api_key, login_limiter, health_limiter,
                 multiconnect):
        self.users = users_db
        self.cert_store = cert_store
        self.cores = cores
        self.server_name = server_name
        self.api_key = api_key
        self.login_limiter = login_limiter
        self.health_limiter = health_limiter
        self.multiconnect = multiconnect

    # -- entry -------------------------------------------------------------------------------
    def handle(self, request):
        path = headers.url_path(request.target)
        if not headers.API_URL_PATTERN.search(path):
            return self._web_admin(request, path)
        try:
            needed = api.required_role(request.method, request.target)
        except ValueError as exc:
            return http_error(400, "Bad request", str(exc))
        clean = request.target.split("?", 1)[0].rstrip("/") or "/"
        if needed is api.PUBLIC:
            return self._login(request)
        role, claims = self._caller(request, clean)
        if role is None:
            return api.unauthorized()
        if not api.allowed(role, request.method, request.target):
            return api.error(api.ERROR_ACCESS_DENIED, f"{role} may not {request.method} {clean}")
        return self._route(request, clean, claims)

    def _web_admin(self, request, path):
        extra = headers.headers_for(request.target)
        if request.method not in ("GET", "HEAD"):
            return 405, {**extra, "Content-Type": "text/html", "Allow": "GET, HEAD"}, ""
        status = 200 if path in ("/", "/index.html") else 404
        return status, {**extra, "Content-Type": "text/html; charset=utf-8"}, WEB_ADMIN_PAGE if status == 200 else ""

    def _caller(self, request, path):
        """``(role, claims)`` of the ``Authorization`` header, ``(None, None)`` without valid credentials."""
        scheme, _sep, value = request.headers.get("authorization", "").partition(" ")
        scheme = scheme.lower()
        if scheme == "bearer" and value:
            claims = self.users.authenticate(value.strip())
            return (claims.role, claims) if claims else (None, None)
        if scheme == "apikey" and self.api_key and request.method == "GET" and path == "/v1/health":
            if hmac.compare_digest(value.strip().encode(), self.api_key.encode()):
                return api.ROLE_API, None
        return None, None

    # -- 4.1 users ---------------------------------------------------------------------------
    def _login(self, request):
        client = request.client
        if not self.login_limiter.allowed(client):
            LOG.warning("webapp: login refused for %s: too many failed logins", client)
            return api.too_many_requests()
        scheme, _sep, value = request.headers.get("authorization", "").partition(" ")
        try:
            username, sep, password = base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            sep = ""
        body = _json_body(request)
        if scheme.lower() != "basic" or not sep or body is None:
            self.login_limiter.record(client)
            return api.unauthorized()
        new_password = body.get("new_password")
        if new_password is not None and not isinstance(new_password, str):
            return http_error(400, "Bad request", "new_password must be a string")
        result = self.users.login(username, password, new_password)
        if result.outcome == users.BAD_CREDENTIALS:
            self.login_limiter.record(client)
            LOG.info("webapp: failed login for %r from %s", username, client)
            return api.unauthorized()
        if result.outcome == users.MUST_CHANGE:
            return api.password_change_required()
        if result.outcome == users.BAD_NEW_PASSWORD:
            return http_error(400, "Bad request", "new_password: " + passwords.describe(result.problems))
        return api.login(result.token, jwt.expires_after(result.claims.exp))

    def _users(self, request, path, claims):
        if path == "/v1/users/logout" and request.method == "POST":
            if claims is None:
                return api.unauthorized()
            self.users.logout(claims)
            return api.respond(200, {})
        if path == "/v1/users" and request.method == "POST":
            body = _json_body(request) or {}
            username, password = body.get("username"), body.get("password")
            if not isinstance(username, str) or not isinstance(password, str):
                return http_error(400, "Bad request", "give username and password")
            problems = self.users.create(username, password)
            if problems:
                return http_error(400, "Bad request", "; ".join(problems))
            return api.respond(201, {"users": [{"username": username}]})
        name = path[len("/v1/users/"):]
        if "/" in name or not name:
            return http_error(404, "Not found", f"no route {request.method} {path}")
        if request.method == "GET":
            user = self.users.get(name)
            return api.respond(200, {"users": [user]}) if user else http_error(404, "Not found", f"no user {name}")
        if request.method == "PUT":
            # A user may change its own password, only the admin another's (DEVIATIONS.md A15).
            if claims.role != "ROLE_ADMIN" and claims.sub != name:
                return api.error(api.ERROR_ACCESS_DENIED, f"{claims.role} may only change its own password")
            body = _json_body(request) or {}
            password = body.get("password")
            if not isinstance(password, str):
                return http_error(400, "Bad request", "give password")
            problem = self.users.set_password(name, password)
            if problem:
                missing = problem.startswith("no user")
                return http_error(404 if missing else 400, "Not found" if missing else "Bad request", problem)
            return api.respond(200, {})
        if request.method == "DELETE":
            problem = self.users.delete(name)
            return http_error(400, "Bad request", problem) if problem else api.respond(200, {})
        return http_error(405, "Method not allowed", f"{request.method} {path}")

    # -- 4.2 health --------------------------------------------------------------------------
    def _health(self, request):
        if not self.health_limiter.attempt(request.client):
            return api.too_many_requests()
        if not self.multiconnect:
            return api.health_single(self.cores.health())
        nodes = self.cores.health()
        if not nodes:
            return http_error(503, "Service unavailable", "no Coreapp or Master is registered in clusterStore")
        return api.health_multi(nodes)

    # -- 4.3 web server certificate ---------------------------------------------------------
    def _external(self, request, path):
        if path == "/v1/certificates/external/ca" and request.method == "GET":
            ca_pem = self.cert_store.ca_pem(self.server_name)
            if not ca_pem:
                return 404, {"X-Request-ID": api.new_request_id()}, None
            return 200, {"X-Request-ID": api.new_request_id(), "Content-Type": "text/plain"}, ca_pem
        if path == "/v1/certificates/external" and request.method == "POST":
            if not _text_plain(request):
                return http_error(400, "Bad request", "Content-Type must be text/plain")
            try:
                bundle = certs.parse_upload(request.body.decode("utf-8", errors="replace"))
            except certs.BundleError as exc:
                return http_error(400, "Bad request", str(exc))
            self.cert_store.save_upload(self.server_name, bundle)
            LOG.info("webapp: certificate uploaded for %s; served after a restart of the Webapp", self.server_name)
            return api.respond(201, {})
        return http_error(404, "Not found", f"no route {request.method} {path}")

    # -- 4.4, 4.5 master-only commands -------------------------------------------------------
    def _control(self, request_dict):
        try:
            return self.cores.control(request_dict), None
        except corelink.CoreUnavailable as exc:
            return None, http_error(503, "Service unavailable", f"Coreapp unreachable: {exc}")

    def _command(self, request_dict):
        """A master-only command whose refusal by the Coreapp is the client's error (400)."""
        answer, failure = self._control(request_dict)
        if failure is None and not answer.get("ok"):
            failure = http_error(400, "Bad request", answer.get("error", "refused by the Coreapp"))
        return answer, failure

    def _webhook_ca(self, request, path):
        if request.method == "GET":
            answer, failure = self._control({"op": "webhook_ca_get"})
            if failure:
                return failure
            if not answer.get("ok"):
                return 404, {"X-Request-ID": api.new_request_id()}, None
            return 200, {"X-Request-ID": api.new_request_id(), "Content-Type": "text/plain"}, answer["pem"]
        if request.method == "POST":
            if not _text_plain(request):
                return http_error(400, "Bad request", "Content-Type must be text/plain")
            op = {"op": "webhook_ca_set", "pem": request.body.decode("utf-8", errors="replace")}
        elif request.method == "DELETE":
            op = {"op": "webhook_ca_delete"}
        else:
            return http_error(405, "Method not allowed", f"{request.method} {path}")
        answer, failure = self._command(op)
        if failure:
            return failure
        return api.respond(200, {})

    def _settings(self, request, path):
        if request.method == "GET":
            op = {"op": "settings_get"}
        elif request.method == "PATCH":
            body = _json_body(request)
            if body is None:
                return http_error(400, "Bad request", "the body must be a JSON object")
            op = {"op": "settings_patch", "patch": body}
        elif request.method == "DELETE":
            op = {"op": "settings_delete"}
        else:
            return http_error(405, "Method not allowed", f"{request.method} {path}")
        answer, failure = self._command(op)
        if failure:
            return failure
        if request.method == "GET":
            return api.respond(200, {"settings": {"application": answer["application"]}})
        return api.respond(200, {})

    def _route(self, request, path, claims):
        if path == "/v1/users" or path.startswith("/v1/users/"):
            return self._users(request, path, claims)
        if path == "/v1/health" and request.method == "GET":
            return self._health(request)
        if path.startswith("/v1/certificates/external"):
            return self._external(request, path)
        if path == "/v1/certificates/webhooks/ca":
            return self._webhook_ca(request, path)
        if path == "/v1/settings/application":
            return self._settings(request, path)
        return http_error(404, "Not found", f"no route {request.method} {path} in the simulator")
