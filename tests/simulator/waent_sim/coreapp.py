# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Coreapp/Master process: ``python3 -m waent_sim.coreapp`` (reference sections 1.3, 1.4, 2.1-2.3, 4.4, 4.5).

Documented behaviour:

* One image, two roles: a Master is the Coreapp with ``WA_APP_MULTICONNECT=1`` and
  ``WA_MASTER_NODE=1`` (sections 1.1, 1.3); ``WA_APP_MULTICONNECT`` is ``0`` or ``1`` (section 2.3).
* Database from ``WA_DB_*`` (section 2.1, :mod:`waent_sim.dbconfig`), databases ``clusterStore``
  and ``configStore``; the Coreapp logs the option string it uses.
* Services on 6250 (message), 6251 (contacts), 6252 (control), 6253 (healthcheck) (section 1.4),
  on the address ``WA_TCP_LISTEN_ADDRESS`` (``any``: all interfaces, section 2.3), over the
  ``WA_SECRET`` link (section 2.2, :mod:`waent_sim.framing`, :mod:`waent_sim.transport`).
* Master-only commands (settings get/set/delete, webhook CA get/set/delete) are answered by the
  primary Master in multiconnect (section 1.4 row 4); ``/v1/health`` asks every node's control port.
* Multiconnect: every node advertises ``COREAPP_HOSTNAME`` and ``COREAPP_EXTERNAL_PORTS`` (4 ports)
  in ``clusterStore``; Masters compete for the lease (section 1.3, :mod:`waent_sim.cluster`).
* Webhooks are POSTed over HTTPS, verified against the uploaded webhook CA, which a Coreapp reads
  at start only (sections 1.4 row 9, 4.4).

Choices where the reference is silent (more in :mod:`waent_sim.coreenv`, :mod:`waent_sim.coreconfig`,
:mod:`waent_sim.webhook`):

* ``health`` answers ``gateway_status: connected``: the simulator has no WhatsApp servers, so a
  node that answers over the link is as connected as it can be (the Webapp reports a node it
  cannot reach as ``disconnected``). ``role`` is ``coreapp`` in single-connect.
* Every port answers ``ping``; only 6252 answers control requests. Connections are served one
  thread each, at most 64 at a time; master-only commands run one after another on one database
  connection.
* The first database connection is retried for 30 s, 2 s apart (a database may still be
  starting); an attempt under way may add up to ``store.CONNECT_TIMEOUT``.
* Registration is refreshed every 2 s. A Master renews its lease every 2 s for 10 s and answers
  master-only commands only while its own clock is inside the lease it last wrote, so it stops
  before another Master can take over; a failed renewal makes it secondary at once. On SIGTERM it
  releases the lease. Nodes stay registered after they stop (the Webapp shows them ``disconnected``).
* A simulator-only Unix socket (``/run/waent-sim/trigger.sock``, ``WAENT_SIM_TRIGGER_SOCKET`` in
  tests) sends one test callback on request: ``python3 -m waent_sim.coreapp send-test-callback``.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
import threading
import time
from concurrent import futures

from waent_sim import cluster, coreconfig, coreenv, dbconfig, framing, store, transport, webhook

LOG = logging.getLogger("waent_sim.coreapp")  # not "__main__" under python3 -m

PORTS = (6250, 6251, 6252, 6253)
SERVICES = ("message", "contacts", "control", "healthcheck")
CONTROL = "control"
REFRESH_SECONDS = 2
LEASE_TTL = cluster.DEFAULT_TTL
DB_RETRY = 2
MAX_CONNECTIONS = 64
ANSWER_TIMEOUT = 20  # a master-only command waits this long for the database
MASTER_ONLY = ("settings_get", "settings_patch", "settings_delete",
               "webhook_ca_get", "webhook_ca_set", "webhook_ca_delete")


