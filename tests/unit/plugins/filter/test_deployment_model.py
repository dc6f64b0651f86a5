# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The deployment_model, model_errors and env_digest filters, on Ansible's own HostVars."""
from __future__ import annotations

import hashlib
import json
import textwrap

import pytest
from ansible.errors import AnsibleFilterError
from ansible.inventory.manager import InventoryManager
from ansible.parsing.dataloader import DataLoader
from ansible.vars.hostvars import HostVars, HostVarsVars
from ansible.vars.manager import VariableManager
from ansible_collections.waent.onprem.plugins.filter.deployment_model import FilterModule

FILTERS = FilterModule().filters()

DEFAULTS = {
    "wa_multiconnect": False, "wa_api_client_networks": [], "wa_admin_networks": [], "wa_management_networks": [],
    "wa_host_address": "{{ ansible_host | default(inventory_hostname) }}", "wa_webapp_port": 9090,
    "wa_coreapp_external_ports": [6250, 6251, 6252, 6253], "wa_webapp_server_names": [], "wa_db_engine": "MYSQL",
    "wa_db_port": 3306, "wa_db_username": "waent", "wa_data_root": "/srv/waent", "wa_replay_window": 10,
    "wa_image_registry": "registry.example.com/whatsapp", "wa_version": "v2.53.2",
    "wa_container_runtime": "podman", "wa_web_security_level": "MODERN",
}

INVENTORY = """
all:
  vars:
    wa_api_client_networks: [10.20.0.0/16]
    wa_management_networks: ["{{ mgmt_net }}"]
    mgmt_net: 10.30.0.0/24
    wa_db_port: "{{ 3000 + 306 }}"
  children:
    wa_webapp:
      hosts:
        web1: {wa_host_address: 10.40.1.10, wa_webapp_server_names: [wa.example.com]}
    wa_coreapp:
      hosts:
        core1: {ansible_host: 10.40.2.10}
    wa_db:
      hosts:
        db1: {ansible_host: db1.example.com, wa_host_address: 10.40.3.10}
    others:
      hosts:
        client1: {ansible_host: 10.20.0.5}
"""


@pytest.fixture
def ansible_inventory(tmp_path):
    path = tmp_path / "inventory.yml"
    path.write_text(textwrap.dedent(INVENTORY))
    loader = DataLoader()
    inventory = InventoryManager(loader=loader, sources=[str(path)])
    manager = VariableManager(loader=loader, inventory=inventory)
    return inventory.get_groups_dict(), HostVars(inventory, manager, loader)


def test_model_from_ansible_hostvars(ansible_inventory):
    groups, hostvars = ansible_inventory
    model = FILTERS["deployment_model"](groups, hostvars, defaults=DEFAULTS)
    assert json.loads(json.dumps(model)) == model
    assert list(model["hosts"]) == ["web1", "core1", "db1"]  # only product hosts
    assert model["management_networks"] == ["10.30.0.0/24"]  # templated in the host's context
    assert model["db"]["port"] == 3306 and model["db"]["hostname"] == "10.40.3.10"
    assert model["hosts"]["core1"]["address"] == "10.40.2.10"
    assert model["hosts"]["db1"]["names"] == {"dns": ["db1", "db1.example.com"], "ip": ["10.40.3.10"]}
    assert model["hosts"]["web1"]["names"]["dns"] == ["web1", "wa.example.com"]
    assert [f["name"] for f in model["flows"]] == [
        "webapp-https:web1", "coreapp-service:core1", "database:db1", "ssh:web1", "ssh:core1", "ssh:db1"]


def test_a_host_variables_are_never_iterated(ansible_inventory, monkeypatch):
    """HostVars template on access: the model reads one name at a time, never a whole host."""
    groups, hostvars = ansible_inventory

    def refuse(self):
        raise AssertionError("a host's variables were iterated")

    monkeypatch.setattr(HostVarsVars, "__iter__", refuse)
    monkeypatch.setattr(HostVarsVars, "__len__", refuse)
    assert FILTERS["model_errors"](groups, hostvars, DEFAULTS) == []


def test_errors_from_ansible_hostvars(ansible_inventory):
    groups, hostvars = ansible_inventory
    errors = FILTERS["model_errors"](groups, hostvars)
    assert errors[0].startswith("wa_multiconnect is not defined for hosts web1, core1, db1: is the waent.onprem.wa "
                                "role in this play?")
    with pytest.raises(AnsibleFilterError) as info:
        FILTERS["deployment_model"](groups, hostvars)
    assert str(info.value).startswith(f"The inventory does not describe a coherent deployment ({len(errors)} "
                                      "problems):\n- wa_multiconnect is not defined")
    assert str(info.value).count("\n- ") == len(errors)


def test_one_problem_is_singular():
    groups = {"wa_webapp": ["web1"], "wa_coreapp": ["core1"], "wa_db": ["db1"]}
    hostvars = {"web1": {"wa_host_address": "10.0.0.1"}, "core1": {"wa_host_address": "10.0.0.2"},
                "db1": {"wa_host_address": "db1.example.com"}}
    with pytest.raises(AnsibleFilterError, match=r"deployment \(1 problem\):\n- wa_host_address on host db1 is "):
        FILTERS["deployment_model"](groups, hostvars, DEFAULTS)


def test_env_digest_filter():
    digests = {"app.env": hashlib.sha256(b"a").hexdigest(), "db.env": hashlib.sha256(b"b").hexdigest()}
    listing = f"{digests['app.env']}  app.env\n{digests['db.env']}  db.env\n"
    assert FILTERS["env_digest"](digests) == hashlib.sha256(listing.encode()).hexdigest()
    with pytest.raises(AnsibleFilterError, match="env_digest: env fragment db.env"):
        FILTERS["env_digest"]({"app.env": digests["app.env"]})
