# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Make the simulator package ``waent_sim`` (tests/simulator) importable, and give tests a clock they set."""

from __future__ import annotations

import pathlib
import sys

import pytest

SIMULATOR = pathlib.Path(__file__).resolve().parents[2] / "simulator"
if str(SIMULATOR) not in sys.path:
    sys.path.insert(0, str(SIMULATOR))


class FakeClock:
    """A clock that stands still until a test moves it: ``clock()`` returns ``clock.now``."""

    def __init__(self, now=1_700_000_000.0):
        self.now = now

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += seconds


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def make_clock():
    """``make_clock(now)`` -> another FakeClock, for a second side with its own time."""
    return FakeClock
