# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The flow model of a waent.onprem deployment: one source of truth for the firewall and the audit.

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
gives it those of the inventory. :func:`legacy_flows` and :func:`input_errors` serve the older
``settings=`` form of the ``flow_matrix``/``flow_errors`` filters until every caller reads the
model.
"""

from __future__ import annotations

import ipaddress

GUIDE_SEGREGATION = "Network Segregation"
GUIDE_TIME = "Encrypted Communications (WA_SECRET replay window needs synchronised clocks)"
GUIDE_DB = "Encrypted Communications (database connection)"

# Only for the deprecated ``settings=`` form of the flow_matrix/flow_errors filters (keys the
# caller leaves out). The deployment model (_model.py) has no defaults: it reads every value
# from the hosts' variables, where the waent.onprem.wa role's defaults are. Remove with that form.
LEGACY_DEFAULTS = {
    "multiconnect": False,
    "api_client_networks": [],
    "admin_networks": [],
    "management_networks": [],
    "webapp_port": 9090,
    "coreapp_external_ports": [6250, 6251, 6252, 6253],
    "db_port": 3306,
    "ssh_port": 22,
    "ntp_servers": [],
}

# Inventory variable each input comes from, for error messages that name what to fix.
VARIABLES = {
    "multiconnect": "wa_multiconnect",
    "api_client_networks": "wa_api_client_networks",
    "admin_networks": "wa_admin_networks",
    "management_networks": "wa_management_networks",
    "webapp_port": "wa_webapp_port",
    "coreapp_external_ports": "wa_coreapp_external_ports",
    "db_port": "wa_db_port",
    "ssh_port": "firewall_ssh_port",
    "ntp_servers": "timesync_servers",
    "host_address": "wa_host_address",
}

GROUPS = ("wa_webapp", "wa_coreapp", "wa_master", "wa_db")


class FlowError(ValueError):
    """Invalid input to the flow model; the message names the variable."""


def _is_true(value):
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def normalize_network(value, variable):
    """Return ``value`` as a CIDR string (an address becomes a host network) or raise FlowError."""
    try:
        return str(ipaddress.ip_network(str(value).strip(), strict=False))
    except ValueError:
        message = f"{variable}: {value!r} is not a valid network (CIDR such as 10.0.0.0/24 or an address)"
        raise FlowError(message) from None


def normalize_address(value, variable):
    try:
        return str(ipaddress.ip_address(str(value).strip()))
    except ValueError:
        raise FlowError(f"{variable}: {value!r} is not an IP address (set it to the address other hosts use)") from None


def valid_port(value, variable):
    if isinstance(value, bool):
        raise FlowError(f"{variable}: {value!r} is not a TCP/UDP port (1-65535)")
    try:
        port = int(value)
    except (TypeError, ValueError):
        raise FlowError(f"{variable}: {value!r} is not a TCP/UDP port (1-65535)") from None
    if not 1 <= port <= 65535 or str(port) != str(value).strip():
        raise FlowError(f"{variable}: {value!r} is not a TCP/UDP port (1-65535)")
    return port


def _network_list(value, variable):
    if value is None:
        return []
    if isinstance(value, str):
        raise FlowError(f"{variable}: expected a list of CIDRs, got the string {value!r}")
    return [normalize_network(item, f"{variable}[{index}]") for index, item in enumerate(value)]


def _ntp_hosts(servers):
    """Host names/addresses from ``timesync_servers`` (strings or dicts with hostname/host/address)."""
    hosts = []
    for item in servers or []:
        if isinstance(item, dict):
            for key in ("hostname", "host", "address", "name", "server"):
                if item.get(key):
                    hosts.append(str(item[key]))
                    break
        elif item:
            hosts.append(str(item))
    return hosts


def host_inputs(host, hostvars, settings):
    """Per-host values: the host's own inventory variable if set, else the deployment default."""
    hv = hostvars.get(host, {}) if hostvars else {}
    address = hv.get("wa_host_address") or hv.get("ansible_host") or host
    ports = hv.get("wa_coreapp_external_ports", settings["coreapp_external_ports"])
    webapp_port = hv.get("wa_webapp_port", settings["webapp_port"])
    return {
        "address": normalize_address(address, f"{VARIABLES['host_address']} of host {host}"),
        "coreapp_external_ports": ports,
        "webapp_port": valid_port(webapp_port, f"wa_webapp_port of host {host}"),
    }


