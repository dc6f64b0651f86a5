# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Backend of waent.onprem.secret: from the module's options to the plan of what changes.

The entry point of the backend: checks the options (normalize_specs, normalize_names) and
decides, secret by secret, whether the bundle keeps a value or gets a new one (plan). The
value policies are in _secrets_policy, the bundle file (format, fingerprints, locking and
I/O) in _secrets_bundle.

Pure standard library so that it can be unit tested without Ansible and reused by any
adapter (the controller-side action plugin today). Serialisation to YAML and vault
encryption stay in the adapter; this module works on plain dicts and bytes.

Nothing in here ever puts a secret value into an exception message or a result that is
not explicitly asked for: messages name the secret and the rule it breaks.
"""

from __future__ import annotations

import datetime

from ansible_collections.waent.onprem.plugins.module_utils._secrets_bundle import (
    SecretError,
    check_fingerprint_key,
    fingerprint,
    fingerprint_matches,
    format_time,
    new_fingerprint_key,
    parse_time,
    shown_fingerprint,
    utcnow,
)
from ansible_collections.waent.onprem.plugins.module_utils._secrets_policy import build_policy

MAX_AGE_LIMIT = 36500


# ---------------------------------------------------------------------------------------
# Options


def normalize_names(option, value, known):
    """``rotate``/``drop_previous``/``return_values``: a list of names, or true for all."""
    if value is None or value is False:
        return []
    if value is True:
        return list(known)
    if isinstance(value, str):
        if value.lower() in ("true", "yes", "all"):
            return list(known)
        if value.lower() in ("", "false", "no", "none"):
            return []
        value = [item.strip() for item in value.split(",") if item.strip()]
    if not isinstance(value, (list, tuple)):
        raise SecretError(f"{option} must be a list of secret names or true")
    names = []
    for item in value:
        if not isinstance(item, str):
            raise SecretError(f"{option} must be a list of secret names")
        if item not in known:
            raise SecretError(f"{option} names {item}, which is not one of the secrets ({', '.join(known) or 'none'})")
        if item not in names:
            names.append(item)
    return names


def normalize_specs(specs):
    """Checks the ``secrets`` option: unique names, valid policies and ages."""
    if not isinstance(specs, (list, tuple)):
        raise SecretError("secrets must be a list")
    seen = set()
    result = []
    for raw in specs:
        if not isinstance(raw, dict) or not raw.get("name"):
            raise SecretError("every entry of secrets needs a name")
        spec = dict(raw)
        name = spec["name"]
        if not isinstance(name, str):
            raise SecretError("secret names must be strings")
        if name in seen:
            raise SecretError(f"secret {name} is listed twice")
        seen.add(name)
        spec["policy"] = spec.get("policy") or "custom"
        max_age = spec.get("max_age_days")
        if max_age is not None and (isinstance(max_age, bool) or not isinstance(max_age, int)
                                    or not 1 <= max_age <= MAX_AGE_LIMIT):
            raise SecretError(f"secret {name}: max_age_days must be an integer between 1 and {MAX_AGE_LIMIT}")
        value = spec.get("value")
        # An empty string is what an unanswered AWX survey field sends: not supplied.
        spec["value"] = None if value in (None, "") else value
        spec["_policy"] = build_policy(spec)
        result.append(spec)
    return result


# ---------------------------------------------------------------------------------------
# Plan


def value_time(entry):
    """When the current value was set: last rotation, else creation."""
    return parse_time(entry.get("rotated")) or parse_time(entry.get("created"))


def needs_new_value(entry, spec, rotate, now):
    """THE predicate: why ``spec``'s secret needs a new value, or None to keep ``entry``.

    Order matters: an operator-supplied value always wins, then absence, an explicit
    rotation, a value the (possibly changed) policy no longer accepts, and finally age.
    """
    supplied = spec.get("value")
    if supplied is not None:
        if entry is None or entry["value"] != supplied:
            return "adopted"
        return None
    if entry is None:
        return "missing"
    if spec["name"] in rotate:
        return "rotate"
    if spec["_policy"].violations(entry["value"]):
        return "policy"
    max_age = spec.get("max_age_days")
    if max_age:
        set_at = value_time(entry)
        if set_at is None or now - set_at >= datetime.timedelta(days=max_age):
            return "max_age"
    return None


def metadata(name, entry, include_value=False):
    """What may be shown about a secret: never the value unless ``include_value``, never an
    unkeyed (legacy) fingerprint."""
    if entry is None:
        return None
    set_at = value_time(entry)
    meta = {
        "name": name,
        "policy": entry.get("policy"),
        "fingerprint": shown_fingerprint(entry.get("fingerprint")),
        "created": entry.get("created"),
        "rotated": entry.get("rotated"),
        "previous": None,
    }
    if set_at is not None:
        meta["age_days"] = (utcnow() - set_at).days
    prev = entry.get("previous")
    if prev:
        meta["previous"] = {k: prev.get(k) for k in ("fingerprint", "created", "retired")}
        meta["previous"]["fingerprint"] = shown_fingerprint(prev.get("fingerprint"))
        if include_value:
            meta["previous"]["value"] = prev["value"]
    if include_value:
        meta["value"] = entry["value"]
    return meta


class Plan:
    def __init__(self):
        self.entries = {}
        self.results = {}
        self.changed_names = []
        self.fingerprint_key = None
        # None, "added" (the bundle had no key: every fingerprint changes once) or "rotated".
        self.key_change = None

    @property
    def changed(self):
        """Whether the bundle's content changes (a secret, or the fingerprint key)."""
        return bool(self.changed_names) or self.key_change is not None


