# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Jinja tests for validating addresses in inventories (ansible.utils is not a dependency)."""

from __future__ import annotations

import ipaddress
import re

# RFC 1123 host names: labels of letters, digits and inner hyphens, 1-63 chars, total <= 253.
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")


def cidr(value, strict=False):
    """True when value is an IPv4/IPv6 network in CIDR notation (host bits allowed unless strict)."""
    if not isinstance(value, str) or "/" not in value:
        return False
    try:
        ipaddress.ip_network(value, strict=strict)
    except ValueError:
        return False
    return True


def ip_address(value):
    """True when value is a literal IPv4 or IPv6 address."""
    if not isinstance(value, str):
        return False
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def hostname(value):
    """True when value is an RFC 1123 host name or a literal IP address."""
    if not isinstance(value, str) or not value or len(value) > 253:
        return False
    if ip_address(value):
        return True
    labels = value.rstrip(".").split(".")
    # A purely numeric final label would be a malformed IPv4 address, not a name.
    if labels[-1].isdigit():
        return False
    return all(_LABEL.match(label) for label in labels)


class TestModule:
    """Network address tests."""

    def tests(self):
        return {
            "cidr": cidr,
            "ip_address": ip_address,
            "hostname": hostname,
        }
