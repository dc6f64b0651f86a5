# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures shared by the plugin tests: the simulator's Webapp (tests/simulator) over real HTTPS."""

from __future__ import annotations

import pathlib
import sys
import threading

import pytest

SIMULATOR = pathlib.Path(__file__).resolve().parents[2] / "simulator"
if str(SIMULATOR) not in sys.path:
    sys.path.insert(0, str(SIMULATOR))


def _simulator():
    """The simulator's modules, imported only by the tests that use them: the floor venv
    (units-floor) has no PyNaCl and runs the X.509 tests only."""
    from waent_sim import certs, coreapp, corelink, dbconfig, store, webapp  # pylint: disable=import-outside-toplevel

    return certs, coreapp, corelink, dbconfig, store, webapp


@pytest.fixture
def served(tmp_path, monkeypatch):
    """The simulator's Webapp running in this process on loopback (SQLite database).

    Yields ``(port, CA file)``; its certificate has a subjectAltName for ``web.example``.
    """
    certs, _coreapp, _corelink, dbconfig, _store, webapp = _simulator()
    monkeypatch.setattr(dbconfig, "SQLITE_PATH", str(tmp_path / "web" / "waweb.db"))
    real = certs.generate_autogen
    monkeypatch.setattr(certs, "generate_autogen",
                        lambda name=None, **_kw: real(name, subject_alt_name=True))
    env = {"WA_WEB_SERVERNAME": "web.example", "WA_WEB_JWT_CRYPTO_KEY": "j" * 32, "WACORE_HOSTNAME": "127.0.0.1",
           "WACORE_BASEPORT": "1"}
    web_api, context, _description = webapp.build(env)
    server = webapp.Server(("127.0.0.1", 0), web_api, context)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    ca_file = tmp_path / "ca.pem"
    ca_file.write_text(web_api.cert_store.ca_pem("web.example"))
    yield server.server_address[1], str(ca_file)
    server.shutdown()
    server.server_close()


@pytest.fixture
def webapp_server(tmp_path, monkeypatch):
    """Like ``served``, restartable: ``{"port", "api", "restart"}``; a restart starts a new Webapp
    process-equivalent on the same database (a new port), as a container restart does."""
    _certs, _coreapp, _corelink, dbconfig, _store, webapp = _simulator()
    monkeypatch.setattr(dbconfig, "SQLITE_PATH", str(tmp_path / "web" / "waweb.db"))
    env = {"WA_WEB_SERVERNAME": "web.example", "WA_WEB_JWT_CRYPTO_KEY": "j" * 32, "WACORE_HOSTNAME": "127.0.0.1",
           "WACORE_BASEPORT": "1"}
    state = {}

    def start():
        web_api, context, _description = webapp.build(env)
        server = webapp.Server(("127.0.0.1", 0), web_api, context)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
        state.update(port=server.server_address[1], api=web_api, server=server)

    def restart():
        state["server"].shutdown()
        state["server"].server_close()
        start()

    start()
    state["restart"] = restart
    yield state
    state["server"].shutdown()
    state["server"].server_close()


@pytest.fixture
def webapp_and_coreapp(tmp_path, webapp_server):
    """``webapp_server`` with a single-connect Coreapp behind it (both on SQLite, plaintext link):
    the master-only commands (settings, webhook CA) really travel Webapp -> link -> Coreapp."""
    _certs, coreapp, corelink, dbconfig, store, _webapp = _simulator()
    cfg = dbconfig.DBConfig(role="coreapp", engine=dbconfig.ENGINE_SQLITE, host=None, port=None, user=None,
                            password=None, tls=None, tls_source=None, log_line="unit test",
                            sqlite_path=str(tmp_path / "core" / "waweb.db"))
    env = {"WA_DB_ENGINE": "MYSQL", "WA_DB_HOSTNAME": "db", "WA_DB_PORT": "3306", "WA_DB_USERNAME": "wa",
           "WA_DB_PASSWORD": "pw", "WA_TCP_LISTEN_ADDRESS": "127.0.0.1", "COREAPP_HOSTNAME": "wacore",
           "WAENT_SIM_TRIGGER_SOCKET": str(tmp_path / "trigger.sock")}
    stop, ready, apps = threading.Event(), threading.Event(), []

    def serve():
        coreapp.run(env, stop, ports=(0, 0, 0, 0), store_factory=lambda _cfg, name: store.Store(cfg, name),
                    ready=lambda app: (apps.append(app), ready.set()), mountinfo="")
        ready.set()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert ready.wait(20) and apps, "the Coreapp did not start"
    control = apps[0].bound_ports[2]
    web_api = webapp_server["api"]
    web_api.cores = corelink.SingleCore("127.0.0.1", control - corelink.CONTROL_OFFSET, web_api.cores.link)
    yield webapp_server
    stop.set()
    thread.join(timeout=20)
