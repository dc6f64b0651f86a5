# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The deployment model, pinned whole for five topologies (model/*.json) and its errors."""
from __future__ import annotations

import hashlib
import json
import os

import pytest
from ansible_collections.waent.onprem.plugins.module_utils._model import (
    ModelError,
    build_model,
    model_errors,
)
from ansible_collections.waent.onprem.plugins.module_utils._model_containers import env_digest

HERE = os.path.dirname(os.path.abspath(__file__))

# The waent.onprem.wa role's defaults as the role passes them (the two templates are left out
# by the model: it derives wa_host_address and wa_db_hostname itself).
WA_DEFAULTS = {
    "wa_multiconnect": False,
    "wa_api_client_networks": [],
    "wa_admin_networks": [],
    "wa_management_networks": [],
    "wa_host_address": "{{ ansible_host | default(inventory_hostname) }}",
    "wa_webapp_port": 9090,
    "wa_coreapp_external_ports": [6250, 6251, 6252, 6253],
    "wa_webapp_server_names": [],
    "wa_db_engine": "MYSQL",
    "wa_db_port": 3306,
    "wa_db_hostname": "{{ groups['wa_db'][0] }}",
    "wa_db_username": "waent",
    "wa_data_root": "/srv/waent",
    "wa_replay_window": 10,
    "wa_image_registry": "docker.whatsapp.biz",
    # The role's default is empty (no release is assumed); this stands for the inventory's value.
    "wa_version": "v2.53.2",
    "wa_container_runtime": "docker", "wa_web_security_level": "MODERN",
}

NTP = [{"host": "ntp1.example.com", "iburst": True}, {"host": "10.30.0.123"}]


def inventory(groups, hosts, **common):
    """(groups, hostvars): every host gets the ``common`` (group_vars/all) values under its own."""
    hostvars = {host: dict(common, **values) for host, values in hosts.items()}
    groups = dict(groups, all=list(hosts))
    return groups, hostvars


def single():
    return inventory(
        {"wa_webapp": ["web1.example.com"], "wa_coreapp": ["core1.example.com"], "wa_db": ["db1.example.com"]},
        {
            "web1.example.com": {"wa_host_address": "10.40.1.10"},
            "core1.example.com": {"wa_host_address": "10.40.2.10"},
            "db1.example.com": {"wa_host_address": "10.40.3.10"},
        },
        wa_api_client_networks=["10.20.0.0/16"],
        wa_admin_networks=["10.30.5.0/24"],
        wa_management_networks=["10.30.0.0/24"],
        wa_webapp_server_names=["wa.example.com"],
        timesync_servers=NTP,
    )


def multi_cohosted():
    """Two machines each run a Coreapp and a co-hosted Master (second inventory host, 6254-6257)."""
    masters = {"wa_coreapp_external_ports": [6254, 6255, 6256, 6257]}
    return inventory(
        {"wa_webapp": ["web1"], "wa_coreapp": ["core1", "core2"], "wa_master": ["master1", "master2"],
         "wa_db": ["db1"]},
        {
            "web1": {"ansible_host": "10.5.0.10"},
            "core1": {"wa_host_address": "10.5.0.20"},
            "core2": {"wa_host_address": "10.5.0.21"},
            "master1": dict(masters, ansible_host="core1", wa_host_address="10.5.0.20"),
            "master2": dict(masters, ansible_host="core2", wa_host_address="10.5.0.21"),
            "db1": {"wa_host_address": "10.6.0.30", "ansible_host": "db1.db.example.com"},
        },
        wa_multiconnect=True,
        wa_api_client_networks=["10.1.0.0/24"],
        wa_admin_networks=["10.2.0.0/24"],
        wa_management_networks=["10.9.0.0/24"],
        wa_db_engine="PGSQL",
        wa_db_port=5432,
        wa_db_hostname="db.example.com",
        firewall_ssh_port=2222,
    )


def multi_own_master():
    """A Master on its own machine; the database is managed elsewhere (no wa_db group)."""
    return inventory(
        {"wa_webapp": ["web1"], "wa_coreapp": ["core1", "core2"], "wa_master": ["master1"]},
        {
            "web1": {"wa_host_address": "10.5.0.10", "wa_webapp_port": 443},
            "core1": {"wa_host_address": "10.5.0.20"},
            "core2": {"wa_host_address": "10.5.0.21"},
            "master1": {"wa_host_address": "10.5.0.40", "wa_data_root": "/data/waent/"},
        },
        wa_multiconnect="yes",
        wa_api_client_networks=["10.1.0.7"],
        wa_management_networks=["10.9.0.0/24"],
        wa_db_hostname="db.example.com",
        wa_replay_window=10.0,
    )


