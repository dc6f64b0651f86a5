# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""container_env_info: secrets leave as keyed fingerprints only, settings as values, from what the
engine says the container runs with."""

from __future__ import annotations

import json

from ansible_collections.waent.onprem.plugins.module_utils import _containers as ct
from ansible_collections.waent.onprem.plugins.module_utils._secrets_bundle import fingerprint
from ansible_collections.waent.onprem.plugins.modules import container_env_info as mod

KEY = "k" * 64
SECRET = "S3cret-value-with=equals"


def engine_with(inspected):
    """An Engine whose command line answers ``container inspect`` with ``inspected`` (None: no such container)."""
    def run(argv):
        if inspected is None:
            return 1, "", "Error: no such container waweb"
        return 0, json.dumps([inspected]), ""
    return ct.Engine(run, "docker")


def test_runtime_env_splits_at_the_first_equals_sign():
    assert ct.runtime_env({"Config": {"Env": ["A=1", "B=x=y", "NOVALUE"]}}) == {"A": "1", "B": "x=y"}
    assert ct.runtime_env(None) == {}


def test_fingerprints_match_the_bundle_and_never_carry_the_value():
    inspected = {"Config": {"Env": [f"WA_SECRET={SECRET}", "WA_WEB_SECURITY_LEVEL=MODERN"]}, "State": {"Running": True}}
    got = mod.read_container(engine_with(inspected), "waweb", ["WA_SECRET", "WA_WEB_JWT_CRYPTO_KEY"],
                             ["WA_WEB_SECURITY_LEVEL", "WA_DB_SSL_VERIFY"], KEY)
    assert got == {"exists": True, "running": True,
                   "fingerprints": {"WA_SECRET": fingerprint(SECRET, KEY), "WA_WEB_JWT_CRYPTO_KEY": None},
                   "values": {"WA_WEB_SECURITY_LEVEL": "MODERN", "WA_DB_SSL_VERIFY": None}}
    assert SECRET not in json.dumps(got)


def test_another_value_has_another_fingerprint():
    one = mod.read_container(engine_with({"Config": {"Env": [f"WA_SECRET={SECRET}"]}}), "c", ["WA_SECRET"], [], KEY)
    two = mod.read_container(engine_with({"Config": {"Env": [f"WA_SECRET={SECRET}x"]}}), "c", ["WA_SECRET"], [], KEY)
    assert one["fingerprints"] != two["fingerprints"]


def test_a_missing_container_is_reported_not_raised():
    got = mod.read_container(engine_with(None), "waweb", ["WA_SECRET"], ["WA_DB_SSL_VERIFY"], KEY)
    assert got == {"exists": False, "running": False, "fingerprints": {"WA_SECRET": None},
                   "values": {"WA_DB_SSL_VERIFY": None}}
