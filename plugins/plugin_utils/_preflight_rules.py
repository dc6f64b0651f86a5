# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Preflight rules per role: what an argument spec cannot express, applied after it by host_problems.

``RULES`` holds one rule a role: ranges, relations between variables of one role, and relations
across roles (a skew budget below the replay window, the legacy DB option only with MySQL, SSH
from the controller inside the management networks...). Each rule takes (host, values, ctx) and
returns ``Problem`` objects; ``values`` are that host's resolved values (role defaults included).

:func:`host_problems` judges one role's inputs on one host: the engine's argument-spec checks
(``_preflight.option_problems``), then the role's rule. It lives here rather than in the engine
so that the imports go one way: this module builds on ``_preflight``, which knows no role's rule.
"""

from __future__ import annotations

import ipaddress
import re

from ansible_collections.waent.onprem.plugins.plugin_utils._preflight import APP_GROUPS, Problem, option_problems
from ansible_collections.waent.onprem.plugins.plugin_utils._preflight_app_rules import RULES as _APP_RULES
from ansible_collections.waent.onprem.plugins.test.net import cidr as _is_cidr
from ansible_collections.waent.onprem.plugins.test.net import hostname as is_hostname


def _num(values, name):
    try:
        return float(values.get(name))
    except (TypeError, ValueError):
        return None


def _network_list(value):
    nets = []
    for item in value if isinstance(value, (list, tuple)) else []:
        try:
            nets.append(ipaddress.ip_network(str(item).strip(), strict=False))
        except ValueError:
            pass
    return nets


def rules_wa(host, values, ctx):
    out = []
    window = _num(values, "wa_replay_window")
    if window is not None and window <= 0:
        out.append(
            Problem(
                "wa_replay_window",
                f"is {values['wa_replay_window']!r}: the product's WA_SECRET replay "
                "window is 10 s; leave the default unless your Coreapp version documents another",
                host,
            )
        )
    return out


def rules_timesync(host, values, ctx):
    out = []
    servers = values.get("timesync_servers") or []
    if isinstance(servers, list) and not servers and int(_num(values, "timesync_local_stratum") or 0) <= 0:
        out.append(
            Problem(
                "timesync_servers",
                "is empty: give at least one NTP source, for example "
                "[{host: ntp1.example.com}], or set timesync_local_stratum on the host that serves "
                "its own clock",
                host,
            )
        )
    window = _num(values, "wa_replay_window")
    for name in ("timesync_max_offset", "timesync_max_skew", "timesync_sync_timeout", "timesync_sync_poll_interval"):
        number = _num(values, name)
        if number is not None and number <= 0:
            out.append(Problem(name, f"is {values[name]!r}: it must be greater than 0", host))
    # Both budgets must stay below the replay window: (variable, what the window is called, advice).
    budgets = (
        ("timesync_max_skew", "the WA_SECRET replay window",
         f": frames between hosts that far apart are dropped; use a fraction of it, for example "
         f"{(window or 0) / 4:g}"),
        ("timesync_max_offset", "the replay window", "; use for example 1"),
    )
    for name, called, advice in budgets:
        budget = _num(values, name)
        if budget is not None and window is not None and budget > 0 and budget >= window:
            out.append(
                Problem(
                    name,
                    f"is {values[name]!r} s, not below {called} "
                    f"wa_replay_window={values['wa_replay_window']!r} s{advice}",
                    host,
                )
            )
    timeout, poll = _num(values, "timesync_sync_timeout"), _num(values, "timesync_sync_poll_interval")
    if timeout and poll and 0 < timeout < poll:
        out.append(
            Problem(
                "timesync_sync_poll_interval",
                f"is {poll:g} s, longer than timesync_sync_timeout={timeout:g} s: poll at most once per timeout",
                host,
            )
        )
    stratum = _num(values, "timesync_local_stratum")
    if stratum is not None and not 0 <= stratum <= 15:
        out.append(
            Problem("timesync_local_stratum", f"is {values['timesync_local_stratum']!r}: use 0 (off) to 15", host)
        )
    minsources = _num(values, "timesync_minsources")
    if minsources is not None and minsources < 1:
        out.append(Problem("timesync_minsources", f"is {values['timesync_minsources']!r}: use at least 1", host))
    makestep = values.get("timesync_makestep")
    if isinstance(makestep, dict) and _num(makestep, "threshold") is not None and _num(makestep, "threshold") <= 0:
        out.append(
            Problem("timesync_makestep", f"threshold is {makestep['threshold']!r}: it must be greater than 0", host)
        )
    for network in (
        values.get("timesync_serve_networks") or [] if isinstance(values.get("timesync_serve_networks"), list) else []
    ):
        if not _is_cidr(network):
            out.append(
                Problem(
                    "timesync_serve_networks",
                    f"{network!r} is not a CIDR network: write ADDRESS/PREFIX, for example 10.0.0.0/24",
                    host,
                )
            )
    out.extend(_timesync_sources(host, servers, values.get("timesync_keys") or []))
    return out


def _timesync_sources(host, servers, keys):
    out = []
    if not isinstance(servers, list) or not isinstance(keys, list):
        return out
    key_ids = [k.get("id") for k in keys if isinstance(k, dict)]
    for index, server in enumerate(servers):
        if not isinstance(server, dict):
            continue
        where = f"timesync_servers[{index}]"
        name = server.get("host")
        if not is_hostname(name):
            out.append(Problem(where + ".host", f"{name!r} is not a host name or an IP address", host))
        polls = [server.get("minpoll"), server.get("maxpoll")]
        given = [p for p in polls if isinstance(p, int) and not isinstance(p, bool)]
        if any(p < -6 or p > 24 for p in given) or (len(given) == 2 and given[0] > given[1]):
            out.append(
                Problem(where, f"minpoll/maxpoll {polls} must be between -6 and 24 with minpoll <= maxpoll", host)
            )
        if server.get("key") is not None and server.get("key") not in key_ids:
            out.append(Problem(where + ".key", f"key ID {server['key']!r} is not in timesync_keys", host))
        if server.get("nts") and server.get("key") is not None:
            out.append(Problem(where, "sets both nts and key: use one authentication method per source", host))
    ids = [k for k in key_ids if k is not None]
    if len(set(ids)) != len(ids) or any(not isinstance(i, int) or not 1 <= i <= 4294967295 for i in ids):
        out.append(Problem("timesync_keys", f"ids {ids} must be unique whole numbers between 1 and 4294967295", host))
    for key in keys:
        if not isinstance(key, dict):
            continue
        value = str(key.get("value") or "")
        hexed = key.get("encoding", "hex") == "hex"
        if not value or re.search(r"\s", value) or (hexed and not re.fullmatch(r"[0-9A-Fa-f]+", value)):
            out.append(
                Problem(
                    "timesync_keys",
                    f"the value of key id {key.get('id')!r} must be non-empty without spaces"
                    " (hexadecimal digits when encoding is hex, the default)",
                    host,
                )
            )
    return out


def rules_pki(host, values, ctx):
    out = []
    validity, ca_validity = _num(values, "pki_validity_days"), _num(values, "pki_ca_validity_days")
    if validity is not None and validity < 1:
        out.append(Problem("pki_validity_days", f"is {values['pki_validity_days']!r}: use at least 1", host))
    if validity is not None and ca_validity is not None and ca_validity <= validity:
        out.append(
            Problem(
                "pki_ca_validity_days",
                f"is {ca_validity:g}, not longer than pki_validity_days={validity:g}: "
                "the CA must outlive the certificates it signs",
                host,
            )
        )
    for name in ("pki_renew_before_days", "pki_secret_max_age_days"):
        number = _num(values, name)
        if number is not None and number < 0:
            out.append(Problem(name, f"is {values[name]!r}: it must not be negative", host))
    if values.get("pki_webapp_cert_file"):
        for name in ("pki_webapp_key_file", "pki_webapp_ca_bundle_file"):
            if not values.get(name):
                out.append(
                    Problem(
                        name,
                        "must be set when pki_webapp_cert_file is set (its key and the CA certificates it chains to)",
                        host,
                    )
                )
    return out


def _empty_material(host, values, names, source):
    """Material the playbook passes from the controller must not be empty when it is given."""
    return [
        Problem(name, f"is empty: give {source}", host)
        for name in names
        if name in values and isinstance(values[name], str) and not values[name].strip()
    ]


def _account_material(host, values, password, prefix):
    """The product account's password and the TLS files of role ``prefix``, when given empty."""
    return _empty_material(
        host, values, (password,), "the account's password (site.yml takes it from the secrets bundle)"
    ) + _empty_material(
        host,
        values,
        (f"{prefix}_tls_ca", f"{prefix}_tls_cert", f"{prefix}_tls_key"),
        "PEM text or a controller file path (site.yml takes them from the pki role)",
    )


