# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Webhook delivery of the Coreapp and the simulator-only trigger for a test callback (sections 1.4 row 9, 4.4).

Documented behaviour: the Coreapp POSTs callbacks to ``webhooks.url`` over HTTPS; the server is
verified against the uploaded webhook CA bundle, which the Coreapp reads at start (a change
needs a restart of every Coreapp node).

Choices where the reference is silent:

* With a webhook CA, only that bundle is trusted (``ssl`` ``cadata``); without one, the system
  trust store (``ssl.create_default_context()``). Host names are checked either way; 10 s timeout.
  A bundle in the database that ``ssl`` cannot load makes every delivery fail (it never falls
  back to the system store).
* Credentials in the URL (``https://user:pass@host/``) are sent as HTTP Basic authentication and
  never logged; the log and the trigger's answer show ``https://host:port/path`` only.
* The trigger: a Unix socket ``/run/waent-sim/trigger.sock`` (directory 0700, socket 0600), so
  only root inside the container reaches it. The client sends ``send-test-callback\\n``; the
  Coreapp answers one JSON line ``{"ok": bool, "line": str}`` after one delivery of
  ``{"statuses": [{"id": "waent-sim-test", "status": "sent", "timestamp": "<unix>"}]}``.
  ``python3 -m waent_sim.coreapp send-test-callback`` prints ``line`` and exits 0 on a 2xx
  answer, 1 otherwise.
"""

from __future__ import annotations

import base64
import http.client
import json
import logging
import os
import socket
import ssl
import stat
import time
import urllib.parse

from waent_sim import coreconfig

LOG = logging.getLogger(__name__)

TRIGGER_SOCKET = "/run/waent-sim/trigger.sock"
TRIGGER_REQUEST = b"send-test-callback\n"
TIMEOUT = 10
MAX_ANSWER = 65536


class CAContext:
    """What a delivery verifies the server with: ``context`` (None: system store) or an ``error``."""

    def __init__(self, context=None, count=0, error=None):
        self.context, self.count, self.error = context, count, error


def load_context(pem, role="coreapp"):
    """The verification context for the stored bundle ``pem`` (None: none stored), logged once at start."""
    if not pem:
        LOG.info("%s: webhook CA: none, system trust store", role)
        return CAContext()
    try:
        count = len(coreconfig.parse_webhook_ca(pem))
        context = ssl.create_default_context(cadata=coreconfig.certificate_blocks(pem))
    except (coreconfig.WebhookCAError, ssl.SSLError) as exc:
        LOG.error("%s: webhook CA in the database cannot be used, every delivery will fail: %s", role, exc)
        return CAContext(error=f"the webhook CA in the database cannot be used: {exc}")
    LOG.info("%s: webhook CA: %d certificates from the database", role, count)
    return CAContext(context, count)


def send_test_callback(url, ca, *, timeout=TIMEOUT, now=None):
    """POST one test callback to ``url``; ``(ok, line)``, ok for a 2xx answer."""
    if not url:
        return False, "webhooks.url is not set: PATCH /v1/settings/application first"
    if ca is not None and ca.error:
        return False, ca.error
    try:
        parts = urllib.parse.urlsplit(url)
        host, port = parts.hostname, parts.port or 443
    except ValueError as exc:
        return False, f"webhooks.url cannot be used: {exc}"
    if parts.scheme.lower() != "https" or not host:
        return False, "webhooks.url is not an HTTPS URL with a host"
    where = f"https://{host if ':' not in host else f'[{host}]'}:{port}{parts.path or '/'}"
    context = ca.context if ca is not None and ca.context is not None else ssl.create_default_context()
    stamp = int(time.time() if now is None else now)
    body = json.dumps({"statuses": [{"id": "waent-sim-test", "status": "sent", "timestamp": str(stamp)}]})
    headers = {"Content-Type": "application/json", "User-Agent": "waent-sim-coreapp"}
    if parts.username is not None:
        userinfo = f"{urllib.parse.unquote(parts.username)}:{urllib.parse.unquote(parts.password or '')}"
        headers["Authorization"] = "Basic " + base64.b64encode(userinfo.encode("utf-8")).decode("ascii")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    conn = http.client.HTTPSConnection(host, port, context=context, timeout=timeout)
    try:
        conn.request("POST", path, body=body.encode("utf-8"), headers=headers)
        response = conn.getresponse()
        response.read(MAX_ANSWER)
    except (OSError, http.client.HTTPException) as exc:
        return False, f"webhook {where}: failed: {type(exc).__name__}: {exc}"
    finally:
        conn.close()
    return 200 <= response.status < 300, f"webhook {where}: HTTP {response.status} {response.reason}"


def bind_trigger(path):
    """The listening Unix socket at ``path``: its directory 0700, the socket 0600, a stale one replaced."""
    directory = os.path.dirname(path)
    os.makedirs(directory, mode=0o700, exist_ok=True)
    os.chmod(directory, 0o700)  # makedirs' mode is cut by the umask and ignored for an existing directory
    try:
        if stat.S_ISSOCK(os.lstat(path).st_mode):
            os.unlink(path)  # left by a previous run of this container
    except FileNotFoundError:
        pass
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(path)
        os.chmod(path, 0o600)  # the directory is 0700 already, so there is no window
        sock.listen(4)
        sock.settimeout(0.5)
    except OSError:
        sock.close()
        raise
    return sock


def unlink_trigger(path):
    try:
        os.unlink(path)
    except OSError:
        pass


def serve_trigger(conn, deliver):
    """Answer one trigger request with ``deliver()`` -> ``(ok, line)``."""
    conn.settimeout(5)
    try:
        request = conn.recv(len(TRIGGER_REQUEST))
        if request != TRIGGER_REQUEST:
            ok, line = False, "unknown trigger request"
        else:
            ok, line = deliver()
        conn.settimeout(5)
        conn.sendall(json.dumps({"ok": ok, "line": line}).encode("utf-8") + b"\n")
    except OSError as exc:
        LOG.warning("webhook trigger: %s", exc)


def request_test_callback(path=TRIGGER_SOCKET, *, timeout=TIMEOUT + 25):
    """The ``send-test-callback`` command: print one line, return the exit status (0 on 2xx)."""
    chunks = []
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(path)
            sock.sendall(TRIGGER_REQUEST)
            while sum(map(len, chunks)) < MAX_ANSWER:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                chunks.append(chunk)
                if chunk.endswith(b"\n"):
                    break
        answer = json.loads(b"".join(chunks).decode("utf-8"))
        ok, line = bool(answer["ok"]), str(answer["line"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        print(f"cannot reach the coreapp trigger {path}: {type(exc).__name__}: {exc}")
        return 1
    print(line)
    return 0 if ok else 1
