# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Webapp and Coreapp containers as the suite starts them, and a real HTTPS client for the API.

The containers follow the images' contract: the Webapp runs ``python3 -m waent_sim.webapp``
(HTTPS on 443, ``webapp: ready`` when it serves), the Coreapp ``python3 -m waent_sim.coreapp``
(6250-6253, ``coreapp: ready`` or ``master: ready``). Settings are the documented environment
variables (reference sections 2.1-2.3).

Requests go from the host straight to the container's address on the test network, with Python's
``http.client``/``ssl`` (the default certificate is self-signed, so the client does not verify it
unless a test gives it a CA). ``GET /v1/health`` is rate limited to 10 calls per 60 s per source
address (section 4.2): :class:`Webapp` counts its own calls and refuses to go over, so no check
is ever disturbed by the limiter it does not test.
"""

from __future__ import annotations

import base64
import collections
import http.client
import json
import socket
import ssl
import time

from conformance import pki as pki_mod
from conformance import podman as pm

WEBAPP_IMAGE = "localhost/waent-sim-webapp:latest"
COREAPP_IMAGE = "localhost/waent-sim-coreapp:latest"
WEBAPP_READY = r"webapp: ready"
COREAPP_READY = r"(?:coreapp|master): ready"
HTTPS_PORT = 443
COREAPP_PORTS = (6250, 6251, 6252, 6253)

JWT_KEY = "ct0JwtKey1a2B3c4D5e6F7g8H9i0J1k2L3m4N5o6P7q8R9s0T1u2V3w4X5y6Z7a8"  # 64 alphanumerics, test-only
ADMIN = "admin"
DEFAULT_PASSWORD = "secret"  # section 4.1
ADMIN_PASSWORD = "Ct-Admin-pw-2026!"  # meets section 4.1's rules
API_KEY = "ct-api-key-0123456789"  # 12-128 characters (section 2.2)
HEALTH_CALLS, HEALTH_WINDOW = 10, 60.0  # section 4.2
# For containers expected to fail on their database: retry the first connection for 3 s instead
# of 30 s (WAENT_SIM_DB_WAIT, a test-only setting of the simulator).
FAST_FAIL = {"WAENT_SIM_DB_WAIT": "3"}


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def header(self, name):
        return self.headers.get(name)

    def json(self):
        if not self.body:
            raise AssertionError(f"HTTP {self.status} with an empty body, JSON expected")
        try:
            return json.loads(self.body)
        except ValueError:
            raise AssertionError(f"HTTP {self.status}: body is not JSON: {self.body[:300]!r}") from None

    @property
    def text(self):
        return self.body.decode("utf-8", errors="replace")

    def error_codes(self):
        try:
            return [e.get("code") for e in self.json().get("errors", [])]
        except AssertionError:
            return []

    def __repr__(self):
        return f"<HTTP {self.status} {self.body[:300]!r}>"


def unverified_context():
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def https_request(host, method, path, *, headers=None, body=None, port=HTTPS_PORT, context=None, timeout=20.0):
    """One HTTPS request; returns a Response (connection errors propagate)."""
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
        headers = {"Content-Type": "application/json", **(headers or {})}
    elif isinstance(body, str):
        body = body.encode()
    conn = http.client.HTTPSConnection(host, port, context=context or unverified_context(), timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return Response(resp.status, resp.headers, resp.read())
    finally:
        conn.close()


def basic(user, password):
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


def bearer(token):
    return f"Bearer {token}"


def served_certificate(host, port=HTTPS_PORT, timeout=10.0):
    """The DER certificate the server presents."""
    with socket.create_connection((host, port), timeout=timeout) as raw:
        with unverified_context().wrap_socket(raw) as tls:
            return tls.getpeercert(binary_form=True)


class Webapp:
    """A Webapp container plus its API, seen from the host."""

    def __init__(self, container, server_name=None):
        self.container = container
        self.server_name = server_name
        self._health_calls = collections.deque()

    @property
    def name(self):
        return self.container.name

    @property
    def ip(self):
        return self.container.ip

    def request(self, method, path, *, token=None, auth=None, headers=None, body=None, content_type=None,
                context=None):
        headers = dict(headers or {})
        if token is not None:
            headers["Authorization"] = bearer(token)
        elif auth is not None:
            headers["Authorization"] = auth
        if content_type is not None:
            headers["Content-Type"] = content_type
        return https_request(self.ip, method, path, headers=headers, body=body, context=context)

    def login(self, user, password, new_password=None):
        body = {"new_password": new_password} if new_password is not None else None
        return self.request("POST", "/v1/users/login", auth=basic(user, password), body=body)

    def health(self, *, token=None, auth=None):
        """``GET /v1/health``, within section 4.2's budget of 10 calls per 60 s from this host."""
        now = time.monotonic()
        while self._health_calls and now - self._health_calls[0] >= HEALTH_WINDOW:
            self._health_calls.popleft()
        if len(self._health_calls) >= HEALTH_CALLS:
            raise AssertionError(f"{self.name}: the suite would exceed the health rate limit "
                                 f"({HEALTH_CALLS} per {HEALTH_WINDOW:.0f} s, section 4.2): a test bug")
        self._health_calls.append(now)
        return self.request("GET", "/v1/health", token=token, auth=auth)

    def health_budget(self):
        now = time.monotonic()
        return HEALTH_CALLS - sum(1 for t in self._health_calls if now - t < HEALTH_WINDOW)

    def wait_health(self, token, predicate, *, attempts=5, first_delay=0.5):
        """Poll health until ``predicate(json)`` holds: ``attempts`` calls, the delay doubling from
        ``first_delay`` (bounded: 5 calls take 0.5+1+2+4 = 7.5 s). Returns the last JSON."""
        delay = first_delay
        body = None
        for attempt in range(attempts):
            resp = self.health(token=token)
            assert resp.status == 200, f"{self.name}: GET /v1/health answered {resp!r}"
            body = resp.json()
            if predicate(body):
                return body
            if attempt + 1 < attempts:
                time.sleep(delay)
                delay *= 2
        return body

    def restart(self, *, wait=True, timeout=90.0):
        """Restart the container; the new process has a fresh rate limiter. Returns the log position."""
        position = self.container.restart()
        self._health_calls.clear()
        if wait:
            self.container.wait_for_log(WEBAPP_READY, timeout=timeout, since=position)
        return position

    def served_certificate(self):
        return served_certificate(self.ip)


