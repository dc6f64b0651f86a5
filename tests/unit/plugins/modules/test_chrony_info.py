# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import pytest
from ansible.module_utils import basic
from ansible_collections.waent.onprem.plugins.modules import chrony_info

TRACKING = (
    '0A590002,10.89.0.2,9,1795560937.976630115,0.000024022,-0.000024451,0.000024451,'
    '0.071,-1.421,0.933,0.000089478,0.000021825,0.0,Normal\n'
)
SOURCES = '^,*,10.89.0.2,8,6,7,2,-0.000007711,-0.000032162,0.000045095\n'


@pytest.fixture
def run_module(module_runner, monkeypatch):
    """Run chrony_info with canned chronyc outputs (keyed by the chronyc sub-command)."""

    def run(args, outputs):
        calls = []

        def run_command(self, argv, **kwargs):
            calls.append(argv)
            return outputs[argv[-1]]

        monkeypatch.setattr(basic.AnsibleModule, 'run_command', run_command)
        monkeypatch.setattr(basic.AnsibleModule, 'get_bin_path', lambda self, *a, **k: '/usr/bin/chronyc')
        return module_runner(chrony_info.main, args), calls

    return run


def test_reports_sync_in_check_mode(run_module):
    result, calls = run_module(
        {'_ansible_check_mode': True, 'sourcestats': False},
        {'tracking': (0, TRACKING, ''), 'sources': (0, SOURCES, '')},
    )
    assert result['failed'] is False
    assert result['changed'] is False
    assert result['synchronized'] is True
    assert result['selected_source']['name'] == '10.89.0.2'
    assert calls == [['/usr/bin/chronyc', '-c', '-n', 'tracking'], ['/usr/bin/chronyc', '-c', '-n', 'sources']]


def test_fails_cleanly_when_chronyd_is_down(run_module):
    result = run_module({}, {'tracking': (1, '506 Cannot talk to daemon\n', '')})[0]
    assert result['failed'] is True
    assert 'Cannot talk to daemon' in result['msg']


def test_fails_cleanly_on_garbage(run_module):
    result = run_module({'chronyc_path': '/opt/chronyc'}, {'tracking': (0, 'garbage\n', '')})[0]
    assert result['failed'] is True
    assert 'tracking' in result['msg']
