# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The allowed flows of a waent.onprem deployment, computed from the deployment model's values.

Pure Python (standard library only), so it runs in a filter plugin on the controller and in a
module on a host alike. Every allowed flow is a dict::

    {"name": "webapp-https:web1", "sources": ["10.0.1.0/24", ...], "source_zones": [...],
     "source_hosts": [...], "destination_host": "web1", "destination_address": "10.0.2.10",
     "ports": [9090], "protocol": "tcp", "purpose": "...", "guide": "Network Segregation",
     "reference": "1.4 #1", "direction": "ingress"}

``sources`` are normalised CIDRs (a single address becomes /32 or /128). ``direction`` is
``ingress`` for flows to a managed host (the firewall filters them) and ``egress`` for flows from
managed hosts to outside services (NTP), listed so the audit can check them.

:func:`compute_flows` takes normalised values; the deployment model (``_model.build_model``)
gives it those of the inventory and publishes the result as ``wa_model.flows``.
:func:`flow_allows` answers one probe's expected state from a list of flows.
"""

from __future__ import annotations

import ipaddress

GUIDE_SEGREGATION = "Network Segregation"
GUIDE_TIME = "Encrypted Communications (WA_SECRET replay window needs synchronised clocks)"
GUIDE_DB = "Encrypted Communications (database connection)"

GROUPS = ("wa_webapp", "wa_coreapp", "wa_master", "wa_db")


def _sorted_unique(items):
    seen = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen


def _host_cidr(address):
    return str(ipaddress.ip_network(address))


def compute_flows(settings, members, nodes):
    """Return the list of allowed flows from normalised inputs.

    ``settings``: ``multiconnect`` (bool), ``api_client_networks``, ``admin_networks`` and
    ``management_networks`` (lists of CIDR strings), ``db_port`` (int).
    ``members``: group -> inventory hosts, for the groups of ``GROUPS`` (missing groups are
    empty). ``nodes``: every host of those groups (in model order) -> ``address`` (an IP
    string), ``webapp_port`` (int, for Webapps), ``coreapp_external_ports`` (4 ints, for
    Coreapps and Masters), ``ssh_port`` (int) and ``ntp_servers`` (host names or addresses).

    A host in several groups is one node; two inventory hosts with the same address are one
    machine (e.g. a Master co-hosted with a Coreapp on 6254-6257): flows keep the inventory
    name and the address, the firewall groups by address.
    """
    members = {group: list(members.get(group) or []) for group in GROUPS}
    webapps = members["wa_webapp"]
    masters = members["wa_master"] if settings["multiconnect"] else []
    cores = _sorted_unique(members["wa_coreapp"] + masters)
    db_hosts = members["wa_db"]
    app_hosts = _sorted_unique(webapps + cores)

    def hosts_sources(hosts):
        return _sorted_unique(_host_cidr(nodes[h]["address"]) for h in hosts)

    flows = []

    def add(name, sources, zones, source_hosts, destination, *, ports, purpose, guide, reference):
        if not sources:
            return
        flows.append({
            "name": f"{name}:{destination}",
            "sources": list(sources),
            "source_zones": list(zones),
            "source_hosts": list(source_hosts),
            "destination_host": destination,
            "destination_address": nodes[destination]["address"],
            "ports": sorted(set(ports)),
            "protocol": "tcp",
            "purpose": purpose,
            "guide": guide,
            "reference": reference,
            "direction": "ingress",
        })

    client_sources = _sorted_unique(settings["api_client_networks"] + settings["admin_networks"])
    zones = [z for z, nets in (("api_clients", settings["api_client_networks"]), ("admins", settings["admin_networks"]))
             if nets]
    for host in webapps:
        add("webapp-https", client_sources, zones, [], host, ports=[nodes[host]["webapp_port"]],
            purpose="REST API and Web Admin (HTTPS, container port 443)", guide=GUIDE_SEGREGATION, reference="1.4 #1")

    for host in cores:
        ports = nodes[host]["coreapp_external_ports"]
        role = "master" if host in masters and host not in members["wa_coreapp"] else "coreapp"
        add(f"{role}-service", hosts_sources(webapps), ["wa_webapp"], webapps, host, ports=ports[:3],
            purpose="Webapp to Coreapp/Master message, contacts and control services (container 6250-6252)",
            guide=GUIDE_SEGREGATION, reference="1.4 #2-4")
        if settings["multiconnect"]:
            peers = [p for p in cores if nodes[p]["address"] != nodes[host]["address"]]
            add(f"{role}-cluster", hosts_sources(peers), ["wa_coreapp", "wa_master"], peers, host, ports=ports,
                purpose="Coreapp/Master to Coreapp/Master intra-cluster services (container 6250-6253), "
                "multiconnect only", guide=GUIDE_SEGREGATION, reference="1.4 #5")

    for host in db_hosts:
        add("database", hosts_sources(app_hosts), ["wa_webapp", "wa_coreapp", "wa_master"], app_hosts, host,
            ports=[settings["db_port"]], purpose="Webapp, Coreapp and Master to the database", guide=GUIDE_DB,
            reference="1.4 #6")

    for host in nodes:
        add("ssh", settings["management_networks"], ["management"], [], host, ports=[nodes[host]["ssh_port"]],
            purpose="SSH from the management networks (Ansible controller, operators)", guide=GUIDE_SEGREGATION,
            reference="management")

    for server in _sorted_unique(s for node in nodes.values() for s in node["ntp_servers"]):
        managed = [h for h in nodes if server in nodes[h]["ntp_servers"]]
        flows.append({
            "name": f"ntp:{server}",
            "sources": hosts_sources(managed),
            "source_zones": ["managed"],
            "source_hosts": managed,
            "destination_host": None,
            "destination_address": server,
            "ports": [123],
            "protocol": "udp",
            "purpose": "NTP to the time servers (clock sync within the WA_SECRET replay window)",
            "guide": GUIDE_TIME,
            "reference": "timesync",
            "direction": "egress",
        })
    return flows


def flow_allows(flows, source, destination, port, protocol="tcp"):
    """True when ``flows`` allow ``source`` (an address) to reach ``destination`` (an address or an
    inventory host name) on ``port``/``protocol``."""
    src = ipaddress.ip_address(str(source))
    port = int(port)
    for flow in flows or []:
        if flow.get("protocol", "tcp") != protocol or port not in flow.get("ports", []):
            continue
        if str(destination) not in (str(flow.get("destination_address")), str(flow.get("destination_host"))):
            continue
        for cidr in flow.get("sources", []):
            network = ipaddress.ip_network(cidr, strict=False)
            if network.version == src.version and src in network:
                return True
    return False