class Coreapp:
    """The listeners, the cluster loop and the control commands of one Coreapp/Master."""

    def __init__(self, *, role, multiconnect, key, link, cluster_store, config_store, listen_host="127.0.0.1",
                 ports=PORTS, hostname=None, advertised_ports=None, clock=time.time, trigger_path=None,
                 refresh=REFRESH_SECONDS, lease_ttl=LEASE_TTL):
        self.role, self.multiconnect, self.node_key, self.link = role, multiconnect, key, link
        self.cluster_store, self.config_store = cluster_store, config_store
        self.listen_host, self.ports, self.clock = listen_host, tuple(ports), clock
        self.hostname, self.advertised_ports = hostname, advertised_ports
        self.trigger_path, self.refresh, self.lease_ttl = trigger_path, refresh, lease_ttl
        self.is_master = role == "master"
        self.bound_ports = ()
        self.webhook_context = None  # loaded once, at start (section 4.4)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._primary_until = 0
        self._lease_state = None
        self._db = futures.ThreadPoolExecutor(1, thread_name_prefix=f"{role}-db")  # one DB connection for commands
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        self._sockets, self._threads = [], []

    # -- start and stop ------------------------------------------------------------------------
    def prepare(self):
        """Create the schemas and load the webhook CA (once: a new one needs a restart, section 4.4)."""
        cluster.create_schema(self.cluster_store)
        coreconfig.create_schema(self.config_store)
        self.webhook_context = webhook.load_context(coreconfig.get_webhook_ca(self.config_store), self.role)

    def start(self):
        """Bind every port first (a busy port leaves nothing half started), then serve."""
        family = socket.AF_INET6 if ":" in self.listen_host else socket.AF_INET
        for port in self.ports:
            sock = socket.socket(family, socket.SOCK_STREAM)
            self._sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.listen_host, port))
            sock.listen(64)
            sock.settimeout(0.5)  # accept() wakes up to see a stop request
        self.bound_ports = tuple(sock.getsockname()[1] for sock in self._sockets)
        for sock, service in zip(self._sockets, SERVICES, strict=True):
            self._spawn(self._accept_loop, sock, service)
        if self.multiconnect:
            self.cluster_tick()  # registered (and the lease tried) before the ready line
            self._spawn(self._cluster_loop)
        if self.trigger_path:
            sock = webhook.bind_trigger(self.trigger_path)
            self._sockets.append(sock)
            self._spawn(self._trigger_loop, sock)

    def _spawn(self, target, *args):
        thread = threading.Thread(target=target, args=args, daemon=True)
        thread.start()
        self._threads.append(thread)

    def stop(self):
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)
        for sock in self._sockets:
            sock.close()
        if self.trigger_path:
            webhook.unlink_trigger(self.trigger_path)
        if self.is_master and self.multiconnect:
            try:
                cluster.release(self.cluster_store, self.node_key)
                LOG.info("%s: released the primary-master lease", self.role)
            except store.StoreError as exc:
                LOG.warning("%s: cannot release the lease: %s", self.role, exc)
        self._db.shutdown(wait=False, cancel_futures=True)

    # -- listeners -----------------------------------------------------------------------------
    def _accept_loop(self, sock, service):
        while not self._stop.is_set():
            try:
                conn, addr = sock.accept()
            except TimeoutError:
                continue
            except OSError as exc:
                if not self._stop.is_set():
                    LOG.error("%s: %s listener failed: %s", self.role, service, exc)
                return
            if not self._slots.acquire(timeout=5):
                LOG.warning("%s: %d connections busy, closing one from %s", self.role, MAX_CONNECTIONS, addr[0])
                conn.close()
                continue
            threading.Thread(target=self._serve, args=(conn, addr, service), daemon=True).start()

    def _serve(self, conn, addr, service):
        try:
            transport.serve_connection(conn, self.link, lambda request: self.handle(service, request),
                                       peer=f"{addr[0]}:{addr[1]} ({service})")
        finally:
            self._slots.release()

    # -- requests ------------------------------------------------------------------------------
    def node_role(self):
        if not self.is_master:
            return "coreapp"
        return "primary_master" if self.is_primary() else "secondary_master"

    def is_primary(self):
        """Whether this Master may act as primary: its lease, by its own clock, has not run out."""
        with self._lock:
            return self.clock() < self._primary_until

    def handle(self, service, request):
        """The answer to one request on ``service``'s port; never raises (the connection would end unanswered)."""
        try:
            return self._dispatch(service, request)
        except Exception:  # noqa: BLE001 - a bug must not take the link down silently
            LOG.exception("%s: request %r failed", self.role, str(request.get("op"))[:40])
            return {"ok": False, "error": "internal error"}

    def _dispatch(self, service, request):
        op = request.get("op")
        if op == "ping":
            return {"ok": True, "service": service, "node": self.node_key}
        if service != CONTROL:
            return {"ok": False, "error": "not the control service"}
        if op == "health":
            return {"ok": True, "node": self.node_key, "role": self.node_role(), "gateway_status": "connected"}
        if op not in MASTER_ONLY:
            return {"ok": False, "error": f"unknown op {str(op)[:40]!r}"}
        if self.multiconnect and not self.is_primary():
            return {"ok": False, "error": "not the primary master", "code": "not_primary"}
        try:  # on the one database thread: commands are serialised and share a connection
            return self._db.submit(self.command, op, request).result(timeout=ANSWER_TIMEOUT)
        except futures.TimeoutError:
            return {"ok": False, "error": "the database did not answer in time", "code": "database"}

    def command(self, op, request):
        """A master-only command against ``configStore`` (sections 4.4, 4.5)."""
        db = self.config_store
        try:
            if op == "settings_get":
                return {"ok": True, "application": coreconfig.get_settings(db)}
            if op == "settings_patch":
                settings = coreconfig.patch_settings(db, request.get("patch"))
                LOG.info("%s: application settings changed: %s", self.role, ", ".join(sorted(request["patch"])))
                return {"ok": True, "application": settings}
            if op == "settings_delete":
                coreconfig.reset_settings(db)
                return {"ok": True}
            if op == "webhook_ca_get":
                pem = coreconfig.get_webhook_ca(db)
                return {"ok": True, "pem": pem} if pem else {"ok": False, "error": "no webhook CA", "code": "not_found"}
            if op == "webhook_ca_set":
                count = coreconfig.set_webhook_ca(db, request.get("pem"))
                LOG.info("%s: webhook CA stored (%d certificates); used after a Coreapp restart", self.role, count)
                return {"ok": True}
            coreconfig.delete_webhook_ca(db)
            LOG.info("%s: webhook CA deleted; the system trust store is used after a Coreapp restart", self.role)
            return {"ok": True}
        except (coreconfig.SettingsError, coreconfig.WebhookCAError) as exc:
            return {"ok": False, "error": str(exc), "code": "invalid"}
        except store.StoreError as exc:
            LOG.error("%s: %s failed: %s", self.role, op, exc)
            return {"ok": False, "error": f"database error: {exc}", "code": "database"}

    # -- cluster (multiconnect) ----------------------------------------------------------------
    def cluster_tick(self):
        """Refresh this node's registration; a Master takes or renews the lease and logs changes."""
        now = self.clock()
        try:
            cluster.register(self.cluster_store, self.node_key, self.hostname, self.advertised_ports,
                             self.is_master, now)
        except store.StoreError as exc:
            LOG.warning("%s: cannot refresh the registration of %s: %s", self.role, self.node_key, exc)
        if not self.is_master:
            return
        try:
            held = cluster.try_lease(self.cluster_store, self.node_key, now, self.lease_ttl)
        except store.StoreError as exc:
            LOG.warning("%s: cannot renew the lease (acting as secondary): %s", self.role, exc)
            held = False
        with self._lock:
            self._primary_until = int(now) + self.lease_ttl if held else 0  # strictly before anyone may take it
        state = "primary" if held else "secondary"
        if state != self._lease_state:
            self._lease_state = state
            LOG.info("%s: %s %s", self.role, self.node_key, "became primary master" if held else "is secondary master")

    def _cluster_loop(self):
        while not self._stop.wait(self.refresh):
            self.cluster_tick()

    # -- webhook trigger (simulator only) ------------------------------------------------------
    def _trigger_loop(self, sock):
        while not self._stop.is_set():
            try:
                conn, _addr = sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:  # one at a time: each delivery is bounded by webhook.TIMEOUT
                webhook.serve_trigger(conn, self._test_callback)

    def _test_callback(self):
        try:
            settings = self._db.submit(coreconfig.get_settings, self.config_store).result(timeout=ANSWER_TIMEOUT)
        except (store.StoreError, futures.TimeoutError) as exc:
            return False, f"cannot read webhooks.url from the database: {exc}"
        ok, line = webhook.send_test_callback(settings["webhooks"]["url"], self.webhook_context)
        (LOG.info if ok else LOG.warning)("%s: %s", self.role, line)
        return ok, line


