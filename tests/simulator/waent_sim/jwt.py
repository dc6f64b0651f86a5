# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Bearer tokens of the Webapp API: HS256 JWTs signed with ``WA_WEB_JWT_CRYPTO_KEY`` (reference section 4.1).

Documented behaviour:

* ``POST /v1/users/login`` answers ``{"users": [{"token": "<JWT>", "expires_after":
  "YYYY-MM-DD HH:MM:SS+00:00"}]}``; the token lives 7 days (604800 s) and is then sent as
  ``Authorization: Bearer <token>`` (section 4.1).
* The token is an HMAC-SHA256 JWT keyed with ``WA_WEB_JWT_CRYPTO_KEY``, a key that must be the
  same on every Webapp behind a load balancer; tokens are also checked against the database
  ``tokens`` table, which is how logout revokes them (section 2.2). This module only signs and
  verifies; the database check belongs to the caller, which looks the ``jti`` claim up.
* Roles ``ROLE_ADMIN`` > ``ROLE_USER`` > ``ROLE_API`` (section 4.1).

Choices where the reference is silent (to report):

* Claims: ``sub`` (username), ``role`` (one of :data:`ROLES`), ``iat`` and ``exp`` (integer
  Unix seconds, ``exp = iat + 604800``) and ``jti`` (32 random hex digits, the key of the token
  row). All five are required; unknown claims are ignored. Header ``{"alg": "HS256", "typ": "JWT"}``.
* Verification is strict: exactly three unpadded base64url segments in canonical form; JSON
  objects without duplicate names; ``alg`` exactly ``"HS256"`` (``none``, a missing ``alg`` and
  every other algorithm are refused before the signature is looked at); ``typ``, when present,
  ``"JWT"``; a ``crit`` header is refused; the signature is compared in constant time
  (``hmac.compare_digest``) before the payload is parsed. A token is expired from the second
  ``exp`` on (RFC 7519 section 4.1.4: valid only *before* ``exp``). ``iat`` is not compared with
  the clock, so a token issued by another Webapp whose clock is slightly ahead still works.
* An empty key is refused (the old images' hard-coded fallback key is not simulated here).

Errors raise :class:`TokenError` with a machine-readable ``reason`` (``REASON_*``).
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime
import hashlib
import hmac
import json
import math
import re
import secrets
import time

ALGORITHM = "HS256"
LIFETIME = 604800  # 7 days, section 4.1
ROLES = ("ROLE_ADMIN", "ROLE_USER", "ROLE_API")
EXPIRES_AFTER_FORMAT = "%Y-%m-%d %H:%M:%S+00:00"
_B64URL = re.compile(r"[A-Za-z0-9_-]*", re.ASCII)

REASON_MALFORMED = "malformed"
REASON_ALGORITHM = "algorithm"
REASON_SIGNATURE = "signature"
REASON_CLAIMS = "claims"
REASON_EXPIRED = "expired"


class TokenError(Exception):
    """A bearer token that is refused; ``reason`` is one of the ``REASON_*`` constants."""

    def __init__(self, reason, message):
        super().__init__(message)
        self.reason = reason


@dataclasses.dataclass(frozen=True)
class Claims:
    """The verified content of a token."""

    sub: str
    role: str
    iat: int
    exp: int
    jti: str

    @property
    def expires_after(self):
        """``exp`` as the login response shows it (section 4.1)."""
        return expires_after(self.exp)


def expires_after(exp):
    """Unix time ``exp`` as ``YYYY-MM-DD HH:MM:SS+00:00`` (UTC), the form of section 4.1."""
    return datetime.datetime.fromtimestamp(exp, tz=datetime.UTC).strftime(EXPIRES_AFTER_FORMAT)


def _key_bytes(key):
    if isinstance(key, str):
        key = key.encode("utf-8")
    if not key:
        raise ValueError("WA_WEB_JWT_CRYPTO_KEY is empty: refusing to sign or verify with an empty key")
    return key


def _b64encode(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode(segment, what):
    if not _B64URL.fullmatch(segment) or len(segment) % 4 == 1:
        raise TokenError(REASON_MALFORMED, f"the {what} is not unpadded base64url")
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError):
        raise TokenError(REASON_MALFORMED, f"the {what} is not unpadded base64url") from None
    if _b64encode(raw) != segment:
        raise TokenError(REASON_MALFORMED, f"the {what} is not in canonical base64url")
    return raw


def _no_duplicates(pairs):
    names = [pair[0] for pair in pairs]
    if len(names) != len(set(names)):
        raise ValueError("duplicate name in a JSON object")
    return dict(pairs)


def _json_object(raw, what):
    try:
        value = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates)
    except (UnicodeDecodeError, ValueError):
        raise TokenError(REASON_MALFORMED, f"the {what} is not a JSON object without duplicate names") from None
    if not isinstance(value, dict):
        raise TokenError(REASON_MALFORMED, f"the {what} is not a JSON object")
    return value


