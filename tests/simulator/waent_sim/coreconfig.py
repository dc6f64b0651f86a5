# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Coreapp's application settings and webhook CA in ``configStore`` (reference sections 4.4, 4.5).

Documented behaviour:

* ``/v1/settings/application`` (section 4.5): ``GET``, ``PATCH`` with only the fields to change,
  ``DELETE`` resets. Fields: ``webhooks.url`` (HTTPS), ``webhooks.max_concurrent_requests``,
  ``callback_persist`` (default true), ``callback_backoff_delay_ms`` (3000),
  ``max_callback_backoff_delay_ms`` (900000), ``heartbeat_interval``, ``unhealthy_interval``,
  ``pass_through``, ``sent_status``, ``media.auto_download``.
* ``/v1/certificates/webhooks/ca`` (section 4.4): a PEM bundle of one or more certificates,
  overwritten by each upload, read back by ``GET`` (404 when none), removed by ``DELETE``; it
  takes effect only after a restart of the Coreapp nodes (the process loads it once, at start).

Choices where the reference is silent:

* Storage: table ``settings`` (``name``, JSON ``settings_json``; one row ``application`` holding the
  whole object after the last PATCH) and table ``webhook_ca`` (one row ``webhooks`` holding the
  bundle as uploaded). ``GET`` lays the stored object over the defaults, so a missing field
  reads as its default.
* Defaults not given by section 4.5 (see ``DEFAULTS``) are the simulator's.
* Validation: unknown fields are refused (``unknown field <dotted name>``), not ignored; booleans
  must be JSON booleans; integers JSON integers >= 0 (``webhooks.max_concurrent_requests`` >= 1);
  ``media.auto_download`` a list of distinct media types; ``webhooks.url`` an ``https://`` URL
  with a host (scheme compared case-insensitively), or ``""`` to clear it. A patch is checked in
  full before anything is stored.
* Webhook CA: every PEM block must be a ``CERTIFICATE`` that ``cryptography`` parses; any other
  block (a private key pasted by mistake) or an unterminated block refuses the whole upload.
