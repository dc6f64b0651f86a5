# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Webapp process: ``python3 -m waent_sim.webapp`` (the simulator image's entry point).

Start-up, in the order a failure is reported (each logs why and exits non-zero):

1. ``WA_APP_MULTICONNECT`` must be unset, ``0`` or ``1`` (section 2.3: the Webapp throws otherwise).
2. The database settings (section 2.1, :mod:`waent_sim.dbconfig`), then the connection; the
   first connection is retried for ``DB_WAIT`` seconds (a database may still be starting).
3. The server certificate from the ``certs`` table (section 4.3): auto-generated on the first
   start for ``WA_WEB_SERVERNAME``; an uploaded bundle whose key does not match stops the start.
4. HTTPS on 443 with the profile of ``WA_WEB_SECURITY_LEVEL`` (section 5.1), ``Server: Server``
   (section 6: ``server.tag``), and the routes of :mod:`waent_sim.webapp_api`.

Test-only settings (never set by a role): ``WAENT_SIM_REPLAY_GRACE`` (the link's window in
seconds), ``WAENT_SIM_HTTPS_PORT`` (listen elsewhere than 443), ``WAENT_SIM_DB_WAIT`` (seconds the
first database connection is retried, default 30).
"""

from __future__ import annotations

import http.server
import json
import logging
import os
import signal
import socketserver
import sys
import tempfile
import threading
import time

from waent_sim import (
    api,
    certs,
    certstore,
    cluster,
    corelink,
    dbconfig,
    framing,
    headers,
    profiles,
    ratelimit,
    store,
    users,
    webapp_api,
)

LOG = logging.getLogger("waent_sim.webapp")

DB_WAIT = 30
MAX_BODY = 1 << 20
CLIENT_TIMEOUT = 15
# Old Webapp builds signed tokens with a key baked into the image (section 2.2): without
# WA_WEB_JWT_CRYPTO_KEY the simulator does the same, loudly.
BUILTIN_JWT_KEY = "waent-simulator-public-built-in-jwt-key"


class StartupError(Exception):
    def __init__(self, message, code=1):
        super().__init__(message)
        self.code = code


def _grace(env):
    value = env.get("WAENT_SIM_REPLAY_GRACE")
    return framing.DEFAULT_GRACE if not value else int(value)


def _db_wait(env):
    value = env.get("WAENT_SIM_DB_WAIT")
    return DB_WAIT if not value else int(value)


def _connect_with_retry(step, what, wait=DB_WAIT):
    deadline = time.monotonic() + wait
    while True:
        try:
            return step()
        except store.StoreError as exc:
            if time.monotonic() >= deadline:
                raise StartupError(f"database connection failed: {exc}") from None
            LOG.warning("webapp: %s: %s (retrying for up to %d s)", what, exc, wait)
            threading.Event().wait(2)  # not time.sleep: EINVAL under libfaketime (the skew tests)


def _server_context(profile, material):
    context, gaps = profiles.build_server_context(profile)
    if gaps:
        LOG.info("webapp: profile %s, what this OpenSSL cannot do (DEVIATIONS.md T1-T4): %s", profile.name, gaps)
    with tempfile.TemporaryDirectory(prefix="waent-sim-tls-") as tmp:
        chain, key = os.path.join(tmp, "chain.pem"), os.path.join(tmp, "key.pem")
        for path, data in ((chain, material.chain_pem()), (key, material.key_pem())):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as stream:
                stream.write(data)
        context.load_cert_chain(chain, key)
    return context


def build(env):
    """Everything the listener needs, or :class:`StartupError`: ``(WebApi, ssl context, description)``."""
    multiconnect = env.get("WA_APP_MULTICONNECT", "")
    if multiconnect not in ("", "0", "1"):
        raise StartupError(f"WA_APP_MULTICONNECT is {multiconnect!r}: use 0 or 1", code=2)
    multiconnect = multiconnect == "1"
    profile = profiles.select_profile(env.get("WA_WEB_SECURITY_LEVEL"))
    server_name = env.get("WA_WEB_SERVERNAME") or certs.DEFAULT_SERVER_NAME
    try:
        cfg = dbconfig.read(env, dbconfig.ROLE_WEBAPP)
    except dbconfig.DBConfigError as exc:
        raise StartupError(f"database settings: {exc}", code=2) from None
    LOG.info("%s", cfg.log_line)
    web_db = store.Store(cfg, "waweb")
    jwt_key = env.get("WA_WEB_JWT_CRYPTO_KEY")
    if not jwt_key:
        LOG.warning("webapp: WA_WEB_JWT_CRYPTO_KEY is not set: tokens are signed with the built-in public key; "
                    "set your own random value on every Webapp")
        jwt_key = BUILTIN_JWT_KEY
    users_db = users.Users(web_db, jwt_key)
    cert_store = certstore.CertStore(web_db)

    def schema():
        users_db.create_schema()
        cert_store.create_schema()

    _connect_with_retry(schema, "cannot prepare the waweb database", _db_wait(env))
    LOG.info("webapp: database %s", web_db.describe())
    try:
        kind, material = cert_store.startup_material(server_name)
    except certs.CertificateStartupError as exc:
        raise StartupError(f"server certificate for {server_name}: {exc}") from None
    LOG.info("webapp: serving the %s certificate %s for WA_WEB_SERVERNAME=%s", kind,
             material.certificate.subject.rfc4514_string(), server_name)
    context = _server_context(profile, material)

    link = framing.Link(env.get("WA_SECRET"), grace=_grace(env), name="webapp")
    LOG.info("webapp: %s", "WA_SECRET set: link to the Coreapps encrypted" if link.encrypted
             else "no WA_SECRET: link to the Coreapps in plaintext")
    if multiconnect:
        cluster_db = store.Store(cfg, "clusterStore")
        _connect_with_retry(lambda: cluster.create_schema(cluster_db), "cannot prepare the clusterStore database",
                            _db_wait(env))
        cores = corelink.ClusterCores(cluster_db, link)
    else:
        baseport = env.get("WACORE_BASEPORT") or "6250"
        if not baseport.isdigit() or not 1 <= int(baseport) <= 65533:
            raise StartupError(f"WACORE_BASEPORT is {baseport!r}: give the Coreapp's base port, e.g. 6250", code=2)
        cores = corelink.SingleCore(env.get("WACORE_HOSTNAME") or "wacore", int(baseport), link)
    LOG.info("webapp: Coreapps: %s", cores.describe())

    api_key = env.get("WA_API_KEY") or None
    if api_key and not 12 <= len(api_key) <= 128:
        LOG.warning("webapp: WA_API_KEY ignored: it must be 12 to 128 characters (section 2.2)")
        api_key = None
    web_api = webapp_api.WebApi(users_db=users_db, cert_store=cert_store, cores=cores, server_name=server_name,
                                api_key=api_key, login_limiter=ratelimit.failed_login_limiter(),
                                health_limiter=ratelimit.health_limiter(), multiconnect=multiconnect)
    return web_api, context, f"profile {profile.name}, {'multiconnect' if multiconnect else 'single-connect'}"


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = headers.SERVER_TAG
    sys_version = ""

    def version_string(self):
        return headers.SERVER_TAG  # section 6: no product name, no version

    def setup(self):
        self.request.settimeout(CLIENT_TIMEOUT)
        self.request.do_handshake()  # in this thread: a slow client never blocks the accept loop
        super().setup()

    def log_message(self, format, *args):  # noqa: A002 - the base class's signature
        LOG.debug("webapp: %s %s", self.address_string(), format % args)

    def _dispatch(self):
        if self.headers.get("Transfer-Encoding"):
            return self._send(411, {"Connection": "close"}, None)
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY:
            self.close_connection = True
            return self._send(*webapp_api.http_error(413, "Payload too large", f"at most {MAX_BODY} bytes"))
        body = self.rfile.read(length) if length else b""
        request = webapp_api.Request(self.command, self.path, {k.lower(): v for k, v in self.headers.items()},
                                     body, self.client_address[0])
        try:
            status, head, payload = self.server.web_api.handle(request)
        except store.StoreError as exc:
            LOG.error("webapp: %s %s: %s", self.command, self.path, exc)
            status, head, payload = webapp_api.http_error(500, "Internal error", "database error")
        except Exception:  # noqa: BLE001 - one request must not take the server down
            LOG.exception("webapp: %s %s failed", self.command, self.path)
            status, head, payload = webapp_api.http_error(500, "Internal error", "see the Webapp log")
        self._send(status, head, payload)

    def _send(self, status, head, payload):
        if isinstance(payload, dict):
            data = json.dumps(payload).encode("utf-8")
        elif isinstance(payload, str):
            data = payload.encode("utf-8")
        else:
            data = payload or b""
        self.send_response(status)
        for name, value in head.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _dispatch


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, web_api, context):
        super().__init__(address, Handler)
        self.web_api = web_api
        self.context = context

    def get_request(self):
        sock, address = self.socket.accept()
        return self.context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), address

    def handle_error(self, request, client_address):
        # Scanners (sslyze) fail hundreds of handshakes on purpose: one line each, no traceback.
        LOG.debug("webapp: connection from %s ended: %s", client_address[0], sys.exc_info()[1])


def main(env=None):
    env = os.environ if env is None else env
    logging.basicConfig(stream=sys.stderr, level=logging.INFO,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("waent_sim.store").setLevel(logging.WARNING)
    try:
        web_api, context, description = build(env)
    except StartupError as exc:
        LOG.error("webapp: cannot start: %s", exc)
        return exc.code
    port = int(env.get("WAENT_SIM_HTTPS_PORT") or 443)
    server = Server(("0.0.0.0", port), web_api, context)  # noqa: S104 - the container's published port
    stop = threading.Event()

    def on_term(_signum, _frame):
        stop.set()
        threading.Thread(target=server.shutdown, daemon=True).start()

    if threading.current_thread() is threading.main_thread():  # unit tests run it in a thread
        signal.signal(signal.SIGTERM, on_term)
        signal.signal(signal.SIGINT, on_term)
    LOG.info("webapp: ready, %s, listening on %d (%s)", description, port, api.API_VERSION)
    server.serve_forever(poll_interval=0.5)
    server.server_close()
    LOG.info("webapp: stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