def two_webapps():
    """Single-connect with two Webapps; app2 runs a Webapp and the Coreapp on one host."""
    return inventory(
        {"wa_webapp": ["web1", "app2"], "wa_coreapp": ["app2"], "wa_db": ["db1"]},
        {
            "web1": {"wa_host_address": "10.40.1.10"},
            "app2": {"ansible_host": "10.40.1.11", "wa_webapp_port": 8443},
            "db1": {"wa_host_address": "10.40.3.10"},
        },
        wa_api_client_networks=["10.20.0.0/16"],
        wa_admin_networks=["10.30.5.0/24"],
        wa_webapp_server_names=["wa.example.com", "203.0.113.80"],
        wa_db_hostname="10.40.3.10",
    )


def ipv6():
    """IPv6 addresses (written in any form), an inventory name that is an address, mixed client networks."""
    return inventory(
        {"wa_webapp": ["web1"], "wa_coreapp": ["core1"], "wa_db": ["2001:db8:30::30"]},
        {
            "web1": {"wa_host_address": "2001:DB8:10::10"},
            "core1": {"ansible_host": "2001:db8:10:0::20"},
            "2001:db8:30::30": {},
        },
        wa_api_client_networks=["2001:db8:100::/48", "10.20.0.0/16"],
        wa_admin_networks=["2001:db8:200::1"],
        wa_management_networks=["2001:db8:900::/64"],
        timesync_servers=["2001:db8:900::123"],
    )


SCENARIOS = {
    "single": single,
    "multi_cohosted": multi_cohosted,
    "multi_own_master": multi_own_master,
    "two_webapps": two_webapps,
    "ipv6": ipv6,
}


def expected(name):
    with open(os.path.join(HERE, "model", f"{name}.json"), encoding="utf-8") as handle:
        return json.load(handle)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_model_is_pinned(name):
    groups, hostvars = SCENARIOS[name]()
    assert model_errors(groups, hostvars, WA_DEFAULTS) == []
    model = build_model(groups, hostvars, WA_DEFAULTS)
    assert json.loads(json.dumps(model)) == model  # plain JSON types only
    assert model == expected(name)


def test_single_connect_in_short():
    """What the roles read most, spelled out (the whole model is pinned above)."""
    model = build_model(*single(), WA_DEFAULTS)
    web, core = model["hosts"]["web1.example.com"], model["hosts"]["core1.example.com"]
    assert web["names"] == {"dns": ["web1.example.com", "wa.example.com"], "ip": ["10.40.1.10"]}
    waweb, wacore = web["containers"][0], core["containers"][0]
    assert (waweb["name"], waweb["image"], wacore["name"], wacore["image"]) == ("waweb", "web", "wacore", "coreapp")
    assert waweb["db_tls_files"]["key"] == {
        "path": "/srv/waent/waweb/certs/db-client.key", "owner": 0, "group": 33, "mode": "0640",
        "container_path": "/usr/local/waent/data/certs/db-client.key"}
    assert wacore["db_tls_files"]["key"]["group"] == 0 and wacore["db_tls_files"]["key"]["mode"] == "0600"
    assert [f["path"] for f in wacore["env_fragments"]] == ["/etc/waent/wacore/app.env", "/etc/waent/wacore/db.env"]
    assert [f["role"] for f in waweb["env_fragments"]] == ["waent.onprem.webapp", "waent.onprem.db_client"]
    assert waweb["published_ports"] == [{"host_port": 9090, "container_port": 443, "protocol": "tcp"}]
    assert waweb["topology_env"] == {"WA_APP_MULTICONNECT": "0", "WACORE_HOSTNAME": "10.40.2.10",
                                     "WACORE_BASEPORT": "6250"}
    assert wacore["topology_env"]["COREAPP_EXTERNAL_PORTS"] == "6250,6251,6252,6253"
    assert model["db"] == {"engine": "MYSQL", "port": 3306, "hostname": "10.40.3.10", "username": "waent",
                           "server_host": "db1.example.com"}


