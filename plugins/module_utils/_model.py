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
"""

from __future__ import annotations

import hashlib
import ipaddress
import re

from ansible_collections.waent.onprem.plugins.module_utils._flows import _sorted_unique as _unique
from ansible_collections.waent.onprem.plugins.module_utils._flows import compute_flows

MODEL_VERSION = 1

GROUPS = ("wa_webapp", "wa_coreapp", "wa_master", "wa_db")
APP_GROUPS = ("wa_webapp", "wa_coreapp", "wa_master")

# One container per inventory host and app group. ``image`` is the vendor's image repository
# (docker.whatsapp.biz/web, docker.whatsapp.biz/coreapp); the Master runs the Coreapp image.
# ``app_role`` writes the container's app.env fragment.
CONTAINERS = {
    "wa_webapp": {"name": "waweb", "role": "webapp", "image": "web", "app_role": "waent.onprem.webapp"},
    "wa_coreapp": {"name": "wacore", "role": "coreapp", "image": "coreapp", "app_role": "waent.onprem.coreapp"},
    "wa_master": {"name": "wamaster", "role": "master", "image": "coreapp", "app_role": "waent.onprem.coreapp"},
}

# Paths inside the containers (reference section 3) and on the hosts.
DATA_MOUNT = "/usr/local/waent/data"
CERTS_MOUNT = DATA_MOUNT + "/certs"
MEDIA_MOUNT = "/usr/local/wamedia"
MEDIA_DIR = "media"  # <wa_data_root>/media: one per machine, shared by its containers
ENV_ROOT = "/etc/waent"  # <ENV_ROOT>/<container>/<fragment>
DB_TLS_FILES = (("ca", "db-ca.pem"), ("cert", "db-client.crt"), ("key", "db-client.key"))

# Container ports (reference section 1.4).
WEBAPP_CONTAINER_PORT = 443
COREAPP_CONTAINER_PORTS = (6250, 6251, 6252, 6253)

# The env fragments of every container, in the order of the combined digest (byte order of
# the names), and the role that writes each (None: the container's app role).
ENV_FRAGMENTS = (("app.env", None), ("db.env", "waent.onprem.db_client"))
ENV_FRAGMENT_NAMES = tuple(name for name, _role in ENV_FRAGMENTS)

DB_ENGINES = ("MYSQL", "PGSQL")
SSH_PORT = 22  # when no host sets firewall_ssh_port (the IANA port, as the firewall role)

# Owners and modes, decided here and nowhere else. Every process of the vendor's containers
# runs as root, except the Webapp's PHP, which reads the DB TLS files as www-data: group 33 in
# the image (numeric, whatever the host calls it). Other containers give no group access.
ROOT = 0
WWW_DATA_GID = 33
CONTAINER_GIDS = {"waweb": WWW_DATA_GID, "wacore": ROOT, "wamaster": ROOT}


def _access(kind, gid):
    """Owner, group and mode of a path of ``kind`` for a container whose files group ``gid`` reads."""
    shared = gid != ROOT
    table = {
        "data_dir": (ROOT, gid, "0750" if shared else "0700"),
        "certs_dir": (ROOT, gid, "0750" if shared else "0700"),
        "public_file": (ROOT, gid, "0644"),
        "secret_file": (ROOT, gid, "0640" if shared else "0600"),
        "env_dir": (ROOT, ROOT, "0700"),
        "env_file": (ROOT, ROOT, "0600"),
        # Shared by every container of the machine; the Webapp writes uploads there as
        # www-data (reference section 3: it checks the directory is writable).
        "media_dir": (ROOT, WWW_DATA_GID, "0770"),
    }
    owner, group, mode = table[kind]
    return {"owner": owner, "group": group, "mode": mode}


def _path(path, kind, gid):
    return dict({"path": path}, **_access(kind, gid))


_ROLE_HINT = ("is the waent.onprem.wa role in this play? It gives the model its defaults (Ansible's hostvars do "
              "not hold role defaults); or set it in the inventory")
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
_MISSING = object()
_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")


class ModelError(ValueError):
    """The inventory does not describe a coherent deployment; ``errors`` lists every problem."""

    def __init__(self, errors):
        self.errors = list(errors)
        super().__init__("\n".join(self.errors))


# ---------------------------------------------------------------------------------------------
# Values


def _plain(value):
    """A copy of ``value`` made of plain str/int/float/bool/None/list/dict (hostvars hold tagged
    and lazy subclasses of those)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if hasattr(value, "keys"):
        return {str(k): _plain(value[k]) for k in value.keys()}
    if hasattr(value, "__iter__"):
        return [_plain(item) for item in value]
    return str(value)


