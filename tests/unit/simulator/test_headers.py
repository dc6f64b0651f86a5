# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Web Admin security headers (reference section 6): on every page outside /v1/, never on the API."""

from __future__ import annotations

import pytest
from waent_sim import headers

# Reference section 6, column "Value in Webapp".
EXPECTED = {
    "X-Content-Security-Policy": "default-src 'self'; script-src 'self' 'unsafe-inline';",
    "X-Frame-Options": "DENY",
    "X-XSS-Protection": "1;",
    "X-Content-Type-Options": "nosniff",
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
}


@pytest.mark.parametrize(
    "target",
    [
        "/",
        "/index.html",
        "/static/js/main.7b5ad957.js",
        "/v1",  # lighttpd's pattern is "/v1/": the bare prefix is not matched
        "/v2/health",
        "/admin/v1.html",
        "/?next=/v1/health",  # the query string is not part of the URL path
        "/static/%2e%2e/index.html",
        "https://wa.example.net/index.html",
    ],
)
def test_web_admin_pages_carry_the_five_headers(target):
    assert headers.headers_for(target) == EXPECTED


@pytest.mark.parametrize(
    "target",
    [
        "/v1/",
        "/v1/health",
        "/v1/users/login",
        "/v1/certificates/external/ca?download=1",
        "/static/v1/app.js",  # unanchored, as lighttpd's regular expression
        "/x/../v1/health",  # after removing dot segments
        "//v1//health",  # after merging slashes
        "/%76%31/health",  # after percent-decoding
        "/v1/.",
        "https://wa.example.net/v1/health",
    ],
)
def test_api_responses_carry_none(target):
    assert headers.headers_for(target) == {}


def test_header_data():
    assert dict(headers.WEB_ADMIN_HEADERS) == EXPECTED
    assert len(headers.WEB_ADMIN_HEADERS) == 5
    # server.tag = "Server": a Server header without product or version.
    assert headers.SERVER_TAG == "Server"


def test_result_is_a_copy():
    first = headers.headers_for("/")
    first["X-Frame-Options"] = "SAMEORIGIN"
    assert headers.headers_for("/")["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize(
    ("target", "path"),
    [
        ("/", "/"),
        ("", "/"),
        ("/a/./b/../c/", "/a/c/"),
        ("/a/..", "/"),
        ("/../../etc", "/etc"),
        ("/v1?x=/v1/", "/v1"),
        ("/%2Fv1%2F", "/v1/"),
    ],
)
def test_url_path(target, path):
    assert headers.url_path(target) == path
