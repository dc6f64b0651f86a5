# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import math

# Parse the CSV output of ``chronyc -c tracking|sources|sourcestats``.
#
# Units: every offset, delay, dispersion and error is a float in seconds, frequencies and skews
# are floats in ppm, ``ref_time`` is seconds since the epoch, ``poll`` is log2 of the polling
# interval in seconds.
#
# Sign conventions (checked against chrony 4.3 with a source deliberately 30 s ahead):
#
# * tracking ``system_time`` is chrony's own value: the correction still to be applied to the
#   system clock, **positive when the system clock is slow** (behind NTP time).  With clock
#   control (the normal case) it is the remainder chronyd is slewing out.  With ``chronyd -x``
#   nothing is ever applied to the real clock, so chronyd keeps the whole correction in this
#   register: it is the full measured error of the real clock.
# * ``offset`` (derived) is the offset of the system clock from NTP time, **positive when the
#   system clock is ahead**: ``-system_time``.  This is the value the timesync role judges, in
#   both modes, because it is the only one that says how far the host clock really is from NTP
#   time; ``last_offset`` and the sources' offsets only say how far chronyd's own (virtually
#   corrected) clock was at the last measurement, which with ``-x`` is close to zero even when
#   the real clock is 30 s off.
# * tracking ``last_offset`` and sources ``adjusted_offset``/``measured_offset``: positive when
#   the local clock is ahead of the source.

# The reference ID chronyd reports while it serves its own clock (`local` directive).
LOCAL_REFERENCE_ID = '7F7F0101'
UNSYNCHRONISED_REFERENCE_ID = '00000000'
# chronyc prints this for "never received a sample" in the LastRx column.
NEVER_RECEIVED = 4294967295

LEAP_STATUSES = ('Normal', 'Insert second', 'Delete second', 'Not synchronised')

SOURCE_MODES = {'^': 'server', '=': 'peer', '#': 'refclock'}
SOURCE_STATES = {
    '*': 'selected',
    '+': 'combined',
    '-': 'not_combined',
    '?': 'unusable',
    'x': 'falseticker',
    '~': 'too_variable',
}


class ChronyParseError(ValueError):
    """Raised when chronyc output does not have the documented CSV shape."""


def _float(value, field):
    try:
        result = float(value)
    except ValueError:
        raise ChronyParseError(f'{field}: expected a number, got {value!r}') from None
    if not math.isfinite(result):
        raise ChronyParseError(f'{field}: expected a finite number, got {value!r}')
    return result


def _int(value, field, base=10):
    try:
        return int(value, base)
    except ValueError:
        raise ChronyParseError(f'{field}: expected an integer, got {value!r}') from None


def _rows(text, command, width):
    rows = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        cells = line.strip().split(',')
        if len(cells) != width:
            raise ChronyParseError(
                f'chronyc -c {command}: line {lineno} has {len(cells)} fields, expected {width}: {line!r}'
            )
        rows.append(cells)
    return rows


TRACKING_WIDTH = 14


def parse_tracking(text):
    """Parse ``chronyc -c tracking`` (exactly one CSV line) into a dict."""
    rows = _rows(text, 'tracking', TRACKING_WIDTH)
    if len(rows) != 1:
        raise ChronyParseError(f'chronyc -c tracking: expected one line, got {len(rows)}')
    c = rows[0]
    reference_id = c[0].upper()
    if len(reference_id) != 8 or any(ch not in '0123456789ABCDEF' for ch in reference_id):
        raise ChronyParseError(f'reference_id: expected 8 hex digits, got {c[0]!r}')
    leap_status = c[13]
    if leap_status not in LEAP_STATUSES:
        raise ChronyParseError(f'leap_status: unknown value {leap_status!r}')
    return {
        'reference_id': reference_id,
        'reference_name': c[1],
        'stratum': _int(c[2], 'stratum'),
        'ref_time': _float(c[3], 'ref_time'),
        'system_time': _float(c[4], 'system_time'),
        'last_offset': _float(c[5], 'last_offset'),
        'rms_offset': _float(c[6], 'rms_offset'),
        'frequency': _float(c[7], 'frequency'),
        'residual_frequency': _float(c[8], 'residual_frequency'),
        'skew': _float(c[9], 'skew'),
        'root_delay': _float(c[10], 'root_delay'),
        'root_dispersion': _float(c[11], 'root_dispersion'),
        'update_interval': _float(c[12], 'update_interval'),
        'leap_status': leap_status,
    }


