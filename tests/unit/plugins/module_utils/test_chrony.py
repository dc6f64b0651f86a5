# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import pytest
from ansible_collections.waent.onprem.plugins.module_utils._chrony import (
    ChronycError,
    ChronyParseError,
    collect,
    is_synchronized,
    parse_sources,
    parse_sourcestats,
    parse_tracking,
    summarize,
)

# Captured from chrony 4.3 in localhost/waent-lab:bookworm containers (2026-11-24).
# A client synchronised to the lab NTP host 10.89.0.2, plus one unreachable server.
TRACKING_SYNCED = (
    '0A590002,10.89.0.2,9,1795560937.976630115,0.000024022,-0.000024451,0.000024451,'
    '0.071,-1.421,0.933,0.000089478,0.000021825,0.0,Normal\n'
)
SOURCES_SYNCED = (
    '^,*,10.89.0.2,8,6,7,2,-0.000007711,-0.000032162,0.000045095\n'
    '^,?,10.89.0.250,0,6,0,4294967295,0.000000000,0.000000000,0.000000000\n'
)
SOURCESTATS_SYNCED = (
    '10.89.0.2,3,3,4,-1.421,4259.305,-0.000002266,0.000013444\n'
    '10.89.0.250,0,0,0,0.000,2000.000,0.000000000,4.000000000\n'
)
# Right after chronyd started: nothing answered yet.
TRACKING_UNSYNCED = (
    '00000000,,0,0.000000000,-0.000000003,0.000000000,0.000000000,0.071,0.000,0.000,'
    '1.000000000,1.000000000,0.0,Not synchronised\n'
)
SOURCES_UNSYNCED = (
    '^,?,10.89.0.2,0,6,0,4294967295,0.000000000,0.000000000,0.000000000\n'
    '^,?,10.89.0.250,0,6,0,4294967295,0.000000000,0.000000000,0.000000000\n'
)
# The NTP server host itself: `local stratum 8`, no upstream source.
TRACKING_LOCAL = (
    '7F7F0101,,8,1795560859.949440779,0.000000000,0.000000000,0.000000000,0.000,0.000,0.000,'
    '0.000000000,0.000000000,0.0,Normal\n'
)
# chronyd -x synchronised to a source running under `faketime -f +30s`: the real clock is 30 s
# behind; chronyd keeps the whole correction in "System time" and its last offset is ~0.
TRACKING_FAKE_30S = (
    '0A590002,10.89.0.2,9,1795560931.500991484,30.000062943,0.000000718,16.805673599,-0.658,0.003,'
    '2.630,0.000145067,0.000009487,1.0,Normal\n'
)
SOURCES_FAKE_30S = '^,*,10.89.0.2,8,0,377,1,0.000001654,0.000002372,0.000072614\n'


def test_tracking_synced_fields_and_units():
    t = parse_tracking(TRACKING_SYNCED)
    assert t['reference_id'] == '0A590002'
    assert t['reference_name'] == '10.89.0.2'
    assert t['stratum'] == 9
    assert t['ref_time'] == pytest.approx(1795560937.976630115)
    assert t['system_time'] == pytest.approx(2.4022e-05)
    assert t['last_offset'] == pytest.approx(-2.4451e-05)
    assert t['frequency'] == pytest.approx(0.071)
    assert t['root_delay'] == pytest.approx(8.9478e-05)
    assert t['update_interval'] == 0.0
    assert t['leap_status'] == 'Normal'
    assert all(isinstance(t[k], float) for k in ('system_time', 'last_offset', 'rms_offset', 'skew'))


def test_sources_synced():
    sources = parse_sources(SOURCES_SYNCED)
    assert [s['state'] for s in sources] == ['selected', 'unusable']
    sel = sources[0]
    assert sel['mode'] == 'server'
    assert sel['name'] == '10.89.0.2'
    assert sel['stratum'] == 8
    assert sel['poll'] == 6
    assert sel['poll_interval'] == 64.0
    assert sel['reach'] == 7
    assert sel['reach_octal'] == '7'
    assert sel['last_rx'] == 2.0
    assert sel['measured_offset'] == pytest.approx(-3.2162e-05)
    assert sources[1]['last_rx'] is None
    assert sources[1]['reach'] == 0


def test_reach_is_octal():
    assert parse_sources(SOURCES_FAKE_30S)[0]['reach'] == 255


def test_sourcestats():
    stats = parse_sourcestats(SOURCESTATS_SYNCED)
    assert stats[0] == {
        'name': '10.89.0.2', 'samples': 3, 'runs': 3, 'span': 4.0, 'frequency': -1.421,
        'frequency_skew': 4259.305, 'offset': pytest.approx(-2.266e-06), 'std_dev': pytest.approx(1.3444e-05),
    }


def test_summary_synced():
    s = summarize(parse_tracking(TRACKING_SYNCED), parse_sources(SOURCES_SYNCED))
    assert s['synchronized'] is True
    assert s['reference_local'] is False
    assert s['selected_source']['name'] == '10.89.0.2'
    assert s['offset'] == pytest.approx(-2.4022e-05)
    assert s['stratum'] == 9
    assert s['sourcestats'] == []


def test_summary_unsynchronised():
    s = summarize(parse_tracking(TRACKING_UNSYNCED), parse_sources(SOURCES_UNSYNCED))
    assert s['synchronized'] is False
    assert s['selected_source'] is None
    assert s['leap_status'] == 'Not synchronised'
    assert s['stratum'] == 0


