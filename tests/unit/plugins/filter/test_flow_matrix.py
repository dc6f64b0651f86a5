# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.waent.onprem.plugins.filter.flow_matrix import FilterModule
from ansible_collections.waent.onprem.plugins.module_utils._flows import (
    flow_allows,
    input_errors,
)

FILTERS = FilterModule().filters()
flow_matrix = FILTERS["flow_matrix"]

CLIENTS = "10.1.0.0/24"
ADMINS = "10.2.0.0/24"
MGMT = "10.9.0.0/24"

HOSTVARS = {
    "web1": {"wa_host_address": "10.5.0.10"},
    "web2": {"ansible_host": "10.5.0.11"},
    "core1": {"wa_host_address": "10.5.0.20"},
    "core2": {"wa_host_address": "10.5.0.21"},
    "master1": {"wa_host_address": "10.5.0.20", "wa_coreapp_external_ports": [6254, 6255, 6256, 6257]},
    "db1": {"wa_host_address": "10.6.0.30"},
}
SETTINGS = {
    "api_client_networks": [CLIENTS],
    "admin_networks": [ADMINS],
    "management_networks": [MGMT],
}


def single():
    return {"wa_webapp": ["web1"], "wa_coreapp": ["core1"], "wa_db": ["db1"], "all": ["web1", "core1", "db1"]}


def multi():
    return {
        "wa_webapp": ["web1", "web2"],
        "wa_coreapp": ["core1", "core2"],
        "wa_master": ["master1"],
        "wa_db": ["db1"],
    }


def by_name(flows):
    return {f["name"]: f for f in flows}


def allowed(flows, src, dst, port, proto="tcp"):
    return flow_allows(flows, src, dst, port, proto)


def test_single_connect_flows():
    flows = by_name(flow_matrix(single(), HOSTVARS, SETTINGS))
    assert set(flows) == {
        "webapp-https:web1", "coreapp-service:core1", "database:db1",
        "ssh:web1", "ssh:core1", "ssh:db1",
    }
    web = flows["webapp-https:web1"]
    assert web["sources"] == [CLIENTS, ADMINS]
    assert web["ports"] == [9090]
    assert web["destination_address"] == "10.5.0.10"
    assert web["guide"] == "Network Segregation"
    core = flows["coreapp-service:core1"]
    assert core["ports"] == [6250, 6251, 6252]
    assert core["sources"] == ["10.5.0.10/32"]
    assert core["source_hosts"] == ["web1"]
    assert flows["database:db1"]["sources"] == ["10.5.0.10/32", "10.5.0.20/32"]
    assert flows["ssh:core1"]["ports"] == [22]


def test_single_connect_matrix():
    flows = flow_matrix(single(), HOSTVARS, SETTINGS)
    assert allowed(flows, "10.1.0.7", "10.5.0.10", 9090)
    assert allowed(flows, "10.2.0.7", "web1", 9090)
    assert not allowed(flows, "10.3.0.7", "10.5.0.10", 9090)
    assert not allowed(flows, "10.1.0.7", "10.5.0.20", 6250)  # clients never reach the Coreapp
    assert allowed(flows, "10.5.0.10", "10.5.0.20", 6252)
    assert not allowed(flows, "10.5.0.10", "10.5.0.20", 6253)  # 6253 is intra-cluster only
    assert not allowed(flows, "10.5.0.10", "10.5.0.20", 9090)
    assert allowed(flows, "10.5.0.20", "10.6.0.30", 3306)
    assert not allowed(flows, "10.1.0.7", "10.6.0.30", 3306)
    assert allowed(flows, "10.9.0.200", "10.6.0.30", 22)
    assert not allowed(flows, "10.1.0.7", "10.6.0.30", 22)
    assert not allowed(flows, "10.5.0.10", "10.5.0.20", 6250, "udp")


