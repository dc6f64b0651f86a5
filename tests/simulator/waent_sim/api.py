# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Response and error shapes of the Webapp API, and its access rules (reference sections 4, 4.1, 4.2).

Pure functions returning ``(status, headers, body)``; ``body`` is a dict or None (no body).

Documented behaviour:

* Every response carries ``meta: {api_status, version}`` and an ``X-Request-ID`` header
  (section 4).
* First login without ``new_password``: HTTP 401, error code 1024 "Password must be changed";
  30 failed logins per address per hour: HTTP 429, error 1015 (section 4.1). Registration of a
  number fails with error 1005 since 2024-07-01 (section 0).
* A failed login (wrong credentials) answers 401 with an empty body (the Helm chart's
  idempotency check, section 4.1).
* Login response ``{"users": [{"token", "expires_after"}], "meta": {...}}`` (section 4.1).
* Health needs ``Authorization`` (401 otherwise). Single-connect:
  ``{"health": {"gateway_status": connected|connecting|uninitialized|unregistered}}``;
  HA/multiconnect: keyed ``"<hostname>:<container-id>"`` with ``gateway_status`` (adds
  ``disconnected``) and ``role`` ``primary_master|secondary_master|coreapp``; 10 calls per
  60 s, then 429 (section 4.2).
* Roles ``ROLE_ADMIN`` > ``ROLE_USER`` > ``ROLE_API``. Access rules: ``/v1/admin``,
  ``/v1/account``, ``/v1/settings`` -> admin; POST/DELETE ``/v1/users`` -> admin; POST/DELETE
  ``/v1/certificates*`` and GET ``/v1/certificates/webhooks`` -> admin; GET ``/v1/health`` ->
  ROLE_API; everything else -> user (section 4.1): :func:`required_role`, :func:`allowed`.

Choices where the reference is silent are listed in ``DEVIATIONS.md``, section "API shapes"
(A1 to A9).
"""

from __future__ import annotations

import re
import secrets

API_STATUS = "stable"  # A1
API_VERSION = "v2.63.0"  # A1: the final version (section 0)

ROLE_ADMIN = "ROLE_ADMIN"
ROLE_USER = "ROLE_USER"
ROLE_API = "ROLE_API"
ROLES = (ROLE_ADMIN, ROLE_USER, ROLE_API)  # highest first
_RANK = {ROLE_ADMIN: 3, ROLE_USER: 2, ROLE_API: 1}

PUBLIC = None  # required_role() of the login endpoint (A6)

ERROR_ACCESS_DENIED = 1005
ERROR_TOO_MANY_REQUESTS = 1015
ERROR_PASSWORD_CHANGE_REQUIRED = 1024
# A2: titles. 1024's is quoted by section 4.1; the others are the product's error table wording.
ERROR_TITLES = {
    ERROR_ACCESS_DENIED: "Access denied",
    ERROR_TOO_MANY_REQUESTS: "Too many requests",
    ERROR_PASSWORD_CHANGE_REQUIRED: "Password must be changed",
}
ERROR_STATUS = {ERROR_ACCESS_DENIED: 403, ERROR_TOO_MANY_REQUESTS: 429, ERROR_PASSWORD_CHANGE_REQUIRED: 401}

SINGLE_STATES = ("connected", "connecting", "uninitialized", "unregistered")
MULTI_STATES = SINGLE_STATES + ("disconnected",)
NODE_ROLES = ("primary_master", "secondary_master", "coreapp")

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
_NODE_KEY = re.compile(r"[^\s:]+:[0-9a-f]{12,64}", re.ASCII)  # A7
_REQUEST_ID = re.compile(r"[A-Za-z0-9]{20}", re.ASCII)
_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def new_request_id():
    """A fresh ``X-Request-ID``: 20 random ASCII letters and digits (A3)."""
    return "".join(secrets.choice(_ALNUM) for _i in range(20))


def is_request_id(value):
    return isinstance(value, str) and _REQUEST_ID.fullmatch(value) is not None


def meta():
    return {"api_status": API_STATUS, "version": API_VERSION}


def _headers(request_id, has_body):
    headers = {"X-Request-ID": request_id or new_request_id()}
    if has_body:
        headers["Content-Type"] = "application/json"
    return headers


def respond(status, body=None, request_id=None):
    """``(status, headers, body)`` with ``meta`` added to ``body``; ``body=None`` sends none (A4)."""
    if body is None:
        return status, _headers(request_id, False), None
    if "meta" in body:
        raise ValueError("the body already has a meta member")
    return status, _headers(request_id, True), {**body, "meta": meta()}


def error_entry(code, details, title=None):
    """One entry of the ``errors`` list."""
    if title is None:
        if code not in ERROR_TITLES:
            raise ValueError(f"no documented title for error {code}; give one")
        title = ERROR_TITLES[code]
    return {"code": code, "title": title, "details": details}


def error(code, details, status=None, title=None, request_id=None):
    """An error response: ``{"errors": [{code, title, details}], "meta": {...}}``."""
    if status is None:
        if code not in ERROR_STATUS:
            raise ValueError(f"no documented HTTP status for error {code}; give one")
        status = ERROR_STATUS[code]
    if not 400 <= status <= 599:
        raise ValueError(f"an error needs a 4xx or 5xx status, not {status}")
    return respond(status, {"errors": [error_entry(code, details, title)]}, request_id)


def password_change_required(request_id=None):
    """First login without ``new_password`` (section 4.1): 401, error 1024."""
    return error(ERROR_PASSWORD_CHANGE_REQUIRED, "The password of this user must be changed: "
                 "log in again with new_password", request_id=request_id)


def too_many_requests(request_id=None):
    """Rate limit hit (sections 4.1, 4.2): 429, error 1015."""
    return error(ERROR_TOO_MANY_REQUESTS, "Too many requests, try again later", request_id=request_id)


def unauthorized(request_id=None):
    """Wrong credentials or no ``Authorization``: 401 with an empty body (section 4.1)."""
    return respond(401, None, request_id)


def login(token, expires_after, request_id=None):
    """``{"users": [{"token", "expires_after"}], "meta"}`` (section 4.1); 200 (A5)."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\+00:00", expires_after, re.ASCII):
        raise ValueError(f"expires_after {expires_after!r} is not YYYY-MM-DD HH:MM:SS+00:00")
    if not token:
        raise ValueError("empty token")
    return respond(200, {"users": [{"token": token, "expires_after": expires_after}]}, request_id)


