# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Webapp<->Coreapp link over TCP: length-prefixed frames of :mod:`waent_sim.framing`.

The vendor's wire format is not documented (reference section 1.4 names the services on
6250-6253, section 2.2 the encryption). The simulator's:

* a frame on the wire is a 4-byte big-endian length, then that many bytes of a
  :class:`waent_sim.framing.Link` frame (PLAIN, SEALED or REFUSED); at most ``MAX_FRAME`` bytes;
* a request is one frame whose payload is a JSON object with an ``op`` member; the answer is
  one frame whose payload is a JSON object (``{"ok": true, ...}`` or ``{"ok": false, "error": ...}``);
* a frame the receiver refuses (wrong key, stale, one-sided secret) is answered by a REFUSED
  frame and the connection is closed, so that both sides log why (framing's docstring).

Every socket operation has a timeout; a caller never waits longer than ``timeout`` seconds per step.
"""

from __future__ import annotations

import json
import logging
import socket
import struct

from waent_sim import framing

LOG = logging.getLogger(__name__)

MAX_FRAME = 1 << 20  # 1 MiB: a webhook CA bundle or a settings object fits many times over
DEFAULT_TIMEOUT = 5.0
_LENGTH = struct.Struct(">I")


class LinkDown(Exception):
    """The peer could not be asked: connection refused or timed out, a frame refused, a bad answer."""

    def __init__(self, reason, message):
        super().__init__(message)
        self.reason = reason


def _recv_exactly(sock, size):
    chunks = []
    while size:
        chunk = sock.recv(min(size, 65536))
        if not chunk:
            raise ConnectionError("connection closed by the peer")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def send_frame(sock, frame):
    """Write one frame with its length prefix."""
    if len(frame) > MAX_FRAME:
        raise ValueError(f"frame of {len(frame)} bytes is over the {MAX_FRAME}-byte limit")
    sock.sendall(_LENGTH.pack(len(frame)) + frame)


def recv_frame(sock):
    """Read one frame; ``None`` when the peer closed the connection between frames."""
    head = sock.recv(_LENGTH.size, socket.MSG_WAITALL)
    if not head:
        return None
    if len(head) < _LENGTH.size:
        raise ConnectionError("connection closed inside a frame header")
    (size,) = _LENGTH.unpack(head)
    if size == 0 or size > MAX_FRAME:
        raise ConnectionError(f"frame length {size} outside 1-{MAX_FRAME}")
    return _recv_exactly(sock, size)


def _dumps(obj):
    return json.dumps(obj, separators=(",", ":"), sort_keys=True).encode("utf-8")


def _loads(payload, what):
    try:
        value = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise LinkDown("malformed", f"{what} is not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise LinkDown("malformed", f"{what} is not a JSON object")
    return value


def call(host, port, link, request, *, timeout=DEFAULT_TIMEOUT, peer_name="coreapp"):
    """Send ``request`` (a dict with ``op``) to ``host:port`` over ``link``; return the answer dict.

    Raises :class:`LinkDown` with the reason (``connect``, ``timeout``, a framing reason, ``malformed``).
    """
    where = f"{peer_name} {host}:{port}"
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except OSError as exc:
        raise LinkDown("connect", f"cannot reach {where}: {exc}") from None
    with sock:
        try:
            send_frame(sock, link.seal(_dumps(request)))
            frame = recv_frame(sock)
        except TimeoutError:
            raise LinkDown("timeout", f"{where} did not answer within {timeout} s") from None
        except OSError as exc:
            raise LinkDown("connect", f"link to {where} broken: {exc}") from None
        if frame is None:
            raise LinkDown("closed", f"{where} closed the connection without an answer")
        try:
            payload = link.open(frame)
        except framing.FrameError as exc:
            raise LinkDown(exc.reason, f"{where}: {exc}") from None
    return _loads(payload, f"the answer of {where}")


def serve_connection(sock, link, handler, *, peer, timeout=DEFAULT_TIMEOUT):
    """Answer the requests of one accepted connection until the peer closes it.

    ``handler(request_dict)`` returns the answer dict. A refused frame is answered with a
    REFUSED frame (the peer logs it too) and ends the connection.
    """
    sock.settimeout(timeout)
    with sock:
        while True:
            try:
                frame = recv_frame(sock)
            except (OSError, ConnectionError) as exc:
                LOG.info("link from %s ended: %s", peer, exc)
                return
            if frame is None:
                return
            try:
                payload = link.open(frame)
            except framing.FrameError as exc:
                LOG.warning("link from %s: dropped a frame (%s)", peer, exc.reason)
                try:
                    send_frame(sock, link.refusal(exc))
                except OSError:
                    pass
                return
            try:
                request = _loads(payload, f"the request of {peer}")
            except LinkDown as exc:
                answer = {"ok": False, "error": str(exc)}
            else:
                answer = handler(request)
            try:
                send_frame(sock, link.seal(_dumps(answer)))
            except OSError as exc:
                LOG.info("link from %s: cannot answer: %s", peer, exc)
                return
