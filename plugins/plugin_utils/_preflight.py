# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Preflight engine: a host's values checked against a role's argument spec, each message naming its variable.

Pure Python, so that the unit tests drive it without Ansible's executor:

* :func:`option_problems` checks one host's values against a role's argument spec, option by
  option, so that every message names its variable. It is stricter than Ansible's own role
  validation where that validation converts silently: a string where a list is expected is
  refused (Ansible splits ``"10.0.0.0/24"`` into a list, but the role then sees the string).
* :func:`unknown_variable_problems` finds the typos: a variable with a role's prefix that no
  argument spec knows. :func:`merge` makes one line of the same message for several hosts.
* :class:`Problem` and :class:`Context` are what the rules per role work with; the rules an
  argument spec cannot express, and ``host_problems`` that applies spec and rules, live in
  ``_preflight_rules``, which imports this module (never the other way round).

The action plugin ``waent.onprem.preflight`` resolves the values (role defaults, inventory,
extra vars, templated for each host) and hands them to ``_preflight_rules.host_problems``.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

PRODUCT_GROUPS = ("wa_webapp", "wa_coreapp", "wa_master", "wa_db")
APP_GROUPS = ("wa_webapp", "wa_coreapp", "wa_master")

# The hosts each role runs on in the entry playbooks (site.yml and the playbooks over pki).
# None: every host of the play.
ROLE_SCOPES = {
    "wa": None,
    "pki": PRODUCT_GROUPS,
    "timesync": None,
    "firewall": PRODUCT_GROUPS,
    "database": ("wa_db",),
    "db_client": APP_GROUPS,
    "container_runtime": APP_GROUPS,
    "coreapp": ("wa_coreapp", "wa_master"),
    "webapp": ("wa_webapp",),
    "audit": PRODUCT_GROUPS + ("wa_probe",),
}

# Facts the roles publish: on a re-run with fact caching they are host variables, not typos.
PUBLISHED = frozenset(
    {
        "pki_ca",
        "pki_certificates",
        "pki_files",
        "pki_secrets",
        "pki_secret_values",
        "pki_secret_previous_values",
        "pki_secret_fingerprint_key",
        "timesync_status",
        "firewall_report",
        "db_client_env_files",
        "db_client_changed",
        "container_runtime_settings",
        "container_runtime_run",
        "coreapp_containers",
        "webapp_api",
        "audit_evidence",
        "audit_result",
        "audit_summary",
        "db_client_env_digests",
        "db_client_sessions",
        "database_tls_facts",
        "wa_model",
        "wa_preflight_done",
    }
)

_SECRET_NAME = re.compile(r"(password|secret|passphrase|token|_key$|_keys$|^pki_wa_)", re.IGNORECASE)

_TYPE_HINTS = {
    "bool": "true or false",
    "int": "a whole number",
    "float": "a number",
    "str": "a string",
    "path": "an absolute path",
    "raw": "a value",
    "dict": "a mapping (key: value)",
}


@dataclass(frozen=True)
class Problem:
    """One problem: the variable to fix, where, and a message that says what to write instead."""

    variable: str
    message: str
    host: str = ""

    def text(self, hosts=None):
        where = hosts if hosts is not None else ([self.host] if self.host else [])
        place = ""
        if where:
            shown = ", ".join(where[:5]) + (f" and {len(where) - 5} more" if len(where) > 5 else "")
            place = f" (host{'s' if len(where) > 1 else ''} {shown})"
        return f"{self.variable}{place}: {self.message}"


@dataclass
class Context:
    """What the rules may look at: the groups and every host's resolved values."""

    groups: dict
    values: dict = field(default_factory=dict)  # host -> {variable: value} (resolved)
    controller_sources: dict = field(default_factory=dict)  # host -> controller's source address
    provided: tuple = ()  # variables the playbook sets later from the controller material

    def hosts_of(self, *group_names):
        seen = []
        for group in group_names:
            for host in self.groups.get(group) or []:
                if host not in seen:
                    seen.append(host)
        return seen


def is_secret(name, spec=None):
    return bool((spec or {}).get("no_log")) or bool(_SECRET_NAME.search(name))


def shown(name, value, spec=None):
    """The value as a message may show it: never a secret's."""
    if is_secret(name, spec):
        return "(value hidden)"
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


def _hint(spec):
    kind = spec.get("type", "str")
    if spec.get("choices"):
        return "one of " + ", ".join(str(c) for c in spec["choices"])
    if kind == "list":
        element = spec.get("elements", "str")
        if element == "dict":
            return "a YAML list of mappings, for example [{...}]"
        return f"a YAML list of {_TYPE_HINTS.get(element, element)} values, for example [...]"
    return _TYPE_HINTS.get(kind, kind)


