# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Backend of waent.onprem.secret: policies, generation, validation and the bundle model.

Pure standard library so that it can be unit tested without Ansible and reused by any
adapter (the controller-side action plugin today). Serialisation to YAML and vault
encryption stay in the adapter; this module works on plain dicts and bytes.

Nothing in here ever puts a secret value into an exception message or a result that is
not explicitly asked for: messages name the secret and the rule it breaks.
"""

from __future__ import annotations

import datetime
import errno
import fcntl
import hashlib
import hmac
import os
import secrets as _secrets
import stat
import string
import time

from ansible_collections.waent.onprem.plugins.module_utils import _io

# /2 added the bundle's fingerprint key. A /1 bundle is read and upgraded in place (the key is
# added, every fingerprint changes once); a release that only knows /1 refuses a /2 bundle
# instead of silently dropping the key.
BUNDLE_FORMAT = "waent.onprem.secret/2"
READABLE_FORMATS = ("waent.onprem.secret/1", BUNDLE_FORMAT)

# Top-level field of the bundle holding the key of the fingerprints. It is as secret as the
# values: whoever has it can test guesses of a value against its fingerprint.
FINGERPRINT_KEY_FIELD = "fingerprint_key"
FINGERPRINT_KEY_MIN_LENGTH = 32
FINGERPRINT_PREFIX = "hmac-sha256:"
LEGACY_FINGERPRINT_PREFIX = "sha256:"

# Characters that break the places these values end up in: docker/podman env files and
# systemd EnvironmentFile (quotes, backslash, space, '$' expansion, '#' comments), the
# PHP-FPM pool file the Webapp copies every WA* variable into (';' comments), shells.
ENV_UNSAFE = frozenset(" '\"\\`$#;")
PRINTABLE = frozenset(chr(c) for c in range(0x21, 0x7F))  # visible ASCII, no space

# Special characters the Webapp's password rule accepts (reference section 4.1).
ADMIN_SPECIALS = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
# Characters the vendor's templates reject in DB passwords (reference section 2.1).
DB_FORBIDDEN = frozenset("?{}&~!()^=")

ALNUM = string.ascii_letters + string.digits

CLASS_SETS = {
    "lower": frozenset(string.ascii_lowercase),
    "upper": frozenset(string.ascii_uppercase),
    "digit": frozenset(string.digits),
}
CLASS_NAMES = ("lower", "upper", "digit", "special")

MAX_AGE_LIMIT = 36500
CUSTOM_MAX_LENGTH = 1024


class SecretError(Exception):
    """A problem the user must fix; the message never contains a secret value."""


class PolicyError(SecretError):
    """A policy definition (options of one secret) is invalid."""


class BundleError(SecretError):
    """The bundle file cannot be used as it is; it was left untouched."""


_UTC = datetime.timezone.utc  # noqa: UP017 - module_utils must run on Python 3.9


def utcnow():
    return datetime.datetime.now(_UTC).replace(microsecond=0)


def format_time(when):
    return when.astimezone(_UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text):
    """Parse the ISO 8601 UTC timestamps the bundle stores; None when unparseable."""
    if not isinstance(text, str):
        return None
    value = text.strip()
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    try:
        when = datetime.datetime.fromisoformat(value)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=_UTC)
    return when.astimezone(_UTC)


def new_fingerprint_key():
    """A fresh fingerprint key: 256 bits from the OS CSPRNG, as 64 hex characters."""
    return _secrets.token_hex(32)


def check_fingerprint_key(key, source="fingerprint key"):
    """Raise SecretError unless ``key`` can key fingerprints (never echoes the key)."""
    if not isinstance(key, str) or len(key) < FINGERPRINT_KEY_MIN_LENGTH:
        raise SecretError(f"{source} must be a string of at least {FINGERPRINT_KEY_MIN_LENGTH} characters")


def fingerprint(value, key):
    """``hmac-sha256:<hex>``: HMAC-SHA256 of the UTF-8 value under the UTF-8 bytes of ``key``.

    Keyed, because fingerprints are printed and published to every host: a plain hash of a
    short password chosen by a person can be brute-forced offline from a job log; without the
    key (kept in the bundle, vault-encrypted with it) the fingerprint says nothing. The same
    value under the same key always gives the same fingerprint, so hosts and the audit can
    still compare (``openssl dgst -sha256 -hmac KEY`` computes it too).
    """
    if not isinstance(value, str):
        raise SecretError("a fingerprint needs a string value")
    check_fingerprint_key(key)
    return FINGERPRINT_PREFIX + hmac.new(key.encode("utf-8"), value.encode("utf-8"), hashlib.sha256).hexdigest()


def legacy_fingerprint(value):
    """The unkeyed ``sha256:<hex>`` of bundles written before the fingerprint key existed."""
    return LEGACY_FINGERPRINT_PREFIX + hashlib.sha256(value.encode("utf-8")).hexdigest()


def fingerprint_matches(recorded, value, key):
    """Whether ``recorded`` is the fingerprint of ``value``: keyed under ``key``, or legacy.

    None when it cannot tell: a keyed fingerprint, but the key is gone (deleted by hand to
    have a new one generated).
    """
    if not isinstance(recorded, str):
        return False
    if recorded.startswith(FINGERPRINT_PREFIX):
        if key is None:
            return None
        return hmac.compare_digest(recorded, fingerprint(value, key))
    if recorded.startswith(LEGACY_FINGERPRINT_PREFIX):
        return hmac.compare_digest(recorded, legacy_fingerprint(value))
    return False


def shown_fingerprint(recorded):
    """A fingerprint that may be shown: keyed ones only (a legacy one is the leak being fixed)."""
    if isinstance(recorded, str) and recorded.startswith(FINGERPRINT_PREFIX):
        return recorded
    return None


class Policy:
    """What a valid value looks like, and how to generate one.

    ``alphabet`` is what generation draws from; ``allowed`` is what validation accepts
    (a superset, so that values supplied by operators are not rejected for using a
    harmless character the generator happens to avoid).
    """

    def __init__(self, name, length, min_length, max_length, *, alphabet, allowed=None,
                 required=(), specials=None, min_unique=1, forbidden=frozenset()):
        self.name = name
        self.length = length
        self.min_length = min_length
        self.max_length = max_length
        self.alphabet = alphabet
        self.allowed = frozenset(allowed if allowed is not None else alphabet)
        self.specials = frozenset(specials if specials is not None else
                                  (c for c in self.allowed if c not in ALNUM))
        self.required = tuple(required)
        self.min_unique = min_unique
        self.forbidden = frozenset(forbidden)

    def class_set(self, cls):
        if cls == "special":
            return self.specials
        return CLASS_SETS[cls]

    def describe(self):
        return {
            "policy": self.name,
            "length": self.length,
            "min_length": self.min_length,
            "max_length": self.max_length,
            "required_classes": list(self.required),
        }

    def violations(self, value):
        """Every rule ``value`` breaks, as messages that never include the value."""
        if not isinstance(value, str):
            return ["must be a string"]
        broken = []
        if len(value) < self.min_length:
            broken.append(f"shorter than the minimum length {self.min_length}")
        if len(value) > self.max_length:
            broken.append(f"longer than the maximum length {self.max_length}")
        if any(c in self.forbidden for c in value):
            # The rule, not the offending characters: they are part of the secret.
            shown = "".join(sorted(self.forbidden)).replace(" ", "")
            broken.append(f"contains a character the product forbids (space or any of {shown})"
                          if " " in self.forbidden else
                          f"contains a character the product forbids (any of {shown})")
        outside = {c for c in value if c not in self.allowed and c not in self.forbidden}
        if outside:
            # Name the kind of character, not the character: a single char of a secret
            # is still part of the secret.
            kinds = sorted({_char_kind(c) for c in outside})
            broken.append("contains characters outside the policy's alphabet ({})".format(", ".join(kinds)))
        for cls in self.required:
            if not any(c in self.class_set(cls) for c in value):
                broken.append(f"needs at least one {_class_label(cls, self)} character")
        if len(set(value)) < self.min_unique:
            broken.append(f"needs at least {self.min_unique} distinct characters")
        return broken

    def generate(self, length=None):
        """A fresh value of ``length`` (default: the policy's) that satisfies the policy.

        One character is drawn from every required class and the rest from the whole
        alphabet, then the positions are shuffled, all with the OS CSPRNG.
        """
        length = self.length if length is None else length
        rng = _secrets.SystemRandom()
        for _attempt in range(100):
            chars = [_secrets.choice(sorted(self.class_set(cls) & set(self.alphabet)))
                     for cls in self.required]
            chars += [_secrets.choice(self.alphabet) for _i in range(length - len(chars))]
            rng.shuffle(chars)
            value = "".join(chars)
            if not self.violations(value):
                return value
        raise PolicyError(f"policy {self.name} cannot generate a valid value of length {length}")


def _char_kind(char):
    if char == " ":
        return "space"
    if char in "\t\r\n":
        return "whitespace"
    if ord(char) < 0x20 or ord(char) == 0x7F:
        return "control character"
    if ord(char) > 0x7F:
        return "non-ASCII character"
    return "punctuation"


def _class_label(cls, policy):
    if cls == "special":
        return "special (one of {})".format("".join(sorted(policy.specials)))
    return {"lower": "lowercase", "upper": "uppercase", "digit": "digit"}[cls]


def _wa_secret(length=None):
    # 64 characters from a 70-symbol set: about 390 bits, far beyond what PBKDF2 needs.
    return Policy(
        "wa_secret", length or 64, 32, 256,
        alphabet=ALNUM + "-_.,:+/@%",
        allowed=PRINTABLE - ENV_UNSAFE,
        required=("lower", "upper", "digit"),
        min_unique=16,
    )


def _jwt_key(length=None):
    # The CloudFormation template generates exactly this shape for WA_WEB_JWT_CRYPTO_KEY.
    return Policy("jwt_key", length or 64, 64, 64, alphabet=ALNUM, min_unique=16)


def _db_password(length=None):
    # 8-41 is the vendor's CloudFormation bound; one special keeps MySQL's
    # validate_password (MEDIUM) happy.
    return Policy(
        "db_password", length or 32, 8, 41,
        alphabet=ALNUM + "-_.,+",
        allowed=PRINTABLE - ENV_UNSAFE - DB_FORBIDDEN,
        required=("lower", "upper", "digit", "special"),
        specials="-_.,+",
        forbidden=DB_FORBIDDEN | ENV_UNSAFE,
    )


def _admin_password(length=None):
    # The generator avoids the specials that need quoting in shells and env files; an
    # operator-supplied password may use any special the Webapp accepts.
    return Policy(
        "admin_password", length or 24, 8, 64,
        alphabet=ALNUM + "-_.,+%@*=",
        allowed=ALNUM + ADMIN_SPECIALS,
        required=("lower", "upper", "digit", "special"),
        specials=ADMIN_SPECIALS,
    )


BUILTIN_POLICIES = {
    "wa_secret": _wa_secret,
    "jwt_key": _jwt_key,
    "db_password": _db_password,
    "admin_password": _admin_password,
}
POLICY_NAMES = tuple(BUILTIN_POLICIES) + ("custom",)


def build_policy(spec):
    """The Policy for one entry of the ``secrets`` option; PolicyError names the bad option."""
    name = spec["name"]
    policy_name = spec.get("policy") or "custom"
    length = spec.get("length")
    if length is not None and (not isinstance(length, int) or isinstance(length, bool) or length < 1):
        raise PolicyError(f"secret {name}: length must be a positive integer")
    if policy_name in BUILTIN_POLICIES:
        if spec.get("alphabet") or spec.get("required"):
            raise PolicyError(f"secret {name}: alphabet and required only apply to policy custom, not {policy_name}")
        policy = BUILTIN_POLICIES[policy_name](length)
        if not policy.min_length <= policy.length <= policy.max_length:
            raise PolicyError(f"secret {name}: length {policy.length} is outside "
                              f"{policy.min_length}-{policy.max_length} allowed by policy {policy_name}")
        return policy
    if policy_name != "custom":
        raise PolicyError(f"secret {name}: unknown policy {policy_name} (choose one of {', '.join(POLICY_NAMES)})")
    alphabet = spec.get("alphabet") or ALNUM
    if not isinstance(alphabet, str):
        raise PolicyError(f"secret {name}: alphabet must be a string")
    bad = {c for c in alphabet if c not in PRINTABLE}
    if bad:
        raise PolicyError(f"secret {name}: alphabet may only contain visible ASCII characters (no space, "
                          "no control or non-ASCII characters)")
    alphabet = "".join(sorted(set(alphabet)))
    if len(alphabet) < 2:
        raise PolicyError(f"secret {name}: alphabet needs at least 2 distinct characters")
    required = spec.get("required") or []
    for cls in required:
        if cls not in CLASS_NAMES:
            raise PolicyError("secret {}: required class {} is not one of {}".format(name, cls, ", ".join(CLASS_NAMES)))
    length = length or 32
    if length > CUSTOM_MAX_LENGTH:
        raise PolicyError(f"secret {name}: length may be at most {CUSTOM_MAX_LENGTH}")
    policy = Policy("custom", length, length, CUSTOM_MAX_LENGTH, alphabet=alphabet,
                    required=tuple(dict.fromkeys(required)))
    for cls in policy.required:
        if not policy.class_set(cls) & set(alphabet):
            raise PolicyError(f"secret {name}: required class {cls} has no character in the alphabet")
    if len(policy.required) > length:
        raise PolicyError(f"secret {name}: length {length} cannot hold one character of each of the "
                          f"{len(policy.required)} required classes")
    return policy


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
# Bundle model


def new_bundle(fingerprint_key=None):
    out = {"format": BUNDLE_FORMAT}
    if fingerprint_key is not None:
        out[FINGERPRINT_KEY_FIELD] = fingerprint_key
    out["secrets"] = {}
    return out


class ParsedBundle:
    """What parse_bundle read: the secrets by name and the fingerprint key (None when the
    bundle predates it)."""

    def __init__(self, entries=None, fingerprint_key=None):
        self.entries = entries if entries is not None else {}
        self.fingerprint_key = fingerprint_key


def parse_bundle(data, source="bundle"):
    """Validate the structure read from a bundle file; BundleError names what is wrong."""
    if data is None:
        raise BundleError(f"{source} is empty: expected a mapping with format and secrets "
                          "(delete or restore the file)")
    if not isinstance(data, dict):
        raise BundleError(f"{source} is not a mapping: expected format and secrets keys")
    fmt = data.get("format")
    if fmt not in READABLE_FORMATS:
        raise BundleError(f"{source} has format {fmt!r}, expected {BUNDLE_FORMAT!r}")
    key = data.get(FINGERPRINT_KEY_FIELD)
    if key is not None:
        try:
            check_fingerprint_key(key, f"{source}: {FINGERPRINT_KEY_FIELD}")
        except SecretError as exc:
            raise BundleError(f"{exc} (delete the field to have a new one generated)") from None
    entries = data.get("secrets")
    if not isinstance(entries, dict):
        raise BundleError(f"{source} has no secrets mapping")
    parsed = {}
    for name, entry in entries.items():
        where = f"{source}: secret {name}"
        if not isinstance(entry, dict):
            raise BundleError(f"{where} is not a mapping")
        for field in ("value", "fingerprint", "created"):
            if field not in entry or entry[field] in (None, ""):
                raise BundleError(f"{where} is missing the field {field}")
        if not isinstance(entry["value"], str):
            raise BundleError(f"{where}: value is not a string (quote it in the YAML)")
        for field in ("created", "rotated"):
            if entry.get(field) is not None and parse_time(entry[field]) is None:
                raise BundleError(f"{where}: {field} is not an ISO 8601 timestamp")
        previous = entry.get("previous")
        if previous is not None:
            if not isinstance(previous, dict) or not isinstance(previous.get("value"), str):
                raise BundleError(f"{where}: previous must be a mapping with a string value")
        parsed[str(name)] = dict(entry)
    return ParsedBundle(parsed, key)


def render_bundle(entries, fingerprint_key):
    """The mapping written to disk, secrets sorted by name for stable files."""
    out = new_bundle(fingerprint_key)
    for name in sorted(entries):
        entry = entries[name]
        item = {key: entry[key] for key in ("policy", "value", "fingerprint", "created", "rotated")
                if entry.get(key) is not None}
        if entry.get("previous"):
            prev = entry["previous"]
            item["previous"] = {key: prev[key] for key in ("value", "fingerprint", "created", "retired")
                                if prev.get(key) is not None}
        out["secrets"][name] = item
    return out


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


# ---------------------------------------------------------------------------------------
# Files


class BundleLock:
    """Exclusive flock on the bundle's directory for a read-plan-write cycle.

    Two runs at once (two AWX jobs on one bundle) would otherwise both read the old file
    and the second write would silently undo the first one's rotation. A missing directory
    means there is no bundle yet, so nothing to protect (and nothing is created to lock).
    """

    def __init__(self, path, timeout=60.0):
        self.directory = os.path.dirname(os.path.abspath(path))
        self.timeout = timeout
        self.fd = None

    def __enter__(self):
        if not os.path.isdir(self.directory):
            return self
        self.fd = os.open(self.directory, os.O_RDONLY)
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return self
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES) or time.monotonic() >= deadline:
                    os.close(self.fd)
                    self.fd = None
                    raise BundleError(f"cannot lock {self.directory}: another run has held it for more than "
                                      f"{self.timeout:.0f} s ({exc.strerror})") from None
                time.sleep(0.2)

    def __exit__(self, *exc_info):
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None
        return False


def read_bytes(path):
    """The file's bytes, or None when it does not exist."""
    try:
        return _io.read_bytes(path)
    except OSError as exc:
        raise BundleError(f"cannot read {path}: {exc.strerror}") from None


def file_mode(path):
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        return None


def ensure_dir(path, mode=0o700):
    """Create the directory (and missing parents) with ``mode``; report what was created."""
    created = []
    missing = []
    probe = os.path.abspath(path)
    while not os.path.isdir(probe):
        missing.append(probe)
        parent = os.path.dirname(probe)
        if parent == probe:
            break
        probe = parent
    for directory in reversed(missing):
        try:
            os.mkdir(directory, mode)
        except FileExistsError:
            continue
        os.chmod(directory, mode)  # mkdir's mode is filtered by the umask
        created.append(directory)
    return created


def write_atomic(path, data, mode=0o600, dir_mode=0o700):
    """Write ``data`` atomically (see ``_io.write_atomic``), creating the directory first."""
    ensure_dir(os.path.dirname(os.path.abspath(path)), dir_mode)
    _io.write_atomic(path, data, mode)
