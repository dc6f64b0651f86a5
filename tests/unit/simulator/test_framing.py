# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The WA_SECRET link framing of the simulator against reference section 2.2."""

from __future__ import annotations

import hashlib
import logging
import types

import nacl.secret
import pytest
from waent_sim import framing

SECRET = "correct horse battery staple"
PAYLOAD = b'{"cmd":"health"}'
T0 = 1_700_000_000


@pytest.fixture
def pair(make_clock):
    """A Webapp and a Coreapp side with the same secret and separate clocks, both at T0."""
    web_clock, core_clock = make_clock(T0 + 0.25), make_clock(T0 + 0.5)
    return types.SimpleNamespace(web=framing.Link(SECRET, clock=web_clock, name="webapp"),
                                 core=framing.Link(SECRET, clock=core_clock, name="coreapp"),
                                 core_clock=core_clock)


def expect(reason, link, frame):
    with pytest.raises(framing.FrameError) as info:
        link.open(frame)
    assert info.value.reason == reason
    return info.value


def test_key_is_pbkdf2_sha256_10000_iterations_32_bytes_with_the_secret_derived_salt():
    # Section 2.2 parameters; the 8-byte salt derived from the secret is the documented choice.
    salt = hashlib.pbkdf2_hmac("sha256", SECRET.encode(), b"", 10000, 8)
    assert framing.derive_key(SECRET) == hashlib.pbkdf2_hmac("sha256", SECRET.encode(), salt, 10000, 32)
    assert framing.derive_key(SECRET.encode()) == framing.derive_key(SECRET)
    assert framing.derive_key(SECRET) != framing.derive_key(SECRET + "x")


def test_round_trip_both_directions(pair):
    web, core = pair.web, pair.core
    assert core.open(web.seal(PAYLOAD)) == PAYLOAD
    assert web.open(core.seal(b"")) == b""


def test_sealed_frame_layout_is_mode_nonce_secretbox_of_timestamp_semicolon_payload(pair):
    web = pair.web
    frame = web.seal(PAYLOAD)
    assert frame[0] == framing.MODE_SEALED
    assert len(frame) == 1 + 24 + 16 + len(b"%d;" % T0) + len(PAYLOAD)
    assert PAYLOAD not in frame
    box = nacl.secret.SecretBox(framing.derive_key(SECRET))
    assert box.decrypt(frame[25:], frame[1:25]) == b"%d;" % T0 + PAYLOAD


def test_every_frame_has_a_fresh_nonce(pair):
    web = pair.web
    frames = [web.seal(PAYLOAD) for _i in range(20)]
    assert len({frame[1:25] for frame in frames}) == 20


def test_wrong_key_is_rejected_and_logged(make_clock, caplog):
    clock = make_clock(T0)
    other = framing.Link("another secret", clock=clock, name="coreapp")
    frame = framing.Link(SECRET, clock=clock, name="webapp").seal(PAYLOAD)
    with caplog.at_level(logging.WARNING, logger="waent_sim.framing"):
        expect(framing.REASON_WRONG_KEY, other, frame)
    assert "coreapp" in caplog.text
    assert "wrong key" in caplog.text


@pytest.mark.parametrize("index", [1, 25, -1], ids=["nonce", "tag", "ciphertext"])
def test_altered_frame_is_rejected(pair, index):
    web, core = pair.web, pair.core
    frame = bytearray(web.seal(PAYLOAD))
    frame[index] ^= 0x01
    expect(framing.REASON_WRONG_KEY, core, bytes(frame))


@pytest.mark.parametrize(("offset", "reason"), [(11, framing.REASON_STALE), (-11, framing.REASON_FUTURE),
                                                (3600, framing.REASON_STALE), (-3600, framing.REASON_FUTURE)])
def test_timestamp_outside_the_10_second_grace_is_dropped_as_possible_replay(pair, caplog, offset, reason):
    web, core, core_clock = pair.web, pair.core, pair.core_clock
    frame = web.seal(PAYLOAD)
    core_clock.advance(offset)
    with caplog.at_level(logging.WARNING, logger="waent_sim.framing"):
        expect(reason, core, frame)
    assert "Possible replay attack or time not in sync" in caplog.text