def test_cohosted_master_is_its_own_inventory_host():
    model = build_model(*multi_cohosted(), WA_DEFAULTS)
    master = model["hosts"]["master1"]
    assert master["machine"] == ["core1", "master1"]
    assert model["machines"]["10.5.0.20"] == {"hosts": ["core1", "master1"],
                                              "containers": ["core1/wacore", "master1/wamaster"]}
    wamaster = master["containers"][0]
    assert [(p["host_port"], p["container_port"]) for p in wamaster["published_ports"]] == [
        (6254, 6250), (6255, 6251), (6256, 6252), (6257, 6253)]
    assert wamaster["topology_env"] == {"WA_APP_MULTICONNECT": "1", "COREAPP_HOSTNAME": "10.5.0.20",
                                        "COREAPP_EXTERNAL_PORTS": "6254,6255,6256,6257", "WA_MASTER_NODE": "1"}
    # The database name the containers use is in the certificate names of the host it designates.
    assert "db.example.com" in model["hosts"]["db1"]["names"]["dns"]


def test_defaults_fill_in_and_templates_are_left_out():
    groups, hostvars = single()
    hostvars["web1.example.com"]["wa_webapp_port"] = 8443
    model = build_model(groups, hostvars, dict(WA_DEFAULTS, wa_data_root="/opt/wa"))
    web = model["hosts"]["web1.example.com"]["containers"][0]
    assert web["published_ports"][0]["host_port"] == 8443  # the host's own value wins
    assert web["data_dir"]["path"] == "/opt/wa/waweb"  # a default fills in
    # wa_db_hostname's default is a template: the model's rule (first wa_db host) applies.
    assert model["db"]["hostname"] == "10.40.3.10"


def test_wa_role_defaults_file_works_as_defaults():
    """The waent.onprem.wa role passes its defaults file as it is (templates included)."""
    yaml = pytest.importorskip("yaml")
    path = os.path.join(HERE, "..", "..", "..", "..", "roles", "wa", "defaults", "main.yml")
    with open(path, encoding="utf-8") as handle:
        defaults = yaml.safe_load(handle)
    groups, hostvars = single()
    # Everything has a default but the release: no version is assumed, and no image either (the
    # container roles' preflight asks for it; the database and network roles need none).
    assert model_errors(groups, hostvars, defaults) == []
    assert build_model(groups, hostvars, defaults)["images"] == {"web": None, "coreapp": None}
    for values in hostvars.values():
        values["wa_version"] = "v2.53.2"
    assert model_errors(groups, hostvars, defaults) == []


def test_wildcard_and_ip_server_names():
    groups, hostvars = single()
    for values in hostvars.values():
        values["wa_webapp_server_names"] = ["*.wa.example.com", "192.0.2.80"]
    names = build_model(groups, hostvars, WA_DEFAULTS)["hosts"]["web1.example.com"]["names"]
    assert names == {"dns": ["web1.example.com", "*.wa.example.com"], "ip": ["10.40.1.10", "192.0.2.80"]}


def test_db_hostname_designates_the_db_host_by_name_or_address():
    groups, hostvars = multi_cohosted()
    groups["wa_db"] = ["db1", "db2"]
    hostvars["db2"] = dict(hostvars["db1"], wa_host_address="10.6.0.31", ansible_host="db2.db.example.com")
    for values in hostvars.values():
        values["wa_db_hostname"] = "db2.db.example.com"
    model = build_model(groups, hostvars, WA_DEFAULTS)
    assert model["db"]["server_host"] == "db2"
    for values in hostvars.values():
        values["wa_db_hostname"] = "10.6.0.31"
    assert build_model(groups, hostvars, WA_DEFAULTS)["db"]["server_host"] == "db2"


def test_empty_inventory():
    model = build_model({}, {})
    assert (model["hosts"], model["flows"], model["machines"]) == ({}, [], {})


# ---------------------------------------------------------------------------------------------
# Errors


def _all(hostvars, **values):
    for host_values in hostvars.values():
        host_values.update(values)
    return hostvars


