# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import socket

import pytest
from ansible_collections.waent.onprem.plugins.modules import port_probe


@pytest.fixture
def run_module(module_runner):
    return lambda args: module_runner(port_probe.main, args)


@pytest.fixture
def ports():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    spare = socket.socket()
    spare.bind(("127.0.0.1", 0))
    closed = spare.getsockname()[1]
    spare.close()
    yield listener.getsockname()[1], closed
    listener.close()


def test_module_probes_hosts_by_ports_and_targets(run_module, ports):
    open_port, closed_port = ports
    result = run_module({
        "hosts": ["127.0.0.1"],
        "ports": [open_port],
        "targets": [f"127.0.0.1:{closed_port}", {"host": "127.0.0.1", "port": open_port}],
        "timeout": 1,
    })
    assert result["failed"] is False
    assert result["changed"] is False
    states = {(r["host"], r["port"]): r["state"] for r in result["results"]}
    assert states == {("127.0.0.1", closed_port): "closed", ("127.0.0.1", open_port): "open"}
    assert result["summary"] == {"open": 1, "closed": 1, "filtered": 0, "error": 0}


def test_module_check_mode_probes_too(run_module, ports):
    result = run_module({"targets": [f"127.0.0.1:{ports[0]}"], "_ansible_check_mode": True})
    assert result["results"][0]["state"] == "open"
    assert result["changed"] is False


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ({"timeout": 0}, "timeout"),
        ({"timeout": 301}, "timeout"),
        ({"concurrency": 0}, "concurrency"),
        ({"targets": ["nocolon"]}, "target"),
    ],
)
def test_module_rejects_bad_arguments(run_module, args, needle):
    result = run_module(args)
    assert result["failed"] is True
    assert needle in result["msg"]
