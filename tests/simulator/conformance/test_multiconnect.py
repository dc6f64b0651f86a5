# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Multiconnect: Masters, Coreapps, registration and health (reference sections 1.3, 2.3, 4.2; §1.4 row 4).

Two Masters and two Coreapps with ``WA_APP_MULTICONNECT=1``; one Coreapp advertises a
``COREAPP_HOSTNAME`` the Webapp cannot reach. The Webapp (multiconnect) knows no node by
configuration: it reaches them only through what they registered in ``clusterStore``.
"""

from __future__ import annotations

import time

import pytest

from conformance import apps
from conformance import podman as pm

NOWHERE = pm.full_name("mc-nowhere")  # resolves nowhere: a container-internal name, as §1.3 warns


@pytest.fixture(scope="module")
def mc(mariadb):
    specs = {
        "master1": apps.coreapp_spec("mc-master1", mariadb, multiconnect=True, master=True),
        "master2": apps.coreapp_spec("mc-master2", mariadb, multiconnect=True, master=True),
        "core": apps.coreapp_spec("mc-core", mariadb, multiconnect=True),
        "bad": apps.coreapp_spec("mc-core-bad", mariadb, multiconnect=True, advertised=NOWHERE),
    }
    nodes = dict(zip(specs, pm.run_many(list(specs.values())), strict=True))
    (web,) = apps.start_webapps([apps.webapp_spec("mc-web", mariadb, multiconnect=True)])
    pm.wait_all([(c, apps.COREAPP_READY) for c in nodes.values()] + [(web.container, apps.WEBAPP_READY)],
                timeout=120)
    token = apps.admin_token(web)
    yield {**nodes, "web": web, "token": token}
    pm.remove_all([*nodes.values(), web.container])


def by_container(health, containers):
    """Map each health entry (key ``"<hostname>:<container-id>"``) to our container names by id."""
    result = {}
    for key, entry in health.items():
        cid = key.rpartition(":")[2]
        names = [name for name, c in containers.items() if c.id and c.id.startswith(cid) and len(cid) >= 12]
        assert len(names) == 1, f"health key {key!r} matches no single container ({names})"
        result[names[0]] = entry
    return result


def settled(mc):
    """Health once every node is listed and the lease is held (bounded polling, §4.2 budget)."""
    nodes = {k: mc[k] for k in ("master1", "master2", "core", "bad")}

    def done(body):
        health = body.get("health", {})
        roles = [e.get("role") for e in health.values()]
        return len(health) == 4 and roles.count("primary_master") == 1

    body = mc["web"].wait_health(mc["token"], done, attempts=4, first_delay=1.0)
    return by_container(body["health"], nodes)


@pytest.fixture(scope="module")
def health(mc):
    return settled(mc)


def test_nodes_register_in_cluster_store(mc, mariadb):
    """§1.3: every Coreapp/Master registers its ``COREAPP_HOSTNAME`` and ``COREAPP_EXTERNAL_PORTS``
    in ``clusterStore`` (tables ``nodes``, ``cluster_info``)."""
    rows = mariadb.table_text("clusterStore", "nodes")
    for key in ("master1", "master2", "core"):
        assert mc[key].name in rows, rows
    assert NOWHERE in rows, rows
    assert mariadb.table_text("clusterStore", "cluster_info").strip(), "no lease row in cluster_info"


def test_health_lists_every_node(health):
    """§4.2: multiconnect health has one entry per node, keyed ``"<hostname>:<container-id>"``,
    each with ``gateway_status`` and ``role``."""
    assert set(health) == {"master1", "master2", "core", "bad"}, health
    for entry in health.values():
        assert entry["gateway_status"] in ("connected", "connecting", "uninitialized", "unregistered",
                                           "disconnected"), entry
        assert entry["role"] in ("primary_master", "secondary_master", "coreapp"), entry


def test_one_primary_master(health):
    """§1.3: the Masters compete for a lease: exactly one is primary, the other secondary; the
    Coreapps are ``coreapp``."""
    assert sorted(health[k]["role"] for k in ("master1", "master2")) == ["primary_master", "secondary_master"]
    assert health["core"]["role"] == health["bad"]["role"] == "coreapp"


def test_reachable_nodes_connected(health):
    """§4.2 / §1.3: the primary Master and the Coreapp reachable at their advertised address are
    ``connected``."""
    primary = next(k for k in ("master1", "master2") if health[k]["role"] == "primary_master")
    assert health[primary]["gateway_status"] == "connected", health
    assert health["core"]["gateway_status"] == "connected", health


def test_wrong_advertised_hostname_is_disconnected(health):
    """§1.3: the Webapp connects to exactly the advertised host:ports, so a Coreapp advertising a
    ``COREAPP_HOSTNAME`` the Webapp cannot reach shows as ``disconnected`` in ``/v1/health``."""
    assert health["bad"]["gateway_status"] == "disconnected", health


def test_master_only_command_reaches_the_primary(mc):
    """§1.4 row 4 / §4.5: master-only commands (settings) go to the primary Master's control port."""
    resp = mc["web"].request("GET", "/v1/settings/application", token=mc["token"])
    assert resp.status == 200, resp


def test_secondary_master_takes_over(mc, health, mariadb):
    """§1.3: the Masters compete for a lease in the database; when the primary stops, the lease
    runs out and the secondary takes it (``cluster_info`` names it; health shows it as primary)."""
    primary = next(k for k in ("master1", "master2") if health[k]["role"] == "primary_master")
    secondary = "master2" if primary == "master1" else "master1"
    mc[primary].stop()
    deadline = time.monotonic() + 40  # the lease lives 10 s and is renewed every 2 s (the simulator's choice)
    holder = ""
    while time.monotonic() < deadline:
        holder = mariadb.table_text("clusterStore", "cluster_info")
        if mc[secondary].id[:12] in holder:
            break
        time.sleep(1)
    assert mc[secondary].id[:12] in holder, f"lease not taken over in 40 s: {holder}"
    nodes = {k: mc[k] for k in ("master1", "master2", "core", "bad")}
    body = mc["web"].wait_health(mc["token"], lambda j: by_container(j["health"], nodes)[secondary]["role"]
                                 == "primary_master", attempts=3)
    after = by_container(body["health"], nodes)
    assert after[secondary]["role"] == "primary_master", after
    assert after[primary]["role"] != "primary_master" and after[primary]["gateway_status"] == "disconnected", after
