#!/usr/bin/python
# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
---
module: chrony_info
short_description: Read chrony's tracking and sources as structured data
version_added: 0.1.0
author: waent.onprem developers (@waent)
description:
  - Runs C(chronyc -c tracking), C(chronyc -c sources) and, unless disabled, C(chronyc -c sourcestats)
    on the target and returns them parsed, with numbers as floats.
  - Units are seconds for every offset, delay, dispersion, error and time, ppm for frequencies and
    skews, seconds since the epoch for O(ignore:ref_time), log2 seconds for O(ignore:poll).
  - Also returns whether chronyd is synchronised and the offset of the system clock from NTP time
    (RV(offset)), which is meaningful both with clock control and with C(chronyd -x).
  - Read-only; never changes anything.
options:
  chronyc_path:
    description:
      - Path of the C(chronyc) binary. Searched on the target's E(PATH) when not given.
    type: path
  resolve_names:
    description:
      - Let C(chronyc) resolve source addresses to host names (drops C(-n)). Reverse DNS can be slow
        or absent, so addresses are returned by default.
    type: bool
    default: false
  sourcestats:
    description:
      - Also query C(chronyc -c sourcestats).
    type: bool
    default: true
attributes:
  check_mode:
    support: full
    description: Read-only; runs the same queries in check mode.
  diff_mode:
    support: none
    description: Nothing changes, so there is nothing to diff.
  idempotent:
    support: full
    description: Never changes anything.
notes:
  - Requires a running chronyd that the user running the module may query over chronyd's local
    command socket (root does).
seealso:
  - name: chronyc(1)
    description: Meaning of every field of tracking, sources and sourcestats.
    link: https://chrony-project.org/doc/4.3/chronyc.html
"""

EXAMPLES = r"""
- name: Read chrony status
  waent.onprem.chrony_info:
  register: chrony

- name: Fail when the host clock is more than 1 s away from NTP time
  ansible.builtin.assert:
    that:
      - chrony.synchronized
      - chrony.offset | abs <= 1.0
    fail_msg: "offset {{ chrony.offset }} s, reference {{ chrony.tracking.reference_name }}"

- name: Wait (bounded) until chronyd has selected a source
  waent.onprem.chrony_info:
    sourcestats: false
  register: chrony
  until: chrony.synchronized and chrony.selected_source is not none
  retries: 15
  delay: 2
"""

RETURN = r"""
synchronized:
  description:
    - V(true) when chronyd has a reference it trusts (leap status not C(Not synchronised), a reference ID
      and a stratum between 1 and 15). Also V(true) on a server that serves its own clock (C(local)
      directive); see RV(reference_local).
  returned: success
  type: bool
  sample: true
reference_local:
  description: The reference is chronyd's own clock (reference ID C(7F7F0101), C(local) directive).
  returned: success
  type: bool
  sample: false
offset:
  description:
    - Offset of the system clock from NTP time in seconds, positive when the system clock is ahead.
    - It is the negated tracking C(System time). With clock control it is what chronyd still has to
      slew out; with C(chronyd -x) (no clock control, e.g. containers) it is the whole measured error of
      the real clock, because nothing is ever applied to it. O(ignore:last_offset) and the sources'
      offsets describe chronyd's corrected clock and are near zero in that case even when the real
      clock is far off.
  returned: success
  type: float
  sample: -2.4022e-05
stratum:
  description: Stratum of this host (0 when not synchronised).
  returned: success
  type: int
  sample: 9
leap_status:
  description: C(Normal), C(Insert second), C(Delete second) or C(Not synchronised).
  returned: success
  type: str
  sample: Normal
selected_source:
  description: The element of RV(sources) whose state is C(selected), or V(null).
  returned: success
  type: dict
  sample: {"mode": "server", "state": "selected", "name": "10.89.0.2", "stratum": 8, "reach": 7}
