# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Frames of the Webapp<->Coreapp link, sealed with ``WA_SECRET`` or plain (reference section 2.2).

Documented behaviour (reference section 2.2 and the security page it cites):

* ``WA_SECRET`` set to the same value on the Webapp and on the Coreapp/Master encrypts the link.
* Key = PBKDF2-HMAC-SHA256(secret, 10 000 iterations, 32 bytes).
* Each message is a libsodium ``crypto_secretbox`` (XSalsa20-Poly1305, ``nacl.secret.SecretBox``)
  under a fresh random nonce, over the plaintext prefixed by its Unix timestamp.
* A message whose timestamp is outside the allowed window is dropped and logged as a
  "possible replay attack or time not in sync"; the documentation gives 10 seconds of grace
  (the 2019 Webapp source used 5). The window is inclusive: a frame is accepted when
  ``now - grace <= timestamp <= now + grace``, ``now`` being the receiver's clock in whole
  seconds, as a Unix ``time()`` gives it.

Byte layout of one frame (the simulator's own; the vendor's wire format is not documented)::

    offset  size  field
    0       1     mode: 0x00 PLAIN, 0x01 SEALED, 0x02 REFUSED
    PLAIN   (no WA_SECRET on either side)
    1       n     the payload, unchanged
    SEALED  (WA_SECRET set)
    1       24    nonce, random for every frame (crypto_secretbox_NONCEBYTES)
    25      16+m  crypto_secretbox(plaintext, nonce, key): Poly1305 tag, then ciphertext
                  plaintext = ASCII decimal Unix timestamp (whole seconds, no sign, no
                  leading zeros) + b";" + payload, the "timestamp;payload" form of the
                  2019 Webapp source
    REFUSED (either mode: the receiver tells its peer why it dropped a frame)
    1       n     ASCII reason, at most 200 bytes; unauthenticated, it can only make a link fail

How the stream is cut into frames (a length prefix) belongs to the transport, not here.

Choices where the reference is silent (deviations to report):

* Salt: the reference names none. The simulator derives it from the secret as the Webapp
  source the reference cites ([S26] ``CryptoUtils.php``) does: an 8-byte salt =
  PBKDF2-HMAC-SHA256(secret, empty salt, 10 000 iterations, 8 bytes), then the key =
  PBKDF2-HMAC-SHA256(secret, that salt, 10 000 iterations, 32 bytes). The secret is the
  environment string encoded as UTF-8; an unset or empty ``WA_SECRET`` means "no secret"
  (the PHP source also treats the string ``"0"`` as unset; the simulator does not).
* Exact replays: the documented replay protection is the timestamp check only. The simulator
  also rejects a frame whose nonce it has already accepted while that frame's timestamp is
  still inside the window (a legitimate sender never repeats a nonce under one key). The
  memory is bounded: a nonce is forgotten once its frame would be stale anyway; when
  ``max_seen`` nonces are live, further frames are refused ("replay cache full") rather than
  forgetting one early, so the bound never makes the check lenient.
