# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A client of the Webapp's REST API (reference sections 4.1-4.5), shared by the ``webapp_*``
modules and the audit.

Why not ``ansible.module_utils.urls.open_url``: the roles reach a Webapp at an address (the
published port on the host, ``127.0.0.1:9090``) while verifying the certificate against the name
it was issued for (``WA_WEB_SERVERNAME``), and idempotence needs the certificate the port really
serves. ``http.client`` over a socket wrapped with ``server_hostname`` gives both.

Password logic of the first login (section 4.1): the default ``admin``/``secret`` must set a new
password at its first login (HTTP 401, error 1024 otherwise); a wrong password answers 401 with
an empty body; 30 failed logins per address per hour lock the address out (429, error 1015), so
every decision here spends at most two failed logins.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
import socket
import ssl

DEFAULT_USER = "admin"
DEFAULT_PASSWORD = "secret"  # noqa: S105 - the documented default of section 4.1, never a real secret
ERROR_PASSWORD_CHANGE_REQUIRED = 1024
ERROR_TOO_MANY_REQUESTS = 1015

# Login outcomes.
LOGGED_IN = "logged in"
BAD_CREDENTIALS = "bad credentials"
MUST_CHANGE = "must change"
RATE_LIMITED = "rate limited"
REFUSED = "refused"


# The options of the webapp_api doc fragment.
CONNECTION_ARGS = {
    "address": {"type": "str", "required": True},
    "port": {"type": "int", "default": 9090},
    "server_name": {"type": "str"},
    "ca_file": {"type": "path"},
    "validate_certs": {"type": "bool", "default": True},
    "timeout": {"type": "float", "default": 10.0},
}


@contextlib.contextmanager
def failing_module(module):
    """The ``webapp_*`` modules' one error path: a bad parameter (ValueError) or an API failure
    (``WebappApiError``, with its HTTP status and error code) becomes ``module.fail_json``."""
    try:
        yield
    except WebappApiError as exc:
        module.fail_json(msg=str(exc), status=exc.status, error_code=exc.code)
    except ValueError as exc:
        module.fail_json(msg=str(exc))


def client_from_params(params):
    """A :class:`WebappClient` from the module parameters of ``CONNECTION_ARGS``; ValueError for bad ones."""
    if not 1 <= params["port"] <= 65535:
        raise ValueError(f"port {params['port']} is not a TCP port (1-65535)")
    if not 0 < params["timeout"] <= 300:
        raise ValueError(f"timeout must be in (0, 300] seconds, got {params['timeout']}")
    return WebappClient(params["address"], params["port"], server_name=params["server_name"],
                        ca_file=params["ca_file"], validate_certs=params["validate_certs"],
                        timeout=params["timeout"])


class WebappApiError(Exception):
    """The API answered something the caller cannot go on with; ``status``/``code`` as received."""

    def __init__(self, message, status=None, code=None):
        super().__init__(message)
        self.status = status
        self.code = code


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # lower-case names
        self.body = body

    def json(self):
        if not self.body:
            return None
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return None

    def error(self):
        """``(code, details)`` of the first ``errors`` entry, or ``(None, None)``."""
        data = self.json()
        if isinstance(data, dict) and isinstance(data.get("errors"), list) and data["errors"]:
            entry = data["errors"][0]
            if isinstance(entry, dict):
                return entry.get("code"), entry.get("details") or entry.get("title")
        return None, None

    def describe(self):
        code, details = self.error()
        if code is not None:
            return f"HTTP {self.status}, error {code}: {details}"
        return f"HTTP {self.status}"


class LoginResult:
    def __init__(self, outcome, token=None, response=None):
        self.outcome = outcome
        self.token = token
        self.response = response