def rules_database(host, values, ctx):
    out = _account_material(host, values, "database_user_password", "database")
    username = values.get("wa_db_username")
    if isinstance(username, str) and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,31}", username):
        out.append(
            Problem(
                "wa_db_username",
                f"is {username!r}: use a plain identifier (letters, digits, underscore; "
                "at most 32, not starting with a digit)",
                host,
            )
        )
    listen = values.get("database_listen_address")
    if isinstance(listen, str) and listen and not _is_ip(listen, unspecified=False):
        out.append(
            Problem(
                "database_listen_address",
                f"is {listen!r}: write one IP address of this host in the database zone (never 0.0.0.0 or ::), "
                "or leave it empty for the host's wa_host_address",
                host,
            )
        )
    clients = values.get("database_client_addresses")
    for index, item in enumerate(clients if isinstance(clients, list) else []):
        if not _is_ip(item, unspecified=False):
            out.append(
                Problem(
                    f"database_client_addresses[{index}]",
                    f"is {item!r}: write the IP address of an app host (names are not resolved), "
                    "or leave the list empty for the addresses of every Webapp, Coreapp and Master",
                    host,
                )
            )
    return out


def _is_ip(value, unspecified=True):
    try:
        address = ipaddress.ip_address(str(value).strip())
    except ValueError:
        return False
    return unspecified or not address.is_unspecified


