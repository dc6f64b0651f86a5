# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The simulator's cluster state in clusterStore (reference section 1.3): nodes and the primary-Master lease."""

from __future__ import annotations

import threading

import pytest
from waent_sim import cluster, dbconfig, store

T0 = 1_700_000_000
A = "master-a:" + "a" * 64
B = "master-b:" + "b" * 64


def sqlite_config(tmp_path):
    return dbconfig.DBConfig(role="coreapp", engine=dbconfig.ENGINE_SQLITE, host=None, port=None, user=None,
                             password=None, tls=None, tls_source=None, log_line="test",
                             sqlite_path=str(tmp_path / "web" / "waweb.db"))


@pytest.fixture
def db(tmp_path):
    clusterstore = store.Store(sqlite_config(tmp_path), "clusterStore")
    cluster.create_schema(clusterstore)
    return clusterstore


def test_schema_is_created_in_clusterstore_and_twice_is_harmless(db, tmp_path):
    cluster.create_schema(db)
    assert (tmp_path / "web" / "clusterStore.db").is_file()
    tables = {row[0] for row in db.run("SELECT name FROM sqlite_master WHERE type = 'table'", fetch=True)}
    assert {"nodes", "cluster_info"} <= tables


def test_register_lists_nodes_sorted_with_their_advertised_address(db):
    cluster.register(db, B, "10.0.0.2", (6254, 6255, 6256, 6257), True, T0)
    cluster.register(db, A, "10.0.0.1", [6250, 6251, 6252, 6253], False, T0 + 1)
    assert cluster.nodes(db) == [
        {"node_key": A, "hostname": "10.0.0.1", "ports": [6250, 6251, 6252, 6253], "is_master": False,
         "last_seen": T0 + 1},
        {"node_key": B, "hostname": "10.0.0.2", "ports": [6254, 6255, 6256, 6257], "is_master": True,
         "last_seen": T0},
    ]


def test_register_again_refreshes_the_row_instead_of_adding_one(db):
    cluster.register(db, A, "old-name", (6250, 6251, 6252, 6253), False, T0)
    cluster.register(db, A, "new-name", (7250, 7251, 7252, 7253), True, T0 + 2)
    (node,) = cluster.nodes(db)
    assert (node["hostname"], node["ports"], node["is_master"], node["last_seen"]) == \
        ("new-name", [7250, 7251, 7252, 7253], True, T0 + 2)


@pytest.mark.parametrize("ports", [(6250, 6251, 6252), (6250, 6251, 6252, 6253, 6254), (0, 6251, 6252, 6253),
                                   (6250, 6251, 6252, 65536), (6250, 6251, 6252, "6253"), (True, 2, 3, 4)])
def test_register_refuses_anything_but_four_ports(db, ports):
    with pytest.raises(ValueError, match="4 TCP ports"):
        cluster.register(db, A, "host", ports, False, T0)
    assert cluster.nodes(db) == []


def test_register_refuses_a_key_the_indexed_column_cannot_hold(db):
    with pytest.raises(ValueError, match="node key"):
        cluster.register(db, "h" * 127 + ":" + "a" * 64, "host", (1, 2, 3, 4), False, T0)
    cluster.register(db, "h" * 125 + ":" + "a" * 64, "host", (1, 2, 3, 4), False, T0)  # 190: fits


def test_first_master_takes_the_lease_the_second_does_not(db):
    assert cluster.primary_master(db, T0) is None
    assert cluster.try_lease(db, A, T0) is True
    assert cluster.try_lease(db, B, T0) is False
    assert cluster.primary_master(db, T0) == A


def test_no_takeover_before_expiry_including_its_last_second(db):
    assert cluster.try_lease(db, A, T0, ttl=10)
    for now in (T0 + 1, T0 + 9, T0 + 10):
        assert cluster.try_lease(db, B, now, ttl=10) is False
        assert cluster.primary_master(db, now) == A


def test_takeover_once_the_lease_has_expired(db):
    assert cluster.try_lease(db, A, T0, ttl=10)
    assert cluster.primary_master(db, T0 + 11) is None  # expired: nobody is primary
    assert cluster.try_lease(db, B, T0 + 11, ttl=10) is True
    assert cluster.primary_master(db, T0 + 11) == B
    assert cluster.try_lease(db, A, T0 + 12, ttl=10) is False  # the old holder cannot renew any more


def test_the_holder_renews_and_keeps_the_lease(db):
    assert cluster.try_lease(db, A, T0, ttl=10)
    for now in range(T0 + 2, T0 + 40, 2):
        assert cluster.try_lease(db, A, now, ttl=10)
        assert cluster.try_lease(db, B, now, ttl=10) is False
    assert cluster.primary_master(db, T0 + 38 + 10) == A
    assert cluster.primary_master(db, T0 + 38 + 11) is None


def test_renewal_within_the_same_second_still_counts_as_held(db):
    assert cluster.try_lease(db, A, T0)
    assert cluster.try_lease(db, A, T0)


def test_release_hands_the_lease_over_at_once_and_only_by_its_holder(db):
    assert cluster.try_lease(db, A, T0)
    cluster.release(db, B)  # not the holder: no effect
    assert cluster.primary_master(db, T0) == A
    cluster.release(db, A)
    assert cluster.primary_master(db, T0) is None
    assert cluster.try_lease(db, B, T0 + 1)


def test_lease_ttl_must_be_positive(db):
    with pytest.raises(ValueError):
        cluster.try_lease(db, A, T0, ttl=0)


def test_racing_masters_get_exactly_one_lease(tmp_path):
    # Separate Store objects (separate connections) on one database, all trying at the same second.
    cfg = sqlite_config(tmp_path)
    cluster.create_schema(store.Store(cfg, "clusterStore"))
    keys = [f"master-{n}:{n:012x}" for n in range(8)]
    barrier = threading.Barrier(len(keys), timeout=10)
    results = {}

    def contend(key):
        own = store.Store(cfg, "clusterStore")
        barrier.wait()
        results[key] = cluster.try_lease(own, key, T0)

    threads = [threading.Thread(target=contend, args=(key,)) for key in keys]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert len(results) == len(keys)
    winners = [key for key, won in results.items() if won]
    assert len(winners) == 1
    assert cluster.primary_master(store.Store(cfg, "clusterStore"), T0) == winners[0]