def _refingerprint(entry, key):
    """``entry`` with its fingerprints (current and previous) computed under ``key``."""
    entry = dict(entry, fingerprint=fingerprint(entry["value"], key))
    if entry.get("previous"):
        entry["previous"] = dict(entry["previous"], fingerprint=fingerprint(entry["previous"]["value"], key))
    return entry


def plan(current, specs, rotate=(), drop_previous=(), now=None, *, fingerprint_key=None,
         rotate_fingerprint_key=False):
    """Compute the new bundle content and a per-secret account of what changes.

    ``current`` is the entries parse_bundle returned and ``fingerprint_key`` its key (None
    for a new bundle or one that predates keys: a key is then generated, as it is when
    ``rotate_fingerprint_key``); ``specs`` what normalize_specs returned. Raises SecretError
    when a supplied value breaks its policy (naming the secret and the rule, never the
    value). Secrets in the bundle but not in ``specs`` are kept.
    """
    now = now or utcnow()
    stamp = format_time(now)
    result = Plan()
    if fingerprint_key is None:
        result.fingerprint_key, result.key_change = new_fingerprint_key(), "added"
    elif rotate_fingerprint_key:
        result.fingerprint_key, result.key_change = new_fingerprint_key(), "rotated"
    else:
        check_fingerprint_key(fingerprint_key)
        result.fingerprint_key = fingerprint_key
    result.entries = {name: dict(entry) for name, entry in current.items()}
    for spec in specs:
        policy = spec["_policy"]
        if spec["value"] is not None:
            broken = policy.violations(spec["value"])
            if broken:
                raise SecretError(f"secret {spec['name']}: the supplied value does not satisfy policy {policy.name}: "
                                  f"it {'; it '.join(broken)}")

    for spec in specs:
        name = spec["name"]
        policy = spec["_policy"]
        entry = result.entries.get(name)
        supplied = spec["value"]
        before = metadata(name, entry)
        reason = needs_new_value(entry, spec, rotate, now)
        dropped = False
        generated = False
        if entry is not None and name in drop_previous and entry.get("previous"):
            entry = dict(entry)
            entry.pop("previous")
            dropped = True
        if (entry is not None and reason is None
                and fingerprint_matches(entry.get("fingerprint"), entry["value"], fingerprint_key) is False):
            # Edited by hand (ansible-vault edit): keep the operator's value, refresh metadata.
            # Checked under the key the bundle was written with, before any key change.
            reason = "adopted"
            supplied = entry["value"]
        if reason is not None:
            generated = supplied is None
            value = supplied if supplied is not None else policy.generate()
            new = {
                "policy": policy.name,
                "value": value,
                "created": stamp if entry is None else entry["created"],
                "rotated": None if entry is None else stamp,
            }
            if entry is not None and entry["value"] != value:
                # Kept so that hosts can be moved to the new value while the old one still
                # works; the host roles decide how (see the module's notes).
                new["previous"] = {
                    "value": entry["value"],
                    "created": format_time(value_time(entry)) if value_time(entry) else None,
                    "retired": stamp,
                }
            elif entry is not None and entry.get("previous"):
                new["previous"] = entry["previous"]
            entry = new
        elif entry is not None and entry.get("policy") != policy.name:
            # The value satisfies the new policy: only the label changes, not the value.
            entry = dict(entry, policy=policy.name)
            reason = "policy"
        if dropped and reason is None:
            reason = "dropped_previous"
        result.entries[name] = entry
        changed = reason is not None
        if changed:
            result.changed_names.append(name)
        result.results[name] = {
            "changed": changed,
            "reason": reason,
            "generated": generated,
            "before": before,
        }
    # Every fingerprint under the bundle's key, listed or not: after a key change (or the
    # upgrade of a bundle without one) none of the old fingerprints would match any more.
    result.entries = {name: _refingerprint(entry, result.fingerprint_key) for name, entry in result.entries.items()}
    for name, item in result.results.items():
        item["after"] = metadata(name, result.entries[name])
    return result