def test_every_problem_at_once():
    groups, hostvars = single()
    _all(hostvars, wa_admin_networks="10.30.5.0/24", wa_api_client_networks=["10.20.0.0/33", 5, "10.40.0.0/16"],
         wa_db_engine="mysql", wa_replay_window=0, wa_multiconnect="maybe")
    hostvars["web1.example.com"]["wa_host_address"] = "web1.example.com"
    hostvars["core1.example.com"]["wa_coreapp_external_ports"] = "6250,6251,6252,6253"
    hostvars["db1.example.com"]["wa_db_port"] = 5432
    errors = model_errors(groups, hostvars, WA_DEFAULTS)
    assert errors == [
        "wa_multiconnect on every product host is 'maybe', not a boolean: write wa_multiconnect: true (multiconnect "
        "with Masters) or false (single-connect)",
        "wa_api_client_networks[0] on every product host is '10.20.0.0/33', not a network: write a CIDR such as "
        "10.20.0.0/16 or 2001:db8::/64, or a single address",
        "wa_api_client_networks[1] on every product host is 5, not a network: write a CIDR such as 10.20.0.0/16 or "
        "2001:db8::/64, or a single address",
        "wa_admin_networks on every product host is the string '10.30.5.0/24', not a list: write a YAML list of "
        "networks, for example wa_admin_networks: [10.30.5.0/24]",
        "wa_db_engine on every product host is 'mysql': write MYSQL (MySQL or MariaDB) or PGSQL (PostgreSQL), in "
        "capitals",
        "wa_db_port differs between product hosts (3306 on hosts web1.example.com, core1.example.com; 5432 on host "
        "db1.example.com): it is one setting of the whole deployment; set it once, in group_vars/all",
        "wa_replay_window on every product host is 0: write a positive number of seconds (the vendor's WA_SECRET "
        "replay window is 10)",
        "wa_host_address on host web1.example.com is 'web1.example.com', not an IP address: set wa_host_address on "
        "host web1.example.com to the IP address its peers and the firewall use (for example wa_host_address: "
        "10.40.1.10); certificate names come from the inventory name, a DNS-name ansible_host and "
        "wa_webapp_server_names",
        "wa_coreapp_external_ports on host core1.example.com is the string '6250,6251,6252,6253', not a list: write "
        "the four host ports of container ports 6250-6253 as a YAML list, for example [6250, 6251, 6252, 6253] "
        "([6254, 6255, 6256, 6257] for a Master co-hosted with a Coreapp)",
        "wa_api_client_networks: 10.40.0.0/16 contains the product hosts core1.example.com (10.40.2.10), "
        "db1.example.com (10.40.3.10); client/admin zones must not overlap the app/DB hosts (list the client "
        "networks only)",
    ]
    with pytest.raises(ModelError) as info:
        build_model(groups, hostvars, WA_DEFAULTS)
    assert info.value.errors == errors
    assert str(info.value) == "\n".join(errors)


def test_missing_variables_name_the_role():
    groups, hostvars = single()
    errors = model_errors(groups, hostvars)
    assert errors[0] == (
        "wa_multiconnect is not defined for hosts web1.example.com, core1.example.com, db1.example.com: is the "
        "waent.onprem.wa role in this play? It gives the model its defaults (Ansible's hostvars do not hold role "
        "defaults); or set it in the inventory")
    assert [e.split(" ")[0] for e in errors] == [
        "wa_multiconnect", "wa_db_engine", "wa_db_port", "wa_db_username", "wa_replay_window", "wa_image_registry",
        "wa_version", "wa_web_security_level", "wa_container_runtime", "wa_webapp_port", "wa_data_root",
        "wa_coreapp_external_ports"]
    assert "for host web1.example.com:" in errors[9] and "for host core1.example.com:" in errors[11]


def _single_with(**changes):
    """single() where ``changes`` maps host (or "all") to the variables to set (None: delete)."""
    groups, hostvars = single()
    for host, values in changes.items():
        for target in (hostvars.values() if host == "all" else [hostvars[host]]):
            for name, value in values.items():
                if value is None:
                    target.pop(name, None)
                else:
                    target[name] = value
    return groups, hostvars


WEB, CORE, DB = "web1.example.com", "core1.example.com", "db1.example.com"
FIX_ADDRESS = ("set wa_host_address on host {h} to the IP address its peers and the firewall use (for example "
               "wa_host_address: 10.40.1.10); certificate names come from the inventory name, a DNS-name "
               "ansible_host and wa_webapp_server_names")