def test_summary_local_reference():
    s = summarize(parse_tracking(TRACKING_LOCAL), [])
    assert s['synchronized'] is True
    assert s['reference_local'] is True
    assert s['selected_source'] is None


def test_offset_is_the_real_clock_error_without_clock_control():
    s = summarize(parse_tracking(TRACKING_FAKE_30S), parse_sources(SOURCES_FAKE_30S))
    # The host clock is 30 s behind the (fake) source: offset is negative (clock behind) ...
    assert s['offset'] == pytest.approx(-30.000062943)
    # ... while chronyd's own last offset and the source's offsets are ~0.
    assert abs(s['tracking']['last_offset']) < 1e-5
    assert abs(s['selected_source']['measured_offset']) < 1e-5


@pytest.mark.parametrize('leap', ['Normal', 'Insert second', 'Delete second'])
def test_leap_statuses_are_synchronised(leap):
    t = parse_tracking(TRACKING_SYNCED.replace('Normal', leap))
    assert is_synchronized(t)


def test_stratum_16_is_not_synchronised():
    t = parse_tracking(TRACKING_SYNCED.replace(',10.89.0.2,9,', ',10.89.0.2,16,'))
    assert not is_synchronized(t)


def test_empty_sources():
    assert parse_sources('') == []
    assert parse_sources('\n\n') == []


@pytest.mark.parametrize('text', [
    '',
    '506 Cannot talk to daemon\n',
    'Reference ID    : 0A590002 (10.89.0.2)\nStratum         : 9\n',
    TRACKING_SYNCED + TRACKING_SYNCED,
    TRACKING_SYNCED.replace('Normal', 'Sideways'),
    TRACKING_SYNCED.replace('0A590002', 'ZZZZ0002'),
    TRACKING_SYNCED.replace('0.000024022', 'nan'),
    TRACKING_SYNCED.replace('0.000024022', 'abc'),
    TRACKING_SYNCED.replace(',9,', ',nine,'),
])
def test_tracking_garbage(text):
    with pytest.raises(ChronyParseError):
        parse_tracking(text)


@pytest.mark.parametrize('text', [
    '506 Cannot talk to daemon\n',
    SOURCES_SYNCED.replace('^,*', '!,*'),
    SOURCES_SYNCED.replace('^,*', '^,@'),
    SOURCES_SYNCED.replace(',7,2,', ',8,2,'),   # 8 is not an octal digit
    SOURCES_SYNCED.replace(',7,2,', ',777,2,'),  # beyond an 8-bit register
    SOURCES_SYNCED.replace(',7,2,', ',7,-,'),
    '^,*,10.89.0.2,8,6\n',
])
def test_sources_garbage(text):
    with pytest.raises(ChronyParseError):
        parse_sources(text)


def test_sourcestats_garbage():
    with pytest.raises(ChronyParseError):
        parse_sourcestats('10.89.0.2,3,3\n')


class FakeRunner:
    def __init__(self, outputs):
        self.outputs = outputs
        self.calls = []

    def __call__(self, argv):
        self.calls.append(argv)
        return self.outputs[argv[-1]]


def test_collect_queries_read_only_commands_without_dns():
    run = FakeRunner({
        'tracking': (0, TRACKING_SYNCED, ''),
        'sources': (0, SOURCES_SYNCED, ''),
        'sourcestats': (0, SOURCESTATS_SYNCED, ''),
    })
    result = collect(run, '/usr/bin/chronyc')
    assert run.calls == [
        ['/usr/bin/chronyc', '-c', '-n', 'tracking'],
        ['/usr/bin/chronyc', '-c', '-n', 'sources'],
        ['/usr/bin/chronyc', '-c', '-n', 'sourcestats'],
    ]
    assert result['synchronized'] is True
    assert len(result['sourcestats']) == 2


def test_collect_without_sourcestats_and_with_names():
    run = FakeRunner({'tracking': (0, TRACKING_SYNCED, ''), 'sources': (0, SOURCES_SYNCED, '')})
    result = collect(run, 'chronyc', resolve_names=True, sourcestats=False)
    assert run.calls[0] == ['chronyc', '-c', 'tracking']
    assert result['sourcestats'] == []


def test_collect_daemon_down():
    run = FakeRunner({'tracking': (1, '506 Cannot talk to daemon\n', '')})
    with pytest.raises(ChronycError, match='Cannot talk to daemon'):
        collect(run, 'chronyc')


def test_collect_daemon_down_with_rc_zero():
    run = FakeRunner({'tracking': (0, '506 Cannot talk to daemon\n', '')})
    with pytest.raises(ChronycError, match='rc|Cannot talk'):
        collect(run, 'chronyc')


hypothesis = pytest.importorskip('hypothesis')
st = hypothesis.strategies


@hypothesis.given(st.text(alphabet=st.sampled_from('0123456789ABCDEFx.,-+^*?#=~ \nNormalinf'), max_size=200))
@hypothesis.settings(max_examples=300, deadline=None)
def test_garbage_only_ever_raises_parse_errors(text):
    for parse in (parse_tracking, parse_sources, parse_sourcestats):
        try:
            parse(text)
        except ChronyParseError:
            pass


@hypothesis.given(st.lists(st.sampled_from(TRACKING_SYNCED.strip().split(',')), min_size=14, max_size=14))
@hypothesis.settings(max_examples=200, deadline=None)
def test_shuffled_tracking_fields_parse_or_fail_cleanly(cells):
    try:
        parse_tracking(','.join(cells))
    except ChronyParseError:
        pass
