# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import pytest
from ansible_collections.waent.onprem.plugins.test import net
from ansible_collections.waent.onprem.plugins.test.net import cidr, hostname, ip_address


@pytest.mark.parametrize("value", ["10.0.0.0/8", "192.0.2.1/24", "2001:db8::/32", "0.0.0.0/0", "10.1.2.3/32"])
def test_cidr_accepts_networks(value):
    assert cidr(value)


@pytest.mark.parametrize("value", ["10.0.0.0", "10.0.0.0/33", "x/24", "", None, 24, "10.0.0.0/-1", "2001:db8::/129"])
def test_cidr_rejects_non_networks(value):
    assert not cidr(value)


def test_cidr_strict_refuses_host_bits():
    assert cidr("192.0.2.1/24")
    assert not cidr("192.0.2.1/24", strict=True)
    assert cidr("192.0.2.0/24", strict=True)


@pytest.mark.parametrize("value", ["192.0.2.1", "::1", "2001:db8::1"])
def test_ip_address(value):
    assert ip_address(value)
    assert hostname(value)


@pytest.mark.parametrize("value", ["ntp1.example.com", "localhost", "db-1", "a.b.c.", "x" * 63 + ".example"])
def test_hostname_accepts_names(value):
    assert hostname(value)


@pytest.mark.parametrize(
    "value",
    [
        "", "-bad.example", "bad-.example", "under_score.example", "a b",
        "x" * 64 + ".example", "10.0.0.300", "a..b", None, 5,
    ],
)
def test_hostname_rejects_non_names(value):
    assert not hostname(value)


def test_plugin_exposes_tests():
    assert set(net.TestModule().tests()) == {"cidr", "ip_address", "hostname"}
