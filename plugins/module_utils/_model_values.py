# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Reading and normalising the inventory's values for the deployment model.

Pure Python (standard library only), like the model it serves. :class:`_Reader` reads the hosts'
variables one host and one name at a time, falling back to the caller's defaults and recording
what is missing; the checks below turn one variable into a normalised value (or None) and add,
for a bad value, a message naming the variable, the host or group, the value and what to write
instead.
"""

from __future__ import annotations

import ipaddress
import re

from ansible_collections.waent.onprem.plugins.module_utils._flows import _sorted_unique as _unique

_ROLE_HINT = ("is the waent.onprem.wa role in this play? It gives the model its defaults (Ansible's hostvars do "
              "not hold role defaults); or set it in the inventory")
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
_MISSING = object()
_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")


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


# A registry host (with an optional port) and an optional path, as docker and podman read an
# image reference; never a URL. A tag as both engines accept it.
_REGISTRY = re.compile(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
                       r"(?::[0-9]{1,5})?(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
RUNTIMES = ("docker", "podman")


def _registry(value, where, errors):
    """``wa_image_registry`` normalised (no trailing slash), or None."""
    example = "for example wa_image_registry: registry.example.com:5000/whatsapp"
    if not isinstance(value, str) or not value.strip():
        errors.append(f"wa_image_registry on {where} is {value!r}: write the registry (and path) the images are "
                      f"pulled from or were loaded as, without a scheme, {example}")
        return None
    text = value.strip().rstrip("/")
    scheme = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*)://", text)
    if scheme:
        errors.append(f"wa_image_registry on {where} is {value!r}, a URL: container engines take a registry host "
                      f"and path without a scheme; write {text[len(scheme.group(0)):]!r} (TLS is the engine's "
                      "setting for that registry)")
        return None
    if text != value.rstrip("/") or not _REGISTRY.match(text):
        errors.append(f"wa_image_registry on {where} is {value!r}, not a registry host with an optional port and "
                      f"path (lower-case path, no spaces, no tag): {example}")
        return None
    return text


def _tag(value, where, errors):
    """``wa_version`` (an image tag), or None."""
    if not isinstance(value, str) or not _TAG.match(value):
        errors.append(f"wa_version on {where} is {value!r}, not an image tag: write the release's tag as your "
                      "registry or image archive has it, for example wa_version: v2.53.2 (letters, digits, '_', "
                      "'.', '-'; at most 128 characters)")
        return None
    return value


def _runtime(value, host, errors):
    """``wa_container_runtime`` of one host, or None."""
    if value not in RUNTIMES:
        errors.append(f"wa_container_runtime on host {host} is {value!r}: write docker (what the vendor documents) "
                      "or podman, in lower case")
        return None
    return value


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