SOURCES_WIDTH = 10


def parse_sources(text):
    """Parse ``chronyc -c sources`` (one CSV line per source, possibly none) into a list."""
    sources = []
    for c in _rows(text, 'sources', SOURCES_WIDTH):
        if c[0] not in SOURCE_MODES:
            raise ChronyParseError(f'mode: unknown source mode {c[0]!r}')
        if c[1] not in SOURCE_STATES:
            raise ChronyParseError(f'state: unknown source state {c[1]!r}')
        last_rx = _int(c[6], 'last_rx')
        poll = _int(c[4], 'poll')
        reach = _int(c[5], 'reach', base=8)
        if not 0 <= reach <= 0o377:
            raise ChronyParseError(f'reach: out of range {c[5]!r}')
        sources.append({
            'mode': SOURCE_MODES[c[0]],
            'state': SOURCE_STATES[c[1]],
            'name': c[2],
            'stratum': _int(c[3], 'stratum'),
            'poll': poll,
            'poll_interval': float(2 ** poll),
            'reach': reach,
            'reach_octal': c[5],
            'last_rx': None if last_rx == NEVER_RECEIVED else float(last_rx),
            'adjusted_offset': _float(c[7], 'adjusted_offset'),
            'measured_offset': _float(c[8], 'measured_offset'),
            'error': _float(c[9], 'error'),
        })
    return sources


SOURCESTATS_WIDTH = 8


def parse_sourcestats(text):
    """Parse ``chronyc -c sourcestats`` into a list (frequency/skew in ppm, times in seconds)."""
    stats = []
    for c in _rows(text, 'sourcestats', SOURCESTATS_WIDTH):
        stats.append({
            'name': c[0],
            'samples': _int(c[1], 'samples'),
            'runs': _int(c[2], 'runs'),
            'span': _float(c[3], 'span'),
            'frequency': _float(c[4], 'frequency'),
            'frequency_skew': _float(c[5], 'frequency_skew'),
            'offset': _float(c[6], 'offset'),
            'std_dev': _float(c[7], 'std_dev'),
        })
    return stats


def is_synchronized(tracking):
    """chronyd has a reference it trusts (a source, or its own clock via `local`)."""
    return (
        tracking['leap_status'] != 'Not synchronised'
        and tracking['reference_id'] != UNSYNCHRONISED_REFERENCE_ID
        and 1 <= tracking['stratum'] <= 15
    )


def summarize(tracking, sources, sourcestats=None):
    """The module's result: raw tables plus the few derived values the role judges."""
    selected = next((s for s in sources if s['state'] == 'selected'), None)
    return {
        'tracking': tracking,
        'sources': sources,
        'sourcestats': sourcestats if sourcestats is not None else [],
        'selected_source': selected,
        'synchronized': is_synchronized(tracking),
        'reference_local': tracking['reference_id'] == LOCAL_REFERENCE_ID,
        'offset': -tracking['system_time'],
        'leap_status': tracking['leap_status'],
        'stratum': tracking['stratum'],
    }


class ChronycError(RuntimeError):
    """chronyc could not be run or could not talk to chronyd."""


def collect(run_command, chronyc, resolve_names=False, sourcestats=True):
    """Run chronyc read-only queries through ``run_command(argv) -> (rc, out, err)``."""
    base = [chronyc, '-c']
    if not resolve_names:
        base.append('-n')

    def query(command):
        rc, out, err = run_command([*base, command])
        if rc != 0:
            detail = (err or out or '').strip()
            raise ChronycError(f'chronyc {command} failed (rc={rc}): {detail}')
        # chronyc reports some failures (e.g. "506 Cannot talk to daemon") with rc 0 on old versions.
        if out.startswith('50') and 'Cannot talk to daemon' in out:
            raise ChronycError(f'chronyc {command} failed: {out.strip()}')
        return out

    tracking = parse_tracking(query('tracking'))
    sources = parse_sources(query('sources'))
    stats = parse_sourcestats(query('sourcestats')) if sourcestats else None
    return summarize(tracking, sources, stats)