def _coreapp_ports(host, ports):
    variable = f"wa_coreapp_external_ports of host {host}"
    if isinstance(ports, (str, bytes)) or not hasattr(ports, "__len__") or len(ports) != 4:
        raise FlowError(f"{variable}: expected exactly 4 ports (mapped to 6250-6253), got {ports!r}")
    result = [valid_port(port, f"{variable}[{index}]") for index, port in enumerate(ports)]
    if len(set(result)) != 4:
        raise FlowError(f"{variable}: the 4 ports must differ, got {ports!r}")
    return result


def normalize_settings(settings):
    """Merge ``settings`` over LEGACY_DEFAULTS and validate the deployment-wide values."""
    merged = dict(LEGACY_DEFAULTS)
    for key, value in (settings or {}).items():
        if key not in LEGACY_DEFAULTS:
            raise FlowError(f"flow_matrix: unknown setting {key!r} (known: {', '.join(sorted(LEGACY_DEFAULTS))})")
        if value is not None:
            merged[key] = value
    merged["multiconnect"] = _is_true(merged["multiconnect"])
    for key in ("api_client_networks", "admin_networks", "management_networks"):
        merged[key] = _network_list(merged[key], VARIABLES[key])
    for key in ("webapp_port", "db_port", "ssh_port"):
        merged[key] = valid_port(merged[key], VARIABLES[key])
    _coreapp_ports("(default)", merged["coreapp_external_ports"])
    merged["ntp_servers"] = _ntp_hosts(merged["ntp_servers"])
    return merged


def _sorted_unique(items):
    seen = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen


def _host_cidr(address):
    return str(ipaddress.ip_network(address))


def legacy_inputs(groups, hostvars=None, settings=None):
    """The inputs of :func:`compute_flows` from the ``settings=`` form of the ``flow_matrix`` filter.

    Kept for the roles that still call ``flow_matrix(hostvars, settings=...)``: deployment-wide
    values come from ``settings`` (keys left out take ``LEGACY_DEFAULTS``), per-host values from the
    host's variables when it sets them. The deployment model (``_model.build_model``) reads
    everything from the hosts' variables instead and calls :func:`compute_flows` directly.
    """
    cfg = normalize_settings(settings)
    groups = groups or {}
    hostvars = hostvars or {}
    members = {group: _sorted_unique(groups.get(group) or []) for group in GROUPS}
    masters = members["wa_master"] if cfg["multiconnect"] else []
    cores = members["wa_coreapp"] + masters
    nodes = {}
    for host in _sorted_unique(h for group in GROUPS for h in members[group]):
        node = host_inputs(host, hostvars, cfg)
        node["groups"] = [group for group in GROUPS if host in members[group]]
        node["coreapp_external_ports"] = (
            _coreapp_ports(host, node["coreapp_external_ports"]) if host in cores else None
        )
        node["ssh_port"] = cfg["ssh_port"]
        node["ntp_servers"] = cfg["ntp_servers"]
        nodes[host] = node
    return cfg, members, nodes


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


def legacy_flows(groups, hostvars=None, settings=None):
    """The flows of the ``settings=`` form of the ``flow_matrix`` filter (see :func:`legacy_inputs`)."""
    return compute_flows(*legacy_inputs(groups, hostvars, settings))


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


def input_errors(settings=None, groups=None, hostvars=None, zones=None):
    """Every problem with the inputs, as messages naming the variable (empty list: all good).

    ``zones`` maps a variable name to its list of networks; networks of zones that must stay apart
    (API clients/admins vs the app and DB hosts) must not overlap.
    """
    errors = []
    try:
        cfg = normalize_settings(settings)
    except FlowError as exc:
        return [str(exc)]
    if groups is not None:
        try:
            legacy_flows(groups, hostvars, settings)
        except FlowError as exc:
            errors.append(str(exc))
    for name, networks in (zones or {}).items():
        try:
            _network_list(networks, name)
        except FlowError as exc:
            errors.append(str(exc))
    if not errors and groups is not None:
        app = set()
        for group in ("wa_webapp", "wa_coreapp", "wa_master", "wa_db"):
            for host in groups.get(group) or []:
                app.add(ipaddress.ip_address(host_inputs(host, hostvars or {}, cfg)["address"]))
        for key in ("api_client_networks", "admin_networks"):
            for cidr in cfg[key]:
                network = ipaddress.ip_network(cidr)
                inside = sorted(str(a) for a in app if a.version == network.version and a in network)
                if inside and network.prefixlen < network.max_prefixlen:
                    errors.append(
                        f"{VARIABLES[key]}: {cidr} contains the product hosts {', '.join(inside)}; "
                        "client/admin zones must not overlap the app/DB hosts (list the client networks only)"
                    )
    return errors
