# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The bad-input table: playbooks/site.yml refuses each row in its first play, before any host is contacted.

Runs the real ansible-playbook on the shipped site.yml with an inventory whose hosts refuse every
connection (tests/preflight/inventory.yml), so a run that got past the preflight shows UNREACHABLE.
"""

from __future__ import annotations

import copy
import json
import os
import pathlib
import re
import subprocess

import pytest
import yaml

HERE = pathlib.Path(__file__).parent
ROOT = HERE.parent.parent
SITE = ROOT / "playbooks" / "site.yml"
TABLE = yaml.safe_load((HERE / "bad_inputs.yml").read_text())["rows"]
INVENTORY = yaml.safe_load((HERE / "inventory.yml").read_text())
PREFLIGHT_PLAY = "PLAY [Preflight"


def _inventory(row):
    inventory = copy.deepcopy(INVENTORY)
    children = inventory["all"]["children"]
    hosts = {}
    for group in children.values():
        hosts.update(group.get("hosts") or {})
    for group, members in (row.get("groups") or {}).items():
        # The host keeps its variables; it only changes groups.
        for other in children.values():
            for member in members:
                (other.get("hosts") or {}).pop(member, None)
        children[group] = {"hosts": {member: hosts[member] for member in members}}
    for host, variables in (row.get("host_vars") or {}).items():
        for group in children.values():
            if host in (group.get("hosts") or {}):
                group["hosts"][host] = {**group["hosts"][host], **variables}
    # Hosts moved out of every group stay in the inventory.
    present = {h for g in children.values() for h in (g.get("hosts") or {})}
    children.setdefault("ungrouped", {"hosts": {}})
    children["ungrouped"].setdefault("hosts", {})
    for host, variables in hosts.items():
        if host not in present:
            children["ungrouped"]["hosts"][host] = variables
    return inventory


def _run(tmp_path, row):
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(yaml.safe_dump(_inventory(row)))
    extra = {"pki_dir": str(tmp_path / "pki"), **(row.get("vars") or {})}
    (tmp_path / "extra.json").write_text(json.dumps(extra))
    env = dict(
        os.environ,
        ANSIBLE_HOST_KEY_CHECKING="False",
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        ANSIBLE_RETRY_FILES_ENABLED="0",
        ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"),
    )
    proc = subprocess.run(
        ["ansible-playbook", "-i", str(inventory), str(SITE), "-e", f"@{tmp_path / 'extra.json'}"]
        + (["--limit", row["limit"]] if row.get("limit") else []),
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return proc.returncode, proc.stdout + proc.stderr


def _problem_lines(output):
    return [line[2:] for line in output.splitlines() if line.startswith("- ")]


@pytest.mark.parametrize("row", TABLE, ids=[row["id"] for row in TABLE])
def test_refused_in_preflight(tmp_path, row):
    rc, output = _run(tmp_path, row)
    assert rc != 0, output
    assert "Preflight found" in output, output
    # Nothing after the preflight play ran and no host was contacted.
    assert "UNREACHABLE" not in output, output
    plays = re.findall(r"^PLAY \[([^\]]*)\]", output, re.MULTILINE)
    assert plays and all(p.startswith("Preflight") for p in plays), plays
    assert not (tmp_path / "pki").exists(), "the controller material was written"
    problems = "\n".join(_problem_lines(output))
    for expected in row["expect"]:
        where = output if expected.endswith("problems") else problems
        assert expected in where, f"{expected!r} not in:\n{problems}"
    # Every problem line names what to fix first: a variable, or the group or host of the
    # deployment model's topology rules.
    for line in _problem_lines(output):
        assert re.match(r"^((group|hosts?|port) )?[a-z_][a-z0-9_\[\].-]*[ :]", line), line
    for secret in row.get("hidden") or []:
        assert secret not in output, f"secret value {secret!r} shown"


def test_valid_inventory_passes_preflight(tmp_path):
    """The table's base inventory is valid: the run gets past the preflight to the hosts."""
    rc, output = _run(tmp_path, {})
    assert rc != 0  # the hosts cannot be reached: that is the point
    assert "Preflight found" not in output, output
    assert "UNREACHABLE" in output, output
    assert (tmp_path / "pki").is_dir(), "the controller play did not run"


def test_table_is_large_and_unique():
    ids = [row["id"] for row in TABLE]
    assert len(ids) >= 25
    assert len(set(ids)) == len(ids)