ONE_PROBLEM = [
    ({WEB: {"wa_host_address": None, "ansible_host": "web1.example.com"}},
     "host web1.example.com has no IP address: wa_host_address is not set and ansible_host is 'web1.example.com', "
     "not an IP address; " + FIX_ADDRESS.format(h=WEB)),
    ({CORE: {"wa_host_address": None}},
     "host core1.example.com has no IP address: wa_host_address and ansible_host are not set and the inventory "
     "name is not an address; " + FIX_ADDRESS.format(h=CORE)),
    ({WEB: {"wa_webapp_port": 0}},
     "wa_webapp_port on host web1.example.com is 0, not a TCP port: write a number from 1 to 65535, for example "
     "wa_webapp_port: 9090"),
    ({"all": {"wa_db_port": True}},
     "wa_db_port on every product host is True, not a TCP port: write a number from 1 to 65535, for example "
     "wa_db_port: 3306"),
    ({CORE: {"firewall_ssh_port": 70000}},
     "firewall_ssh_port on host core1.example.com is 70000, not a TCP port: write a number from 1 to 65535, for "
     "example firewall_ssh_port: 22"),
    ({CORE: {"wa_coreapp_external_ports": [6250, 6251, 6252]}},
     "wa_coreapp_external_ports on host core1.example.com is [6250, 6251, 6252]: it must list exactly four host "
     "ports, for container ports 6250-6253, for example [6250, 6251, 6252, 6253] ([6254, 6255, 6256, 6257] for a "
     "Master co-hosted with a Coreapp)"),
    ({CORE: {"wa_coreapp_external_ports": [6250, 6251, 6252, 6250]}},
     "wa_coreapp_external_ports on host core1.example.com is [6250, 6251, 6252, 6250]: the four ports must differ, "
     "for example [6250, 6251, 6252, 6253] ([6254, 6255, 6256, 6257] for a Master co-hosted with a Coreapp)"),
    ({CORE: {"wa_coreapp_external_ports": [6250, 6251, "6252", "x"]}},
     "wa_coreapp_external_ports[3] on host core1.example.com is 'x', not a TCP port: write a number from 1 to "
     "65535"),
    ({CORE: {"wa_coreapp_external_ports": [7000, 7002, 7004, 7006]}},
     "wa_coreapp_external_ports on host core1.example.com is [7000, 7002, 7004, 7006]: in single-connect the "
     "Webapp reaches the Coreapp at WACORE_BASEPORT and the next two ports, so the first three must be "
     "consecutive, for example [7000, 7001, 7002, 7003]"),
    ({WEB: {"wa_webapp_port": 22}},
     "port 22 is used twice on the machine 10.40.1.10: by SSH (firewall_ssh_port) and waweb of host "
     "web1.example.com (wa_webapp_port); change one of them so that each port has one user"),
    ({DB: {"wa_host_address": "10.40.1.10"}, "all": {"wa_db_port": 9090}},
     "port 9090 is used twice on the machine 10.40.1.10: by waweb of host web1.example.com (wa_webapp_port) and "
     "the database of host db1.example.com (wa_db_port); change one of them so that each port has one user"),
    ({"all": {"wa_management_networks": ["10.30.0.0/24", "mgmt"]}},
     "wa_management_networks[1] on every product host is 'mgmt', not a network: write a CIDR such as 10.20.0.0/16 "
     "or 2001:db8::/64, or a single address"),
    ({"all": {"wa_admin_networks": {"net": "10.30.5.0/24"}}},
     "wa_admin_networks on every product host is {'net': '10.30.5.0/24'}, not a list: write a YAML list of "
     "networks in CIDR notation, for example wa_admin_networks: [10.20.0.0/16]"),
    ({"all": {"wa_admin_networks": ["10.40.0.0/22"]}},
     "wa_admin_networks: 10.40.0.0/22 contains the product hosts web1.example.com (10.40.1.10), core1.example.com "
     "(10.40.2.10), db1.example.com (10.40.3.10); client/admin zones must not overlap the app/DB hosts (list the "
     "client networks only)"),
    ({"all": {"wa_db_engine": "ORACLE"}},
     "wa_db_engine on every product host is 'ORACLE': write MYSQL (MySQL or MariaDB) or PGSQL (PostgreSQL), in "
     "capitals"),
    ({"all": {"wa_db_hostname": "db host"}},
     "wa_db_hostname on every product host is 'db host', not a host name or an IP address: write the name or "
     "address the containers connect to, for example wa_db_hostname: db1.example.com"),
    ({"all": {"wa_db_username": " "}},
     "wa_db_username on every product host is ' ': write the product's database account, for example "
     "wa_db_username: waent"),
    ({"all": {"wa_replay_window": "10"}},
     "wa_replay_window on every product host is '10': write a positive number of seconds (the vendor's WA_SECRET "
     "replay window is 10)"),
    ({CORE: {"wa_data_root": "srv/waent"}},
     "wa_data_root on host core1.example.com is 'srv/waent', not an absolute path: write a directory such as "
     "/srv/waent"),
    ({WEB: {"wa_webapp_server_names": "wa.example.com"}},
     "wa_webapp_server_names on host web1.example.com is 'wa.example.com', not a list: write a YAML list of DNS "
     "names, for example wa_webapp_server_names: [wa.example.com]"),
    ({WEB: {"wa_webapp_server_names": ["wa.example.com", "https://wa.example.com"]}},
     "wa_webapp_server_names[1] on host web1.example.com is 'https://wa.example.com', not a DNS name: write the "
     "name clients use, for example wa.example.com"),
    ({DB: {"timesync_servers": [{"host": "ntp1.example.com"}, {"iburst": True}]}},
     "timesync_servers[1] on host db1.example.com is {'iburst': True}: write a source as {host: NAME-OR-ADDRESS}, "
     "for example {host: ntp1.example.com}"),
    ({"all": {"wa_multiconnect": True}},
     "wa_multiconnect is true but the group wa_master is empty: multiconnect needs at least one Master; add hosts "
     "to wa_master, or set wa_multiconnect: false"),
    ({WEB: {"wa_multiconnect": True}},
     "wa_multiconnect differs between product hosts (True on host web1.example.com; False on hosts "
     "core1.example.com, db1.example.com): it is one setting of the whole deployment; set it once, in "
     "group_vars/all"),
]


