# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The simulator's rate limits against reference sections 4.1 (failed logins) and 4.2 (health calls)."""

from __future__ import annotations

import logging
import threading
import time

import pytest
from waent_sim import ratelimit

IP = "192.0.2.10"
OTHER = "198.51.100.7"


def fail_logins(limiter, clock, count, address=IP, step=1.0):
    """``count`` failed logins from ``address``, ``step`` seconds apart, each let through first."""
    for _i in range(count):
        assert limiter.allowed(address)
        assert limiter.record(address)
        clock.advance(step)


def test_documented_numbers():
    assert (ratelimit.HTTP_TOO_MANY_REQUESTS, ratelimit.ERROR_TOO_MANY_REQUESTS) == (429, 1015)
    login = ratelimit.failed_login_limiter()
    health = ratelimit.health_limiter()
    assert (login.limit, login.window) == (30, 3600)
    assert (health.limit, health.window) == (10, 60)


def test_thirty_failed_logins_then_blocked_for_that_address_only(clock):
    limiter = ratelimit.failed_login_limiter(clock=clock)
    fail_logins(limiter, clock, 29)
    assert limiter.allowed(IP)  # the 30th failure still gets its 401
    fail_logins(limiter, clock, 1)
    assert not limiter.allowed(IP)  # the 31st attempt is answered 429
    assert limiter.count(IP) == 30
    assert limiter.allowed(OTHER)


def test_block_lifts_when_the_oldest_failure_is_an_hour_old(clock):
    limiter = ratelimit.failed_login_limiter(clock=clock)
    start = clock.now
    fail_logins(limiter, clock, 30)
    clock.now = start + 3600 - 0.001
    assert not limiter.allowed(IP)
    assert limiter.retry_after(IP) == pytest.approx(0.001, abs=1e-6)
    clock.now = start + 3600
    assert limiter.allowed(IP)
    assert limiter.count(IP) == 29
    assert limiter.retry_after(IP) == 0
    limiter.record(IP)
    assert not limiter.allowed(IP)  # one more failure closes the slot again


def test_failures_spread_over_more_than_an_hour_never_block(clock):
    limiter = ratelimit.failed_login_limiter(clock=clock)
    fail_logins(limiter, clock, 100, step=125)  # at most 29 inside any hour
    assert limiter.allowed(IP)


def test_extra_records_keep_the_exact_answer_with_bounded_memory(clock):
    limiter = ratelimit.failed_login_limiter(clock=clock)
    start = clock.now
    for _i in range(35):  # failures at start+0 .. start+34 (e.g. concurrent requests)
        limiter.record(IP)
        clock.advance(1)
    assert len(limiter._events[IP]) == 30
    clock.now = start + 3604.5  # failures 5..34 are still inside the hour: 30 of them
    assert not limiter.allowed(IP)
    clock.now = start + 3605  # failure 5 has left: 29
    assert limiter.allowed(IP)


def test_health_ten_calls_per_minute_then_429(clock):
    limiter = ratelimit.health_limiter(clock=clock)
    start = clock.now
    for _i in range(10):
        assert limiter.attempt(IP)
        clock.advance(0.5)
    assert not limiter.attempt(IP)
    assert limiter.attempt(OTHER)
    clock.now = start + 60 - 0.001
    assert not limiter.attempt(IP)
    clock.now = start + 60  # the first call leaves the window exactly 60 s later
    assert limiter.attempt(IP)
    assert not limiter.attempt(IP)


def test_refused_calls_are_not_counted(clock):
    limiter = ratelimit.health_limiter(clock=clock)
    for _i in range(10):
        limiter.attempt(IP)
    for _i in range(50):
        assert not limiter.attempt(IP)
    assert limiter.count(IP) == 10
    clock.advance(60)
    assert limiter.count(IP) == 0
    assert IP not in limiter._events  # forgotten once nothing is left in the window
    assert all(limiter.attempt(IP) for _i in range(10))


def test_address_table_is_bounded_and_refuses_new_addresses_when_full(clock, caplog):
    limiter = ratelimit.SlidingWindowLimiter(3, 60, clock=clock, max_keys=2)
    assert limiter.record("a") and limiter.record("b")
    with caplog.at_level(logging.WARNING, logger="waent_sim.ratelimit"):
        assert not limiter.allowed("c")
        assert not limiter.record("c")
        assert not limiter.attempt("c")
    assert "refusing a new one" in caplog.text
    assert limiter.allowed("a")  # known addresses keep their counts
    assert limiter.count("a") == 1
    clock.advance(60)  # a and b expire: room again
    assert limiter.attempt("c")
    assert len(limiter._events) == 1


@pytest.mark.parametrize(("limit", "window", "max_keys"), [(0, 60, 1), (1, 0, 1), (1, 60, 0)])
def test_constructor_refuses_nonsense(limit, window, max_keys):
    with pytest.raises(ValueError):
        ratelimit.SlidingWindowLimiter(limit, window, max_keys=max_keys)


def test_concurrent_attempts_never_exceed_the_limit(clock):
    def slow_clock():  # gives other threads every chance to run between a check and its record
        time.sleep(0.0002)
        return clock()

    limiter = ratelimit.SlidingWindowLimiter(50, 60, clock=slow_clock)
    granted = []

    def worker():
        granted.extend(limiter.attempt(IP) for _i in range(100))

    threads = [threading.Thread(target=worker) for _i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert granted.count(True) == 50
