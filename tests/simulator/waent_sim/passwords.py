# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Password and username rules of the Webapp users, and how the simulator stores passwords (reference section 4.1).

Documented rules (section 4.1):

* password: 8 to 64 characters, with at least one digit, one upper-case letter, one lower-case
  letter and one special character from ``!"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~`` (:data:`SPECIALS`,
  the 32 printable ASCII punctuation characters);
* username: 4 to 32 characters.

:func:`password_problems` and :func:`username_problems` return the unmet rules, in the order of
:data:`PASSWORD_RULES` / :data:`USERNAME_RULES`; an empty list means the value is acceptable.

Choices where the reference is silent (to report):

* Lengths count Unicode code points (Python ``len``), not bytes.
* "Digit", "upper" and "lower" are the ASCII classes ``0-9``, ``A-Z`` and ``a-z``; a non-ASCII
  letter (``Ä``, ``ß``) or digit (``٣``) does not satisfy them.
* Characters outside the four classes (space, non-ASCII) are neither required nor refused: the
  documented rules only demand presence, so the simulator adds no rule of its own.
* Usernames have no rule beyond their length.
* Storage: scrypt (``hashlib.scrypt``, N=2**14, r=8, p=1, 32 bytes) with a 16-byte random salt,
  kept as ``$scrypt$ln=14,r=8,p=1$<salt>$<hash>`` (unpadded standard base64); verification
  recomputes and compares in constant time. The vendor's storage format is not documented.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re

PASSWORD_MIN = 8
PASSWORD_MAX = 64
USERNAME_MIN = 4
USERNAME_MAX = 32
SPECIALS = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
DIGITS = "0123456789"
UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
LOWER = "abcdefghijklmnopqrstuvwxyz"

PASSWORD_RULES = {
    "length": f"{PASSWORD_MIN} to {PASSWORD_MAX} characters",
    "digit": "at least one digit (0-9)",
    "upper": "at least one upper-case letter (A-Z)",
    "lower": "at least one lower-case letter (a-z)",
    "special": f"at least one special character from {SPECIALS}",
}
USERNAME_RULES = {
    "length": f"{USERNAME_MIN} to {USERNAME_MAX} characters",
}

SCRYPT_LOG2_N = 14
SCRYPT_R = 8
SCRYPT_P = 1
SCRYPT_BYTES = 32
SALT_BYTES = 16
# Refuse stored parameters that would make one verification cost more than this much memory.
SCRYPT_MAX_MEMORY = 64 * 1024 * 1024

_STORED = re.compile(r"\$scrypt\$ln=([0-9]{1,2}),r=([0-9]{1,2}),p=([0-9]{1,2})"
                     r"\$([A-Za-z0-9+/]{22})\$([A-Za-z0-9+/]{43})", re.ASCII)


def _text(value, what):
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a string")
    return value


def password_problems(password):
    """The names of the rules of section 4.1 that ``password`` does not meet (empty: acceptable)."""
    password = _text(password, "password")
    problems = []
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        problems.append("length")
    for rule, members in (("digit", DIGITS), ("upper", UPPER), ("lower", LOWER), ("special", SPECIALS)):
        if not any(char in members for char in password):
            problems.append(rule)
    return problems


def username_problems(username):
    """The names of the username rules of section 4.1 that ``username`` does not meet."""
    username = _text(username, "username")
    return [] if USERNAME_MIN <= len(username) <= USERNAME_MAX else ["length"]


def describe(problems, rules=None):
    """One sentence listing what ``problems`` (rule names) ask for, for an API error detail."""
    rules = PASSWORD_RULES if rules is None else rules
    return "must have " + "; ".join(rules[name] for name in problems) if problems else ""


def _b64(raw):
    return base64.b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text):
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


def _scrypt(password, salt, log2_n, r, p):
    n = 1 << log2_n
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=SCRYPT_BYTES,
                          maxmem=SCRYPT_MAX_MEMORY + 1024 * 1024)


def hash_password(password):
    """``password`` in the stored form ``$scrypt$ln=..,r=..,p=..$salt$hash``, with a fresh random salt."""
    password = _text(password, "password")
    salt = os.urandom(SALT_BYTES)
    digest = _scrypt(password, salt, SCRYPT_LOG2_N, SCRYPT_R, SCRYPT_P)
    return f"$scrypt$ln={SCRYPT_LOG2_N},r={SCRYPT_R},p={SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password, stored):
    """Whether ``password`` matches ``stored``; ``ValueError`` when ``stored`` is not a valid hash."""
    password = _text(password, "password")
    match = _STORED.fullmatch(_text(stored, "stored hash"))
    if match is None:
        raise ValueError("not a stored password hash of the form $scrypt$ln=..,r=..,p=..$salt$hash")
    log2_n, r, p = (int(match.group(i)) for i in (1, 2, 3))
    if not (1 <= log2_n <= 24 and r >= 1 and p >= 1) or 128 * r * ((1 << log2_n) + p + 2) > SCRYPT_MAX_MEMORY:
        raise ValueError("stored scrypt parameters out of range")
    try:
        salt, digest = _unb64(match.group(4)), _unb64(match.group(5))
    except binascii.Error:
        raise ValueError("stored password hash is not valid base64") from None
    return hmac.compare_digest(_scrypt(password, salt, log2_n, r, p), digest)
