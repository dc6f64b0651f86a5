# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The secrets bundle file: its format, timestamps and fingerprints, parse/render, locking and atomic I/O.

Works on plain dicts and bytes: serialisation to YAML and vault encryption stay in the
adapter (plugins/plugin_utils/_vault_bundle.py). SecretError, the base of every error of
the waent.onprem.secret backend, is defined here because the policies (_secrets_policy)
and the plan (_secrets) both build on this module.

Nothing in here ever puts a secret value or the fingerprint key into an exception message.
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


class SecretError(Exception):
    """A problem the user must fix; the message never contains a secret value."""


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


def write_atomic(path, data, mode=0o600, dir_mode=0o700):
    """Write ``data`` atomically (see ``_io.write_atomic``), creating the directory first."""
    _io.ensure_dir(os.path.dirname(os.path.abspath(path)), dir_mode)
    _io.write_atomic(path, data, mode)