def _hosts_text(hosts):
    hosts = list(hosts)
    if len(hosts) == 1:
        return f"host {hosts[0]}"
    if len(hosts) <= 4:
        return "hosts " + ", ".join(hosts)
    return "hosts " + ", ".join(hosts[:3]) + f" and {len(hosts) - 3} more"


def _ip(value):
    """The normalised IP address ``value`` is, or None."""
    if not isinstance(value, str):
        return None
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def _is_dns_name(value):
    if not isinstance(value, str) or not value or len(value) > 253 or _ip(value):
        return False
    labels = value.rstrip(".").split(".")
    if labels[0] == "*":  # a wildcard certificate name
        labels = labels[1:]
    if not labels or labels[-1].isdigit():
        return False
    return all(_LABEL.match(label) for label in labels)


def _port(value):
    """``value`` as a TCP port (int 1-65535; a string of digits is accepted), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, int) and 1 <= value <= 65535:
        return int(value)
    return None


def _bool(value):
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
        return value.strip().lower() in _TRUE
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    return None


def _is_list(value):
    return isinstance(value, list)


# ---------------------------------------------------------------------------------------------
# Reading the hosts' variables


class _Reader:
    """Reads variables from ``hostvars`` one host and one name at a time (never the whole
    mapping of a host: Ansible's HostVars templates on access) and records what is missing."""

    def __init__(self, hostvars, defaults):
        self._hostvars = hostvars if hostvars is not None else {}
        # A default that is still a template cannot be evaluated for another host: left out.
        self._defaults = {str(k): _plain(v) for k, v in (defaults or {}).items()
                          if not (isinstance(v, str) and ("{{" in v or "{%" in v))}
        self._hosts = {}
        self.missing = {}
        self.errors = []

    def _vars(self, host):
        if host not in self._hosts:
            found = {}
            try:
                if host in self._hostvars:
                    found = self._hostvars[host]
            except Exception:  # pylint: disable=broad-except
                found = {}
            self._hosts[host] = found if hasattr(found, "__contains__") and hasattr(found, "__getitem__") else {}
        return self._hosts[host]

    def get(self, host, name, required=True):
        """The plain value of ``name`` for ``host``, else its default; _MISSING (recorded when
        ``required``) when it has neither."""
        hv = self._vars(host)
        try:
            if name not in hv:
                if name in self._defaults:
                    return self._defaults[name]
                if required:
                    self.missing.setdefault(name, []).append(host)
                return _MISSING
            return _plain(hv[name])
        except Exception as exc:  # pylint: disable=broad-except
            self.errors.append(f"{name} on host {host} cannot be evaluated ({exc}): fix its template in the inventory")
            return _MISSING

    def get_set(self, host, name):
        """The value of an optional variable; None when unset, null or empty."""
        value = self.get(host, name, required=False)
        return None if value is _MISSING or value in (None, "") else value

    def deployment(self, hosts, name, required=True):
        """The value of a deployment-wide variable, which every host of ``hosts`` must agree on."""
        seen = []
        for host in hosts:
            value = self.get(host, name, required)
            if value is _MISSING:
                continue
            for entry in seen:
                if entry[0] == value:
                    entry[1].append(host)
                    break
            else:
                seen.append((value, [host]))
        if len(seen) > 1:
            values = "; ".join(f"{value!r} on {_hosts_text(where)}" for value, where in seen)
            self.errors.append(
                f"{name} differs between product hosts ({values}): it is one setting of the whole deployment; "
                "set it once, in group_vars/all"
            )
        return seen[0] if seen else (_MISSING, [])

    def missing_errors(self):
        return [f"{name} is not defined for {_hosts_text(hosts)}: {_ROLE_HINT}" for name, hosts in self.missing.items()]


# ---------------------------------------------------------------------------------------------
# Checks that turn one variable into a normalised value (or None) and messages


def _networks(value, variable, where, errors):
    """A list of normalised CIDRs."""
    if value is _MISSING or value is None:
        return []
    if isinstance(value, str):
        errors.append(f"{variable} on {where} is the string {value!r}, not a list: write a YAML list of networks, "
                      f"for example {variable}: [{value.strip() or '10.20.0.0/16'}]")
        return []
    if not _is_list(value):
        errors.append(f"{variable} on {where} is {value!r}, not a list: write a YAML list of networks in CIDR "
                      f"notation, for example {variable}: [10.20.0.0/16]")
        return []
    result = []
    for index, item in enumerate(value):
        try:
            if not isinstance(item, str):
                raise ValueError
            result.append(str(ipaddress.ip_network(item.strip(), strict=False)))
        except ValueError:
            errors.append(f"{variable}[{index}] on {where} is {item!r}, not a network: write a CIDR such as "
                          "10.20.0.0/16 or 2001:db8::/64, or a single address")
    return _unique(result)


def _single_port(value, variable, where, errors, example):
    if value is _MISSING:
        return None
    port = _port(value)
    if port is None:
        errors.append(f"{variable} on {where} is {value!r}, not a TCP port: write a number from 1 to 65535, "
                      f"for example {variable}: {example}")
    return port


def _external_ports(value, host, errors):
    variable = "wa_coreapp_external_ports"
    where = f"host {host}"
    example = "[6250, 6251, 6252, 6253] ([6254, 6255, 6256, 6257] for a Master co-hosted with a Coreapp)"
    if value is _MISSING:
        return None
    if isinstance(value, str):
        errors.append(f"{variable} on {where} is the string {value!r}, not a list: write the four host ports "
                      f"of container ports 6250-6253 as a YAML list, for example {example}")
        return None
    if not _is_list(value) or len(value) != 4:
        errors.append(f"{variable} on {where} is {value!r}: it must list exactly four host ports, for container "
                      f"ports 6250-6253, for example {example}")
        return None
    ports = []
    for index, item in enumerate(value):
        port = _port(item)
        if port is None:
            errors.append(f"{variable}[{index}] on {where} is {item!r}, not a TCP port: write a number from "
                          "1 to 65535")
        ports.append(port)
    if None in ports:
        return None
    if len(set(ports)) != 4:
        errors.append(f"{variable} on {where} is {value!r}: the four ports must differ, for example {example}")
        return None
    return ports


def _ntp_servers(value, host, errors):
    """Host names or addresses of ``timesync_servers`` (strings or dicts with ``host``)."""
    if value is _MISSING or value is None:
        return []
    where = f"host {host}"
    if isinstance(value, str) or not _is_list(value):
        errors.append(f"timesync_servers on {where} is {value!r}, not a list: write a YAML list of sources, "
                      "for example timesync_servers: [{host: ntp1.example.com}]")
        return []
    servers = []
    for index, item in enumerate(value):
        if isinstance(item, dict):
            name = next((item[k] for k in ("host", "hostname", "address") if item.get(k)), None)
        else:
            name = item
        if not isinstance(name, str) or not (_ip(name) or _is_dns_name(name)):
            errors.append(f"timesync_servers[{index}] on {where} is {item!r}: write a source as "
                          "{host: NAME-OR-ADDRESS}, for example {host: ntp1.example.com}")
            continue
        servers.append(_ip(name) or name)
    return _unique(servers)


def _server_names(value, host, errors):
    """(dns, ip) lists from ``wa_webapp_server_names``."""
    variable = "wa_webapp_server_names"
    if value is _MISSING or value is None:
        return [], []
    if isinstance(value, str) or not _is_list(value):
        errors.append(f"{variable} on host {host} is {value!r}, not a list: write a YAML list of DNS names, "
                      f"for example {variable}: [wa.example.com]")
        return [], []
    dns, ips = [], []
    for index, item in enumerate(value):
        if _ip(item):
            ips.append(_ip(item))
        elif _is_dns_name(item):
            dns.append(item)
        else:
            errors.append(f"{variable}[{index}] on host {host} is {item!r}, not a DNS name: write the name "
                          "clients use, for example wa.example.com")
    return dns, ips


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


def _container(spec, data_root, published):
    name = spec["name"]
    gid = CONTAINER_GIDS[name]
    data_root = data_root.rstrip("/")
    data_dir = f"{data_root}/{name}"
    certs_dir = f"{data_dir}/certs"
    env_dir = f"{ENV_ROOT}/{name}"
    return {
        "name": name,
        "role": spec["role"],
        "image": spec["image"],
        "gid": gid,
        "data_dir": _path(data_dir, "data_dir", gid),
        "data_mount": DATA_MOUNT,
        "media_dir": _path(f"{data_root}/{MEDIA_DIR}", "media_dir", gid),
        "media_mount": MEDIA_MOUNT,
        "certs_dir": _path(certs_dir, "certs_dir", gid),
        "certs_mount": CERTS_MOUNT,
        "db_tls_files": {
            key: dict(_path(f"{certs_dir}/{filename}", "secret_file" if key == "key" else "public_file", gid),
                      container_path=f"{CERTS_MOUNT}/{filename}")
            for key, filename in DB_TLS_FILES
        },
        "env_dir": _path(env_dir, "env_dir", gid),
        "env_fragments": [
            dict(_path(f"{env_dir}/{fragment}", "env_file", gid), name=fragment, role=role or spec["app_role"])
            for fragment, role in ENV_FRAGMENTS
        ],
        "published_ports": [
            {"host_port": host_port, "container_port": container_port, "protocol": "tcp"}
            for host_port, container_port in published
        ],
        "topology_env": {},
    }


def _listeners(entry, host, db_port, is_db):
    """(port, who, variable) of everything listening on the host's machine for this inventory host."""
    found = [(entry["ssh_port"], "SSH", "firewall_ssh_port")] if entry["ssh_port"] else []
    if is_db and db_port:
        found.append((db_port, f"the database of host {host}", "wa_db_port"))
    for container in entry["containers"]:
        variable = "wa_webapp_port" if container["role"] == "webapp" else "wa_coreapp_external_ports"
        for published in container["published_ports"]:
            found.append((published["host_port"], f"{container['name']} of host {host}", variable))
    return found


def _machine_errors(machines, hosts, members, db_port, errors):
    """A machine runs each container once and uses each port once."""
    for address, on_machine in machines.items():
        names = {}
        for host in on_machine:
            for container in hosts[host]["containers"]:
                names.setdefault(container["name"], []).append(host)
        for name, owners in names.items():
            if len(owners) > 1:
                errors.append(f"{_hosts_text(owners)} share the address {address} and each runs {name}: a machine runs "
                              f"at most one {name} (they would share its name and {ENV_ROOT}/{name}); give each "
                              "machine its own wa_host_address")
        used = {}
        for host in on_machine:
            for port, who, variable in _listeners(hosts[host], host, db_port, host in members["wa_db"]):
                used.setdefault(port, [])
                if (who, variable) not in [(w, v) for w, v, _h in used[port]]:
                    used[port].append((who, variable, host))
        clashes = {}
        for port in sorted(used):
            if len(used[port]) > 1:
                clashes.setdefault(tuple(used[port]), []).append(str(port))
        for users, ports in clashes.items():
            text = " and ".join(f"{who} ({variable})" for who, variable, _h in users)
            master = next((h for who, _v, h in users if who.startswith("wamaster ")), None)
            fix = (f"give the co-hosted Master its own ports, for example wa_coreapp_external_ports: "
                   f"[6254, 6255, 6256, 6257] on host {master}" if master else
                   "change one of them so that each port has one user")
            what = f"port {ports[0]} is" if len(ports) == 1 else f"ports {', '.join(ports)} are"
            errors.append(f"{what} used twice on the machine {address}: by {text}; {fix}")


def _host_entry(reader, host, members, errors):
    """A product host: groups, address, names for certificates, SSH port, NTP sources."""
    address, address_from = _address(reader, host, errors)
    ssh = reader.get_set(host, "firewall_ssh_port")
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
        "ssh_port": SSH_PORT if ssh is None else _single_port(ssh, "firewall_ssh_port", f"host {host}", errors, 22),
        "ntp_servers": _ntp_servers(reader.get(host, "timesync_servers", required=False), host, errors),
        "containers": [],
    }