@pytest.mark.parametrize(("changes", "message"), ONE_PROBLEM)
def test_one_problem_one_message(changes, message):
    errors = model_errors(*_single_with(**changes), WA_DEFAULTS)
    assert errors[0] == message
    if "differs between" in message:
        # The model goes on with the first host's value: here multiconnect without Masters.
        assert errors[1:] == ["wa_multiconnect is true but the group wa_master is empty: multiconnect needs at "
                              "least one Master; add hosts to wa_master, or set wa_multiconnect: false"]
    else:
        assert errors == [message]


TOPOLOGY = [
    ({"wa_coreapp": ["core1"], "wa_db": ["db1"]},
     {"core1": {"wa_host_address": "10.0.0.3"}, "db1": {"wa_host_address": "10.0.0.4"}},
     ["group wa_webapp is empty but wa_coreapp has host core1: a Coreapp is only reached through a Webapp; add at "
      "least one host to the group wa_webapp"]),
    ({"wa_webapp": ["web1"], "wa_coreapp": ["core1"], "wa_master": ["master1"], "wa_db": ["db1"]},
     {"web1": {"wa_host_address": "10.0.0.2"}, "core1": {"wa_host_address": "10.0.0.3"},
      "master1": {"wa_host_address": "10.0.0.5"}, "db1": {"wa_host_address": "10.0.0.4"}},
     ["group wa_master has host master1 but wa_multiconnect is false: Masters exist only in multiconnect; set "
      "wa_multiconnect: true, or empty the group wa_master"]),
    ({"wa_webapp": ["web1"], "wa_master": ["master1"], "wa_db": ["db1"]},
     {"web1": {"wa_host_address": "10.0.0.2", "wa_multiconnect": True},
      "master1": {"wa_host_address": "10.0.0.5", "wa_multiconnect": True},
      "db1": {"wa_host_address": "10.0.0.4", "wa_multiconnect": True}},
     ["wa_multiconnect is true and wa_master has host master1 but the group wa_coreapp is empty: Masters promote "
      "Coreapps; add at least one host to wa_coreapp"]),
    ({"wa_webapp": ["web1"], "wa_coreapp": ["core1", "core2"], "wa_db": ["db1"]},
     {"web1": {"wa_host_address": "10.0.0.2"}, "core1": {"wa_host_address": "10.0.0.3"},
      "core2": {"wa_host_address": "10.0.0.6"}, "db1": {"wa_host_address": "10.0.0.4"}},
     ["group wa_coreapp has hosts core1, core2 with wa_multiconnect false: single-connect runs exactly one Coreapp "
      "(two active Coreapps for one number can get it banned); keep one host in wa_coreapp, or set "
      "wa_multiconnect: true and add Masters"]),
    ({"wa_webapp": ["web1"], "wa_coreapp": ["core1", "core2"], "wa_master": ["core1"], "wa_db": ["db1"]},
     {"web1": {"wa_host_address": "10.0.0.2", "wa_multiconnect": True},
      "core1": {"wa_host_address": "10.0.0.3", "wa_multiconnect": True},
      "core2": {"wa_host_address": "10.0.0.6", "wa_multiconnect": True},
      "db1": {"wa_host_address": "10.0.0.4", "wa_multiconnect": True}},
     ["host core1 is in both wa_coreapp and wa_master: a Master co-hosted with a Coreapp is a second inventory "
      "host with the same wa_host_address and its own wa_coreapp_external_ports (for example [6254, 6255, 6256, "
      "6257])"]),
    ({"wa_webapp": ["web1"], "wa_coreapp": ["core1", "core2"], "wa_master": ["master1"], "wa_db": ["db1"]},
     {"web1": {"wa_host_address": "10.0.0.2", "wa_multiconnect": True},
      "core1": {"wa_host_address": "10.0.0.3", "wa_multiconnect": True},
      "core2": {"wa_host_address": "10.0.0.6", "wa_multiconnect": True},
      "master1": {"wa_host_address": "10.0.0.3", "wa_multiconnect": True},
      "db1": {"wa_host_address": "10.0.0.4", "wa_multiconnect": True}},
     ["ports 6250, 6251, 6252, 6253 are used twice on the machine 10.0.0.3: by wacore of host core1 "
      "(wa_coreapp_external_ports) and wamaster of host master1 (wa_coreapp_external_ports); give the co-hosted "
      "Master its own ports, for example wa_coreapp_external_ports: [6254, 6255, 6256, 6257] on host master1"]),
    ({"wa_webapp": ["web1", "web2"], "wa_db": ["db1"]},
     {"web1": {"wa_host_address": "10.0.0.2"}, "web2": {"wa_host_address": "10.0.0.2", "wa_webapp_port": 9443},
      "db1": {"wa_host_address": "10.0.0.4"}},
     ["hosts web1, web2 share the address 10.0.0.2 and each runs waweb: a machine runs at most one waweb (they "
      "would share its name and /etc/waent/waweb); give each machine its own wa_host_address"]),
    ({"wa_webapp": ["web1"], "wa_coreapp": ["core1"]},
     {"web1": {"wa_host_address": "10.0.0.2"}, "core1": {"wa_host_address": "10.0.0.3"}},
     ["wa_db_hostname is not set and the group wa_db is empty: the containers need the database host; set "
      "wa_db_hostname to its name or address (for example wa_db_hostname: db1.example.com), or put the database "
      "host in the group wa_db"]),
]


