# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import contextlib
import socket

import pytest
from ansible_collections.waent.onprem.plugins.module_utils import _port_probe as pp


@pytest.fixture
def listener():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    yield sock.getsockname()[1]
    sock.close()


@pytest.fixture
def closed_port():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # bound then released: nothing listens, the kernel answers RST
    return port


@pytest.fixture
def full_backlog():
    """A listener that never accepts and whose accept queue is full: Linux drops further SYNs,
    so a new connection gets no answer at all, the same as behind a firewall drop rule."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = server.getsockname()[1]
    clients = []
    for _index in range(8):
        client = socket.socket()
        client.setblocking(False)
        client.connect_ex(("127.0.0.1", port))
        clients.append(client)
    yield port
    for client in clients:
        client.close()
    server.close()


def test_open_closed_filtered(listener, closed_port, full_backlog):
    pairs = [("127.0.0.1", listener), ("127.0.0.1", closed_port), ("127.0.0.1", full_backlog)]
    results = pp.probe(pairs, timeout=0.5)
    assert [r["state"] for r in results] == ["open", "closed", "filtered"]
    assert results[0]["error"] == ""
    assert results[1]["error"] == "ECONNREFUSED"
    assert results[2]["error"] == "timeout"
    assert results[2]["elapsed_ms"] >= 500
    assert pp.summarize(results) == {"open": 1, "closed": 1, "filtered": 1, "error": 0}


def test_many_pairs_with_small_concurrency_keep_order(listener, closed_port):
    pairs = [("127.0.0.1", listener if i % 2 == 0 else closed_port) for i in range(40)]
    # parse_targets dedups, probe itself does not: 40 results in input order.
    results = pp.probe(pairs, timeout=1.0, concurrency=3)
    assert len(results) == 40
    assert [r["state"] for r in results] == ["open" if i % 2 == 0 else "closed" for i in range(40)]


def test_unresolvable_name_is_error():
    results = pp.probe([("name.invalid", 80)], timeout=0.2)
    assert results[0]["state"] == "error"
    assert "cannot resolve" in results[0]["error"]
    assert results[0]["address"] is None


def test_ipv6_loopback(closed_port):
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    with contextlib.closing(socket.socket(socket.AF_INET6)) as sock:
        try:
            sock.bind(("::1", 0))
        except OSError:
            pytest.skip("no ::1")
        sock.listen(4)
        port = sock.getsockname()[1]
        results = pp.probe(pp.parse_targets([f"[::1]:{port}"]), timeout=0.5)
    assert results[0]["state"] == "open"
    assert results[0]["address"] == "::1"


def test_parse_targets_forms_and_dedup():
    pairs = pp.parse_targets(
        ["10.0.0.1:80", {"host": "10.0.0.2", "port": "443"}, "[fd00::1]:22", "10.0.0.1:80"],
        hosts=["a", "b"],
        ports=[1, 2],
    )
    assert pairs == [
        ("10.0.0.1", 80), ("10.0.0.2", 443), ("fd00::1", 22),
        ("a", 1), ("a", 2), ("b", 1), ("b", 2),
    ]


@pytest.mark.parametrize("target", ["10.0.0.1", "10.0.0.1:x", "10.0.0.1:0", {"host": "h", "port": 70000}])
def test_parse_targets_rejects_bad_ports(target):
    with pytest.raises(ValueError, match="target"):
        pp.parse_targets([target])


def test_state_mapping():
    import errno

    assert pp._state_for(0) == "open"
    assert pp._state_for(errno.ECONNREFUSED) == "closed"
    assert pp._state_for(errno.EHOSTUNREACH) == "filtered"
    assert pp._state_for(errno.EPERM) == "filtered"
    assert pp._state_for(errno.EINVAL) == "error"