def _published(reader, host, members, multiconnect, errors):
    """group -> [(host port, container port)] of the host's containers."""
    published = {}
    if host in members["wa_webapp"]:
        port = _single_port(reader.get(host, "wa_webapp_port"), "wa_webapp_port", f"host {host}", errors, 9090)
        published["wa_webapp"] = [(port, WEBAPP_CONTAINER_PORT)] if port else []
    if host in members["wa_coreapp"] or host in members["wa_master"]:
        ports = _external_ports(reader.get(host, "wa_coreapp_external_ports"), host, errors) or []
        if ports and not multiconnect and host in members["wa_coreapp"] and ports[:3] != list(
                range(ports[0], ports[0] + 3)):
            errors.append(f"wa_coreapp_external_ports on host {host} is {ports!r}: in single-connect the Webapp "
                          "reaches the Coreapp at WACORE_BASEPORT and the next two ports, so the first three must "
                          f"be consecutive, for example [{ports[0]}, {ports[0] + 1}, {ports[0] + 2}, {ports[0] + 3}]")
        # A host in both groups is reported by _topology_errors; it runs the Coreapp only.
        group = "wa_coreapp" if host in members["wa_coreapp"] else "wa_master"
        published[group] = [(port, COREAPP_CONTAINER_PORTS[index]) for index, port in enumerate(ports)]
    return published