@pytest.mark.parametrize(("groups", "hostvars", "messages"), TOPOLOGY)
def test_topology_problems(groups, hostvars, messages):
    assert model_errors(groups, hostvars, WA_DEFAULTS) == messages


class _Exploding(dict):
    """A host's variables whose templates fail, as Ansible's HostVars raise on access."""

    def __getitem__(self, key):
        if key == "wa_db_port":
            raise RuntimeError("'db_port_of_site' is undefined")
        return super().__getitem__(key)


def test_a_variable_that_cannot_be_templated_is_reported():
    groups, hostvars = single()
    hostvars[DB] = _Exploding(hostvars[DB], wa_db_port="{{ db_port_of_site }}")
    assert model_errors(groups, hostvars, WA_DEFAULTS) == [
        "wa_db_port on host db1.example.com cannot be evaluated ('db_port_of_site' is undefined): fix its template "
        "in the inventory"]


def test_every_message_names_a_variable_and_a_host_or_group():
    """Each message of the error tables names what to change and where."""
    variables = ("wa_", "firewall_ssh_port", "timesync_servers")
    messages = [e for changes, _m in ONE_PROBLEM for e in model_errors(*_single_with(**changes), WA_DEFAULTS)]
    messages += [e for _g, _h, expected_messages in TOPOLOGY for e in expected_messages]
    hosts = (WEB, CORE, DB, "every product host", "product hosts", "group wa_", "host core1", "host master1",
             "hosts web1")
    for message in messages:
        assert any(v in message for v in variables), message
        assert any(h in message for h in hosts), message