def port_list(ports):
    """``6250-6253`` for consecutive ports (the ready line), else the ports comma-separated."""
    ports = list(ports)
    if ports == list(range(ports[0], ports[0] + len(ports))):
        return f"{ports[0]}-{ports[-1]}"
    return ",".join(map(str, ports))


def _open_stores(cfg, role, factory, wait):
    """clusterStore and configStore with their schemas, retrying the first connection for ``wait`` seconds."""
    deadline = time.monotonic() + wait
    attempt = 0
    while True:
        attempt += 1
        try:
            stores = factory(cfg, "clusterStore"), factory(cfg, "configStore")
            cluster.create_schema(stores[0])
            coreconfig.create_schema(stores[1])
            return stores
        except store.StoreError as exc:
            if time.monotonic() + DB_RETRY > deadline:
                raise
            LOG.warning("%s: database not reachable (attempt %d), retrying in %d s: %s", role, attempt, DB_RETRY, exc)
            threading.Event().wait(DB_RETRY)  # not time.sleep: EINVAL under libfaketime (the skew tests)


def run(env, stop, *, ports=PORTS, store_factory=store.Store, ready=None, trigger_path=None, mountinfo=None):
    """Start from ``env``, serve until ``stop`` (an Event) is set, return the exit status."""
    try:
        opts = coreenv.read(env)
        cfg = dbconfig.read(env, opts.role)
    except coreenv.StartupError as exc:
        LOG.error("%s", exc)
        return exc.code
    except dbconfig.DBConfigError as exc:
        if isinstance(exc, dbconfig.InvalidConnectionOptionError):  # issue #81: say where the option came from
            source = "WA_DB_SSL_*" if any(coreenv.get(env, name) for name in dbconfig.SSL_VARIABLES) \
                else "WA_DB_CONNECTION_OPTION"
            exc = f"{exc} (the option list built from {source}; PostgreSQL takes libpq keywords only)"
        LOG.error("%s: database settings refused: %s", opts.role, exc)
        return 2
    role = opts.role
    LOG.info("%s", cfg.log_line)
    for warning in cfg.warnings:
        LOG.warning("%s: %s", role, warning)
    if cfg.ignored:
        LOG.info("%s: ignored %s", role, ", ".join(cfg.ignored))
    own = socket.gethostname()
    if mountinfo is None:
        try:
            with open("/proc/self/mountinfo", encoding="utf-8", errors="replace") as handle:
                mountinfo = handle.read()
        except OSError:
            mountinfo = ""
    cid, how = coreenv.container_id(mountinfo, own)
    key = coreenv.node_key(opts.advertised_host, own, cid)
    LOG.info("%s: node %s (container id from %s)", role, key, how)
    secret = coreenv.get(env, "WA_SECRET")
    link = framing.Link(secret, grace=opts.grace, name=role)
    LOG.info("%s: %s (window %d s)", role, "WA_SECRET set: link encrypted" if secret else
             "no WA_SECRET: link in plaintext", opts.grace)
    try:
        cluster_store, config_store = _open_stores(cfg, role, store_factory, opts.db_wait)
    except store.StoreError as exc:
        LOG.error("%s: database connection failed: %s", role, exc)
        return 1
    LOG.info("%s: database %s", role, cluster_store.describe())
    app = Coreapp(role=role, multiconnect=opts.multiconnect, key=key, link=link, cluster_store=cluster_store,
                  config_store=config_store, listen_host=opts.listen_host, ports=ports, hostname=opts.advertised_host,
                  advertised_ports=opts.external_ports, trigger_path=trigger_path)
    try:
        app.prepare()
        app.start()
    except (store.StoreError, OSError) as exc:
        LOG.error("%s: cannot start: %s", role, exc)
        app.stop()
        return 1
    LOG.info("%s: ready, role %s, listening on %s", role, role, port_list(app.bound_ports))
    if ready is not None:
        ready(app)
    while not stop.wait(1):
        pass
    LOG.info("%s: stopping", role)
    app.stop()
    return 0


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    trigger = os.environ.get("WAENT_SIM_TRIGGER_SOCKET") or webhook.TRIGGER_SOCKET
    if argv == ["send-test-callback"]:
        return webhook.request_test_callback(trigger)
    if argv:
        print("usage: python3 -m waent_sim.coreapp [send-test-callback]", file=sys.stderr)
        return 2
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda _signum, _frame: stop.set())
    return run(os.environ, stop, trigger_path=trigger)


if __name__ == "__main__":
    sys.exit(main())
