# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Preflight rules of the app roles (container_runtime, coreapp, webapp) and of the audit: what
their argument specs cannot express. Same contract as ``_preflight_rules``: (host, values, ctx) -> [Problem]."""

from __future__ import annotations

import ipaddress
import os
import re
from urllib.parse import urlsplit

from ansible_collections.waent.onprem.plugins.plugin_utils._preflight import Problem

# docker's and podman's size notation: a number and an optional unit.
_SIZE = re.compile(r"^[1-9][0-9]*[kmgKMG]?$")
# The Webapp's setup copies every WA* variable into a shell file and aborts on a name that is not
# a shell identifier (reference section 2.3); the roles' own settings cannot be overridden.
_ENV_NAME = re.compile(r"^WA_[A-Z0-9_]+$")
_RESERVED = re.compile(r"^(WA_SECRET|WA_DB_.*|WA_WEB_(SECURITY_LEVEL|JWT_CRYPTO_KEY|SERVERNAME)|WA_APP_MULTICONNECT"
                       r"|WA_MASTER_NODE|WACORE_.*|COREAPP_.*|WEBAPP_.*)$")


def rules_container_runtime(host, values, ctx):
    out = []
    if values.get("wa_version") in ("", None):
        out.append(Problem("wa_version", "is empty: the containers need the release's image tag, as your registry "
                           "mirror or image archive has it; set it once in group_vars/all, for example "
                           "wa_version: v2.53.2", host))
    subnet = values.get("container_runtime_network_subnet")
    if isinstance(subnet, str) and subnet:
        try:
            network = ipaddress.ip_network(subnet.strip(), strict=True)
            if network.version != 4 or not 16 <= network.prefixlen <= 24:
                raise ValueError(subnet)
        except ValueError:
            out.append(Problem("container_runtime_network_subnet", f"is {subnet!r}, not an IPv4 network from /16 to "
                               "/24 in CIDR notation with its host bits zero: write for example 172.30.5.0/24, or "
                               "leave it empty", host))
    driver, engine = values.get("container_runtime_storage_driver"), values.get("wa_container_runtime")
    if (driver, engine) in (("overlay", "docker"), ("overlay2", "podman")):
        other = "overlay2" if engine == "docker" else "overlay"
        out.append(Problem("container_runtime_storage_driver", f"is {driver!r}, which {engine} does not know: write "
                           f"{other} ({engine}'s name for it), fuse-overlayfs, vfs, or leave it empty", host))
    size = values.get("container_runtime_log_max_size")
    if isinstance(size, str) and not _SIZE.match(size):
        out.append(Problem("container_runtime_log_max_size", f"is {size!r}: write a size as docker and podman read "
                           "it, a number with k, m or g, for example 50m", host))
    files = values.get("container_runtime_log_max_files")
    if isinstance(files, int) and not 1 <= files <= 100:
        out.append(Problem("container_runtime_log_max_files", f"is {files!r}: keep 1 to 100 rotated files", host))
    archives = values.get("container_runtime_image_archives")
    for index, path in enumerate(archives if isinstance(archives, list) else []):
        if isinstance(path, str) and not os.path.isfile(path):
            out.append(Problem(f"container_runtime_image_archives[{index}]", f"is {path!r}, not a file on the "
                               "controller: give the path of a docker save / podman save archive", host))
    return out


def _single_line(host, values, names):
    return [Problem(name, "spans several lines: an env file holds one line per variable", host)
            for name in names if isinstance(values.get(name), str) and ("\n" in values[name] or "\r" in values[name])]


def _extra_env(host, values, name):
    out = []
    env = values.get(name)
    for key, value in (env.items() if isinstance(env, dict) else []):
        if not isinstance(key, str) or not _ENV_NAME.match(key):
            out.append(Problem(name, f"has {key!r}, not a name the product reads: write an upper-case shell identifier "
                               "starting with WA_ (the Webapp's setup aborts on other names)", host))
        elif _RESERVED.match(key):
            out.append(Problem(name, f"sets {key}, which the roles set from the deployment model or the secrets "
                               "bundle: set the variable that owns it (wa_*, the pki role's secrets) instead", host))
        elif isinstance(value, (dict, list)) or "\n" in str(value):
            out.append(Problem(name, f"sets {key} to more than one line of text (an env file holds one line per "
                               "variable)",
                               host))
    return out


def _postgresql(host, values):
    """The vendor's containers cannot reach PostgreSQL over TLS (reference section 2.1)."""
    if values.get("wa_db_engine") != "PGSQL":
        return []
    return [Problem("wa_db_engine", "is PGSQL: the product's containers cannot reach PostgreSQL over TLS - the "
                    "Webapp applies WA_DB_SSL_* to MySQL only and the Coreapp refuses them with PostgreSQL "
                    "(reference section 2.1, Setup-Scripts issue #81) - so the security guide's encrypted "
                    "database connection cannot be met; use MYSQL (MySQL or MariaDB)", host)]


