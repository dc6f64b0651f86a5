# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Action plugin for waent.onprem.pki.

The PKI is meant to run on the controller (delegate_to: localhost). When the task's target IS the
controller (connection `local`, no privilege escalation) the backend runs in-process here: no
module payload is built, no Python interpreter is started, nothing is imported twice. That
removes about half a second of fixed cost per task, which is most of the task's time. Anywhere
else (a remote host, become, or `waent_onprem_pki_in_process: false` in the task's variables) the
module is executed normally. Both paths use the same backend and argument spec, so results are the
same; the in-process path uses the controller's Python and `cryptography`.
"""

from __future__ import annotations

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase
from ansible_collections.waent.onprem.plugins.module_utils._cryptography_dep import cryptography_problem
from ansible_collections.waent.onprem.plugins.module_utils._pki import execute
from ansible_collections.waent.onprem.plugins.modules.pki import REQUIRED_IF, argument_spec

MODULE = "waent.onprem.pki"
LOCAL_CONNECTIONS = ("local", "ansible.builtin.local")


class ActionModule(ActionBase):
    _VALID_ARGS = frozenset(argument_spec())

    def _in_process(self, task_vars):
        if not boolean(task_vars.get("waent_onprem_pki_in_process", True), strict=False):
            return False
        if self._play_context.become:
            return False
        connection = getattr(self._connection, "_load_name", None) or self._play_context.connection
        if connection not in LOCAL_CONNECTIONS:
            return False
        return cryptography_problem() is None

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        if not self._in_process(task_vars):
            result.update(self._execute_module(module_name=MODULE, module_args=self._task.args, task_vars=task_vars))
            return result

        validation = ArgumentSpecValidator(argument_spec(), required_if=REQUIRED_IF).validate(self._task.args)
        if validation.error_messages:
            result.update(failed=True, changed=False, msg="; ".join(validation.error_messages))
            return result
        outcome = execute(
            validation.validated_parameters,
            check_mode=bool(self._task.check_mode),
            diff=bool(self._task.diff),
        )
        warnings = outcome.pop("warnings", [])
        if warnings:
            result["warnings"] = list(result.get("warnings", [])) + warnings
        result.update(outcome)
        return result
