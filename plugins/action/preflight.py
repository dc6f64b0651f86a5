# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Action plugin for waent.onprem.preflight: resolve every role's inputs per host, on the controller."""

from __future__ import annotations

import ipaddress
import os
import socket

from ansible.errors import AnsibleError
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.action import ActionBase
from ansible.template import Templar
from ansible_collections.waent.onprem.plugins.module_utils import _model
from ansible_collections.waent.onprem.plugins.module_utils._flows import _sorted_unique as _unique
from ansible_collections.waent.onprem.plugins.plugin_utils import _preflight as pf
from ansible_collections.waent.onprem.plugins.plugin_utils import _preflight_rules as pf_rules

# Variables the deployment model reads besides the wa role's (their defaults are loaded too).
_MODEL_INPUTS = ("ansible_host", "firewall_ssh_port", "timesync_servers")

_ROLES_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "roles")

_ARGS = {
    "roles": {"type": "list", "elements": "str"},
    "scope": {"type": "str", "choices": ["play", "host"], "default": "play"},
    "provided": {"type": "list", "elements": "str", "default": []},
}


class ActionModule(ActionBase):
    """Check inputs without touching any host: no connection is opened."""

    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        validation = ArgumentSpecValidator(_ARGS).validate(self._task.args)
        if validation.error_messages:
            raise AnsibleError("waent.onprem.preflight: " + "; ".join(validation.error_messages))
        args = validation.validated_parameters
        roles = args["roles"] or list(pf.ROLE_SCOPES)
        unknown = [r for r in roles if r not in pf.ROLE_SCOPES]
        if unknown:
            raise AnsibleError(f"waent.onprem.preflight: unknown roles {unknown}; known: {sorted(pf.ROLE_SCOPES)}")

        specs = {
            role: self._role_file(role, "meta/argument_specs.yml")["argument_specs"]["main"].get("options", {})
            for role in set(roles) | {"wa"}
        }
        defaults = {}
        # The model reads the firewall's SSH port and the NTP servers: their defaults count too.
        for role in set(roles) | {"wa"} | ({"firewall", "timesync"} if args["scope"] == "play" else set()):
            defaults.update(self._role_file(role, "defaults/main.yml") or {})
            # Private role variables (__role_*) that defaults may refer to.
            defaults.update(
                {k: v for k, v in (self._role_file(role, "vars/main.yml") or {}).items() if k.startswith("__")}
            )

        groups = dict(task_vars.get("groups") or {})
        current = task_vars.get("inventory_hostname")
        if args["scope"] == "host":
            hosts = [current]
        else:
            hosts = list(task_vars.get("ansible_play_hosts_all") or [current])
        # The model needs every product host, also those outside the play (--limit).
        product = [] if args["scope"] == "host" else [
            h for g in pf.PRODUCT_GROUPS for h in groups.get(g) or [] if h not in hosts
        ]
        ctx = pf.Context(groups=groups, provided=tuple(args["provided"]))
        problems, warnings = [], []
        resolved = {}
        for host in _unique(hosts + product):
            base = task_vars if host == current else task_vars["hostvars"].raw_get(host)
            variables = dict(defaults)
            variables.update(base)
            variables["hostvars"] = task_vars.get("hostvars")
            templar = Templar(loader=self._loader, variables=variables)
            host_groups = set(variables.get("group_names") or [])
            values = {}
            wanted = set(_MODEL_INPUTS) if args["scope"] == "play" else set()
            for role in roles:
                scope = pf.ROLE_SCOPES[role]
                if args["scope"] == "play" and scope is not None and not host_groups.intersection(scope):
                    continue
                wanted |= set(specs[role]) | (set(specs["wa"]) if role != "wa" else set())
            for name in sorted(wanted):
                if name not in variables:
                    continue
                spec = next((specs[r][name] for r in specs if name in specs[r]), None)
                try:
                    values[name] = templar.template(variables[name])
                except Exception as exc:  # pylint: disable=broad-exception-caught
                    detail = "(details hidden)" if pf.is_secret(name, spec) else str(exc).splitlines()[0]
                    problems.append(pf.Problem(name, f"cannot be worked out: {detail}", host))
            resolved[host] = (values, base)
        ctx.values = {host: values for host, (values, _base) in resolved.items()}
        ctx.controller_sources = self._controller_sources(hosts, resolved, groups)

        for host, (values, base) in resolved.items():
            host_groups = set((base.get("group_names") if hasattr(base, "get") else None) or [])
            for role in roles:
                scope = pf.ROLE_SCOPES[role]
                if args["scope"] == "play" and scope is not None and not host_groups.intersection(scope):
                    continue
                problems.extend(pf_rules.host_problems(host, role, specs[role], values, ctx, provided=args["provided"]))
            known = {role: set(specs[role]) for role in specs}
            problems.extend(pf.unknown_variable_problems(host, [str(k) for k in base.keys()], known))
            if values.get("db_client_ssl_verify") is False and "wa_webapp" in host_groups and "db_client" in roles:
                warnings.append(
                    f"{host}: db_client_ssl_verify=false writes WA_DB_SSL_VERIFY=0: the Webapp will not "
                    "verify the database server's identity (the security guide recommends keeping it on)"
                )

        lines = pf.merge(problems)
        model = None
        if args["scope"] == "play":
            # The deployment model: topology, addresses, containers, ports and flows, built once
            # here and published by the caller (wa_model). A variable whose value failed the
            # argument spec above is not reported again by the model.
            bad = {p.variable.split("[")[0] for p in problems}
            model_hosts = {h: ctx.values[h] for h in ctx.hosts_of(*pf.PRODUCT_GROUPS) if h in ctx.values}
            try:
                model = _model.build_model(groups, model_hosts)
            except _model.ModelError as exc:
                lines.extend(m for m in exc.errors if m.split(" ")[0].split("[")[0] not in bad)
            if lines:
                model = None
        result.update(changed=False, problems=lines, hosts_checked=len(resolved), roles_checked=sorted(roles))
        if model is not None:
            result["model"] = model
        if warnings:
            result["warnings"] = warnings
        if lines:
            result["failed"] = True
            result["msg"] = (
                f"Preflight found {len(lines)} problem{'s' if len(lines) > 1 else ''} in the inputs; "
                "nothing was changed on any host:\n- " + "\n- ".join(lines)
            )
        else:
            result["msg"] = f"The inputs of {', '.join(sorted(roles))} are coherent for {len(resolved)} hosts."
        return result

    def _role_file(self, role, relative):
        path = os.path.normpath(os.path.join(_ROLES_DIR, role, relative))
        if not os.path.exists(path):
            return {}
        try:
            return self._loader.load_from_file(path, trusted_as_template=True)
        except TypeError:  # ansible-core before 2.19 has no trust tags: everything loaded is a template
            return self._loader.load_from_file(path)

    @staticmethod
    def _controller_sources(hosts, resolved, groups):
        """The controller's own address towards each product host reached over the network.

        A UDP socket's connect() only asks the routing table: no packet leaves the controller.
        """
        product = {h for g in pf.PRODUCT_GROUPS for h in groups.get(g) or []}
        sources = {}
        for host in hosts:
            values, base = resolved[host]
            if host not in product or not pf.uses_network_connection(base):
                continue
            target = str(base.get("ansible_host") or host)
            try:
                address = ipaddress.ip_address(target)
            except ValueError:
                continue  # a name: resolving it could contact a DNS server; the role checks on the host
            family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
            try:
                with socket.socket(family, socket.SOCK_DGRAM) as probe:
                    probe.connect((str(address), 9))
                    sources[host] = probe.getsockname()[0]
            except OSError:
                continue
        return sources