def rules_coreapp(host, values, ctx):
    return (_single_line(host, values, ("coreapp_wa_secret",)) + _extra_env(host, values, "coreapp_extra_env")
            + _postgresql(host, values))


def _https_url(value):
    """None when ``value`` is an https URL with a host, else what is wrong with it."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError as exc:
        return f"not a URL ({exc})"
    if parts.scheme.lower() == "http":
        return "plain HTTP: the Coreapp calls webhooks over HTTPS only (the guide's 'Webhooks need HTTPS')"
    if parts.scheme.lower() != "https" or not parts.hostname:
        return "not an https:// URL with a host"
    if port == 0:
        return "port 0"
    return None


def rules_webapp(host, values, ctx):
    out = _single_line(host, values, ("webapp_wa_secret", "webapp_jwt_key", "webapp_admin_password"))
    out += _extra_env(host, values, "webapp_extra_env") + _postgresql(host, values)
    if (values.get("wa_api_user") and not values.get("webapp_api_user_password")
            and "webapp_api_user_password" not in ctx.provided):
        out.append(Problem("webapp_api_user_password", f"is empty while wa_api_user is {values['wa_api_user']!r}: "
                           "give its password (site.yml passes the secrets bundle's wa_api_user_password)", host))
    urls = [("webapp_webhook_url", values.get("webapp_webhook_url"))]
    settings = values.get("webapp_settings")
    if isinstance(settings, dict) and isinstance(settings.get("webhooks"), dict):
        urls.append(("webapp_settings.webhooks.url", settings["webhooks"].get("url")))
    for name, url in urls:
        if isinstance(url, str) and url:
            wrong = _https_url(url)
            if wrong:
                out.append(Problem(name, f"is {url!r}, {wrong}: write for example https://hooks.example.com/wa", host))
    out += _supplied_certificate_names(host, values)
    ca = values.get("webapp_webhook_ca")
    if isinstance(ca, str) and ca.strip():
        if "-----BEGIN" in ca:
            if "-----BEGIN CERTIFICATE-----" not in ca or "PRIVATE KEY" in ca:
                out.append(Problem("webapp_webhook_ca", "is PEM text without a certificate, or with a private key: "
                                   "give only the CA certificates the webhook endpoint's chain ends in", host))
        elif not os.path.isfile(ca):
            out.append(Problem("webapp_webhook_ca", f"is {ca!r}: neither PEM text nor a file on the controller", host))
    return out


def _supplied_certificate_names(host, values):
    """A Webapp certificate the user brings (pki_webapp_cert_file) must cover every name clients
    are given (wa_webapp_server_names): the Webapp serves it for WA_WEB_SERVERNAME, the first."""
    path, names = values.get("pki_webapp_cert_file"), values.get("wa_webapp_server_names")
    if not (isinstance(path, str) and path and os.path.isfile(path) and isinstance(names, list) and names):
        return []
    try:
        # Imported here: it needs cryptography, which only this check (a supplied certificate) uses.
        from ansible_collections.waent.onprem.plugins.module_utils import _x509  # noqa: PLC0415

        with open(path, "rb") as handle:
            cert = _x509.load_certificates(handle.read())[0]
    except Exception as exc:  # pylint: disable=broad-exception-caught
        return [Problem("pki_webapp_cert_file", f"is {path!r}, which holds no readable certificate ({exc})", host)]
    dns, ips = _x509.sans_of(cert)
    missing = [name for name in names if isinstance(name, str) and not _x509.name_matches(name, dns, ips)]
    if not missing:
        return []
    names = ", ".join(dns + ips) or "none"
    return [Problem("wa_webapp_server_names", f"has {', '.join(missing)}, which the certificate of "
                    f"pki_webapp_cert_file ({path}) does not cover (its names: {names}): give a certificate "
                    "for every name clients use, or list only the names it has", host)]


# The vendor's Coreapp ports (reference 1.4): a canary among them would be a product port.
_COREAPP_PORTS = range(6250, 6258)


def rules_audit(host, values, ctx):
    canary = values.get("audit_canary_port")
    if canary is None:
        return []
    ports = {22, values.get("firewall_ssh_port"), values.get("wa_webapp_port"), values.get("wa_db_port"),
             *_COREAPP_PORTS, *(values.get("wa_coreapp_external_ports") or [])}
    if canary in ports:
        return [Problem("audit_canary_port", f"is {canary}, a port of the deployment: the canary must be a TCP port "
                        "no flow names (it proves deny by default); keep the default 8081 or choose another unused one",
                        host)]
    return []


RULES = {
    "audit": rules_audit,
    "container_runtime": rules_container_runtime,
    "coreapp": rules_coreapp,
    "webapp": rules_webapp,
}
