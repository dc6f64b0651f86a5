# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Webapp<->Coreapp link and ``WA_SECRET`` (reference section 2.2; health of section 4.2).

Two single-connect Coreapps, one with ``WA_SECRET`` and one without, and five Webapps, one per
pairing: the same secret, another secret, a secret on the Coreapp only, a secret on the Webapp
only, no secret at all. ``/v1/health`` says ``connected`` only when the link really works; where
it does not, both sides log why (the one-sided case is undocumented upstream: the simulator's
choice, DEVIATIONS.md, is that it fails and both sides say so).
"""

from __future__ import annotations

import re

import pytest

from conformance import apps
from conformance import podman as pm

SECRET = "ct-link-secret-0123456789abcdef"
OTHER_SECRET = "ct-link-secret-fedcba9876543210"
SAYS_WHY = re.compile(r"WA_SECRET|secret|wrong key", re.IGNORECASE)

# webapp key -> (Webapp's WA_SECRET, Coreapp it talks to)
PAIRS = {
    "same": (SECRET, "link-core-secret"),
    "wrong": (OTHER_SECRET, "link-core-secret"),
    "core-only": (None, "link-core-secret"),
    "web-only": (SECRET, "link-core-plain"),
    "none": (None, "link-core-plain"),
}


@pytest.fixture(scope="module")
def link(mariadb):
    cores = pm.run_many([apps.coreapp_spec("link-core-secret", mariadb, secret=SECRET),
                         apps.coreapp_spec("link-core-plain", mariadb)])
    webs = apps.start_webapps([apps.webapp_spec(f"link-web-{key}", mariadb, coreapp=core, secret=secret)
                               for key, (secret, core) in PAIRS.items()])
    pm.wait_all([(c, apps.COREAPP_READY) for c in cores] + [(w.container, apps.WEBAPP_READY) for w in webs],
                timeout=120)
    token = apps.admin_token(webs[0])
    yield {"core-secret": cores[0], "core-plain": cores[1], "token": token, **dict(zip(PAIRS, webs, strict=True))}
    pm.remove_all(cores + [w.container for w in webs])


def status(body):
    return body.get("health", {}).get("gateway_status")


def check_broken(link, key, core_key, core_reason):
    """Health is not ``connected`` and both logs, from this exchange on, say why (the Coreapp's on
    a line naming this Webapp's address: it serves other Webapps of the module too)."""
    web, core = link[key], link[core_key]
    web_mark, core_mark = web.container.mark(), core.mark()
    body = web.wait_health(link["token"], lambda j: status(j) == "connected", attempts=2)
    assert status(body) != "connected", body
    core.wait_for_log(rf"^.*{re.escape(web.ip)}\b.*(?:{core_reason}).*$", timeout=10, since=core_mark,
                      flags=re.IGNORECASE | re.MULTILINE)
    web_log = web.container.logs()[web_mark:]
    assert SAYS_WHY.search(web_log), f"{web.name} does not say why:\n{web_log}"


def test_same_secret_connects(link):
    """§2.2: the same ``WA_SECRET`` on both sides: the link works, health says ``connected``, and a
    master-only command goes through (§4.5 settings via the Coreapp's control port)."""
    web = link["same"]
    body = web.wait_health(link["token"], lambda j: status(j) == "connected")
    assert status(body) == "connected", body
    assert web.request("GET", "/v1/settings/application", token=link["token"]).status == 200


def test_no_secret_on_either_side_works(link):
    """§2.2: without ``WA_SECRET`` on both sides the link is plaintext and works (health connected)."""
    web = link["none"]
    body = web.wait_health(link["token"], lambda j: status(j) == "connected")
    assert status(body) == "connected", body


def test_wrong_secret_fails_and_both_log(link):
    """§2.2: different ``WA_SECRET`` values: frames under the other key are rejected; health is not
    connected; the Coreapp and the Webapp both log why."""
    check_broken(link, "wrong", "core-secret", r"wrong key")


def test_secret_on_coreapp_only_fails_and_both_log(link):
    """§2.2 (one side only, undocumented upstream): the Coreapp with ``WA_SECRET`` refuses the
    Webapp's plaintext frames; health not connected; both log why."""
    check_broken(link, "core-only", "core-secret", r"no secret on peer|plaintext")


def test_secret_on_webapp_only_fails_and_both_log(link):
    """§2.2 (one side only, undocumented upstream): the Coreapp without ``WA_SECRET`` refuses the
    Webapp's encrypted frames; health not connected; both log why."""
    check_broken(link, "web-only", "core-plain", r"no secret here|not set here")