tracking:
  description: C(chronyc -c tracking), parsed.
  returned: success
  type: dict
  contains:
    reference_id:
      description: Reference ID, 8 upper-case hex digits (C(00000000) when unsynchronised).
      type: str
      sample: 0A590002
    reference_name:
      description: Name or address of the reference (empty when none).
      type: str
      sample: 10.89.0.2
    stratum:
      description: Stratum.
      type: int
      sample: 9
    ref_time:
      description: Time of the last measurement from the reference, seconds since the epoch (UTC).
      type: float
      sample: 1795560937.976630115
    system_time:
      description: Correction still due to the system clock in seconds, positive when the clock is slow.
      type: float
      sample: 2.4022e-05
    last_offset:
      description: Offset estimated at the last clock update, seconds, positive when the local clock is ahead.
      type: float
      sample: -2.4451e-05
    rms_offset:
      description: Long-term average of the offset, seconds.
      type: float
      sample: 2.4451e-05
    frequency:
      description: Frequency error of the system clock in ppm as chronyc reports it (negative is slow).
      type: float
      sample: 0.071
    residual_frequency:
      description: Residual frequency of the reference in ppm.
      type: float
      sample: -1.421
    skew:
      description: Error bound of the frequency in ppm.
      type: float
      sample: 0.933
    root_delay:
      description: Total network path delay to the stratum-1 source, seconds.
      type: float
      sample: 8.9478e-05
    root_dispersion:
      description: Total dispersion accumulated up to the stratum-1 source, seconds.
      type: float
      sample: 2.1825e-05
    update_interval:
      description: Interval between the last two clock updates, seconds.
      type: float
      sample: 2.0
    leap_status:
      description: Leap status.
      type: str
      sample: Normal
sources:
  description: C(chronyc -c sources), parsed, one element per source.
  returned: success
  type: list
  elements: dict
  contains:
    mode:
      description: C(server), C(peer) or C(refclock).
      type: str
      sample: server
    state:
      description: C(selected), C(combined), C(not_combined), C(unusable), C(falseticker) or C(too_variable).
      type: str
      sample: selected
    name:
      description: Address (or name with O(resolve_names)) of the source.
      type: str
      sample: 10.89.0.2
    stratum:
      description: Stratum of the source (0 until it answered).
      type: int
      sample: 8
    poll:
      description: Polling interval as log2 seconds.
      type: int
      sample: 6
    poll_interval:
      description: Polling interval in seconds.
      type: float
      sample: 64.0
    reach:
      description: Reachability register as an integer (0-255; 255 is octal 377, the last 8 polls answered).
      type: int
      sample: 7
    reach_octal:
      description: Reachability register as chronyc prints it (octal).
      type: str
      sample: "7"
    last_rx:
      description: Seconds since the last good sample, V(null) when none was ever received.
      type: float
      sample: 2.0
    adjusted_offset:
      description: Last sample's offset adjusted for later clock slews, seconds, positive when the local clock is ahead.
      type: float
      sample: -7.711e-06
    measured_offset:
      description: Last sample's offset as measured, seconds.
      type: float
      sample: -3.2162e-05
    error:
      description: Error bound of the last sample, seconds.
      type: float
      sample: 4.5095e-05
sourcestats:
  description: C(chronyc -c sourcestats), parsed (empty list when O(sourcestats=false)).
  returned: success
  type: list
  elements: dict
  contains:
    name:
      description: Address or name of the source.
      type: str
    samples:
      description: Number of retained samples.
      type: int
    runs:
      description: Number of runs of residuals with the same sign.
      type: int
    span:
      description: Interval between the oldest and newest sample, seconds.
      type: float
    frequency:
      description: Estimated residual frequency, ppm.
      type: float
    frequency_skew:
      description: Error bound of that frequency, ppm.
      type: float
    offset:
      description: Estimated offset of the source, seconds.
      type: float
    std_dev:
      description: Estimated sample standard deviation, seconds.
      type: float
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.waent.onprem.plugins.module_utils._chrony import (
    ChronycError,
    ChronyParseError,
    collect,
)


def main():
    module = AnsibleModule(
        argument_spec={
            'chronyc_path': {'type': 'path'},
            'resolve_names': {'type': 'bool', 'default': False},
            'sourcestats': {'type': 'bool', 'default': True},
        },
        supports_check_mode=True,
    )
    chronyc = module.params['chronyc_path'] or module.get_bin_path('chronyc', required=True)

    def run(argv):
        return module.run_command(argv, environ_update={'LC_ALL': 'C'})

    try:
        result = collect(run, chronyc, module.params['resolve_names'], module.params['sourcestats'])
    except (ChronycError, ChronyParseError) as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=False, **result)


if __name__ == '__main__':
    main()
