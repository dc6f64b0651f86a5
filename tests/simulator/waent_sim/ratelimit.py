# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Sliding-window rate limits per source address: failed logins and health calls (reference sections 4.1, 4.2).

Documented limits:

* 30 failed logins per IP address per hour, then HTTP 429 with error code 1015 (section 4.1):
  :func:`failed_login_limiter`. The caller asks :meth:`SlidingWindowLimiter.allowed` before it
  checks the credentials, answers 429/1015 when the answer is no, and calls
  :meth:`SlidingWindowLimiter.record` after each failed login. So failures 1 to 30 within an
  hour get their 401, and every login attempt after the 30th failure gets 429 (even with the
  right password) until the oldest of those failures is an hour old.
* 10 health calls per 60 seconds, then 429 (section 4.2): :func:`health_limiter`, used with
  :meth:`SlidingWindowLimiter.attempt`, which counts a call only when it is let through.

Choices where the reference is silent (to report):

* The window slides: an event at time ``t`` counts while ``now - t < window`` and stops counting
  exactly ``window`` seconds later. (The Webapp source uses a token bucket; the documented
  numbers are what the simulator keeps.)
* Refused (429) requests are not counted, so a client that waits regains access; a client that
  keeps failing logins stays blocked.
* The health limit is kept per source address, like the login limit.
* Memory is bounded: at most ``limit`` timestamps per address (older ones cannot change the
  answer), at most ``max_keys`` addresses. When every slot holds an address with live events,
  a new address is refused (and a WARNING logged) rather than an old address forgotten, which
  would reset its count: the bound never makes the limiter lenient.
"""

from __future__ import annotations

import collections
import logging
import threading
import time

LOG = logging.getLogger(__name__)

HTTP_TOO_MANY_REQUESTS = 429
ERROR_TOO_MANY_REQUESTS = 1015
LOGIN_FAILURES = 30
LOGIN_WINDOW = 3600
HEALTH_CALLS = 10
HEALTH_WINDOW = 60
DEFAULT_MAX_KEYS = 4096


class SlidingWindowLimiter:
    """At most ``limit`` events per key in any ``window`` seconds; ``clock`` returns seconds."""

    def __init__(self, limit, window, *, clock=time.monotonic, max_keys=DEFAULT_MAX_KEYS, name="rate limit"):
        if limit < 1 or window <= 0 or max_keys < 1:
            raise ValueError("limit and max_keys must be >= 1 and window > 0")
        self.limit = limit
        self.window = window
        self.name = name
        self._clock = clock
        self._max_keys = max_keys
        self._events = {}  # key -> deque of event times, oldest first, at most `limit`
        self._lock = threading.Lock()  # shared by the request threads of one server

    def _live(self, key, now):
        """The deque of ``key`` without the events that left the window (None if none is left)."""
        events = self._events.get(key)
        if events is None:
            return None
        while events and now - events[0] >= self.window:
            events.popleft()
        if not events:
            del self._events[key]
            return None
        return events

    def _has_room(self, now):
        """Whether a new key can be tracked, after dropping the keys whose events all expired."""
        if len(self._events) < self._max_keys:
            return True
        for key in list(self._events):
            self._live(key, now)
        if len(self._events) < self._max_keys:
            return True
        LOG.warning("%s: %d source addresses are being tracked already; refusing a new one",
                    self.name, self._max_keys)
        return False

    def _allowed(self, key, now):
        events = self._live(key, now)
        if events is None:
            return self._has_room(now)
        return len(events) < self.limit

    def _record(self, key, now):
        events = self._live(key, now)
        if events is None:
            if not self._has_room(now):
                return False
            events = self._events[key] = collections.deque(maxlen=self.limit)
        events.append(now)
        return True

    def count(self, key):
        """How many events of ``key`` are inside the window now (at most ``limit``)."""
        with self._lock:
            events = self._live(key, self._clock())
            return 0 if events is None else len(events)

    def allowed(self, key):
        """Whether ``key`` may go on now (fewer than ``limit`` events in the window); records nothing."""
        with self._lock:
            return self._allowed(key, self._clock())

    def record(self, key):
        """Count one event of ``key`` now; False (and a WARNING) when a new key finds no room."""
        with self._lock:
            return self._record(key, self._clock())

    def attempt(self, key):
        """Let one event of ``key`` through and count it, or refuse it (uncounted): True when let through."""
        with self._lock:
            now = self._clock()
            return self._allowed(key, now) and self._record(key, now)

    def retry_after(self, key):
        """Seconds until ``key`` is allowed again (0 when it is allowed now)."""
        with self._lock:
            now = self._clock()
            events = self._live(key, now)
            if events is None or len(events) < self.limit:
                return 0
            return events[0] + self.window - now


def failed_login_limiter(*, clock=time.monotonic, max_keys=DEFAULT_MAX_KEYS):
    """The limiter of section 4.1: 30 failed logins per address per hour."""
    return SlidingWindowLimiter(LOGIN_FAILURES, LOGIN_WINDOW, clock=clock, max_keys=max_keys,
                                name="failed logins")


def health_limiter(*, clock=time.monotonic, max_keys=DEFAULT_MAX_KEYS):
    """The limiter of section 4.2: 10 health calls per address per 60 seconds."""
    return SlidingWindowLimiter(HEALTH_CALLS, HEALTH_WINDOW, clock=clock, max_keys=max_keys, name="health calls")
