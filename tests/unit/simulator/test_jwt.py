# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The simulator's bearer tokens against reference section 4.1 (HS256, WA_WEB_JWT_CRYPTO_KEY, 7 days)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re

import pytest
from waent_sim import jwt

KEY = "k" * 64
T0 = 1_700_000_000  # 2023-11-14 22:13:20 UTC


def b64(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def forge(header, payload, key=KEY, digest=hashlib.sha256):
    """A token built by hand: any header and payload, HMAC-signed with ``key``."""
    head = b64(header if isinstance(header, bytes) else json.dumps(header).encode())
    body = b64(payload if isinstance(payload, bytes) else json.dumps(payload).encode())
    signature = hmac.new(key.encode(), f"{head}.{body}".encode(), digest).digest()
    return f"{head}.{body}.{b64(signature)}"


def claims(**changes):
    value = {"sub": "admin", "role": "ROLE_ADMIN", "iat": T0, "exp": T0 + 604800, "jti": "ab" * 16}
    value.update(changes)
    return {name: item for name, item in value.items() if item is not None}


def expect(reason, token, key=KEY, now=T0 + 1):
    with pytest.raises(jwt.TokenError) as info:
        jwt.decode(token, key, clock=lambda: now)
    assert info.value.reason == reason
    return info.value


def test_round_trip_carries_subject_role_times_and_token_id(clock):
    clock.now = T0 + 0.7
    token, issued = jwt.issue(KEY, "admin", "ROLE_ADMIN", clock=clock)
    assert issued.iat == T0
    assert issued.exp - issued.iat == 604800
    assert re.fullmatch(r"[0-9a-f]{32}", issued.jti)
    assert jwt.decode(token, KEY, clock=clock) == issued
    assert jwt.decode(token.encode(), KEY, clock=clock) == issued


def test_token_is_an_hs256_jwt_signed_with_the_key_over_header_and_payload(clock):
    token, issued = jwt.issue(KEY, "alice", "ROLE_USER", clock=clock)
    head, body, signature = token.split(".")
    assert json.loads(base64.urlsafe_b64decode(head + "==")) == {"alg": "HS256", "typ": "JWT"}
    assert json.loads(base64.urlsafe_b64decode(body + "==")) == {
        "sub": "alice", "role": "ROLE_USER", "iat": T0, "exp": T0 + 604800, "jti": issued.jti}
    assert signature == b64(hmac.new(KEY.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest())


def test_each_token_has_its_own_id(clock):
    ids = {jwt.issue(KEY, "admin", "ROLE_ADMIN", clock=clock)[1].jti for _i in range(10)}
    assert len(ids) == 10


def test_expires_after_has_the_login_response_form():
    assert jwt.expires_after(T0 + 604800) == "2023-11-21 22:13:20+00:00"
    assert jwt.Claims("a", "ROLE_API", 0, 59, "j").expires_after == "1970-01-01 00:00:59+00:00"


def test_token_is_valid_until_the_second_before_exp(clock):
    token, issued = jwt.issue(KEY, "admin", "ROLE_ADMIN", clock=clock)
    assert jwt.decode(token, KEY, clock=lambda: issued.exp - 0.001) == issued
    error = expect(jwt.REASON_EXPIRED, token, now=issued.exp)
    assert "2023-11-21 22:13:20+00:00" in str(error)
    expect(jwt.REASON_EXPIRED, token, now=issued.exp + 86400)


def test_another_key_is_refused(clock):
    token = jwt.issue(KEY, "admin", "ROLE_ADMIN", clock=clock)[0]
    expect(jwt.REASON_SIGNATURE, token, key="k" * 63 + "K")


def test_tampered_payload_is_refused(clock):
    token = jwt.issue(KEY, "bob", "ROLE_USER", clock=clock)[0]
    head, signature = token.split(".")[::2]
    promoted = b64(json.dumps(claims(sub="bob")).encode())
    expect(jwt.REASON_SIGNATURE, f"{head}.{promoted}.{signature}")


def test_tampered_signature_is_refused(clock):
    token = jwt.issue(KEY, "bob", "ROLE_USER", clock=clock)[0]
    head, body, signature = token.split(".")
    raw = bytearray(base64.urlsafe_b64decode(signature + "="))
    raw[0] ^= 0x80
    expect(jwt.REASON_SIGNATURE, f"{head}.{body}.{b64(bytes(raw))}")


def test_signature_is_compared_in_constant_time(clock, monkeypatch):
    calls = []
    real = hmac.compare_digest

    def spy(left, right):
        calls.append((left, right))
        return real(left, right)

    monkeypatch.setattr(jwt.hmac, "compare_digest", spy)
    token = jwt.issue(KEY, "admin", "ROLE_ADMIN", clock=clock)[0]
    jwt.decode(token, KEY, clock=clock)
    assert len(calls) == 1


@pytest.mark.parametrize("header", [
    {"alg": "none", "typ": "JWT"}, {"alg": "None"}, {"alg": "hs256"}, {"alg": "HS512"}, {"alg": "RS256"},
    {"typ": "JWT"}, {"alg": ["HS256"]},
])
def test_any_algorithm_but_hs256_is_refused(header):
    payload = b64(json.dumps(claims()).encode())
    unsigned = f"{b64(json.dumps(header).encode())}.{payload}."
    expect(jwt.REASON_ALGORITHM, unsigned)
    expect(jwt.REASON_ALGORITHM, forge(header, claims()))


def test_hs256_header_with_another_mac_is_refused():
    expect(jwt.REASON_SIGNATURE, forge({"alg": "HS256"}, claims(), digest=hashlib.sha512))


def test_unsigned_hs256_token_is_refused():
    head, body = forge({"alg": "HS256"}, claims()).split(".")[:2]
    expect(jwt.REASON_SIGNATURE, f"{head}.{body}.")


def test_hand_built_token_with_the_right_key_is_accepted():
    # The forge helper is a faithful signer: the refusals above are about what they change.
    assert jwt.decode(forge({"alg": "HS256", "typ": "JWT"}, claims()), KEY, clock=lambda: T0).sub == "admin"


@pytest.mark.parametrize("header", [
    b'{"alg":"none","alg":"HS256"}', b'{"alg":"HS256","typ":"JWT","typ":"JWT"}', b'["HS256"]', b"not json",
    {"alg": "HS256", "typ": "JWS"}, {"alg": "HS256", "crit": ["exp"]},
])
def test_odd_headers_are_malformed(header):
    expect(jwt.REASON_MALFORMED, forge(header, claims()))


@pytest.mark.parametrize("mangle", [
    lambda t: t + ".", lambda t: t.rsplit(".", 1)[0], lambda t: "." + t.split(".", 1)[1],
    lambda t: t.replace(".", "=.", 1), lambda t: t + "+/", lambda t: "é" + t,
], ids=["four-segments", "two-segments", "empty-header", "padding", "standard-b64", "non-ascii"])
def test_malformed_tokens_are_refused(clock, mangle):
    token = jwt.issue(KEY, "admin", "ROLE_ADMIN", clock=clock)[0]
    expect(jwt.REASON_MALFORMED, mangle(token))
    expect(jwt.REASON_MALFORMED, mangle(token).encode("utf-8"))


def test_non_canonical_signature_encoding_is_malformed(clock):
    token = jwt.issue(KEY, "admin", "ROLE_ADMIN", clock=clock)[0]
    head, body, signature = token.split(".")
    # 32 bytes -> 43 characters, the last one carrying 2 unused bits; setting one is another spelling.
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    assert alphabet.index(signature[-1]) & 3 == 0
    twin = signature[:-1] + alphabet[alphabet.index(signature[-1]) | 1]
    expect(jwt.REASON_MALFORMED, f"{head}.{body}.{twin}")


@pytest.mark.parametrize("payload", [
    claims(sub=None), claims(sub=""), claims(role="ROLE_ROOT"), claims(role=None), claims(iat=True),
    claims(iat=str(T0)), claims(exp=None), claims(exp=float(T0 + 10)), claims(jti=None), claims(jti=7),
    claims(exp=T0), [claims()],
])
def test_missing_or_wrong_claims_are_refused(payload):
    expect(jwt.REASON_CLAIMS if isinstance(payload, dict) else jwt.REASON_MALFORMED, forge({"alg": "HS256"}, payload))


def test_empty_key_is_refused(clock):
    with pytest.raises(ValueError, match="empty"):
        jwt.issue("", "admin", "ROLE_ADMIN", clock=clock)
    token = jwt.issue(KEY, "admin", "ROLE_ADMIN", clock=clock)[0]
    with pytest.raises(ValueError, match="empty"):
        jwt.decode(token, b"", clock=clock)


@pytest.mark.parametrize(("subject", "role", "lifetime"), [
    ("admin", "ROLE_ROOT", 604800), ("", "ROLE_USER", 604800), ("admin", "ROLE_USER", 0),
])
def test_issue_refuses_bad_arguments(clock, subject, role, lifetime):
    with pytest.raises(ValueError):
        jwt.issue(KEY, subject, role, clock=clock, lifetime=lifetime)


def test_default_lifetime_is_seven_days():
    assert jwt.LIFETIME == 7 * 24 * 3600
