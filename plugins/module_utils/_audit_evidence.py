# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""From what the audit read on each host to findings and the segregation matrix.

The ``audit`` role collects, on every host of the play, one mapping of evidence (the keys below,
each present only where that host had it to read) and hands all of them to :func:`evaluate`
with the deployment model. The model says what should be (flows, groups, level, paths); the
evidence says what is; ``_audit_checks`` judges each pair. Nothing here reads a host.

Evidence of one host (``EVIDENCE_KEYS``): ``address`` (the source address of its probes),
``probe`` (port_probe results), ``chrony`` (chrony_info, or ``{"error": msg}``), ``tls``
(tls_probe, or ``{"error": msg}``), ``headers`` (``{"page": [names], "api": [names]}``),
``default_login`` (what admin/secret got: ``refused``, ``accepted``, ``default-password``, ...),
``health`` (``{"nodes": {...}}`` or
``{"error": msg, "login_refused": bool}``), ``webhook_ca`` (``{"matches": bool, "error": msg}``, or
``{"unread": msg}`` when the admin login was refused), ``env``
(container_env_info's ``containers``), ``db`` (``{container: db_tls_check result}``),
``plaintext`` (``{"kind": ..., "msg": ...}`` of a plaintext attempt), ``files`` (``[{path, mode,
max_mode}]``) and ``secret_files`` (world-readable paths whose content holds secret material).
"""

from __future__ import annotations

import ipaddress

from ansible_collections.waent.onprem.plugins.module_utils import _audit_checks as checks
from ansible_collections.waent.onprem.plugins.module_utils._flows import flow_allows

EVIDENCE_KEYS = ("address", "probe", "chrony", "tls", "headers", "default_login", "health", "webhook_ca", "env",
                 "db", "plaintext", "files")
# The vendor's Coreapp ports (reference 1.4), probed on every machine even where no flow names them.
COREAPP_PORTS = tuple(range(6250, 6258))
ZONES = (("api_client_networks", "client zone"), ("admin_networks", "admin zone"),
         ("management_networks", "management zone"))


def probe_ports(model, canary_port):
    """Every TCP port the matrix probes: each port a flow names, each published port, SSH, the
    database port, the vendor's Coreapp ports and the canary (no flow may name it)."""
    ports = {int(p) for flow in model["flows"] if flow["protocol"] == "tcp" for p in flow["ports"]}
    for entry in model["hosts"].values():
        ports.add(int(entry["ssh_port"]))
        for container in entry["containers"]:
            ports.update(int(p["host_port"]) for p in container["published_ports"])
    ports.update(COREAPP_PORTS)
    ports.add(int(model["db"]["port"]))
    if canary_port in ports:
        raise ValueError(f"the canary port {canary_port} is a port of the deployment: choose one no flow names")
    return sorted(ports | {int(canary_port)})


def zone_of(model, address):
    """The zone an address belongs to (first match), else ``outside every zone``."""
    ip = ipaddress.ip_address(address)
    for key, label in ZONES:
        if any(ip in ipaddress.ip_network(net, strict=False) for net in model[key]):
            return label
    return "outside every zone"


def _services(model):
    """Port -> the names of the flows that name it (for the matrix's column heads)."""
    names = {}
    for flow in model["flows"]:
        for port in flow["ports"]:
            names.setdefault(int(port), set()).add(flow["name"].split(":")[0])
    return {port: "/".join(sorted(found)) for port, found in names.items()}


def matrix(model, evidence, canary_port):
    """The segregation matrix: one cell per probe, the source labelled by its inventory name and
    group (product hosts) or its zone (probe hosts), the target by the machine's hosts."""
    services = _services(model)
    machine_names = {address: "+".join(m["hosts"]) for address, m in model["machines"].items()}
    cells = []
    for host in sorted(evidence):
        found = evidence[host]
        if not found.get("probe"):
            continue
        address = found["address"]
        if host in model["hosts"]:
            groups = [g for g, members in model["groups"].items() if host in members]
            source = f"{host} ({', '.join(groups)})"
        else:
            source = f"{zone_of(model, address)} ({host})"
        for result in found["probe"]:
            port = int(result["port"])
            allowed = flow_allows(model["flows"], address, result["host"], int(result["port"]))
            state = result["state"] if result["state"] in ("open", "closed", "filtered") else "closed"
            cells.append({"source": source, "target": machine_names.get(result["host"], result["host"]),
                          "port": port, "service": "canary" if port == canary_port else services.get(port, ""),
                          "expected": "open" if allowed else "filtered", "observed": state})
    return cells


def _tls(host, found, level, renew_before_days):
    probe = found["tls"]
    if probe.get("error"):
        return [checks.finding(check_id, host, False, f"no TLS probe: {probe['error']}")
                for check_id in ("TLS-01", "SSL-01", "SSL-02")]
    return checks.tls(host, probe, level, renew_before_days)


def _webapp_findings(model, evidence, settings):
    out = []
    for host in model["groups"]["wa_webapp"]:
        found = evidence.get(host) or {}
        if "tls" in found:
            out += _tls(host, found, model["web_security_level"], settings["renew_before_days"])
        if "headers" in found:
            out += checks.headers(host, found["headers"]["page"], found["headers"]["api"])
        if "webhook_ca" in found:
            hook = found["webhook_ca"]
            out += checks.webhook_ca(host, None if "unread" in hook else hook["matches"], hook.get("error") or "")
    return out


def _first_health(model, evidence):
    """``(health, admin_login)``: the nodes as the first Webapp that answered reports them and
    True; a text (LINK-02 skipped) and False when the bundle's admin password is refused, since
    AUTH-03 reports that; else ``{"error": why}`` and None."""
    reasons = []
    for host in model["groups"]["wa_webapp"]:
        health = (evidence.get(host) or {}).get("health")
        if health is None:
            continue
        if "nodes" in health:
            return health["nodes"], True
        if health.get("login_refused"):
            return "the bundle's admin password is refused, so the health cannot be read (AUTH-03)", False
        reasons.append(f"{host}: {health.get('error')}")
    return {"error": "; ".join(reasons) or "no Webapp was read"}, None


def _containers(model, evidence, bundle):
    """LINK-01 and AUTH-02 inputs: fingerprints of every container (bundle's first, so a
    container that agrees with the others but not with the bundle still fails)."""
    secret = {"secrets bundle": bundle.get("wa_secret")}
    jwt = {"secrets bundle": bundle.get("wa_web_jwt_crypto_key")}
    for host, entry in model["hosts"].items():
        env = (evidence.get(host) or {}).get("env")
        if env is None:
            continue
        for container in entry["containers"]:
            seen = env.get(container["name"]) or {}
            prints = seen.get("fingerprints") or {}
            secret[f"{host}/{container['name']}"] = prints.get("WA_SECRET")
            if container["role"] == "webapp":
                jwt[f"{host}/{container['name']}"] = prints.get("WA_WEB_JWT_CRYPTO_KEY")
    return secret, jwt


def _database(model, evidence):
    out = []
    plaintext_done = False
    for host, entry in model["hosts"].items():
        found = evidence.get(host) or {}
        if "db" not in found or not entry["containers"]:
            continue
        verify = {}
        for container in entry["containers"]:
            if container["role"] == "webapp":
                values = ((found.get("env") or {}).get(container["name"]) or {}).get("values") or {}
                verify[container["name"]] = values.get("WA_DB_SSL_VERIFY")
        out += checks.database(host, found["db"], verify)
        if "plaintext" in found and not plaintext_done:
            attempt = found["plaintext"]
            db_host = (model["groups"]["wa_db"] or [model["db"]["hostname"]])[0]
            out += checks.plaintext(db_host, attempt.get("kind") == "plaintext_refused",
                                    {"from": host, "answer": attempt.get("kind") or "a plaintext session opened"})
            plaintext_done = True
    return out


def evaluate(model, evidence, settings):
    """``(findings, cells)`` for the whole deployment. ``settings``: ``canary_port``,
    ``max_offset`` and ``max_skew`` (seconds), ``renew_before_days`` and ``bundle`` (the secrets
    bundle's keyed fingerprints of ``wa_secret`` and ``wa_web_jwt_crypto_key``)."""
    canary = int(settings["canary_port"])
    cells = matrix(model, evidence, canary)
    out = checks.coverage(model["hosts"], [h for h in evidence if h in model["hosts"]])
    out += _webapp_findings(model, evidence, settings)
    out += checks.segregation(cells, canary)
    secret, jwt = _containers(model, evidence, settings.get("bundle") or {})
    nodes, admin_login = _first_health(model, evidence)
    out += checks.link(secret, nodes)
    cores = model["groups"]["wa_coreapp"] + model["groups"]["wa_master"]
    chrony = {host: (found.get("chrony") if not (found.get("chrony") or {}).get("error") else
                     {"synchronized": False, "offset": None, "error": found["chrony"]["error"]})
              for host, found in evidence.items() if host in model["hosts"] and "chrony" in found}
    out += checks.clocks(chrony, max_offset=float(settings["max_offset"]), max_skew=float(settings["max_skew"]),
                         replay_window=float(model["replay_window"]), webapps=model["groups"]["wa_webapp"], cores=cores)
    out += _database(model, evidence)
    for host in sorted(evidence):
        if host in model["hosts"] and "files" in evidence[host]:
            out += checks.files(host, evidence[host]["files"])
        if host in model["hosts"] and "secret_files" in evidence[host]:
            out += checks.secret_files(host, evidence[host]["secret_files"])
    logins = [(evidence.get(h) or {}).get("default_login") for h in model["groups"]["wa_webapp"]]
    logins = [answer for answer in logins if answer is not None]
    if logins:
        # Any Webapp that does not refuse the default login fails it (they share one user database).
        worst = next((answer for answer in logins if answer != "refused"), "refused")
        out += checks.auth(worst, jwt, admin_login)
    return out, cells