@pytest.mark.parametrize("offset", [10, -10, 0])
def test_timestamp_on_the_window_edge_is_accepted(pair, offset):
    web, core, core_clock = pair.web, pair.core, pair.core_clock
    frame = web.seal(PAYLOAD)
    core_clock.advance(offset)
    assert core.open(frame) == PAYLOAD


def test_window_counts_whole_seconds_of_the_receiver(make_clock):
    sender_clock, receiver_clock = make_clock(T0 + 0.999), make_clock(T0 + 10.999)
    sender = framing.Link(SECRET, clock=sender_clock)
    receiver = framing.Link(SECRET, clock=receiver_clock)
    assert receiver.open(sender.seal(PAYLOAD)) == PAYLOAD  # stamp T0, receiver second T0 + 10
    frame = sender.seal(PAYLOAD)
    receiver_clock.now = T0 + 11.0
    expect(framing.REASON_STALE, receiver, frame)


def test_grace_is_a_constructor_argument(make_clock):
    clock = make_clock(T0)
    sender = framing.Link(SECRET, clock=clock)
    receiver = framing.Link(SECRET, clock=make_clock(T0 + 2), grace=2)
    assert receiver.open(sender.seal(PAYLOAD)) == PAYLOAD
    stale = sender.seal(PAYLOAD)
    receiver_late = framing.Link(SECRET, clock=make_clock(T0 + 3), grace=2)
    expect(framing.REASON_STALE, receiver_late, stale)


def test_default_grace_is_10_seconds():
    assert framing.DEFAULT_GRACE == 10
    assert framing.Link(SECRET)._grace == 10


def test_exact_replay_within_the_window_is_rejected_and_logged(pair, caplog):
    web, core, core_clock = pair.web, pair.core, pair.core_clock
    frame = web.seal(PAYLOAD)
    assert core.open(frame) == PAYLOAD
    core_clock.advance(5)
    with caplog.at_level(logging.WARNING, logger="waent_sim.framing"):
        expect(framing.REASON_REPLAYED, core, frame)
    assert "replay" in caplog.text


def test_replay_after_the_window_is_stale_not_accepted(pair):
    web, core, core_clock = pair.web, pair.core, pair.core_clock
    frame = web.seal(PAYLOAD)
    core.open(frame)
    core_clock.advance(11)
    expect(framing.REASON_STALE, core, frame)


def test_rejected_frame_does_not_burn_its_nonce(pair):
    web, core, core_clock = pair.web, pair.core, pair.core_clock
    frame = web.seal(PAYLOAD)
    core_clock.advance(-11)
    expect(framing.REASON_FUTURE, core, frame)
    core_clock.advance(11)
    assert core.open(frame) == PAYLOAD


def test_nonce_memory_is_bounded_and_refuses_rather_than_forgets(make_clock, caplog):
    clock = make_clock(T0)
    sender = framing.Link(SECRET, clock=clock)
    receiver = framing.Link(SECRET, clock=clock, grace=10, max_seen=2)
    first = sender.seal(b"1")
    receiver.open(first)
    receiver.open(sender.seal(b"2"))
    with caplog.at_level(logging.WARNING, logger="waent_sim.framing"):
        expect(framing.REASON_CACHE_FULL, receiver, sender.seal(b"3"))
    assert "refusing" in caplog.text
    expect(framing.REASON_REPLAYED, receiver, first)  # still remembered while inside the window
    clock.advance(11)  # both remembered frames are stale now: their nonces are forgotten
    assert receiver.open(sender.seal(b"4")) == b"4"
    assert len(receiver._seen) == 1


