# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The simulator's Coreapp/Master (reference sections 1.3, 1.4, 2.1-2.3, 4.2, 4.4, 4.5): its environment,
settings, webhook CA, control commands, the WA_SECRET link on real sockets and the webhook trigger."""

from __future__ import annotations

import hashlib
import http.server
import json
import logging
import ssl
import threading

import pytest
from cryptography.hazmat.primitives import serialization
from waent_sim import api, certs, cluster, coreapp, coreconfig, coreenv, dbconfig, framing, store, transport, webhook

SECRET = "correct horse battery staple"
ID = "0123456789abcdef" * 4
OTHER = "other-master:" + "f" * 64
LOOPBACK = "127.0.0.1"
ANY_PORTS = (0, 0, 0, 0)
ALL = "0.0.0.0"  # noqa: S104 - what WA_TCP_LISTEN_ADDRESS=any means (section 2.3)
DB_ENV = {"WA_DB_ENGINE": "MYSQL", "WA_DB_HOSTNAME": "db", "WA_DB_PORT": "3306",
          "WA_DB_USERNAME": "wa", "WA_DB_PASSWORD": "pw"}
MULTI_ENV = {"WA_APP_MULTICONNECT": "1", "COREAPP_HOSTNAME": "10.0.0.5",
             "COREAPP_EXTERNAL_PORTS": "6254,6255,6256,6257"}
DOCKER_MOUNTINFO = (
    f"1101 1090 8:1 /var/lib/docker/volumes/data/_data/containers/{'9' * 64}/x /data rw - ext4 /dev/sda1 rw\n"
    f"1102 1090 8:1 /var/lib/docker/containers/{ID}/resolv.conf /etc/resolv.conf rw - ext4 /dev/sda1 rw\n"
    f"1103 1090 8:1 /var/lib/docker/containers/{ID}/hostname /etc/hostname rw - ext4 /dev/sda1 rw\n")
PODMAN_MOUNTINFO = (
    "745 740 0:44 /containers/storage/overlay-containers/"
    f"{ID}/userdata/hostname /etc/hostname rw,nosuid,nodev - tmpfs tmpfs rw\n")


def sqlite_config(tmp_path):
    return dbconfig.DBConfig(role="coreapp", engine=dbconfig.ENGINE_SQLITE, host=None, port=None, user=None,
                             password=None, tls=None, tls_source=None, log_line="test",
                             sqlite_path=str(tmp_path / "db" / "waweb.db"))


@pytest.fixture
def stores(tmp_path):
    cfg = sqlite_config(tmp_path)
    return store.Store(cfg, "clusterStore"), store.Store(cfg, "configStore")


@pytest.fixture
def make_app(stores, clock):
    """``make_app(**overrides)`` -> a prepared (not started) Coreapp on SQLite; stopped at the end."""
    made = []

    def make(**overrides):
        kwargs = dict(role="coreapp", multiconnect=False, key="wacore:" + ID, link=framing.Link(None),
                      cluster_store=stores[0], config_store=stores[1], listen_host=LOOPBACK, ports=ANY_PORTS,
                      hostname="10.0.0.5", advertised_ports=(6250, 6251, 6252, 6253), clock=clock)
        kwargs.update(overrides)
        app = coreapp.Coreapp(**kwargs)
        app.prepare()
        made.append(app)
        return app

    yield make
    for app in made:
        app.stop()


def control(app, op, **fields):
    return app.handle("control", {"op": op, **fields})


# --- environment (sections 1.3, 2.3) --------------------------------------------------------

@pytest.mark.parametrize("changes, role, multi", [
    ({}, "coreapp", False),
    ({"WA_APP_MULTICONNECT": "0"}, "coreapp", False),
    ({"WA_MASTER_NODE": "1"}, "coreapp", False),  # a Master needs multiconnect
    (MULTI_ENV, "coreapp", True),
    ({**MULTI_ENV, "WA_MASTER_NODE": "1"}, "master", True),
    ({**MULTI_ENV, "WA_MASTER_NODE": "0"}, "coreapp", True),
])
def test_role_from_the_environment(changes, role, multi):
    opts = coreenv.read(changes)
    assert (opts.role, opts.multiconnect) == (role, multi)


@pytest.mark.parametrize("value", ["2", "true", "yes", " 1", "01"])
def test_multiconnect_is_0_or_1_only(value):
    with pytest.raises(coreenv.StartupError, match="WA_APP_MULTICONNECT") as info:
        coreenv.read({"WA_APP_MULTICONNECT": value})
    assert info.value.code == 2


@pytest.mark.parametrize("drop, variable", [
    ("COREAPP_HOSTNAME", "COREAPP_HOSTNAME"),
    ("COREAPP_EXTERNAL_PORTS", "COREAPP_EXTERNAL_PORTS"),
])
def test_multiconnect_needs_the_advertised_address(drop, variable):
    env = {name: value for name, value in MULTI_ENV.items() if name != drop}
    with pytest.raises(coreenv.StartupError, match=variable) as info:
        coreenv.read(env)
    assert info.value.code == 2


@pytest.mark.parametrize("ports", ["6254,6255,6256", "6254,6255,6256,6257,6258", "6254, 6255,6256,6257",
                                   "6254,6255,6256,0", "6254,6255,6256,65536", "6254,6254,6256,6257",
                                   "6254,6255,6256,625x", ""])
def test_external_ports_are_four_distinct_tcp_ports(ports):
    with pytest.raises(coreenv.StartupError, match="COREAPP_EXTERNAL_PORTS"):
        coreenv.read({**MULTI_ENV, "COREAPP_EXTERNAL_PORTS": ports})


def test_external_ports_parsed():
    assert coreenv.read(MULTI_ENV).external_ports == (6254, 6255, 6256, 6257)


@pytest.mark.parametrize("value, host", [(None, ALL), ("any", ALL), ("10.1.2.3", "10.1.2.3"),
                                         ("::1", "::1")])
def test_listen_address(value, host):
    env = {} if value is None else {"WA_TCP_LISTEN_ADDRESS": value}
    assert coreenv.read(env).listen_host == host


@pytest.mark.parametrize("value", ["wacore", "ANY", "10.1.2"])
def test_listen_address_must_be_any_or_an_ip(value):
    with pytest.raises(coreenv.StartupError, match="WA_TCP_LISTEN_ADDRESS"):
        coreenv.read({"WA_TCP_LISTEN_ADDRESS": value})


def test_replay_grace_is_10_seconds_unless_the_test_override_says_otherwise():
    assert coreenv.read({}).grace == 10
    assert coreenv.read({"WAENT_SIM_REPLAY_GRACE": "3"}).grace == 3
    with pytest.raises(coreenv.StartupError, match="WAENT_SIM_REPLAY_GRACE"):
        coreenv.read({"WAENT_SIM_REPLAY_GRACE": "-1"})


# --- node key (section 4.2) -----------------------------------------------------------------

@pytest.mark.parametrize("mountinfo", [DOCKER_MOUNTINFO, PODMAN_MOUNTINFO])
def test_container_id_from_mountinfo_prefers_the_etc_hostname_mount(mountinfo):
    assert coreenv.container_id(mountinfo, "somehost") == (ID, "mountinfo")


def test_container_id_falls_back_to_a_hex_hostname_then_to_a_hash():
    assert coreenv.container_id("", "0123456789ab") == ("0123456789ab", "hostname")
    digest = hashlib.sha256(b"wacore").hexdigest()[:12]
    assert coreenv.container_id("no container here\n", "wacore") == (digest, "sha256 of the hostname")
    assert coreenv.container_id("", "0123456789AB")[1] == "sha256 of the hostname"  # upper case is not an id


@pytest.mark.parametrize("advertised, own, cid, key", [
    ("10.0.0.5", "box", ID, "10.0.0.5:" + ID),
    (None, "wacore", "0123456789ab", "wacore:0123456789ab"),
    ("2001:db8::5", "box", ID, "box:" + ID),  # an IPv6 literal would make the key ambiguous
])
def test_node_key_is_hostname_colon_container_id_as_the_api_expects(advertised, own, cid, key):
    assert coreenv.node_key(advertised, own, cid) == key
    assert api._NODE_KEY.fullmatch(key)


# --- settings (section 4.5) -----------------------------------------------------------------

def test_settings_defaults_include_the_documented_ones(stores):
    coreconfig.create_schema(stores[1])
    settings = coreconfig.get_settings(stores[1])
    assert settings["callback_persist"] is True
    assert settings["callback_backoff_delay_ms"] == 3000
    assert settings["max_callback_backoff_delay_ms"] == 900000
    assert settings["webhooks"] == {"url": "", "max_concurrent_requests": 6}


@pytest.mark.parametrize("patch, message", [
    ({"colour": "blue"}, "unknown field colour"),
    ({"webhooks": {"secret": "x"}}, "unknown field webhooks.secret"),
    ({"media": {"auto_download": ["image"], "x": 1}}, "unknown field media.x"),
    ({"webhooks": {"url": "http://hooks.example.com/in"}}, "webhooks.url must be an HTTPS URL"),
    ({"webhooks": {"url": "https://"}}, "webhooks.url must be an HTTPS URL"),
    ({"webhooks": {"url": "https://:443/x"}}, "webhooks.url must be an HTTPS URL"),
    ({"webhooks": {"url": "https://h.example:99999/"}}, "webhooks.url must be an HTTPS URL"),
    ({"webhooks": {"url": "hooks.example.com"}}, "webhooks.url must be an HTTPS URL"),
    ({"webhooks": {"url": 5}}, "webhooks.url must be a string"),
    ({"webhooks": "https://hooks.example.com"}, "webhooks must be an object"),
    ({"callback_persist": "true"}, "callback_persist must be a boolean"),
    ({"callback_backoff_delay_ms": True}, "callback_backoff_delay_ms must be an integer"),
    ({"heartbeat_interval": -1}, "heartbeat_interval must be an integer"),
    ({"heartbeat_interval": 1.5}, "heartbeat_interval must be an integer"),
    ({"webhooks": {"max_concurrent_requests": 0}}, "webhooks.max_concurrent_requests must be an integer >= 1"),
    ({"media": {"auto_download": ["image", "image"]}}, "media.auto_download"),
    ({"media": {"auto_download": ["spreadsheet"]}}, "media.auto_download"),
])
def test_settings_patch_refused_and_nothing_stored(stores, patch, message):
    coreconfig.create_schema(stores[1])
    with pytest.raises(coreconfig.SettingsError, match=message):
        coreconfig.patch_settings(stores[1], {"sent_status": True, **patch})
    assert coreconfig.get_settings(stores[1]) == coreconfig.DEFAULTS  # the valid part was not stored either


def test_settings_patch_merges_nested_objects_and_empty_url_clears(stores):
    db = stores[1]
    coreconfig.create_schema(db)
    coreconfig.patch_settings(db, {"webhooks": {"max_concurrent_requests": 12}})
    settings = coreconfig.patch_settings(db, {"webhooks": {"url": "HTTPS://hooks.example.com:8443/in?x=1"}})
    assert settings["webhooks"] == {"url": "HTTPS://hooks.example.com:8443/in?x=1", "max_concurrent_requests": 12}
    assert coreconfig.get_settings(db)["webhooks"]["max_concurrent_requests"] == 12
    coreconfig.patch_settings(db, {"webhooks": {"url": ""}, "media": {"auto_download": ["image", "voice"]}})
    settings = coreconfig.get_settings(db)
    assert settings["webhooks"]["url"] == ""
    assert settings["media"]["auto_download"] == ["image", "voice"]
    assert settings["callback_backoff_delay_ms"] == 3000


def test_settings_delete_resets_to_the_defaults(stores):
    db = stores[1]
    coreconfig.create_schema(db)
    coreconfig.patch_settings(db, {"pass_through": False, "webhooks": {"url": "https://h.example/"}})
    assert coreconfig.get_settings(db) != coreconfig.DEFAULTS
    coreconfig.reset_settings(db)
    assert coreconfig.get_settings(db) == coreconfig.DEFAULTS


# --- webhook CA (section 4.4) ---------------------------------------------------------------

@pytest.fixture(scope="module")
def receiver_material():
    return certs.generate_autogen(LOOPBACK, subject_alt_name=True)


@pytest.fixture(scope="module")
def stranger_material():
    return certs.generate_autogen(LOOPBACK, subject_alt_name=True)


def pem_of(material):
    return material.ca_blob


def test_webhook_ca_bundle_of_several_certificates(receiver_material, stranger_material):
    bundle = "comment line\n" + pem_of(receiver_material) + pem_of(stranger_material)
    assert len(coreconfig.parse_webhook_ca(bundle)) == 2


@pytest.mark.parametrize("mangle, message", [
    (lambda pem: "", "empty"),
    (lambda pem: "just text\n", "no PEM certificate"),
    (lambda pem: pem.replace("-----END CERTIFICATE-----", ""), "unterminated"),
    (lambda pem: pem[:80] + "!!!!" + pem[84:], "cannot be read"),
    (lambda pem: pem + "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "PRIVATE KEY"),
])
def test_webhook_ca_refused(receiver_material, mangle, message):
    with pytest.raises(coreconfig.WebhookCAError, match=message):
        coreconfig.parse_webhook_ca(mangle(pem_of(receiver_material)))


def test_webhook_ca_set_get_delete(stores, receiver_material):
    db = stores[1]
    coreconfig.create_schema(db)
    assert coreconfig.get_webhook_ca(db) is None
    assert coreconfig.set_webhook_ca(db, pem_of(receiver_material)) == 1
    assert coreconfig.get_webhook_ca(db) == pem_of(receiver_material)
    with pytest.raises(coreconfig.WebhookCAError):
        coreconfig.set_webhook_ca(db, "garbage")
    assert coreconfig.get_webhook_ca(db) == pem_of(receiver_material)  # a refused upload overwrites nothing
    coreconfig.delete_webhook_ca(db)
    assert coreconfig.get_webhook_ca(db) is None


# --- control commands (section 1.4 rows 2-5) ------------------------------------------------

def test_every_port_answers_ping_only_control_answers_commands(make_app):
    app = make_app()
    for service in coreapp.SERVICES:
        assert app.handle(service, {"op": "ping"}) == {"ok": True, "service": service, "node": app.node_key}
    for service in ("message", "contacts", "healthcheck"):
        assert app.handle(service, {"op": "health"}) == {"ok": False, "error": "not the control service"}
    assert control(app, "health") == {"ok": True, "node": app.node_key, "role": "coreapp",
                                      "gateway_status": "connected"}
    assert control(app, "launch_rockets")["ok"] is False


def test_single_connect_coreapp_answers_the_master_only_commands(make_app, receiver_material):
    app = make_app()
    assert control(app, "settings_get")["application"] == coreconfig.DEFAULTS
    answer = control(app, "settings_patch", patch={"webhooks": {"url": "http://plain.example/"}})
    assert answer == {"ok": False, "error": "webhooks.url must be an HTTPS URL", "code": "invalid"}
    assert control(app, "settings_patch", patch={"sent_status": True})["application"]["sent_status"] is True
    assert control(app, "settings_delete") == {"ok": True}
    assert control(app, "settings_get")["application"]["sent_status"] is False
    assert control(app, "webhook_ca_get") == {"ok": False, "error": "no webhook CA", "code": "not_found"}
    assert control(app, "webhook_ca_set", pem="nope")["code"] == "invalid"
    assert control(app, "webhook_ca_set", pem=pem_of(receiver_material)) == {"ok": True}
    assert control(app, "webhook_ca_get") == {"ok": True, "pem": pem_of(receiver_material)}
    assert control(app, "webhook_ca_delete") == {"ok": True}
    assert control(app, "webhook_ca_get")["code"] == "not_found"


@pytest.mark.parametrize("op", coreapp.MASTER_ONLY)
def test_multiconnect_coreapp_refuses_master_only_commands(make_app, op):
    app = make_app(multiconnect=True)
    app.cluster_tick()
    assert control(app, op) == {"ok": False, "error": "not the primary master", "code": "not_primary"}
    assert control(app, "health")["role"] == "coreapp"


def test_secondary_master_refuses_until_it_takes_the_expired_lease(make_app, stores, clock):
    app = make_app(role="master", multiconnect=True, key="master:" + ID)
    assert cluster.try_lease(stores[0], OTHER, clock())
    app.cluster_tick()
    assert control(app, "health")["role"] == "secondary_master"
    assert control(app, "settings_get")["code"] == "not_primary"
    clock.advance(cluster.DEFAULT_TTL + 1)  # the other Master stopped renewing
    app.cluster_tick()
    assert control(app, "health")["role"] == "primary_master"
    assert control(app, "settings_get")["ok"] is True
    assert cluster.primary_master(stores[0], clock()) == app.node_key
    assert [n["node_key"] for n in cluster.nodes(stores[0])] == [app.node_key]


def test_primary_stops_answering_when_its_lease_runs_out_unrenewed(make_app, clock):
    app = make_app(role="master", multiconnect=True, key="master:" + ID)
    app.cluster_tick()
    assert control(app, "settings_get")["ok"] is True
    clock.advance(cluster.DEFAULT_TTL - 0.5)
    assert control(app, "settings_get")["ok"] is True
    clock.advance(0.5)  # by its own clock the lease is over: another Master may take it after this second
    assert control(app, "settings_get")["code"] == "not_primary"


# --- the link on real sockets (section 2.2) -------------------------------------------------

@pytest.mark.parametrize("server_secret, client_secret, server_reason", [
    (SECRET, SECRET + "x", framing.REASON_WRONG_KEY),
    (None, SECRET, framing.REASON_NO_SECRET_HERE),
    (SECRET, None, framing.REASON_NO_SECRET_ON_PEER),
])
def test_link_refused_both_ways_when_the_secrets_differ(make_app, caplog, server_secret, client_secret,
                                                        server_reason):
    caplog.set_level(logging.INFO)
    app = make_app(link=framing.Link(server_secret, name="coreapp"))
    app.start()
    with pytest.raises(transport.LinkDown) as info:
        transport.call(LOOPBACK, app.bound_ports[2], framing.Link(client_secret, name="webapp"), {"op": "health"},
                       timeout=5)
    assert info.value.reason == framing.REASON_REFUSED
    assert server_reason in str(info.value)
    server_lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("coreapp: frame rejected")]
    assert server_lines and f"({server_reason})" in server_lines[0]


@pytest.mark.parametrize("secret", [SECRET, None])
def test_link_works_with_the_same_secret_or_none_on_every_port(make_app, secret):
    app = make_app(link=framing.Link(secret, name="coreapp"))
    app.start()
    client = framing.Link(secret, name="webapp")
    for service, port in zip(coreapp.SERVICES, app.bound_ports, strict=True):
        answer = transport.call(LOOPBACK, port, client, {"op": "ping"}, timeout=5)
        assert answer == {"ok": True, "service": service, "node": app.node_key}
    health = transport.call(LOOPBACK, app.bound_ports[2], client, {"op": "health"}, timeout=5)
    assert health["gateway_status"] == "connected"


# --- the process (run) ----------------------------------------------------------------------

def start_run(env, tmp_path, **kwargs):
    """Run coreapp.run in a thread on SQLite; returns (thread, stop, result, apps)."""
    stop, ready, result, apps = threading.Event(), threading.Event(), {}, []
    cfg = sqlite_config(tmp_path)
    kwargs.setdefault("store_factory", lambda _cfg, name: store.Store(cfg, name))

    def target():
        result["code"] = coreapp.run(env, stop, ports=ANY_PORTS, mountinfo=DOCKER_MOUNTINFO,
                                     ready=lambda app: (apps.append(app), ready.set()), **kwargs)
        ready.set()

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    assert ready.wait(20)
    return thread, stop, result, apps


def finish(thread, stop, result):
    stop.set()
    thread.join(timeout=20)
    assert not thread.is_alive()
    return result["code"]


def test_run_serves_until_stopped(tmp_path, caplog):
    caplog.set_level(logging.INFO)
    env = {**DB_ENV, "WA_TCP_LISTEN_ADDRESS": LOOPBACK, "WA_SECRET": SECRET, "COREAPP_HOSTNAME": "wacore"}
    thread, stop, result, apps = start_run(env, tmp_path)
    (app,) = apps
    assert app.node_key == "wacore:" + ID
    answer = transport.call(LOOPBACK, app.bound_ports[2], framing.Link(SECRET), {"op": "health"}, timeout=5)
    assert answer["node"] == "wacore:" + ID
    assert finish(thread, stop, result) == 0
    text = caplog.text
    assert "coreapp: mysql db:3306 options connect_timeout=15 (no TLS)" in text
    assert "WA_SECRET set: link encrypted" in text and SECRET not in text and "pw" not in text.split()
    assert "webhook CA: none, system trust store" in text
    assert f"coreapp: ready, role coreapp, listening on {coreapp.port_list(app.bound_ports)}" in text


def test_ready_line_names_the_documented_ports():
    assert coreapp.port_list(coreapp.PORTS) == "6250-6253"
    assert coreapp.port_list((6254, 6255, 6256, 6257)) == "6254-6257"
    assert coreapp.port_list((5, 9, 7, 8)) == "5,9,7,8"


def test_run_master_registers_takes_the_lease_and_releases_it_on_stop(tmp_path, caplog):
    caplog.set_level(logging.INFO)
    env = {**DB_ENV, **MULTI_ENV, "WA_MASTER_NODE": "1", "WA_TCP_LISTEN_ADDRESS": LOOPBACK}
    thread, stop, result, apps = start_run(env, tmp_path)
    db = store.Store(sqlite_config(tmp_path), "clusterStore")
    (node,) = cluster.nodes(db)
    assert (node["node_key"], node["hostname"], node["ports"], node["is_master"]) == \
        ("10.0.0.5:" + ID, "10.0.0.5", [6254, 6255, 6256, 6257], True)
    assert cluster.primary_master(db, apps[0].clock()) == node["node_key"]
    assert "became primary master" in caplog.text
    assert "master: ready, role master" in caplog.text
    assert finish(thread, stop, result) == 0
    assert cluster.primary_master(db, apps[0].clock()) is None


@pytest.mark.parametrize("env, message", [
    ({**DB_ENV, "WA_APP_MULTICONNECT": "yes"}, "WA_APP_MULTICONNECT"),
    ({**DB_ENV, "WA_APP_MULTICONNECT": "1"}, "COREAPP_HOSTNAME"),
    ({**DB_ENV, "WA_DB_ENGINE": "PGSQL", "WA_DB_SSL_CA": "/certs/ca.pem"},
     'invalid connection option "SSL_CA" (the option list built from WA_DB_SSL_*'),  # issue #81
    ({**DB_ENV, "WA_DB_ENGINE": "PGSQL", "WA_DB_CONNECTION_OPTION": "SSL_CA=/c.pem"},
     'invalid connection option "SSL_CA" (the option list built from WA_DB_CONNECTION_OPTION'),
    ({**DB_ENV, "WA_DB_PORT": None}, "WA_DB_PORT"),
])
def test_run_refuses_bad_settings_with_status_2(tmp_path, caplog, env, message):
    env = {name: value for name, value in env.items() if value is not None}
    assert coreapp.run(env, threading.Event(), ports=ANY_PORTS, mountinfo="") == 2
    assert message in caplog.text


def test_run_retries_the_database_then_fails_with_status_1(tmp_path, caplog, monkeypatch):
    caplog.set_level(logging.INFO)
    monkeypatch.setattr(coreapp, "DB_RETRY", 0.05)
    calls = []

    def broken(_cfg, name):
        calls.append(name)
        raise store.StoreError("cannot connect to MySQL db:3306: TLS verification failed")

    env = {**DB_ENV, "WAENT_SIM_DB_WAIT": "1"}
    assert coreapp.run(env, threading.Event(), ports=ANY_PORTS, store_factory=broken, mountinfo="") == 1
    assert 2 <= len(calls) <= 25  # retried, and bounded by the window
    assert "database not reachable (attempt 1)" in caplog.text
    assert "database connection failed: cannot connect to MySQL db:3306: TLS verification failed" in caplog.text


def test_run_retries_until_the_database_is_up(tmp_path, monkeypatch):
    monkeypatch.setattr(coreapp, "DB_RETRY", 0.05)
    cfg, failures = sqlite_config(tmp_path), []

    def slow_start(_cfg, name):
        if len(failures) < 2:
            failures.append(name)
            raise store.StoreError("connection refused")
        return store.Store(cfg, name)

    env = {**DB_ENV, "WA_TCP_LISTEN_ADDRESS": LOOPBACK}
    thread, stop, result, apps = start_run(env, tmp_path, store_factory=slow_start)
    assert apps and len(failures) == 2
    assert finish(thread, stop, result) == 0


# --- webhook delivery and the trigger (sections 1.4 row 9, 4.4) -----------------------------

class _Receiver(http.server.BaseHTTPRequestHandler):
    bodies = []

    def do_POST(self):  # noqa: N802 - http.server's name
        self.bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver(tmp_path, receiver_material):
    """An HTTPS webhook receiver on 127.0.0.1 whose certificate comes from receiver_material's CA."""
    (tmp_path / "cert.pem").write_bytes(receiver_material.server_certificate.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(receiver_material.server_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    server = http.server.ThreadingHTTPServer((LOOPBACK, 0), _Receiver)
    server.socket = context.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
    _Receiver.bodies = []
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    yield f"https://{LOOPBACK}:{server.server_address[1]}/hook", _Receiver.bodies
    server.shutdown()
    server.server_close()


def test_webhook_ca_takes_effect_only_after_a_restart(make_app, receiver, receiver_material, tmp_path, capsys):
    url, bodies = receiver
    trigger = str(tmp_path / "run" / "trigger.sock")
    app = make_app(trigger_path=trigger)
    app.start()
    assert control(app, "settings_patch", patch={"webhooks": {"url": url}})["ok"]
    assert webhook.request_test_callback(trigger, timeout=30) == 1
    assert "CERTIFICATE_VERIFY_FAILED" in capsys.readouterr().out  # system trust store: the private CA is unknown
    assert control(app, "webhook_ca_set", pem=pem_of(receiver_material)) == {"ok": True}
    assert webhook.request_test_callback(trigger, timeout=30) == 1  # stored, not loaded: no restart yet
    assert "CERTIFICATE_VERIFY_FAILED" in capsys.readouterr().out
    assert bodies == []
    app.stop()
    restarted = make_app(trigger_path=trigger)
    restarted.start()
    assert webhook.request_test_callback(trigger, timeout=30) == 0
    assert capsys.readouterr().out.strip().endswith(": HTTP 200 OK")
    assert len(bodies) == 1 and bodies[0]["statuses"][0]["id"] == "waent-sim-test"
    assert bodies[0]["statuses"][0]["status"] == "sent" and bodies[0]["statuses"][0]["timestamp"].isdigit()


def test_webhook_verified_against_the_uploaded_ca_only_and_the_host_name(
        receiver, receiver_material, stranger_material):
    url, bodies = receiver
    ok, line = webhook.send_test_callback(url, webhook.load_context(pem_of(stranger_material)))
    assert not ok and "CERTIFICATE_VERIFY_FAILED" in line
    ok, line = webhook.send_test_callback(url.replace(LOOPBACK, "localhost"),
                                          webhook.load_context(pem_of(receiver_material)))
    assert not ok and "CERTIFICATE_VERIFY_FAILED" in line  # certificate for 127.0.0.1 only
    ok, line = webhook.send_test_callback(url, webhook.load_context(pem_of(receiver_material)))
    assert ok and line.endswith("HTTP 200 OK")
    assert len(bodies) == 1


def test_trigger_without_a_webhook_url_fails(make_app, tmp_path, capsys):
    trigger = str(tmp_path / "t" / "trigger.sock")
    app = make_app(trigger_path=trigger)
    app.start()
    assert webhook.request_test_callback(trigger, timeout=30) == 1
    assert "webhooks.url is not set" in capsys.readouterr().out
    assert (tmp_path / "t").stat().st_mode & 0o777 == 0o700
    assert (tmp_path / "t" / "trigger.sock").stat().st_mode & 0o777 == 0o600


def test_trigger_command_without_a_coreapp_fails(tmp_path, capsys):
    assert webhook.request_test_callback(str(tmp_path / "absent.sock"), timeout=5) == 1
    assert "cannot reach the coreapp trigger" in capsys.readouterr().out