def test_multiconnect_cluster_and_cohosted_master():
    flows = by_name(flow_matrix(multi(), HOSTVARS, dict(SETTINGS, multiconnect=True)))
    assert flows["master-service:master1"]["ports"] == [6254, 6255, 6256]
    assert flows["master-service:master1"]["destination_address"] == "10.5.0.20"
    assert flows["coreapp-service:core2"]["sources"] == ["10.5.0.10/32", "10.5.0.11/32"]
    # A co-hosted Master and Coreapp share an address: no cluster flow from the machine to itself.
    assert flows["coreapp-cluster:core1"]["sources"] == ["10.5.0.21/32"]
    assert flows["coreapp-cluster:core2"]["sources"] == ["10.5.0.20/32"]
    assert flows["coreapp-cluster:core2"]["ports"] == [6250, 6251, 6252, 6253]
    assert flows["master-cluster:master1"]["ports"] == [6254, 6255, 6256, 6257]
    values = list(flows.values())
    assert allowed(values, "10.5.0.21", "10.5.0.20", 6257)
    assert allowed(values, "10.5.0.11", "10.5.0.20", 6256)
    assert not allowed(values, "10.5.0.11", "10.5.0.20", 6257)  # Webapp never reaches the 4th port
    assert allowed(values, "10.5.0.21", "10.6.0.30", 3306)
    assert "database:db1" in flows and "10.5.0.11/32" in flows["database:db1"]["sources"]


def test_masters_ignored_without_multiconnect():
    flows = by_name(flow_matrix(multi(), HOSTVARS, SETTINGS))
    assert not any(name.startswith(("master", "coreapp-cluster")) for name in flows)
    assert "ssh:master1" not in flows or flows["ssh:master1"]["destination_address"] == "10.5.0.20"


def test_host_in_coreapp_and_master_groups_is_one_node():
    groups = {"wa_webapp": ["web1"], "wa_coreapp": ["core1", "core2"], "wa_master": ["core1"]}
    flows = by_name(flow_matrix(groups, HOSTVARS, {"multiconnect": True}))
    assert "coreapp-service:core1" in flows
    assert "master-service:core1" not in flows


def test_missing_groups_and_networks():
    assert flow_matrix({}, {}, {}) == []
    flows = by_name(flow_matrix({"wa_coreapp": ["core1"]}, HOSTVARS, {}))
    # No Webapp, no management networks: nothing may reach the Coreapp.
    assert flows == {}
    flows = by_name(flow_matrix({"wa_webapp": ["web1"]}, HOSTVARS, {"admin_networks": [ADMINS]}))
    assert list(flows) == ["webapp-https:web1"]
    assert flows["webapp-https:web1"]["source_zones"] == ["admins"]


def test_defaults_and_overrides():
    hostvars = {"web1": {"ansible_host": "10.5.0.10", "wa_webapp_port": 8443}, "core1": {"ansible_host": "10.5.0.20"}}
    groups = {"wa_webapp": ["web1"], "wa_coreapp": ["core1"]}
    flows = by_name(flow_matrix(groups, hostvars, {"api_client_networks": ["10.1.0.5"], "webapp_port": None}))
    assert flows["webapp-https:web1"]["ports"] == [8443]
    assert flows["webapp-https:web1"]["sources"] == ["10.1.0.5/32"]
    flows = by_name(flow_matrix(groups, hostvars, {"coreapp_external_ports": [7000, 7001, 7002, 7003]}))
    assert flows["coreapp-service:core1"]["ports"] == [7000, 7001, 7002]
    flows = by_name(flow_matrix(groups, hostvars, {"management_networks": [MGMT], "ssh_port": 2222}))
    assert flows["ssh:core1"]["ports"] == [2222]


def test_inventory_name_as_address():
    flows = flow_matrix({"wa_webapp": ["10.5.0.10"]}, {}, {"api_client_networks": [CLIENTS]})
    assert flows[0]["destination_address"] == "10.5.0.10"


def test_ipv6():
    hostvars = {"web1": {"wa_host_address": "fd00::10"}, "core1": {"wa_host_address": "fd00::20"}}
    flows = flow_matrix({"wa_webapp": ["web1"], "wa_coreapp": ["core1"]}, hostvars,
                        {"api_client_networks": ["fd01::/64", "10.1.0.0/24"]})
    assert allowed(flows, "fd01::5", "fd00::10", 9090)
    assert allowed(flows, "10.1.0.5", "fd00::10", 9090)
    assert allowed(flows, "fd00::10", "fd00::20", 6250)
    assert not allowed(flows, "fd02::5", "fd00::10", 9090)
    assert by_name(flows)["coreapp-service:core1"]["sources"] == ["fd00::10/128"]