def _first_sentence(spec):
    description = spec.get("description") or ""
    if isinstance(description, list):
        description = " ".join(str(d) for d in description)
    description = re.sub(r"[A-Z]\(([^)]*)\)", r"\1", str(description)).strip()
    return description.split(". ")[0].rstrip(".")


def _strict_shape(name, value, spec):
    """Refuse what Ansible's validation would convert behind the role's back."""
    kind = spec.get("type", "str")
    if kind == "list" and not isinstance(value, (list, tuple)):
        # A comma-separated string of choices is unambiguous: what "-e pki_rotate=wa_secret,jwt"
        # gives. Ansible splits it and the choices are checked below, item by item.
        if isinstance(value, str) and spec.get("choices"):
            return None
        if isinstance(value, str):
            example = "[" + ", ".join(part.strip() for part in value.split(",") if part.strip()) + "]"
            return f"is the string {shown(name, value, spec)}, not a list: write it as a YAML list, {example}"
        return f"is {shown(name, value, spec)}, not a list: write {_hint(spec)}"
    if kind == "dict" and not isinstance(value, dict):
        return f"is {shown(name, value, spec)}, not a mapping: write {_hint(spec)}"
    return None


def option_problems(host, role, options, values, provided=()):
    """Problems of one host's ``values`` (name -> resolved value; absent: undefined) against the
    argument spec ``options`` of ``role``. Variables in ``provided`` are set by the playbook from
    the controller material: they are checked when given and not required before."""
    problems = []
    for name, spec in sorted(options.items()):
        if name not in values:
            if spec.get("required") and name not in provided:
                problems.append(Problem(name, f"is required by role {role} and not set: {_first_sentence(spec)}", host))
            continue
        value = values[name]
        if value is None and not spec.get("required"):
            continue
        shape = _strict_shape(name, value, spec)
        if shape:
            problems.append(Problem(name, shape, host))
            continue
        result = ArgumentSpecValidator({name: spec}).validate({name: value})
        for error in result.error_messages:
            detail = _clean(error, name, value, spec)
            problems.append(Problem(name, f"{detail}; write {_hint(spec)}", host))
    return problems


def _clean(error, name, value, spec):
    """Ansible's validator messages, without Python class names and never with a secret value."""
    if "not a valid boolean" in error:
        return f"is {shown(name, value, spec)}, not a boolean"
    error = re.sub(r"<class '(\w+)'>", r"\1", error)
    error = error.replace(f"argument '{name}' ", "").replace(f"'{name}' ", "")
    if is_secret(name, spec):
        error = "is not valid (" + re.sub(r"'[^']*'", "'...'", error.split(":")[0]) + ")"
    elif "value of" in error or "must be one of" in error:
        error = f"is {shown(name, value, spec)}: {error}"
    return error


def unknown_variable_problems(host, raw_names, known_by_role):
    """Variables with a role's prefix that no argument spec knows: a typo is silently ignored."""
    problems = []
    known = set()
    for names in known_by_role.values():
        known.update(names)
    for name in sorted(raw_names):
        if name in known or name in PUBLISHED or name.startswith("_"):
            continue
        for role in known_by_role:
            if name.startswith(role + "_"):
                close = difflib.get_close_matches(name, sorted(known_by_role[role]), n=1, cutoff=0.75)
                fix = f"did you mean {close[0]}?" if close else f"see the argument spec of role {role}"
                problems.append(Problem(name, f"is not a variable of role {role} and would be ignored: {fix}", host))
                break
    return problems


def merge(problems):
    """One line per problem: the same message for several hosts becomes one line naming them."""
    order, hosts = [], {}
    for problem in problems:
        key = (problem.variable, problem.message)
        if key not in hosts:
            order.append(key)
            hosts[key] = []
        if problem.host and problem.host not in hosts[key]:
            hosts[key].append(problem.host)
    return [Problem(variable, message).text(hosts[(variable, message)]) for variable, message in order]


_NETWORK_CONNECTIONS = {
    "ssh",
    "paramiko",
    "paramiko_ssh",
    "ansible.builtin.ssh",
    "ansible.builtin.paramiko_ssh",
    "ansible.netcommon.libssh",
}


def uses_network_connection(values):
    return str(values.get("ansible_connection") or "ssh") in _NETWORK_CONNECTIONS