# ---------------------------------------------------------------------------------------------
# Env fragments


def test_env_digest_is_sha256sum_of_sha256sum():
    contents = {"app.env": b"WA_SECRET=x\n", "db.env": b"WA_DB_ENGINE=MYSQL\n"}
    digests = {name: hashlib.sha256(data).hexdigest() for name, data in contents.items()}
    listing = "".join(f"{digests[name]}  {name}\n" for name in ("app.env", "db.env"))
    assert env_digest(digests) == hashlib.sha256(listing.encode()).hexdigest()
    assert env_digest({k: v.upper() for k, v in digests.items()}) == env_digest(digests)
    changed = dict(digests, **{"db.env": hashlib.sha256(b"WA_DB_ENGINE=PGSQL\n").hexdigest()})
    assert env_digest(changed) != env_digest(digests)


def test_env_digest_needs_every_fragment():
    with pytest.raises(ValueError, match="env fragment db.env: expected its SHA-256 hex digest, got None"):
        env_digest({"app.env": "0" * 64})
    with pytest.raises(ValueError, match="env fragment app.env"):
        env_digest({"app.env": "xyz", "db.env": "0" * 64})


@pytest.mark.parametrize(
    "variables, expected",
    [
        ({"wa_image_registry": "https://registry.example.com/wa"},
         ["wa_image_registry", "a URL", "'registry.example.com/wa'"]),
        ({"wa_image_registry": "registry.example.com/WhatsApp "}, ["wa_image_registry", "not a registry host"]),
        ({"wa_image_registry": ""}, ["wa_image_registry", "without a scheme"]),
        ({"wa_version": "v2.53.2 "}, ["wa_version", "not an image tag"]),
        ({"wa_container_runtime": "Docker"}, ["wa_container_runtime", "docker", "podman"]),
        ({"wa_web_security_level": "MODERN "}, ["wa_web_security_level", "without the spaces"]),
        ({"wa_web_security_level": "HIGH"}, ["wa_web_security_level", "INTERMEDIATE or OLD"]),
        ({"wa_api_user": "admin"}, ["wa_api_user", "administrator", "leave it empty"]),
        ({"wa_api_user": 42}, ["wa_api_user", "not a user name"]),
    ],
    ids=["registry-url", "registry-bad", "registry-empty", "version-space", "runtime-case",
         "level-space", "level-unknown", "api-user-admin", "api-user-number"],
)
def test_image_and_runtime_errors(variables, expected):
    groups, hostvars = single()
    for values in hostvars.values():
        values.update(variables)
    errors = model_errors(groups, hostvars, WA_DEFAULTS)
    # Deployment-wide settings give one message; the runtime is per app host (two here).
    assert len(errors) == (2 if "wa_container_runtime" in variables else 1), errors
    assert all(text in error for error in errors for text in expected), errors


def test_api_user_is_in_the_model_only_when_set():
    groups, hostvars = single()
    assert build_model(groups, hostvars, WA_DEFAULTS)["api_user"] is None
    for values in hostvars.values():
        values["wa_api_user"] = "crm-client"
    assert build_model(groups, hostvars, WA_DEFAULTS)["api_user"] == "crm-client"


def test_images_follow_registry_and_version():
    groups, hostvars = single()
    for values in hostvars.values():
        values.update(wa_image_registry="mirror.example.com:5000/wa/", wa_version="v2.57.2")
    model = build_model(groups, hostvars, WA_DEFAULTS)
    assert model["images"] == {"web": "mirror.example.com:5000/wa/web:v2.57.2",
                               "coreapp": "mirror.example.com:5000/wa/coreapp:v2.57.2"}
    refs = [c["image_ref"] for h in model["hosts"].values() for c in h["containers"]]
    assert refs == ["mirror.example.com:5000/wa/web:v2.57.2", "mirror.example.com:5000/wa/coreapp:v2.57.2"]


def test_one_machine_one_engine():
    groups, hostvars = multi_cohosted()
    hostvars["master1"]["wa_container_runtime"] = "podman"
    errors = model_errors(groups, hostvars, WA_DEFAULTS)
    assert len(errors) == 1 and "wa_container_runtime differs on the machine 10.5.0.20" in errors[0], errors
