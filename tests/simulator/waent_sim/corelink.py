# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""How the Webapp reaches the Coreapps (reference sections 1.2, 1.3, 1.4 rows 2-4).

* Single-connect: the Coreapp at ``WACORE_HOSTNAME``, control service on ``WACORE_BASEPORT`` + 2
  (base 6250 by default).
* Multiconnect: only the nodes registered in ``clusterStore`` (their advertised
  ``COREAPP_HOSTNAME`` and ``COREAPP_EXTERNAL_PORTS``), so a wrong advertised address shows up as
  a disconnected node; master-only commands go to the primary Master's control port; ``/v1/health``
  asks every node's control port.

A node is ``connected`` only when its control port answered over the link (``WA_SECRET`` framing
included); the simulator has no WhatsApp servers to be connected to (DEVIATIONS.md L2).
"""

from __future__ import annotations

import logging
import time

from waent_sim import cluster, transport

LOG = logging.getLogger(__name__)

CONTROL_OFFSET = 2  # 6250 message, 6251 contacts, 6252 control, 6253 healthcheck


class CoreUnavailable(Exception):
    """No Coreapp/Master could take a command; the message says why (for the log and the API error)."""


class SingleCore:
    def __init__(self, hostname, baseport, link, *, timeout=transport.DEFAULT_TIMEOUT):
        self.hostname = hostname
        self.control_port = baseport + CONTROL_OFFSET
        self.link = link
        self.timeout = timeout

    def describe(self):
        return f"single-connect Coreapp {self.hostname}:{self.control_port}"

    def control(self, request):
        try:
            return transport.call(self.hostname, self.control_port, self.link, request, timeout=self.timeout)
        except transport.LinkDown as exc:
            LOG.warning("webapp: link to the Coreapp failed (%s): %s", exc.reason, exc)
            raise CoreUnavailable(str(exc)) from None

    def health(self):
        """``gateway_status`` of section 4.2: connected when the link works, else connecting (L1)."""
        try:
            answer = self.control({"op": "health"})
        except CoreUnavailable:
            return "connecting"
        return "connected" if answer.get("ok") else "connecting"


class ClusterCores:
    def __init__(self, store, link, *, timeout=transport.DEFAULT_TIMEOUT, clock=time.time):
        self.store = store
        self.link = link
        self.timeout = timeout
        self.clock = clock

    def describe(self):
        return "multiconnect nodes registered in clusterStore"

    def _ask(self, node, request):
        host, port = node["hostname"], node["ports"][CONTROL_OFFSET]
        return transport.call(host, port, self.link, request, timeout=self.timeout, peer_name=node["node_key"])

    def control(self, request):
        """A master-only command, sent to the primary Master (section 1.4 row 4)."""
        primary = cluster.primary_master(self.store, int(self.clock()))
        if primary is None:
            raise CoreUnavailable("no primary Master holds the lease: is a Master running and registered?")
        node = next((n for n in cluster.nodes(self.store) if n["node_key"] == primary), None)
        if node is None:
            raise CoreUnavailable(f"the primary Master {primary} is not in the nodes table")
        try:
            return self._ask(node, request)
        except transport.LinkDown as exc:
            LOG.warning("webapp: link to the primary Master %s failed (%s): %s", primary, exc.reason, exc)
            raise CoreUnavailable(str(exc)) from None

    def health(self):
        """``{node_key: (gateway_status, role)}`` for every registered node (section 4.2)."""
        primary = cluster.primary_master(self.store, int(self.clock()))
        result = {}
        for node in cluster.nodes(self.store):
            key = node["node_key"]
            if node["is_master"]:
                role = "primary_master" if key == primary else "secondary_master"
            else:
                role = "coreapp"
            try:
                answer = self._ask(node, {"op": "health"})
            except transport.LinkDown as exc:
                LOG.warning("webapp: node %s at %s:%s is disconnected (%s): %s", key, node["hostname"],
                            node["ports"][CONTROL_OFFSET], exc.reason, exc)
                result[key] = ("disconnected", role)
                continue
            if answer.get("ok") and answer.get("node") == key:
                result[key] = ("connected", role)  # one source of truth for the single primary
            else:
                # Something answered at the advertised address, but not this node.
                LOG.warning("webapp: %s:%s answered as %s, not %s", node["hostname"],
                            node["ports"][CONTROL_OFFSET], answer.get("node"), key)
                result[key] = ("disconnected", role)
        return result