class WebappClient:
    """One Webapp reached at ``address:port``, its certificate verified for ``server_name``.

    ``ca_file``: the CA bundle to verify with (the PKI's CA). ``validate_certs=False`` skips
    verification (the first contact with a self-signed Webapp); the name is then not checked either.
    """

    def __init__(self, address, port, *, server_name=None, ca_file=None, validate_certs=True, timeout=10.0):
        self.address = address
        self.port = int(port)
        self.server_name = server_name or address
        self.timeout = timeout
        if validate_certs:
            context = ssl.create_default_context(cafile=ca_file)
        else:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        self.context = context

    def _connect(self):
        sock = socket.create_connection((self.address, self.port), timeout=self.timeout)
        try:
            return self.context.wrap_socket(sock, server_hostname=self.server_name)
        except (ssl.SSLError, OSError):
            sock.close()
            raise

    def peer_certificate(self):
        """The DER leaf certificate the port serves (after the verification this client is set up for)."""
        try:
            with self._connect() as tls:
                return tls.getpeercert(binary_form=True)
        except ssl.SSLCertVerificationError as exc:
            raise WebappApiError(f"https://{self.address}:{self.port}: the certificate does not verify for "
                                 f"{self.server_name}: {exc.verify_message}") from None
        except OSError as exc:
            raise WebappApiError(f"https://{self.address}:{self.port}: {exc}") from None

    def request(self, method, path, *, token=None, basic=None, body=None, content_type=None):
        """One request; returns :class:`Response` for any HTTP status, raises ``WebappApiError`` when
        there is no HTTP answer (refused, timeout, TLS verification)."""
        host = f"[{self.server_name}]" if ":" in self.server_name else self.server_name  # IPv6 literal
        headers = {"Host": host if self.port == 443 else f"{host}:{self.port}"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        elif basic:
            raw = f"{basic[0]}:{basic[1]}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(raw).decode("ascii")
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode("utf-8")
            content_type = content_type or "application/json"
        elif isinstance(body, str):
            body = body.encode("utf-8")
        if content_type:
            headers["Content-Type"] = content_type
        connection = http.client.HTTPConnection(self.address, self.port, timeout=self.timeout)
        try:
            connection.sock = self._connect()
            connection.request(method, path, body=body, headers=headers)
            answer = connection.getresponse()
            data = answer.read()
        except ssl.SSLCertVerificationError as exc:
            raise WebappApiError(f"https://{self.address}:{self.port}: the certificate does not verify for "
                                 f"{self.server_name}: {exc.verify_message}") from None
        except (OSError, http.client.HTTPException) as exc:
            raise WebappApiError(f"https://{self.address}:{self.port}: {exc}") from None
        finally:
            connection.close()
        return Response(answer.status, {k.lower(): v for k, v in answer.getheaders()}, data)

    def served_certificate_is(self, cert_pem):
        """Whether the leaf the port serves is the first certificate of ``cert_pem``."""
        wanted = pem_certificates(cert_pem)
        return bool(wanted) and self.peer_certificate() == wanted[0]

    # -- 4.1 -----------------------------------------------------------------------------------
    def login(self, username, password, new_password=None):
        """One ``POST /v1/users/login``; never raises for an HTTP answer."""
        body = {"new_password": new_password} if new_password is not None else None
        response = self.request("POST", "/v1/users/login", basic=(username, password), body=body)
        if response.status == 200:
            data = response.json() or {}
            users = data.get("users") or [{}]
            token = users[0].get("token") if isinstance(users[0], dict) else None
            if token:
                return LoginResult(LOGGED_IN, token, response)
            return LoginResult(REFUSED, None, response)
        code, _details = response.error()
        if response.status == 401 and code == ERROR_PASSWORD_CHANGE_REQUIRED:
            return LoginResult(MUST_CHANGE, None, response)
        if response.status == 401 and not response.body:
            return LoginResult(BAD_CREDENTIALS, None, response)
        if response.status == 429:
            return LoginResult(RATE_LIMITED, None, response)
        return LoginResult(REFUSED, None, response)


def ensure_password(client, desired, *, username=DEFAULT_USER, previous=(DEFAULT_PASSWORD,), check_mode=False):
    """Make ``desired`` the password of ``username``; returns ``(changed, token, replaced)``.

    Tries ``desired`` first (already set: unchanged, one login). Otherwise each of ``previous``
    (the default ``secret``, or the value a rotation replaces) until one logs in or asks for the
    mandatory change; then logs in with ``new_password=desired``. In check mode nothing is changed
    and the token is None when a change would be made. ``replaced`` is the previous password that
    was (or would be) replaced, None when nothing changes. Raises ``WebappApiError`` when no candidate
    works, when the address is locked out (429) or the API refuses the new password.
    """
    first = client.login(username, desired)
    if first.outcome == LOGGED_IN:
        return False, first.token, None
    raise_if_stuck(first, username)
    if first.outcome == MUST_CHANGE:
        # ``desired`` is the current password but still flagged for the first change: the API
        # only accepts a different new one, which the caller must give.
        raise WebappApiError(f"{username} logs in with the given password but the Webapp asks for the mandatory "
                             "first change (error 1024): give a new password different from it",
                             401, ERROR_PASSWORD_CHANGE_REQUIRED)
    for candidate in previous:
        if candidate == desired:
            continue
        attempt = client.login(username, candidate)
        raise_if_stuck(attempt, username)
        if attempt.outcome not in (LOGGED_IN, MUST_CHANGE):
            continue
        if check_mode:
            return True, None, candidate
        changed = client.login(username, candidate, new_password=desired)
        if changed.outcome != LOGGED_IN:
            raise WebappApiError(f"the Webapp refused the new password of {username}: {changed.response.describe()}",
                                 changed.response.status, changed.response.error()[0])
        return True, changed.token, candidate
    raise WebappApiError(f"{username}: neither the desired password nor any of the {len(previous)} previous "
                         "ones logs in (HTTP 401): the password was changed outside this collection; set the "
                         "current one as the previous password (rotation) or reset it on the Webapp", 401)


def raise_if_stuck(result, username):
    if result.outcome == RATE_LIMITED:
        raise WebappApiError(f"the Webapp locks this address out after 30 failed logins per hour (error 1015): "
                             f"wait, then retry; no further login of {username} was attempted",
                             429, ERROR_TOO_MANY_REQUESTS)
    if result.outcome == REFUSED:
        raise WebappApiError(f"login of {username} refused: {result.response.describe()}",
                             result.response.status, result.response.error()[0])


# -- authenticated calls (sections 4.2-4.5) --------------------------------------------------------
AUTH_ARGS = {
    "api_username": {"type": "str", "default": DEFAULT_USER},
    "api_password": {"type": "str", "required": True, "no_log": True},
}


def token_from_params(client, params):
    """A bearer token for ``api_username``/``api_password``, or ``WebappApiError`` saying why not."""
    result = client.login(params["api_username"], params["api_password"])
    if result.outcome == LOGGED_IN:
        return result.token
    if result.outcome == MUST_CHANGE:
        raise WebappApiError(f"{params['api_username']} still has to change its password (error 1024): run "
                             "waent.onprem.webapp_password first", 401, ERROR_PASSWORD_CHANGE_REQUIRED)
    raise_if_stuck(result, params["api_username"])
    raise WebappApiError(f"login of {params['api_username']} failed (HTTP 401): wrong api_password", 401)


def logout(client, token):
    """Revoke ``token`` (``POST /v1/users/logout``) so that a run leaves no valid token behind;
    best effort: the work is done, a failure here changes nothing for the caller."""
    try:
        client.request("POST", "/v1/users/logout", token=token)
    except WebappApiError:
        pass


def expect(response, *statuses, what):
    """``response`` when its status is one of ``statuses``; else ``WebappApiError`` naming ``what``."""
    if response.status in statuses:
        return response
    raise WebappApiError(f"{what}: {response.describe()}", response.status, response.error()[0])


def pem_certificates(text):
    """The DER bytes of every PEM certificate in ``text``, in order (comparison ignores PEM layout)."""
    blocks = []
    for part in (text or "").split("-----BEGIN CERTIFICATE-----")[1:]:
        body = part.split("-----END CERTIFICATE-----", 1)[0]
        try:
            blocks.append(base64.b64decode("".join(body.split()), validate=True))
        except ValueError:
            blocks.append(body.encode("utf-8"))  # not base64: still comparable as text
    return blocks


def settings_patch(current, desired, prefix=""):
    """The smallest ``PATCH /v1/settings/application`` body turning ``current`` into ``desired``
    (nested dicts compared member by member), and the dotted names of the members it changes."""
    patch, changed = {}, []
    for name, value in desired.items():
        here = current.get(name) if isinstance(current, dict) else None
        if isinstance(value, dict):
            # A missing or non-object member is replaced whole; its members are still named one
            # by one, so that a restart-relevant one is seen.
            sub, names = settings_patch(here if isinstance(here, dict) else {}, value, prefix + name + ".")
            if sub:
                patch[name] = sub if isinstance(here, dict) else value
                changed.extend(names)
        elif here != value:
            patch[name] = value
            changed.append(prefix + name)
    return patch, changed


def members_of(source, shape):
    """The members of ``source`` at the places ``shape`` names (for a diff's "before")."""
    picked = {}
    for name, value in shape.items():
        here = source.get(name) if isinstance(source, dict) else None
        picked[name] = members_of(here, value) if isinstance(value, dict) and isinstance(here, dict) else here
    return picked