def rules_db_client(host, values, ctx):
    out = _account_material(host, values, "db_client_password", "db_client")
    if not any(host in (ctx.groups.get(g) or []) for g in APP_GROUPS):
        out.append(
            Problem(
                "group_names",
                "has none of wa_webapp, wa_coreapp, wa_master: the host runs no container, so the "
                "db_client role has nothing to configure; add the host to the group of its container",
                host,
            )
        )
    if values.get("db_client_legacy_connection_option") is True and values.get("wa_db_engine") == "PGSQL":
        out.append(
            Problem(
                "db_client_legacy_connection_option",
                "is true with wa_db_engine=PGSQL: the Coreapp hands "
                "WA_DB_CONNECTION_OPTION to Qt's QPSQL driver, which rejects SSL_CA and the Coreapp cannot "
                "start; set it to false (MySQL only) and use a Coreapp that reads WA_DB_SSL_KEY/CERT/CA",
                host,
            )
        )
    password = values.get("db_client_password")
    if isinstance(password, str) and "\n" in password:
        out.append(Problem("db_client_password", "spans several lines: an env file holds one line per variable", host))
    if not ctx.hosts_of("wa_db") and not values.get("wa_db_hostname"):
        out.append(
            Problem(
                "wa_db_hostname",
                "is empty and there is no wa_db group: name the database host the containers connect to",
                host,
            )
        )
    return out


def rules_firewall(host, values, ctx):
    out = []
    timeout = _num(values, "firewall_confirm_timeout")
    if timeout is not None and not 10 <= timeout <= 3600:
        out.append(
            Problem(
                "firewall_confirm_timeout",
                f"is {values['firewall_confirm_timeout']!r}: use 10 to 3600 "
                "seconds, more than the controller's connection timeout",
                host,
            )
        )
    config = values.get("firewall_config_path")
    if isinstance(config, str) and not (config.startswith("/") and config.endswith(".nft")):
        out.append(Problem("firewall_config_path", f"is {config!r}: use an absolute path ending in .nft", host))
    state = values.get("firewall_state_dir")
    if isinstance(state, str) and not state.startswith("/"):
        out.append(Problem("firewall_state_dir", f"is {state!r}: use an absolute path", host))
    if (
        not values.get("firewall_enabled", True)
        or values.get("firewall_report_only")
        or values.get("firewall_allow_lockout")
    ):
        return out
    networks = _network_list(values.get("wa_management_networks"))
    if isinstance(values.get("wa_management_networks"), list) and not values.get("wa_management_networks"):
        out.append(
            Problem(
                "wa_management_networks",
                "is empty while the firewall is on: SSH to the product hosts "
                "would be dropped from everywhere, the controller included; list the networks of the "
                "controller and bastions, for example [10.30.0.0/24] (or set firewall_allow_lockout: true "
                "if you manage the hosts another way)",
                host,
            )
        )
        return out
    controller = values.get("firewall_controller_address") or ctx.controller_sources.get(host)
    if controller and networks:
        try:
            address = ipaddress.ip_address(str(controller))
        except ValueError:
            out.append(Problem("firewall_controller_address", f"{controller!r} is not an IP address", host))
            return out
        if not address.is_loopback and not any(address.version == n.version and address in n for n in networks):
            origin = (
                "firewall_controller_address"
                if values.get("firewall_controller_address")
                else "the controller's address towards this host"
            )
            out.append(
                Problem(
                    "wa_management_networks",
                    f"does not contain {address} ({origin}): the new ruleset would "
                    f"lock the controller out; add {address}/32 or its network, set "
                    "firewall_controller_address to the address the host sees (NAT, bastion), or set "
                    "firewall_allow_lockout: true",
                    host,
                )
            )
    return out


RULES = {
    "wa": rules_wa,
    "timesync": rules_timesync,
    "pki": rules_pki,
    "database": rules_database,
    "db_client": rules_db_client,
    "firewall": rules_firewall,
    **_APP_RULES,
}


def host_problems(host, role, options, values, ctx, *, provided=()):
    """Every problem of ``role``'s inputs on ``host``: the argument spec, then the rules."""
    problems = option_problems(host, role, options, values, provided)
    bad = {p.variable for p in problems}
    rule = RULES.get(role)
    if rule:
        # A value of the wrong type was reported above; the rules would only repeat it.
        clean = {k: v for k, v in values.items() if k not in bad}
        problems.extend(p for p in rule(host, clean, ctx) if p.variable.split("[")[0] not in bad)
    return problems
