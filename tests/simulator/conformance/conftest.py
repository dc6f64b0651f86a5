# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Session fixtures of the conformance suite: leftovers removed, the test network, the PKI, the
shared MariaDB with TLS, a client container; the logs of every live container on a failure."""

from __future__ import annotations

import shutil

import pytest

from conformance import apps, dbs
from conformance import pki as pki_mod
from conformance import podman as pm

IMAGES = (apps.WEBAPP_IMAGE, apps.COREAPP_IMAGE, dbs.IMAGE)


@pytest.fixture(scope="session")
def lab():
    """Remove this suite's leftovers (prefix ``waent-sim-ct-`` only), create the network; at the end
    remove what the session created and any leftover with the prefix."""
    if shutil.which("podman") is None:
        pytest.fail("podman is missing: run make setup")
    missing = [image for image in IMAGES if pm.podman("image", "exists", image, check=False).returncode != 0]
    if missing:
        pytest.fail(f"images missing: {', '.join(missing)}; build them with bash tests/simulator/build-images.sh")
    pm.remove_leftovers()
    pm.create_network()
    try:
        yield
    finally:
        pm.remove_all(list(pm.LIVE.values()))
        pm.remove_leftovers()


@pytest.fixture(scope="session")
def pki(tmp_path_factory):
    return pki_mod.PKI(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="session")
def client(lab, pki):
    """A container on the test network with the real database clients (``mariadb``, ``psql``),
    curl and openssl: checks from another address than the host's."""
    container = pm.run("client", dbs.IMAGE, mounts=[(str(pki.dir), pki_mod.MOUNT)], command=["sleep", "infinity"])
    yield container
    container.remove()


@pytest.fixture(scope="session")
def mariadb_server(lab, pki):
    """MariaDB 10.11 with TLS required (the session's shared database server)."""
    db = dbs.start_mariadb("mariadb", pki)
    dbs.wait_ready(db)
    # The host talks to the containers' addresses directly: prove the route once, early.
    pm.check_host_route(db.container, db.port)
    yield db
    db.container.remove()


@pytest.fixture(scope="module")
def mariadb(mariadb_server):
    """The shared MariaDB, emptied of every database an earlier module's apps created."""
    mariadb_server.reset()
    return mariadb_server


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed and pm.LIVE:
        for name, container in sorted(pm.LIVE.items()):
            try:
                text = container.logs(tail=60)
            except Exception as exc:  # noqa: BLE001 - a dump must never hide the real failure
                text = f"(no log: {exc})"
            report.sections.append((f"podman logs --tail 60 {name} ({container.ip})", text))