def _dumps(value):
    return json.dumps(value, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def _sign(key, signing_input):
    return hmac.new(key, signing_input, hashlib.sha256).digest()


def issue(key, subject, role, *, clock=time.time, lifetime=LIFETIME, jti=None):
    """A signed token for ``subject`` with ``role``; returns ``(token, Claims)``."""
    key = _key_bytes(key)
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if not isinstance(subject, str) or not subject:
        raise ValueError("subject must be a non-empty string")
    if lifetime <= 0:
        raise ValueError("lifetime must be positive")
    iat = math.floor(clock())
    claims = Claims(sub=subject, role=role, iat=iat, exp=iat + int(lifetime), jti=jti or secrets.token_hex(16))
    signing_input = (_b64encode(_dumps({"alg": ALGORITHM, "typ": "JWT"})) + "."
                     + _b64encode(_dumps(dataclasses.asdict(claims)))).encode("ascii")
    return signing_input.decode("ascii") + "." + _b64encode(_sign(key, signing_input)), claims


def _checked_claims(payload):
    def field(name, kind):
        value = payload.get(name)
        if not isinstance(value, kind) or isinstance(value, bool) or (kind is str and not value):
            raise TokenError(REASON_CLAIMS, f"claim {name!r} is missing or not a {kind.__name__}")
        return value

    claims = Claims(sub=field("sub", str), role=field("role", str), iat=field("iat", int),
                    exp=field("exp", int), jti=field("jti", str))
    if claims.role not in ROLES:
        raise TokenError(REASON_CLAIMS, f"unknown role {claims.role!r}")
    if claims.exp <= claims.iat:
        raise TokenError(REASON_CLAIMS, "the token expires before it was issued")
    return claims


def decode(token, key, *, clock=time.time):
    """The :class:`Claims` of ``token`` after checking form, algorithm, signature, claims and expiry."""
    key = _key_bytes(key)
    if isinstance(token, bytes):
        try:
            token = token.decode("ascii")
        except UnicodeDecodeError:
            raise TokenError(REASON_MALFORMED, "the token is not ASCII") from None
    if not isinstance(token, str):
        raise TokenError(REASON_MALFORMED, "the token is not a string")
    parts = token.split(".")
    if len(parts) != 3 or not parts[0] or not parts[1]:
        raise TokenError(REASON_MALFORMED, "a token is three dot-separated segments")
    header = _json_object(_b64decode(parts[0], "header"), "header")
    alg = header.get("alg")
    if alg != ALGORITHM:
        raise TokenError(REASON_ALGORITHM, f"algorithm {alg!r} refused: only {ALGORITHM} is accepted")
    if header.get("typ", "JWT") != "JWT":
        raise TokenError(REASON_MALFORMED, f"token type {header.get('typ')!r} is not JWT")
    if "crit" in header:
        raise TokenError(REASON_MALFORMED, "critical header extensions are not supported")
    if not parts[2]:
        raise TokenError(REASON_SIGNATURE, "the token is not signed")
    signature = _b64decode(parts[2], "signature")
    expected = _sign(key, (parts[0] + "." + parts[1]).encode("ascii"))
    if not hmac.compare_digest(signature, expected):
        raise TokenError(REASON_SIGNATURE, "the signature does not match (altered token or another key)")
    claims = _checked_claims(_json_object(_b64decode(parts[1], "payload"), "payload"))
    now = clock()
    if now >= claims.exp:
        raise TokenError(REASON_EXPIRED, f"the token expired at {claims.expires_after}")
    return claims