def test_secret_on_the_sender_only_fails_on_the_receiver(make_clock, caplog):
    clock = make_clock(T0)
    web = framing.Link(SECRET, clock=clock, name="webapp")
    core = framing.Link(None, clock=clock, name="coreapp")
    with caplog.at_level(logging.WARNING, logger="waent_sim.framing"):
        expect(framing.REASON_NO_SECRET_HERE, core, web.seal(PAYLOAD))
    assert "WA_SECRET is not set here" in caplog.text


def test_secret_on_the_receiver_only_fails_on_the_receiver(make_clock, caplog):
    clock = make_clock(T0)
    web = framing.Link("", clock=clock, name="webapp")
    core = framing.Link(SECRET, clock=clock, name="coreapp")
    with caplog.at_level(logging.WARNING, logger="waent_sim.framing"):
        expect(framing.REASON_NO_SECRET_ON_PEER, core, web.seal(PAYLOAD))
    assert "peer sent a plaintext frame" in caplog.text


@pytest.mark.parametrize(("web_secret", "core_secret"), [(SECRET, None), (None, SECRET), (SECRET, "other")])
def test_both_sides_log_why_a_mismatched_link_fails(make_clock, caplog, web_secret, core_secret):
    clock = make_clock(T0)
    web = framing.Link(web_secret, clock=clock, name="webapp")
    core = framing.Link(core_secret, clock=clock, name="coreapp")
    with caplog.at_level(logging.WARNING, logger="waent_sim.framing"):
        with pytest.raises(framing.FrameError) as info:
            core.open(web.seal(PAYLOAD))
        refused = expect(framing.REASON_REFUSED, web, core.refusal(info.value))
    assert refused.detail == info.value.reason
    sides = [record.getMessage().split(":")[0] for record in caplog.records]
    assert sides == ["coreapp", "webapp"]


def test_plaintext_mode_without_any_secret(make_clock):
    clock = make_clock(T0)
    web, core = framing.Link(None, clock=clock), framing.Link("", clock=clock)
    assert not web.encrypted and not core.encrypted
    frame = web.seal(PAYLOAD)
    assert frame == b"\x00" + PAYLOAD
    assert core.open(frame) == PAYLOAD
    clock.advance(3600)
    assert core.open(frame) == PAYLOAD  # no timestamp, no replay protection without WA_SECRET


def test_refusal_needs_printable_reason_and_is_sanitised_on_receipt(make_clock, caplog):
    link = framing.Link(None, clock=make_clock(T0))
    with pytest.raises(ValueError, match="printable"):
        link.refusal("bad\nreason")
    with pytest.raises(ValueError, match="printable"):
        link.refusal("")
    with caplog.at_level(logging.WARNING, logger="waent_sim.framing"):
        error = expect(framing.REASON_REFUSED, link, b"\x02evil\r\nforged log line")
    assert error.detail == "evil??forged log line"
    assert "\r" not in caplog.text


@pytest.mark.parametrize("frame", [b"", b"\x07abc", b"\x01" + b"\x00" * 39])
def test_malformed_frames_are_rejected(pair, frame):
    core = pair.core
    expect(framing.REASON_MALFORMED, core, frame)


@pytest.mark.parametrize("plaintext", [b"no timestamp", b"01700000000;x", b"-1700000000;x", b"1700000000"])
def test_authenticated_frame_without_a_valid_timestamp_is_malformed(pair, plaintext):
    core = pair.core
    sealed = nacl.secret.SecretBox(framing.derive_key(SECRET)).encrypt(plaintext)
    expect(framing.REASON_MALFORMED, core, b"\x01" + sealed.nonce + sealed.ciphertext)


def test_constructor_refuses_negative_grace_and_empty_nonce_memory():
    with pytest.raises(ValueError):
        framing.Link(SECRET, grace=-1)
    with pytest.raises(ValueError):
        framing.Link(SECRET, max_seen=0)
    with pytest.raises(ValueError):
        framing.derive_key("")


@pytest.mark.parametrize("value", [5, "text", None])
def test_only_bytes_like_payloads_and_frames(pair, value):
    with pytest.raises(TypeError):
        pair.web.seal(value)
    with pytest.raises(TypeError):
        pair.core.open(value)
