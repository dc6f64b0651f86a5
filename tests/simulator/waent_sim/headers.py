# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The security headers of the Webapp's Web Admin pages, absent from its API (section 6).

Documented behaviour (reference section 6, from the lighttpd configuration written by the
Webapp's ``web_setup.sh`` [S20])::

    server.tag = "Server"
    $HTTP["url"] !~ "/v1/" {
        setenv.add-response-header = ( ...the five headers of WEB_ADMIN_HEADERS... )
    }

So every response carries ``Server: Server`` (no product or version), and a response carries the
five headers exactly when its URL path does not contain ``/v1/``. lighttpd matches that unanchored
regular expression against the URL path without the query string, after percent-decoding and
removing ``.``/``..`` segments and repeated slashes; ``headers_for`` does the same.
"""

from __future__ import annotations

import re
import urllib.parse

SERVER_TAG = "Server"
# Section 6, "Value in Webapp". [S20] ends the CSP value with a space, which is not part of a
# field value (RFC 9110 section 5.5): DEVIATIONS.md, "Web Admin headers".
WEB_ADMIN_HEADERS = (
    ("X-Content-Security-Policy", "default-src 'self'; script-src 'self' 'unsafe-inline';"),
    ("X-Frame-Options", "DENY"),
    ("X-XSS-Protection", "1;"),
    ("X-Content-Type-Options", "nosniff"),
    ("Strict-Transport-Security", "max-age=31536000; includeSubDomains"),
)
API_URL_PATTERN = re.compile("/v1/")


def url_path(target):
    """The path lighttpd's ``$HTTP["url"]`` sees for a request target: decoded and simplified."""
    path = urllib.parse.urlsplit(target).path if "://" in target else target.split("?", 1)[0]
    path = urllib.parse.unquote(path, errors="surrogateescape")
    segments = []
    for segment in path.split("/"):
        if segment == "..":
            if segments:
                segments.pop()
        elif segment not in ("", "."):
            segments.append(segment)
    trailing = path.endswith(("/", "/.", "/..")) and segments
    return "/" + "/".join(segments) + ("/" if trailing else "")


def headers_for(target):
    """The five Web Admin headers for a request target outside ``/v1/``, none for the API."""
    if API_URL_PATTERN.search(url_path(target)):
        return {}
    return dict(WEB_ADMIN_HEADERS)