def test_ntp_servers_are_egress():
    servers = [{"hostname": "10.7.0.1", "iburst": True}, "ntp.example.com", {"other": 1}]
    flows = flow_matrix(single(), HOSTVARS, dict(SETTINGS, ntp_servers=servers))
    ntp = [f for f in flows if f["direction"] == "egress"]
    assert [f["destination_address"] for f in ntp] == ["10.7.0.1", "ntp.example.com"]
    assert ntp[0]["protocol"] == "udp" and ntp[0]["ports"] == [123]
    assert ntp[0]["sources"] == ["10.5.0.10/32", "10.5.0.20/32", "10.6.0.30/32"]
    assert all(f["direction"] == "ingress" for f in flows if f not in ntp)


@pytest.mark.parametrize(
    ("settings", "hostvars", "needle"),
    [
        ({"api_client_networks": ["10.1.0.0/33"]}, {}, "wa_api_client_networks[0]"),
        ({"admin_networks": "10.2.0.0/24"}, {}, "wa_admin_networks: expected a list"),
        ({"management_networks": ["nope"]}, {}, "wa_management_networks[0]"),
        ({"webapp_port": 0}, {}, "wa_webapp_port"),
        ({"db_port": 70000}, {}, "wa_db_port"),
        ({"db_port": True}, {}, "wa_db_port"),
        ({"coreapp_external_ports": [1, 2, 3]}, {}, "wa_coreapp_external_ports"),
        ({}, {"core1": {"wa_host_address": "core1.example"}}, "wa_host_address of host core1"),
        ({}, {"core1": {"wa_host_address": "10.5.0.20", "wa_coreapp_external_ports": [6250, 6250, 6252, 6253]}},
         "must differ"),
        ({}, {"web1": {"wa_host_address": "10.5.0.10", "wa_webapp_port": "x"}}, "wa_webapp_port of host web1"),
        ({"bogus": 1}, {}, "unknown setting"),
    ],
)
def test_bad_inputs_name_the_variable(settings, hostvars, needle):
    groups = {"wa_webapp": ["web1"], "wa_coreapp": ["core1"]}
    hv = {"web1": {"wa_host_address": "10.5.0.10"}, "core1": {"wa_host_address": "10.5.0.20"}}
    for host, values in hostvars.items():
        hv[host] = values
    with pytest.raises(AnsibleFilterError, match=None) as info:
        flow_matrix(groups, hv, settings)
    assert needle in str(info.value)
    errors = FILTERS["flow_errors"](settings, groups, hv)
    assert errors and needle in errors[0]


def test_flow_errors_overlap_and_zones():
    groups = {"wa_webapp": ["web1"], "wa_coreapp": ["core1"], "wa_db": ["db1"]}
    assert FILTERS["flow_errors"](SETTINGS, groups, HOSTVARS) == []
    errors = FILTERS["flow_errors"]({"api_client_networks": ["10.5.0.0/16"]}, groups, HOSTVARS)
    assert len(errors) == 1
    assert "wa_api_client_networks: 10.5.0.0/16 contains the product hosts 10.5.0.10, 10.5.0.20" in errors[0]
    errors = input_errors({}, None, None, {"firewall_extra": ["10.0.0.0/8", "bad"]})
    assert errors == ["firewall_extra[1]: 'bad' is not a valid network (CIDR such as 10.0.0.0/24 or an address)"]
    # A single client address equal to a host is not a zone overlap.
    assert FILTERS["flow_errors"]({"admin_networks": ["10.5.0.10/32"]}, groups, HOSTVARS) == []


def test_flow_allows_filter_errors():
    with pytest.raises(AnsibleFilterError):
        FILTERS["flow_allows"]([], "not-an-ip", "x", 1)


def test_flows_are_deterministic():
    first = flow_matrix(multi(), HOSTVARS, dict(SETTINGS, multiconnect=True))
    second = flow_matrix(multi(), HOSTVARS, dict(SETTINGS, multiconnect="true"))
    assert first == second
