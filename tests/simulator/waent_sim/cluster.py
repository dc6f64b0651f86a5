# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Cluster state in the ``clusterStore`` database: registered nodes and the primary-Master lease (section 1.3).

Documented behaviour (reference sections 1.1, 1.3, 2.3):

* Cluster state lives in the database ``clusterStore``, tables ``nodes`` and ``cluster_info``
  (``shard_map`` too; the simulator has no shards), which hold the hostname and the 4-port list of
  every node; the Webapp connects to exactly those advertised host:ports.
* Every Coreapp/Master advertises ``COREAPP_HOSTNAME`` and ``COREAPP_EXTERNAL_PORTS`` (4 ports
  mapped to 6250-6253).
* Masters compete for a master lease in the database; the holder is the primary Master.

Choices where the reference is silent (the vendor's schema is not published):

* ``nodes``: one row per node key (``"<hostname>:<container-id>"``, section 4.2) with the
  advertised ``hostname``, the four ports as ``port0``..``port3``, ``is_master`` (0/1) and
  ``last_seen`` (Unix seconds, refreshed by every :func:`register`). A node key is at most 190
  characters (the indexable ``VARCHAR(190)`` of :mod:`waent_sim.store`).
* ``cluster_info``: one row ``lease_name = 'primary_master'`` with the ``holder``'s node key and
  ``expires`` (Unix seconds). The lease is held while ``now <= expires``; another Master may take
  it once ``expires < now``. Time is each node's own clock: the nodes' clocks must agree (as the
  ``WA_SECRET`` window already requires, section 2.2).
* Taking the lease is one compare-and-set ``UPDATE ... WHERE holder = me OR expires < now``: a
  single statement is atomic under MySQL/InnoDB (row lock), PostgreSQL (the ``WHERE`` is
  re-checked on the locked row) and SQLite (one writer). Whether the call won is read back
  afterwards rather than taken from the affected-row count, which MySQL reports as 0 when a
  renewal within the same second changes nothing.
"""

from __future__ import annotations

from waent_sim import dbconfig

LEASE = "primary_master"
DEFAULT_TTL = 10
MAX_NODE_KEY = 190

TABLES = {
    "nodes": [("node_key", "key"), ("hostname", "text"), ("port0", "int"), ("port1", "int"),
              ("port2", "int"), ("port3", "int"), ("is_master", "int"), ("last_seen", "int")],
    "cluster_info": [("lease_name", "key"), ("holder", "key"), ("expires", "int")],
}

_INSERT = "INSERT INTO cluster_info (lease_name, holder, expires) VALUES (%s, %s, %s) "
_INSERT_MYSQL = _INSERT + "ON DUPLICATE KEY UPDATE lease_name = lease_name"  # INSERT IGNORE would hide other errors
_INSERT_OTHERS = _INSERT + "ON CONFLICT (lease_name) DO NOTHING"  # PostgreSQL >= 9.5, SQLite >= 3.24


def create_schema(store):
    """Create the ``clusterStore`` tables if they do not exist."""
    store.create_tables(TABLES)


def _ports(ports):
    ports = tuple(ports)
    if len(ports) != 4 or not all(isinstance(p, int) and not isinstance(p, bool) and 1 <= p <= 65535
                                  for p in ports):
        raise ValueError(f"a node advertises exactly 4 TCP ports (1-65535), not {ports!r}")
    return ports


def register(store, node_key, hostname, ports, is_master, now):  # noqa: PLR0917 - the documented call
    """Insert or refresh this node's row (its advertised address and ``last_seen = now``)."""
    if not node_key or len(node_key) > MAX_NODE_KEY:
        raise ValueError(f"node key must be 1-{MAX_NODE_KEY} characters, not {len(node_key or '')}")
    if not hostname:
        raise ValueError("a node needs an advertised hostname")
    ports = _ports(ports)
    values = {"hostname": hostname, **{f"port{i}": port for i, port in enumerate(ports)},
              "is_master": 1 if is_master else 0, "last_seen": int(now)}
    store.upsert("nodes", {"node_key": node_key}, values)


def nodes(store):
    """Every registered node as ``{node_key, hostname, ports, is_master, last_seen}``, by node key."""
    rows = store.run("SELECT node_key, hostname, port0, port1, port2, port3, is_master, last_seen "
                     "FROM nodes ORDER BY node_key", fetch=True)
    return [{"node_key": row[0], "hostname": row[1], "ports": [int(p) for p in row[2:6]],
             "is_master": bool(row[6]), "last_seen": int(row[7])} for row in rows]


def _insert_absent(store, holder, expires):
    """Create the lease row unless it exists; a concurrent insert by another Master is not an error."""
    sql = _INSERT_MYSQL if store.cfg.engine == dbconfig.ENGINE_MYSQL else _INSERT_OTHERS
    store.run(sql, (LEASE, holder, expires))


def _lease(store):
    row = store.one("SELECT holder, expires FROM cluster_info WHERE lease_name = %s", (LEASE,))
    return (row[0], int(row[1])) if row else (None, None)


def try_lease(store, node_key, now, ttl=DEFAULT_TTL):
    """Take or renew the primary-Master lease for ``ttl`` seconds; True when ``node_key`` holds it afterwards."""
    if ttl < 1:
        raise ValueError("the lease lasts at least 1 second")
    now = int(now)
    _insert_absent(store, node_key, now + ttl)
    store.run("UPDATE cluster_info SET holder = %s, expires = %s "
              "WHERE lease_name = %s AND (holder = %s OR expires < %s)",
              (node_key, now + ttl, LEASE, node_key, now))
    holder, expires = _lease(store)
    return holder == node_key and expires >= now


def primary_master(store, now):
    """The node key holding an unexpired lease, or None."""
    holder, expires = _lease(store)
    if not holder or expires < int(now):
        return None
    return holder


def release(store, node_key):
    """Give the lease up (only if ``node_key`` holds it), so a secondary can take it without waiting."""
    store.run("UPDATE cluster_info SET holder = %s, expires = %s WHERE lease_name = %s AND holder = %s",
              ("", 0, LEASE, node_key))
