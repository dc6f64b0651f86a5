# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The deployment model of waent.onprem: the one description of a deployment every role reads.

Pure Python (standard library only), so it runs in a filter plugin on the controller and in a
module on a host alike. :func:`build_model` turns the inventory groups and the hosts' variables
into one JSON-serialisable dict: deployment-wide settings, every product host with its address,
its names for certificates, the machine it shares and its containers (paths, owners, modes, env
fragments, published ports, the topology's environment), and the allowed flows.
:func:`model_errors` lists every problem at once, each message naming the variable, the host or
group, the bad value and what to write instead. ``docs/docsite/rst/model.rst`` describes every
field.

The model has no defaults of its own: every value comes from the hosts' variables, else from
the ``defaults`` the caller passes (the ``waent.onprem.wa`` role passes its own defaults:
Ansible's ``hostvars`` do not hold role defaults). A required variable found in neither is an
error naming it. Optional: ``wa_host_address`` and ``wa_db_hostname`` (the model's rules derive
them), ``ansible_host``, ``firewall_ssh_port`` (22) and ``timesync_servers`` (none).

This module assembles the model; ``_model_values`` reads and normalises the variables and
``_model_containers`` lays out the containers and machines.
"""

from __future__ import annotations

import ipaddress

from ansible_collections.waent.onprem.plugins.module_utils._flows import _sorted_unique as _unique
from ansible_collections.waent.onprem.plugins.module_utils._flows import compute_flows
from ansible_collections.waent.onprem.plugins.module_utils._model_containers import (
    APP_GROUPS,
    CONTAINER_BRIDGE,
    ENV_FRAGMENT_NAMES,
    _add_containers,
    _host_ports,
    _machines,
    _topology_env,
)
from ansible_collections.waent.onprem.plugins.module_utils._model_values import (
    _MISSING,
    _bool,
    _hosts_text,
    _ip,
    _is_dns_name,
    _networks,
    _ntp_servers,
    _Reader,
    _registry,
    _runtime,
    _server_names,
    _single_port,
    _tag,
)
from ansible_collections.waent.onprem.plugins.module_utils._webapp_users import username_problem

MODEL_VERSION = 1

GROUPS = ("wa_webapp", "wa_coreapp", "wa_master", "wa_db")

DB_ENGINES = ("MYSQL", "PGSQL")
WEB_SECURITY_LEVELS = ("MODERN", "INTERMEDIATE", "OLD")
SSH_PORT = 22  # when no host sets firewall_ssh_port (the IANA port, as the firewall role)


class ModelError(ValueError):
    """The inventory does not describe a coherent deployment; ``errors`` lists every problem."""

    def __init__(self, errors):
        self.errors = list(errors)
        super().__init__("\n".join(self.errors))


# ---------------------------------------------------------------------------------------------
# The model


def _address(reader, host, errors):
    """(address, variable it came from): wa_host_address, else ansible_host, else an inventory
    name that is an IP literal. Must be an IP address."""
    fix = (f"set wa_host_address on host {host} to the IP address its peers and the firewall use "
           "(for example wa_host_address: 10.40.1.10); certificate names come from the inventory name, "
           "a DNS-name ansible_host and wa_webapp_server_names")
    explicit = reader.get_set(host, "wa_host_address")
    if explicit is not None:
        address = _ip(explicit)
        if address is None:
            errors.append(f"wa_host_address on host {host} is {explicit!r}, not an IP address: {fix}")
        return address, "wa_host_address"
    connect = reader.get_set(host, "ansible_host")
    if connect is not None:
        address = _ip(connect)
        if address is None:
            errors.append(f"host {host} has no IP address: wa_host_address is not set and ansible_host is "
                          f"{connect!r}, not an IP address; {fix}")
        return address, "ansible_host"
    if _ip(host):
        return _ip(host), "inventory_hostname"
    errors.append(f"host {host} has no IP address: wa_host_address and ansible_host are not set and the "
                  f"inventory name is not an address; {fix}")
    return None, None


def _deployment_settings(reader, sources, app_hosts, errors):
    def read(name, required=True):
        value, where = reader.deployment(sources, name, required)
        return value, ("every product host" if len(where) > 1 and len(where) == len(sources) else _hosts_text(where))

    value, where = read("wa_multiconnect")
    multiconnect = None if value is _MISSING else _bool(value)
    if value is not _MISSING and multiconnect is None:
        errors.append(f"wa_multiconnect on {where} is {value!r}, not a boolean: write wa_multiconnect: true "
                      "(multiconnect with Masters) or false (single-connect)")
    settings = {"multiconnect": bool(multiconnect)}
    for name in ("wa_api_client_networks", "wa_admin_networks", "wa_management_networks"):
        value, where = read(name)
        settings[name[3:]] = _networks(value, name, where, errors)

    engine, where = read("wa_db_engine")
    if engine is not _MISSING and engine not in DB_ENGINES:
        errors.append(f"wa_db_engine on {where} is {engine!r}: write MYSQL (MySQL or MariaDB) or PGSQL "
                      "(PostgreSQL), in capitals")
    value, where = read("wa_db_port")
    db_port = _single_port(value, "wa_db_port", where, errors, 3306)
    hostname, where = read("wa_db_hostname", required=False)
    if hostname in (_MISSING, None, ""):
        hostname = None  # the address of the first wa_db host (_db_server)
    elif not (_ip(hostname) or _is_dns_name(hostname)):
        errors.append(f"wa_db_hostname on {where} is {hostname!r}, not a host name or an IP address: write the "
                      "name or address the containers connect to, for example wa_db_hostname: db1.example.com")
        hostname = None
    else:
        hostname = _ip(hostname) or hostname
    username, where = read("wa_db_username")
    if username is not _MISSING and (not isinstance(username, str) or not username.strip()):
        errors.append(f"wa_db_username on {where} is {username!r}: write the product's database account, "
                      "for example wa_db_username: waent")
    window, where = read("wa_replay_window")
    if window is not _MISSING and (isinstance(window, bool) or not isinstance(window, (int, float)) or window <= 0):
        errors.append(f"wa_replay_window on {where} is {window!r}: write a positive number of seconds "
                      "(the vendor's WA_SECRET replay window is 10)")
    settings["db"] = {
        "engine": engine if engine in DB_ENGINES else None,
        "port": db_port,
        "hostname": hostname,
        "username": username if isinstance(username, str) and username.strip() else None,
        "server_host": None,
    }
    registry, where = read("wa_image_registry")
    registry = None if registry is _MISSING else _registry(registry, where, errors)
    version, where = read("wa_version")
    # Empty: no release chosen; only the container roles need one (their preflight says so), the
    # database, firewall and time roles deploy without it.
    version = None if version is _MISSING or version in ("", None) else _tag(version, where, errors)
    # One release for every container: the vendor's Webapp and Coreapp must run the same version.
    settings["images"] = {image: f"{registry}/{image}:{version}" if registry and version else None
                          for image in ("web", "coreapp")}
    level, where = read("wa_web_security_level")
    if level is not _MISSING and level not in WEB_SECURITY_LEVELS:
        spaced = isinstance(level, str) and level.strip() in WEB_SECURITY_LEVELS
        hint = f" (without the spaces: {level.strip()!r})" if spaced else ""
        errors.append(f"wa_web_security_level on {where} is {level!r}: write MODERN (the default: TLS 1.2, ECDHE "
                      f"AEAD suites), INTERMEDIATE or OLD, in capitals{hint}")
    settings["web_security_level"] = level if level in WEB_SECURITY_LEVELS else None
    user, where = read("wa_api_user", required=False)
    user = None if user in (_MISSING, None, "") else user
    problem = None if user is None else (
        username_problem(user) if isinstance(user, str) else f"{user!r} is not a user name")
    if problem:
        errors.append(f"wa_api_user on {where}: {problem}; or leave it empty (no API user, the default)")
    settings["api_user"] = None if problem else user
    settings["replay_window"] = window if isinstance(window, (int, float)) and not isinstance(window, bool) else None
    return settings


def _topology_errors(members, multiconnect, errors):
    webapps, cores, masters = members["wa_webapp"], members["wa_coreapp"], members["wa_master"]
    if cores and not webapps:
        errors.append(f"group wa_webapp is empty but wa_coreapp has {_hosts_text(cores)}: a Coreapp is only "
                      "reached through a Webapp; add at least one host to the group wa_webapp")
    if multiconnect and not masters:
        errors.append("wa_multiconnect is true but the group wa_master is empty: multiconnect needs at least one "
                      "Master; add hosts to wa_master, or set wa_multiconnect: false")
    if multiconnect and masters and not cores:
        errors.append(f"wa_multiconnect is true and wa_master has {_hosts_text(masters)} but the group wa_coreapp "
                      "is empty: Masters promote Coreapps; add at least one host to wa_coreapp")
    if masters and not multiconnect:
        errors.append(f"group wa_master has {_hosts_text(masters)} but wa_multiconnect is false: Masters exist only "
                      "in multiconnect; set wa_multiconnect: true, or empty the group wa_master")
    if not multiconnect and len(cores) > 1:
        errors.append(f"group wa_coreapp has {_hosts_text(cores)} with wa_multiconnect false: single-connect runs "
                      "exactly one Coreapp (two active Coreapps for one number can get it banned); keep one "
                      "host in wa_coreapp, or set wa_multiconnect: true and add Masters")
    for host in cores:
        if host in masters:
            errors.append(f"host {host} is in both wa_coreapp and wa_master: a Master co-hosted with a Coreapp is a "
                          "second inventory host with the same wa_host_address and its own "
                          "wa_coreapp_external_ports (for example [6254, 6255, 6256, 6257])")


def _webapp_server_name(hosts, members, reader):
    """WA_WEB_SERVERNAME of every Webapp (the key of the uploaded certificate): the first name
    clients are given (wa_webapp_server_names of the first Webapp), else the first Webapp's first
    DNS name, else its address. The Webapp server certificate carries it as its common name."""
    if not members["wa_webapp"]:
        return None
    first = members["wa_webapp"][0]
    given = reader.get(first, "wa_webapp_server_names", required=False)
    if isinstance(given, list) and given and isinstance(given[0], str) and given[0] in (
            hosts[first]["names"]["dns"] + hosts[first]["names"]["ip"]):
        return _ip(given[0]) or given[0]
    names = hosts[first]["names"]
    return (names["dns"] + names["ip"] or [None])[0]


def _overlap_errors(settings, hosts, errors):
    """Client and admin networks must not contain product hosts (a single address may equal one)."""
    for key in ("api_client_networks", "admin_networks"):
        for cidr in settings[key]:
            network = ipaddress.ip_network(cidr)
            if network.prefixlen == network.max_prefixlen:
                continue
            inside = [f"{h} ({entry['address']})" for h, entry in hosts.items()
                      if entry["address"] and ipaddress.ip_address(entry["address"]).version == network.version
                      and ipaddress.ip_address(entry["address"]) in network]
            if inside:
                errors.append(f"wa_{key}: {cidr} contains the product hosts {', '.join(inside)}; client/admin "
                              "zones must not overlap the app/DB hosts (list the client networks only)")


def _host_entry(reader, host, members, errors):
    """A product host: groups, address, names for certificates, SSH port, NTP sources."""
    address, address_from = _address(reader, host, errors)
    ssh = reader.get_set(host, "firewall_ssh_port")
    runtime = None
    if set(members) and any(host in members[g] for g in APP_GROUPS):
        value = reader.get(host, "wa_container_runtime")
        runtime = None if value is _MISSING else _runtime(value, host, errors)
    connect = reader.get_set(host, "ansible_host")
    dns = [host] if not _ip(host) else []
    if connect is not None and not _ip(connect) and _is_dns_name(connect):
        dns.append(connect)
    ips = ([address] if address else []) + [_ip(value) for value in (connect, host) if _ip(value)]
    if host in members["wa_webapp"]:
        server_dns, server_ips = _server_names(reader.get(host, "wa_webapp_server_names"), host, errors)
        dns += server_dns
        ips += server_ips
    return {
        "groups": [group for group in GROUPS if host in members[group]],
        "address": address,
        "address_from": address_from,
        "names": {"dns": _unique(dns), "ip": _unique(ips)},
        "machine": [],
        "runtime": runtime,
        "ssh_port": SSH_PORT if ssh is None else _single_port(ssh, "firewall_ssh_port", f"host {host}", errors, 22),
        "ntp_servers": _ntp_servers(reader.get(host, "timesync_servers", required=False), host, errors),
        "containers": [],
    }


def _db_server(db, hosts, members, errors):
    """The host the containers connect to: wa_db_hostname, else the address of the first wa_db
    host. The wa_db host it designates (its address or a name of it, else the first one) gets
    that name in its certificate."""
    if not members["wa_db"]:
        if db["hostname"] is None and any(set(entry["groups"]) & set(APP_GROUPS) for entry in hosts.values()):
            errors.append("wa_db_hostname is not set and the group wa_db is empty: the containers need the database "
                          "host; set wa_db_hostname to its name or address (for example wa_db_hostname: "
                          "db1.example.com), or put the database host in the group wa_db")
        return
    if db["hostname"] is None:
        db["hostname"] = hosts[members["wa_db"][0]]["address"]
    wanted = db["hostname"]

    def designates(host):
        names = hosts[host]["names"]
        return wanted and (wanted in names["dns"] or wanted in names["ip"])

    db["server_host"] = next((h for h in members["wa_db"] if designates(h)), members["wa_db"][0])
    if wanted:
        names = hosts[db["server_host"]]["names"]
        kind = "ip" if _ip(wanted) else "dns"
        names[kind] = _unique(names[kind] + [wanted])


def _collect(groups, hostvars, defaults):
    """(model without flows, errors)."""
    groups = groups or {}
    reader = _Reader(hostvars, defaults)
    errors = reader.errors
    members = {group: _unique(str(h) for h in (groups.get(group) or [])) for group in GROUPS}
    product = _unique(h for group in GROUPS for h in members[group])
    app_hosts = _unique(h for group in APP_GROUPS for h in members[group])
    settings = _deployment_settings(reader, product, app_hosts, errors)
    multiconnect = settings["multiconnect"]
    _topology_errors(members, multiconnect, errors)
    hosts = {host: _host_entry(reader, host, members, errors) for host in product}
    _add_containers(reader, hosts, members, multiconnect, errors)
    for entry in hosts.values():
        for container in entry["containers"]:
            container["image_ref"] = settings["images"][container["image"]]
    machines = _machines(hosts, members, settings["db"]["port"], errors)
    _overlap_errors(settings, hosts, errors)
    _db_server(settings["db"], hosts, members, errors)
    _topology_env(hosts, members, multiconnect)
    model = {
        "version": MODEL_VERSION,
        "multiconnect": multiconnect,
        "api_client_networks": settings["api_client_networks"],
        "admin_networks": settings["admin_networks"],
        "management_networks": settings["management_networks"],
        "db": settings["db"],
        "replay_window": settings["replay_window"],
        "images": settings["images"],
        "web_security_level": settings["web_security_level"],
        "api_user": settings["api_user"],
        "webapp_server_name": _webapp_server_name(hosts, members, reader),
        "container_bridge": CONTAINER_BRIDGE,
        "groups": members,
        "env_fragment_names": list(ENV_FRAGMENT_NAMES),
        "hosts": hosts,
        "machines": machines,
    }
    return model, reader.missing_errors() + errors


def _flow_inputs(model):
    """The normalised inputs of ``_flows.compute_flows`` from the model."""
    settings = {key: model[key] for key in ("multiconnect", "api_client_networks", "admin_networks",
                                            "management_networks")}
    settings["db_port"] = model["db"]["port"]
    nodes = {}
    for host, entry in model["hosts"].items():
        node = {"address": entry["address"], "ssh_port": entry["ssh_port"], "ntp_servers": entry["ntp_servers"],
                "webapp_port": None, "coreapp_external_ports": None}
        for container in entry["containers"]:
            ports = _host_ports(container)
            if container["role"] == "webapp":
                node["webapp_port"] = ports[0]
            else:
                node["coreapp_external_ports"] = ports
        nodes[host] = node
    return settings, model["groups"], nodes


def model_errors(groups, hostvars, defaults=None):
    """Every problem of the inventory as a deployment, as messages (empty: the model builds)."""
    return _collect(groups, hostvars, defaults)[1]


def build_model(groups, hostvars, defaults=None):
    """The deployment model of the inventory.

    ``groups``: group -> hosts. ``hostvars``: host -> that host's variables (already templated,
    or templating on access as Ansible's HostVars; read one name at a time). ``defaults``:
    variable -> value for a host that does not define it (the waent.onprem.wa role's defaults:
    Ansible's hostvars do not hold role defaults); values that are templates are left out.
    Raises ModelError with every problem."""
    model, errors = _collect(groups, hostvars, defaults)
    if errors:
        raise ModelError(errors)
    model["flows"] = compute_flows(*_flow_inputs(model))
    return model
