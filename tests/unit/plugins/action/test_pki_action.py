# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

from unittest import mock

import pytest
from ansible.playbook.play_context import PlayContext
from ansible.playbook.task import Task
from ansible_collections.waent.onprem.plugins.action import pki as action


def make_action(args, connection="local", become=False, check_mode=False, diff=False):
    task = mock.MagicMock(Task)
    task.args = args
    task.async_val = 0
    task.check_mode = check_mode
    task.diff = diff
    task.action = "waent.onprem.pki"
    play_context = PlayContext()
    play_context.become = become
    play_context.connection = connection
    conn = mock.MagicMock()
    conn._load_name = connection
    plugin = action.ActionModule(
        task, conn, play_context, loader=None, templar=mock.MagicMock(), shared_loader_obj=None
    )
    plugin._execute_module = mock.MagicMock(return_value={"changed": False, "executed": "module"})
    return plugin


def test_in_process_on_the_controller(tmp_path):
    plugin = make_action({"path": str(tmp_path), "certificates": [{"name": "web", "dns": ["wa.example.test"]}]})
    result = plugin.run(task_vars={})
    plugin._execute_module.assert_not_called()
    assert result["changed"] and result["certificates"][0]["reason"] == "missing"
    assert (tmp_path / "web.crt").exists()


def test_check_mode_and_diff_in_process(tmp_path):
    plugin = make_action({"path": str(tmp_path / "pki")}, check_mode=True, diff=True)
    result = plugin.run(task_vars={})
    assert result["changed"] and "diff" in result
    assert not (tmp_path / "pki").exists()


@pytest.mark.parametrize(
    ("connection", "become", "task_vars"),
    [
        ("ssh", False, {}),
        ("local", True, {}),
        ("local", False, {"waent_onprem_pki_in_process": False}),
        ("local", False, {"waent_onprem_pki_in_process": "no"}),
    ],
)
def test_module_is_executed_otherwise(tmp_path, connection, become, task_vars):
    plugin = make_action({"path": str(tmp_path)}, connection=connection, become=become)
    result = plugin.run(task_vars=task_vars)
    plugin._execute_module.assert_called_once()
    assert result["executed"] == "module"
    assert not list(tmp_path.iterdir())


def test_argument_errors_are_reported(tmp_path):
    plugin = make_action({"path": str(tmp_path), "certificates": [{"name": "a", "usage": "nonsense"}]})
    result = plugin.run(task_vars={})
    assert result["failed"] and "usage" in result["msg"]


def test_backend_errors_are_reported(tmp_path):
    plugin = make_action({"path": str(tmp_path), "certificates": [{"name": "a"}, {"name": "a"}]})
    result = plugin.run(task_vars={})
    assert result["failed"] and "used twice" in result["msg"]