"""

from __future__ import annotations

import copy
import json
import re
import urllib.parse

from cryptography import x509

SETTINGS_ROW = "application"
CA_ROW = "webhooks"

DEFAULTS = {
    "callback_persist": True,  # section 4.5
    "callback_backoff_delay_ms": 3000,  # section 4.5
    "max_callback_backoff_delay_ms": 900000,  # section 4.5
    "heartbeat_interval": 5,  # simulator's choice
    "unhealthy_interval": 30,  # simulator's choice
    "pass_through": True,  # simulator's choice
    "sent_status": False,  # simulator's choice
    "webhooks": {"url": "", "max_concurrent_requests": 6},  # simulator's choice (no URL until one is set)
    "media": {"auto_download": []},  # simulator's choice
}
MEDIA_TYPES = ("audio", "document", "image", "sticker", "video", "voice")

TABLES = {
    "settings": [("name", "key"), ("settings_json", "text")],
    "webhook_ca": [("name", "key"), ("pem", "text")],
}

_PEM_BEGIN = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----")
_PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----\r?\n.*?-----END \1-----", re.DOTALL)


class SettingsError(ValueError):
    """A PATCH the Coreapp refuses; the message names the field."""


class WebhookCAError(ValueError):
    """A webhook CA bundle the Coreapp refuses; the message says why."""


def create_schema(store):
    store.create_tables(TABLES)


# -- settings (section 4.5) ------------------------------------------------------------------

def _check_url(value, dotted):
    if not isinstance(value, str):
        raise SettingsError(f"{dotted} must be a string")
    if value == "":
        return
    try:
        parts = urllib.parse.urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port outside 0-65535 or not a number
    except ValueError:
        parts = None
    if parts is None or parts.scheme.lower() != "https" or not parts.hostname or re.search(r"\s", value):
        raise SettingsError(f"{dotted} must be an HTTPS URL")


def _check_value(value, default, dotted):
    if dotted == "webhooks.url":
        _check_url(value, dotted)
    elif isinstance(default, bool):
        if not isinstance(value, bool):
            raise SettingsError(f"{dotted} must be a boolean")
    elif isinstance(default, int):
        low = 1 if dotted == "webhooks.max_concurrent_requests" else 0
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise SettingsError(f"{dotted} must be an integer >= {low}")
    elif dotted == "media.auto_download":
        if (not isinstance(value, list) or not all(isinstance(v, str) and v in MEDIA_TYPES for v in value)
                or len(set(value)) != len(value)):
            raise SettingsError(f"{dotted} must be a list of distinct media types ({', '.join(MEDIA_TYPES)})")
    else:  # a field added to DEFAULTS without a rule must not be accepted unchecked
        raise SettingsError(f"{dotted} cannot be changed in the simulator")


def _check(patch, defaults, prefix):
    if not isinstance(patch, dict):
        raise SettingsError(f"{prefix or 'the settings'} must be an object")
    for name, value in patch.items():
        dotted = f"{prefix}.{name}" if prefix else str(name)
        if name not in defaults:
            raise SettingsError(f"unknown field {dotted}")
        if isinstance(defaults[name], dict):
            _check(value, defaults[name], dotted)
        else:
            _check_value(value, defaults[name], dotted)


def _merge(base, patch):
    merged = copy.deepcopy(base)
    for name, value in patch.items():
        if isinstance(value, dict) and isinstance(merged.get(name), dict):
            merged[name] = _merge(merged[name], value)
        else:
            merged[name] = copy.deepcopy(value)
    return merged


def validate_patch(patch):
    """Raise :class:`SettingsError` unless ``patch`` only sets known fields to valid values."""
    _check(patch, DEFAULTS, "")


def apply_patch(current, patch):
    """``current`` with ``patch`` merged in (nested objects merged, other values replaced), validated first."""
    validate_patch(patch)
    return _merge(current, patch)


def get_settings(store):
    """The application settings: the stored object laid over :data:`DEFAULTS`."""
    row = store.one("SELECT settings_json FROM settings WHERE name = %s", (SETTINGS_ROW,))
    if row is None:
        return copy.deepcopy(DEFAULTS)
    return _merge(DEFAULTS, json.loads(row[0]))


def patch_settings(store, patch):
    """Validate and store ``patch``; return the new settings."""
    settings = apply_patch(get_settings(store), patch)
    store.upsert("settings", {"name": SETTINGS_ROW}, {"settings_json": json.dumps(settings, sort_keys=True)})
    return settings


def reset_settings(store):
    """``DELETE``: back to the defaults."""
    store.run("DELETE FROM settings WHERE name = %s", (SETTINGS_ROW,))


# -- webhook CA (section 4.4) ----------------------------------------------------------------

def parse_webhook_ca(pem):
    """The certificates of a webhook CA bundle, or :class:`WebhookCAError` saying why it is refused.

    Each block is parsed on its own (``load_pem_x509_certificates`` needs cryptography >= 39;
    the images have 38).
    """
    if not isinstance(pem, str) or not pem.strip():
        raise WebhookCAError("the webhook CA bundle is empty: give one or more PEM certificates")
    blocks = list(_PEM_BLOCK.finditer(pem))
    if len(blocks) != len(_PEM_BEGIN.findall(pem)):
        raise WebhookCAError("the webhook CA bundle has an unterminated PEM block")
    if not blocks:
        raise WebhookCAError("the webhook CA bundle has no PEM certificate")
    certificates = []
    for number, block in enumerate(blocks, 1):
        if block.group(1) != "CERTIFICATE":
            raise WebhookCAError(f"block {number} of the webhook CA bundle is a {block.group(1)}, not a CERTIFICATE")
        try:
            certificates.append(x509.load_pem_x509_certificate(block.group(0).encode("ascii")))
        except (ValueError, UnicodeEncodeError) as exc:
            raise WebhookCAError(f"certificate {number} of the webhook CA bundle cannot be read: {exc}") from None
    return certificates


def certificate_blocks(pem):
    """The PEM certificate blocks of a bundle, joined: what ``ssl`` gets as ``cadata``."""
    return "\n".join(block.group(0) for block in _PEM_BLOCK.finditer(pem)) + "\n"


def get_webhook_ca(store):
    row = store.one("SELECT pem FROM webhook_ca WHERE name = %s", (CA_ROW,))
    return row[0] if row else None


def set_webhook_ca(store, pem):
    """Validate and store (overwrite) the bundle; return its number of certificates."""
    count = len(parse_webhook_ca(pem))
    store.upsert("webhook_ca", {"name": CA_ROW}, {"pem": pem})
    return count


def delete_webhook_ca(store):
    store.run("DELETE FROM webhook_ca WHERE name = %s", (CA_ROW,))
