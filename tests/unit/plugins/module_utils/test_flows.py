# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The flows of the deployment model, read through flow_allows as the firewall and probes do."""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.waent.onprem.plugins.filter.flow_allows import FilterModule
from ansible_collections.waent.onprem.plugins.module_utils._model import build_model

allowed = FilterModule().filters()["flow_allows"]

CLIENTS, ADMINS, MGMT = "10.1.0.0/24", "10.2.0.0/24", "10.9.0.0/24"
COMMON = {
    "wa_multiconnect": False, "wa_api_client_networks": [CLIENTS], "wa_admin_networks": [ADMINS],
    "wa_management_networks": [MGMT], "wa_webapp_port": 9090,
    "wa_coreapp_external_ports": [6250, 6251, 6252, 6253], "wa_webapp_server_names": [],
    "wa_db_engine": "MYSQL", "wa_db_port": 3306, "wa_db_username": "waent", "wa_data_root": "/srv/waent",
    "wa_replay_window": 10, "wa_db_hostname": "db.example.com",
    "wa_image_registry": "docker.whatsapp.biz", "wa_version": "v2.53.2",
    "wa_container_runtime": "docker", "wa_web_security_level": "MODERN",
}


def flows(groups, hosts, **common):
    hostvars = {h: dict(COMMON, **common, **v) for h, v in hosts.items()}
    return build_model(groups, hostvars)["flows"]


def by_name(items):
    return {f["name"]: f for f in items}


SINGLE = ({"wa_webapp": ["web1"], "wa_coreapp": ["core1"], "wa_db": ["db1"]},
          {"web1": {"wa_host_address": "10.5.0.10"}, "core1": {"wa_host_address": "10.5.0.20"},
           "db1": {"wa_host_address": "10.6.0.30"}})


def test_single_connect():
    result = flows(*SINGLE)
    # Clients and admins reach the Webapp port only; the Webapp the Coreapp's first three ports.
    assert allowed(result, "10.1.0.7", "web1", 9090) and allowed(result, "10.2.0.7", "10.5.0.10", 9090)
    assert not allowed(result, "10.1.0.7", "core1", 6250)
    assert [allowed(result, "10.5.0.10", "core1", p) for p in (6250, 6251, 6252, 6253)] == [True, True, True, False]
    # No cluster flows in single-connect; the app hosts reach the database, clients do not.
    assert not allowed(result, "10.5.0.20", "core1", 6253)
    assert allowed(result, "10.5.0.20", "db1", 3306) and allowed(result, "10.5.0.10", "db1", 3306)
    assert not allowed(result, "10.1.0.7", "db1", 3306)
    # SSH from the management network only; UDP is another protocol.
    assert allowed(result, "10.9.0.1", "db1", 22) and not allowed(result, "10.1.0.7", "db1", 22)
    assert not allowed(result, "10.9.0.1", "db1", 22, "udp")


def test_multiconnect_cluster_and_cohosted_master():
    master = {"wa_host_address": "10.5.0.20", "wa_coreapp_external_ports": [6254, 6255, 6256, 6257]}
    result = flows({"wa_webapp": ["web1"], "wa_coreapp": ["core1", "core2"], "wa_master": ["master1"]},
                   {"web1": {"wa_host_address": "10.5.0.10"}, "core1": {"wa_host_address": "10.5.0.20"},
                    "core2": {"wa_host_address": "10.5.0.21"}, "master1": master},
                   wa_multiconnect=True)
    assert allowed(result, "10.5.0.10", "master1", 6254) and not allowed(result, "10.5.0.10", "master1", 6257)
    assert allowed(result, "10.5.0.21", "master1", 6257) and allowed(result, "10.5.0.20", "core2", 6253)
    # A machine gets no cluster flow to itself (core1 and master1 share 10.5.0.20).
    assert not any(f["destination_address"] == "10.5.0.20" and "10.5.0.20/32" in f["sources"]
                   for f in result if f["name"].startswith("cluster"))


def test_ipv6():
    result = flows({"wa_webapp": ["web1"], "wa_coreapp": ["core1"]},
                   {"web1": {"wa_host_address": "fd00::10"}, "core1": {"wa_host_address": "FD00::20"}},
                   wa_api_client_networks=["fd01::/64", "10.1.0.0/24"])
    assert allowed(result, "fd01::5", "fd00::10", 9090) and allowed(result, "10.1.0.5", "web1", 9090)
    assert allowed(result, "fd00::10", "fd00::20", 6250)
    assert not allowed(result, "fd02::5", "fd00::10", 9090)
    assert by_name(result)["coreapp-service:core1"]["sources"] == ["fd00::10/128"]


def test_ntp_servers_are_egress():
    result = flows(*SINGLE, timesync_servers=[{"host": "10.7.0.1", "iburst": True}, {"host": "ntp.example.com"}])
    ntp = [f for f in result if f["direction"] == "egress"]
    assert sorted({f["destination_address"] for f in ntp}) == ["10.7.0.1", "ntp.example.com"]
    assert all(f["protocol"] == "udp" and f["ports"] == [123] for f in ntp)
    assert all(f["direction"] == "ingress" for f in result if f not in ntp)


def test_ssh_port_per_host():
    groups, hosts = SINGLE
    hosts = dict(hosts, core1={"wa_host_address": "10.5.0.20", "firewall_ssh_port": 2222})
    result = flows(groups, hosts)
    assert allowed(result, "10.9.0.1", "core1", 2222) and not allowed(result, "10.9.0.1", "core1", 22)
    assert allowed(result, "10.9.0.1", "web1", 22)


def test_bad_source_is_a_filter_error():
    with pytest.raises(AnsibleFilterError, match="flow_allows"):
        allowed(flows(*SINGLE), "not-an-address", "web1", 9090)


def test_flows_are_deterministic():
    assert flows(*SINGLE) == flows(*SINGLE)