def _add_containers(reader, hosts, members, multiconnect, errors):
    for host in (h for h in hosts if set(hosts[h]["groups"]) & set(APP_GROUPS)):
        published = _published(reader, host, members, multiconnect, errors)
        data_root = reader.get(host, "wa_data_root")
        if data_root is _MISSING:
            continue
        if not isinstance(data_root, str) or not data_root.startswith("/"):
            errors.append(f"wa_data_root on host {host} is {data_root!r}, not an absolute path: write a directory "
                          "such as /srv/waent")
            continue
        hosts[host]["containers"] = [_container(CONTAINERS[group], data_root, published[group])
                                     for group in APP_GROUPS if group in published]


def _machines(hosts, members, db_port, errors):
    """address -> machine: inventory hosts with the same address are one machine."""
    machines = {}
    for host, entry in hosts.items():
        if entry["address"]:
            machines.setdefault(entry["address"], []).append(host)
    for on_machine in machines.values():
        for host in on_machine:
            hosts[host]["machine"] = list(on_machine)
    _machine_errors(machines, hosts, members, db_port, errors)
    return {address: {"hosts": on_machine,
                      "containers": [f"{h}/{c['name']}" for h in on_machine for c in hosts[h]["containers"]]}
            for address, on_machine in machines.items()}


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
        "groups": members,
        "env_fragment_names": list(ENV_FRAGMENT_NAMES),
        "hosts": hosts,
        "machines": machines,
    }
    return model, reader.missing_errors() + errors


