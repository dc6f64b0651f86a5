# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import json

import pytest
from ansible.module_utils import basic
from ansible.module_utils.common.text.converters import to_bytes
from ansible_collections.waent.onprem.plugins.modules import chrony_info

TRACKING = (
    '0A590002,10.89.0.2,9,1795560937.976630115,0.000024022,-0.000024451,0.000024451,'
    '0.071,-1.421,0.933,0.000089478,0.000021825,0.0,Normal\n'
)
SOURCES = '^,*,10.89.0.2,8,6,7,2,-0.000007711,-0.000032162,0.000045095\n'


class Exit(Exception):
    pass


def run_module(monkeypatch, args, outputs):
    calls = []
    monkeypatch.setattr(basic, '_ANSIBLE_ARGS', to_bytes(json.dumps({'ANSIBLE_MODULE_ARGS': args})))
    monkeypatch.setattr(basic, '_ANSIBLE_PROFILE', 'legacy', raising=False)

    def run_command(self, argv, **kwargs):
        calls.append(argv)
        return outputs[argv[-1]]

    def exit_json(self, **kwargs):
        raise Exit({'failed': False, **kwargs})

    def fail_json(self, **kwargs):
        raise Exit({'failed': True, **kwargs})

    monkeypatch.setattr(basic.AnsibleModule, 'run_command', run_command)
    monkeypatch.setattr(basic.AnsibleModule, 'exit_json', exit_json)
    monkeypatch.setattr(basic.AnsibleModule, 'fail_json', fail_json)
    monkeypatch.setattr(basic.AnsibleModule, 'get_bin_path', lambda self, *a, **k: '/usr/bin/chronyc')
    with pytest.raises(Exit) as info:
        chrony_info.main()
    return info.value.args[0], calls


def test_reports_sync_in_check_mode(monkeypatch):
    result, calls = run_module(
        monkeypatch,
        {'_ansible_check_mode': True, 'sourcestats': False},
        {'tracking': (0, TRACKING, ''), 'sources': (0, SOURCES, '')},
    )
    assert result['failed'] is False
    assert result['changed'] is False
    assert result['synchronized'] is True
    assert result['selected_source']['name'] == '10.89.0.2'
    assert calls == [['/usr/bin/chronyc', '-c', '-n', 'tracking'], ['/usr/bin/chronyc', '-c', '-n', 'sources']]


def test_fails_cleanly_when_chronyd_is_down(monkeypatch):
    result = run_module(monkeypatch, {}, {'tracking': (1, '506 Cannot talk to daemon\n', '')})[0]
    assert result['failed'] is True
    assert 'Cannot talk to daemon' in result['msg']


def test_fails_cleanly_on_garbage(monkeypatch):
    result = run_module(monkeypatch, {'chronyc_path': '/opt/chronyc'}, {'tracking': (0, 'garbage\n', '')})[0]
    assert result['failed'] is True
    assert 'tracking' in result['msg']
