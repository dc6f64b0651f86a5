# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The containers and machines of the deployment model: paths, owners, modes, ports, environment.

Pure Python (standard library only), like the model it serves. Every container an app host runs
(``waweb``, ``wacore``, ``wamaster``) with its data, media, certificate and env paths, their
owners and modes, its env fragments, its published ports and the environment the topology
decides; inventory hosts with the same address are one machine, which runs each container once
and uses each port once. :func:`env_digest` combines a container's env fragment digests.
"""

from __future__ import annotations

import hashlib
import re

from ansible_collections.waent.onprem.plugins.module_utils._model_values import (
    _MISSING,
    _external_ports,
    _hosts_text,
    _single_port,
)

# The inventory groups whose hosts run a container (also part of the model's public API).
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

# The bridge interface of the product's container network on every app machine: the firewall
# lets a machine's own containers reach its published ports (a co-hosted Master and Coreapp).
CONTAINER_BRIDGE = "waent0"

# Container ports (reference section 1.4).
WEBAPP_CONTAINER_PORT = 443
COREAPP_CONTAINER_PORTS = (6250, 6251, 6252, 6253)

# The env fragments of every container, in the order of the combined digest (byte order of
# the names), and the role that writes each (None: the container's app role).
ENV_FRAGMENTS = (("app.env", None), ("db.env", "waent.onprem.db_client"))
ENV_FRAGMENT_NAMES = tuple(name for name, _role in ENV_FRAGMENTS)

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
        "image_ref": None,
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
        runtimes = {}
        for host in on_machine:
            if hosts[host]["containers"] and hosts[host].get("runtime"):
                runtimes.setdefault(hosts[host]["runtime"], []).append(host)
        if len(runtimes) > 1:
            text = "; ".join(f"{runtime} on {_hosts_text(owners)}" for runtime, owners in runtimes.items())
            errors.append(f"wa_container_runtime differs on the machine {address} ({text}): the containers of one "
                          "machine run on one engine (they share its network and published ports); set the same "
                          "value on every inventory host with that address")
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