def _host_ports(container):
    return [p["host_port"] for p in container["published_ports"]]


def _topology_env(hosts, members, multiconnect):
    """The environment the topology decides: who reaches whom, on which ports (reference 2.3)."""
    flag = "1" if multiconnect else "0"
    core = next((c for h in members["wa_coreapp"] for c in hosts[h]["containers"] if c["role"] == "coreapp"), None)
    core_host = next((h for h in members["wa_coreapp"] if core in hosts[h]["containers"]), None)
    for entry in hosts.values():
        for container in entry["containers"]:
            env = {"WA_APP_MULTICONNECT": flag}
            ports = _host_ports(container)
            if container["role"] != "webapp":
                env["COREAPP_HOSTNAME"] = entry["address"]
                env["COREAPP_EXTERNAL_PORTS"] = ",".join(str(p) for p in ports)
                if container["role"] == "master":
                    env["WA_MASTER_NODE"] = "1"
            elif multiconnect:
                env["WEBAPP_HOSTNAME"] = entry["address"]
                env["WEBAPP_EXTERNAL_PORTS"] = ",".join(str(p) for p in ports)
            elif core and _host_ports(core):
                env["WACORE_HOSTNAME"] = hosts[core_host]["address"]
                env["WACORE_BASEPORT"] = str(_host_ports(core)[0])
            container["topology_env"] = env


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


def env_digest(fragment_digests, names=ENV_FRAGMENT_NAMES):
    """The combined digest of a container's env fragments: the SHA-256 of the ``sha256sum`` lines
    (``<hex digest>  <name>\\n``) of the fragments, in the model's order. ``fragment_digests``
    maps a fragment name to the SHA-256 hex digest of its content. Equals
    ``cd /etc/waent/<container> && sha256sum app.env db.env | sha256sum``."""
    lines = []
    for name in names:
        digest = fragment_digests.get(name) if hasattr(fragment_digests, "get") else None
        if not isinstance(digest, str) or not re.match(r"^[0-9A-Fa-f]{64}$", digest):
            raise ValueError(f"env fragment {name}: expected its SHA-256 hex digest, got {digest!r} "
                             f"(every container has the fragments {', '.join(names)})")
        lines.append(f"{digest.lower()}  {name}\n")
    return hashlib.sha256("".join(lines).encode("ascii")).hexdigest()