def health_single(gateway_status, request_id=None):
    """Single-connect health (section 4.2)."""
    if gateway_status not in SINGLE_STATES:
        raise ValueError(f"single-connect gateway_status must be one of {SINGLE_STATES}, not {gateway_status!r}")
    return respond(200, {"health": {"gateway_status": gateway_status}}, request_id)


def health_multi(nodes, request_id=None):
    """HA/multiconnect health (section 4.2): ``nodes`` maps ``"<hostname>:<container-id>"`` to
    ``(gateway_status, role)``. The body is ``{"health": {key: {gateway_status, role}}}`` (A8)."""
    if not nodes:
        raise ValueError("a cluster health answer needs at least one node")
    health = {}
    for key, (gateway_status, role) in nodes.items():
        if not _NODE_KEY.fullmatch(key):
            raise ValueError(f"node key {key!r} is not <hostname>:<container-id>")
        if gateway_status not in MULTI_STATES:
            raise ValueError(f"gateway_status must be one of {MULTI_STATES}, not {gateway_status!r}")
        if role not in NODE_ROLES:
            raise ValueError(f"role must be one of {NODE_ROLES}, not {role!r}")
        health[key] = {"gateway_status": gateway_status, "role": role}
    if sum(1 for _s, role in nodes.values() if role == "primary_master") > 1:
        raise ValueError("at most one primary_master")
    return respond(200, {"health": health}, request_id)


def _under(path, prefix):
    return path == prefix or path.startswith(prefix + "/")


def _normalise(method, path):
    if method not in METHODS:
        raise ValueError(f"unknown or non-upper-case method {method!r}")  # A9
    path = path.split("?", 1)[0]
    if not path.startswith("/") or "//" in path or "%" in path or "\\" in path:
        raise ValueError(f"path {path!r} is not a normalised absolute path")
    segments = path.split("/")
    if any(segment in (".", "..") for segment in segments):
        raise ValueError(f"path {path!r} has dot segments")
    if len(path) > 1 and path.endswith("/"):
        path = path[:-1]
    return path


def required_role(method, path):
    """The lowest role that may call ``method path`` (section 4.1), or :data:`PUBLIC` for login.

    Prefixes match whole segments (``/v1/settings`` covers ``/v1/settings/...`` but not
    ``/v1/settingsx``), except ``/v1/certificates*``, which the reference writes with a star.
    """
    path = _normalise(method, path)
    if path == "/v1/users/login" and method == "POST":
        return PUBLIC
    if any(_under(path, prefix) for prefix in ("/v1/admin", "/v1/account", "/v1/settings")):
        return ROLE_ADMIN
    if method in ("POST", "DELETE") and _under(path, "/v1/users") and path != "/v1/users/logout":
        return ROLE_ADMIN
    if method in ("POST", "DELETE") and path.startswith("/v1/certificates"):
        return ROLE_ADMIN
    if method == "GET" and _under(path, "/v1/certificates/webhooks"):
        return ROLE_ADMIN
    if method == "GET" and path == "/v1/health":
        return ROLE_API
    return ROLE_USER


def allowed(role, method, path):
    """Whether a caller holding ``role`` (one of :data:`ROLES`, or None for no credentials) may
    call ``method path``."""
    if role is not None and role not in _RANK:
        raise ValueError(f"unknown role {role!r}")
    needed = required_role(method, path)
    if needed is PUBLIC:
        return True
    return role is not None and _RANK[role] >= _RANK[needed]