* ``WA_SECRET`` on one side only (undocumented upstream): the link fails, it never falls back
  to plaintext. The receiver of a PLAIN frame while it holds a secret rejects it ("no secret on
  peer"); the receiver of a SEALED frame without a secret rejects it ("no secret here"). Each
  rejection is logged, and the rejecting side can answer with :meth:`Link.refusal`, so that the
  sender's :meth:`Link.open` fails too ("refused by peer") and logs the peer's reason: both
  sides log why.
* A forged or corrupted SEALED frame cannot be told apart from one under another key: both
  fail the Poly1305 check and are reported as "wrong key".

Every rejection raises :class:`FrameError`, whose ``reason`` is one of the ``REASON_*``
constants, after one WARNING line on the ``waent_sim.framing`` logger.
"""

from __future__ import annotations

import hashlib
import heapq
import logging
import math
import re
import threading
import time

import nacl.exceptions
import nacl.secret
import nacl.utils

LOG = logging.getLogger(__name__)

MODE_PLAIN = 0x00
MODE_SEALED = 0x01
MODE_REFUSED = 0x02

PBKDF2_ITERATIONS = 10000
KEY_BYTES = nacl.secret.SecretBox.KEY_SIZE  # 32
SALT_BYTES = 8
NONCE_BYTES = nacl.secret.SecretBox.NONCE_SIZE  # 24
MAC_BYTES = nacl.secret.SecretBox.MACBYTES  # 16
DEFAULT_GRACE = 10
DEFAULT_MAX_SEEN = 65536
MAX_REFUSAL_BYTES = 200

REASON_WRONG_KEY = "wrong key"
REASON_STALE = "stale"
REASON_FUTURE = "future"
REASON_REPLAYED = "replayed"
REASON_CACHE_FULL = "replay cache full"
REASON_MALFORMED = "malformed"
REASON_NO_SECRET_HERE = "no secret here"
REASON_NO_SECRET_ON_PEER = "no secret on peer"
REASON_REFUSED = "refused by peer"

# "timestamp;payload": whole seconds, no sign, no leading zero (except "0" itself).
_STAMPED = re.compile(rb"(0|[1-9][0-9]{0,18});", re.ASCII)
_SAME_SECRET = "set the same WA_SECRET on the Webapp and on every Coreapp/Master, or on none of them"
_REASON_TEXT = re.compile(rf"[ -~]{{1,{MAX_REFUSAL_BYTES}}}", re.ASCII)


def _printable(raw):
    """``raw`` as printable ASCII for a log line (anything else becomes '?')."""
    return "".join(chr(b) if 0x20 <= b <= 0x7E else "?" for b in raw)


class FrameError(Exception):
    """A frame the link refuses; ``reason`` is one of the ``REASON_*`` constants."""

    def __init__(self, reason, message, detail=None):
        super().__init__(message)
        self.reason = reason
        self.detail = detail


def derive_key(secret):
    """The 32-byte secretbox key for a ``WA_SECRET`` value (see the module docstring for the salt)."""
    if isinstance(secret, str):
        secret = secret.encode("utf-8")
    if not secret:
        raise ValueError("WA_SECRET is empty: there is no key to derive")
    salt = hashlib.pbkdf2_hmac("sha256", secret, b"", PBKDF2_ITERATIONS, SALT_BYTES)
    return hashlib.pbkdf2_hmac("sha256", secret, salt, PBKDF2_ITERATIONS, KEY_BYTES)


class Link:
    """One side of the link: seals what it sends and opens what it receives.

    ``secret`` is the side's ``WA_SECRET`` (``None`` or ``""``: plaintext). ``grace`` is the
    timestamp window in seconds (10 as documented; tests may shrink it). ``clock`` returns Unix
    time in seconds. ``name`` labels the log lines ("webapp", "coreapp"). ``max_seen`` bounds
    the nonces remembered for replay detection.
    """

    def __init__(self, secret=None, *, grace=DEFAULT_GRACE, clock=time.time, name="link",
                 max_seen=DEFAULT_MAX_SEEN):
        if grace < 0:
            raise ValueError("grace must be >= 0 seconds")
        if max_seen < 1:
            raise ValueError("max_seen must be >= 1")
        self._box = nacl.secret.SecretBox(derive_key(secret)) if secret else None
        self._grace = grace
        self._clock = clock
        self._name = name
        self._max_seen = max_seen
        self._seen = {}  # nonce -> last second its frame is inside the window
        self._expiry = []  # heap of (that second, nonce)
        self._lock = threading.Lock()  # one Link may serve several connection threads

    @property
    def encrypted(self):
        """Whether this side has a ``WA_SECRET``."""
        return self._box is not None

    def _now(self):
        return math.floor(self._clock())

    def seal(self, payload):
        """The frame carrying ``payload`` (bytes): SEALED with a secret, PLAIN without."""
        payload = memoryview(payload).tobytes()
        if self._box is None:
            return bytes((MODE_PLAIN,)) + payload
        nonce = nacl.utils.random(NONCE_BYTES)
        plaintext = b"%d;" % self._now() + payload
        sealed = self._box.encrypt(plaintext, nonce)
        return bytes((MODE_SEALED,)) + sealed.nonce + sealed.ciphertext

    def refusal(self, error):
        """A REFUSED frame telling the peer why its frame was dropped (``error``: FrameError or str)."""
        reason = error.reason if isinstance(error, FrameError) else str(error)
        if not _REASON_TEXT.fullmatch(reason):
            raise ValueError(f"a refusal reason is 1-{MAX_REFUSAL_BYTES} printable ASCII characters")
        return bytes((MODE_REFUSED,)) + reason.encode("ascii")

    def _fail(self, reason, message, detail=None):
        """Log why a frame is dropped and return the error for the caller to raise."""
        LOG.warning("%s: frame rejected (%s): %s", self._name, reason, message)
        return FrameError(reason, message, detail)

    def open(self, frame):
        """The payload of ``frame``; raises :class:`FrameError` (after logging) when it is refused."""
        frame = memoryview(frame).tobytes()
        if not frame:
            raise self._fail(REASON_MALFORMED, "empty frame")
        mode, body = frame[0], frame[1:]
        if mode == MODE_REFUSED:
            text = _printable(body[:MAX_REFUSAL_BYTES])
            raise self._fail(REASON_REFUSED, f"the peer refused our frame: {text}", detail=text)
        if mode == MODE_PLAIN:
            if self._box is not None:
                raise self._fail(REASON_NO_SECRET_ON_PEER, "WA_SECRET is set here but the peer sent a plaintext "
                                 "frame: " + _SAME_SECRET)
            return body
        if mode != MODE_SEALED:
            raise self._fail(REASON_MALFORMED, f"unknown frame mode 0x{mode:02x}")
        if self._box is None:
            raise self._fail(REASON_NO_SECRET_HERE, "the peer sent an encrypted frame but WA_SECRET is not set "
                             "here: " + _SAME_SECRET)
        if len(body) < NONCE_BYTES + MAC_BYTES:
            raise self._fail(REASON_MALFORMED, f"encrypted frame too short ({len(frame)} bytes)")
        nonce, ciphertext = body[:NONCE_BYTES], body[NONCE_BYTES:]
        try:
            plaintext = self._box.decrypt(ciphertext, nonce)
        except nacl.exceptions.CryptoError:
            raise self._fail(REASON_WRONG_KEY, "cannot decrypt the frame (the WA_SECRET values differ, or the "
                             "frame was altered): " + _SAME_SECRET) from None
        match = _STAMPED.match(plaintext)
        if match is None:
            raise self._fail(REASON_MALFORMED, "decrypted frame does not start with 'timestamp;'")
        stamp = int(match.group(1))
        now = self._now()
        if stamp < now - self._grace or stamp > now + self._grace:
            raise self._fail(REASON_STALE if stamp < now else REASON_FUTURE,
                             f"Possible replay attack or time not in sync. Timestamp={stamp}, Now={now}, "
                             f"grace={self._grace}s (synchronise the clocks with NTP/chrony)")
        with self._lock:
            self._remember(nonce, stamp + self._grace, now)
        return plaintext[match.end():]

    def _remember(self, nonce, last_second, now):
        """Record an accepted nonce until its frame would be stale; refuse repeats and overflow."""
        while self._expiry and self._expiry[0][0] < now:
            del self._seen[heapq.heappop(self._expiry)[1]]
        if nonce in self._seen:
            raise self._fail(REASON_REPLAYED, "possible replay attack: this frame (nonce) was already "
                             f"received within the {self._grace}s window")
        if len(self._seen) >= self._max_seen:
            raise self._fail(REASON_CACHE_FULL, f"{self._max_seen} frames already inside the window: refusing "
                             "more rather than forgetting a nonce early")
        self._seen[nonce] = last_second
        heapq.heappush(self._expiry, (last_second, nonce))
