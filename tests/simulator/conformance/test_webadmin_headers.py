# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Web Admin security headers (reference section 6), checked with curl and ``http.client``.

lighttpd adds the five headers to every response whose URL does not match ``/v1/`` (an
unanchored regular expression on the decoded path, without the query string); API responses
carry none of them.
"""

from __future__ import annotations

import subprocess

import pytest

from conformance import apps

# Section 6, "Value in Webapp" (the CSP value without [S20]'s trailing space: DEVIATIONS.md H1).
HEADERS = {
    "X-Content-Security-Policy": "default-src 'self'; script-src 'self' 'unsafe-inline';",
    "X-Frame-Options": "DENY",
    "X-XSS-Protection": "1;",
    "X-Content-Type-Options": "nosniff",
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
}
WEB_ADMIN_PATHS = ("/", "/index.html", "/webadmin/login", "/v1", "/?next=/v1/health", "/v2/anything")
API_PATHS = ("/v1/health", "/v1/users/login", "/v1/settings/application", "/v1/nowhere", "/x/v1/", "/v1/%2E%2E/v1/x")


@pytest.fixture(scope="module")
def webapp(mariadb):
    (web,) = apps.start_webapps([apps.webapp_spec("headers", mariadb)])
    web.container.wait_for_log(apps.WEBAPP_READY, timeout=90)
    yield web
    web.container.remove()


def curl_headers(web, path):
    """Response headers as curl (a second real client) sees them: ``{lower-case name: [values]}``."""
    proc = subprocess.run(["curl", "-sk", "--path-as-is", "-o", "/dev/null", "-D", "-", "--max-time", "15",
                           f"https://{web.ip}{path}"], capture_output=True, text=True, timeout=30, check=False)
    assert proc.returncode == 0, f"curl {path}: {proc.returncode} {proc.stderr}"
    headers = {}
    for line in proc.stdout.splitlines()[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers.setdefault(name.strip().lower(), []).append(value.strip())
    return headers


@pytest.mark.parametrize("path", WEB_ADMIN_PATHS)
def test_web_admin_pages_carry_the_five_headers(webapp, path):
    """§6: a response to any URL outside ``/v1/`` (Web Admin) carries the five headers, each once,
    with the Webapp's values."""
    got = curl_headers(webapp, path)
    wrong = {name: got.get(name.lower()) for name, value in HEADERS.items() if got.get(name.lower()) != [value]}
    assert not wrong, f"GET {path}: {wrong}"


@pytest.mark.parametrize("path", API_PATHS)
def test_api_responses_carry_none(webapp, path):
    """§6: API responses (URL matching ``/v1/``) carry none of the five headers."""
    got = curl_headers(webapp, path)
    present = sorted(name for name in HEADERS if name.lower() in got)
    assert not present, f"GET {path}: {present}"


def test_headers_on_api_errors_and_methods(webapp):
    """§6 with ``http.client``: the rule depends on the URL only, not on the method or status: a
    POST to the API (401) has none, a POST outside ``/v1/`` has all five."""
    api = webapp.request("POST", "/v1/users/login")
    assert api.status == 401
    assert not [name for name in HEADERS if api.header(name) is not None]
    page = webapp.request("POST", "/webadmin/form", body=b"x=1", content_type="application/x-www-form-urlencoded")
    assert {name: page.header(name) for name in HEADERS} == HEADERS, page.headers