def webapp_spec(name, db, *, coreapp=None, secret=None, level=None, server_name=True, jwt_key=JWT_KEY,
                multiconnect=False, api_key=None, db_env=None, env=None, pki=None):
    """``podman.run`` arguments of a Webapp. ``server_name=True``: ``WA_WEB_SERVERNAME`` = the
    container's name; a string sets it; None leaves it unset (the documented default ``localhost``)."""
    full = pm.full_name(name)
    environment = dict(db_env if db_env is not None else db.env())
    environment.update({
        "WA_WEB_JWT_CRYPTO_KEY": jwt_key,
        "WA_APP_MULTICONNECT": "1" if multiconnect else "0",
        "WA_SECRET": secret,
        "WA_WEB_SECURITY_LEVEL": level,
        "WA_API_KEY": api_key,
        "WA_WEB_SERVERNAME": full if server_name is True else server_name,
    })
    if coreapp is not None:
        environment.update({"WACORE_HOSTNAME": pm.full_name(coreapp), "WACORE_BASEPORT": "6250"})
    environment.update(env or {})
    pki = pki or db.pki
    if coreapp is not None:
        pm.reserve(coreapp)
    return {"name": full, "image": WEBAPP_IMAGE, "env": environment, "mounts": [(str(pki.dir), pki_mod.MOUNT)],
            "ip": pm.reserve(full)}


def coreapp_spec(name, db, *, secret=None, multiconnect=False, master=False, advertised=None, ports=None,
                 db_env=None, env=None, pki=None, hosts=()):
    """``podman.run`` arguments of a Coreapp (``master=True``: a Master, section 1.3).
    ``advertised``: ``COREAPP_HOSTNAME`` (default: the container's name in multiconnect)."""
    full = pm.full_name(name)
    environment = dict(db_env if db_env is not None else db.env())
    environment.update({"WA_APP_MULTICONNECT": "1" if multiconnect else "0", "WA_SECRET": secret})
    if multiconnect:
        environment.update({
            "WA_MASTER_NODE": "1" if master else "0",
            "COREAPP_HOSTNAME": advertised or full,
            "COREAPP_EXTERNAL_PORTS": ports or ",".join(str(p) for p in COREAPP_PORTS),
        })
    environment.update(env or {})
    pki = pki or db.pki
    return {"name": full, "image": COREAPP_IMAGE, "env": environment, "mounts": [(str(pki.dir), pki_mod.MOUNT)],
            "ip": pm.reserve(full), "hosts": tuple(hosts)}


def start_webapps(specs):
    return [Webapp(c, s["env"].get("WA_WEB_SERVERNAME")) for c, s in zip(pm.run_many(specs), specs, strict=True)]


def admin_token(webapp):
    """A bearer token of ``admin`` (the first login sets ADMIN_PASSWORD, section 4.1)."""
    resp = webapp.login(ADMIN, DEFAULT_PASSWORD, new_password=ADMIN_PASSWORD)
    if resp.status != 200:
        resp = webapp.login(ADMIN, ADMIN_PASSWORD)
    assert resp.status == 200, f"{webapp.name}: admin login failed: {resp!r}"
    return resp.json()["users"][0]["token"]


def send_test_callback(coreapp, timeout=60):
    """The simulator-only trigger (inside the container): one test callback; exit 0 on HTTP 2xx."""
    return coreapp.exec("python3", "-m", "waent_sim.coreapp", "send-test-callback", timeout=timeout)
