# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run a module's main() in-process and capture what it would print as JSON."""

from __future__ import annotations

import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args


class ModuleExit(Exception):
    """Raised instead of exit_json/fail_json; args[0] is the result dict."""


@pytest.fixture
def module_runner(monkeypatch):
    """``module_runner(main, args)`` -> the result dict, with ``failed`` set either way."""

    def exit_json(self, **kwargs):
        raise ModuleExit({"failed": False, **kwargs})

    def fail_json(self, **kwargs):
        raise ModuleExit({"failed": True, **kwargs})

    monkeypatch.setattr(basic.AnsibleModule, "exit_json", exit_json)
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", fail_json)

    def run(main, args):
        with patch_module_args(args), pytest.raises(ModuleExit) as info:
            main()
        return info.value.args[0]

    return run
