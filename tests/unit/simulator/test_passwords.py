# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The simulator's password and username rules against reference section 4.1, and its password storage."""

from __future__ import annotations

import hmac
import re
import string

import pytest
from waent_sim import passwords

# The set of section 4.1, written out as the reference prints it.
REFERENCE_SPECIALS = r"""!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~"""
GOOD = "Aa1!aaaa"


def test_a_password_meeting_every_rule_has_no_problem():
    assert passwords.password_problems(GOOD) == []
    assert passwords.password_problems("Secret-Pass-2026") == []


@pytest.mark.parametrize(("password", "rule"), [
    ("Aa1!aaa", "length"),  # 7 characters
    ("Aa1!" + "a" * 61, "length"),  # 65 characters
    ("Aa!aaaaa", "digit"),
    ("aa1!aaaa", "upper"),
    ("AA1!AAAA", "lower"),
    ("Aa1aaaaa", "special"),
])
def test_each_rule_alone(password, rule):
    assert passwords.password_problems(password) == [rule]


@pytest.mark.parametrize("length", [8, 64])
def test_length_bounds_are_inclusive(length):
    assert passwords.password_problems("Aa1!" + "a" * (length - 4)) == []


@pytest.mark.parametrize(("password", "problems"), [
    ("", ["length", "digit", "upper", "lower", "special"]),
    ("aaaa", ["length", "digit", "upper", "special"]),
    ("12345678", ["upper", "lower", "special"]),
    ("ABCDEFGH" * 9, ["length", "digit", "lower", "special"]),
    ("!!!!!!!!", ["digit", "upper", "lower"]),
])
def test_rules_together_in_a_fixed_order(password, problems):
    assert passwords.password_problems(password) == problems


def test_the_special_set_is_exactly_the_reference_set():
    assert passwords.SPECIALS == REFERENCE_SPECIALS
    assert len(set(REFERENCE_SPECIALS)) == 32
    assert set(REFERENCE_SPECIALS) == set(string.punctuation)


@pytest.mark.parametrize("special", list(REFERENCE_SPECIALS))
def test_every_listed_special_counts(special):
    assert passwords.password_problems("Aa1aaaaa" + special) == []


@pytest.mark.parametrize("other", [" ", "\t", "€", "£", "§", "¡", "¿", "«", "\u2013"])
def test_characters_outside_the_list_are_not_specials(other):
    assert passwords.password_problems("Aa1aaaaa" + other) == ["special"]


@pytest.mark.parametrize(("password", "rule"), [
    ("Äa1!aaaa", "upper"), ("ßA1!AAAA", "lower"), ("Aa\u0663!aaaa", "digit"), ("Aa１!aaaa", "digit"),
])
def test_only_ascii_letters_and_digits_count(password, rule):
    assert passwords.password_problems(password) == [rule]


def test_length_counts_characters_not_bytes():
    password = "Aa1!" + "é" * 60
    assert len(password.encode("utf-8")) > 64
    assert passwords.password_problems(password) == []


@pytest.mark.parametrize(("username", "ok"), [
    ("abc", False), ("abcd", True), ("a" * 32, True), ("a" * 33, False), ("", False), ("admin", True),
])
def test_username_length_4_to_32(username, ok):
    assert passwords.username_problems(username) == ([] if ok else ["length"])


@pytest.mark.parametrize("value", [None, b"Aa1!aaaa", 12345678])
def test_non_strings_are_refused(value):
    with pytest.raises(TypeError):
        passwords.password_problems(value)
    with pytest.raises(TypeError):
        passwords.username_problems(value)


def test_describe_names_each_unmet_rule():
    text = passwords.describe(["length", "special"])
    assert "8 to 64 characters" in text
    assert REFERENCE_SPECIALS in text
    assert "digit" not in text
    assert passwords.describe([]) == ""
    assert passwords.describe(["length"], passwords.USERNAME_RULES) == "must have 4 to 32 characters"


def test_hash_verifies_the_password_and_nothing_else():
    stored = passwords.hash_password(GOOD)
    assert GOOD not in stored
    assert re.fullmatch(r"\$scrypt\$ln=14,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}", stored)
    assert passwords.verify_password(GOOD, stored)
    assert not passwords.verify_password(GOOD.upper(), stored)
    assert not passwords.verify_password(GOOD + " ", stored)
    assert not passwords.verify_password("", stored)


def test_each_hash_has_its_own_salt():
    first, second = passwords.hash_password(GOOD), passwords.hash_password(GOOD)
    assert first != second
    assert first.split("$")[3] != second.split("$")[3]


def test_altered_hash_does_not_verify():
    stored = passwords.hash_password(GOOD)
    head, digest = stored.rsplit("$", 1)
    flipped = digest[:5] + ("B" if digest[5] == "A" else "A") + digest[6:]
    assert not passwords.verify_password(GOOD, head + "$" + flipped)


def test_verification_compares_in_constant_time(monkeypatch):
    calls = []
    real = hmac.compare_digest

    def spy(left, right):
        calls.append((left, right))
        return real(left, right)

    stored = passwords.hash_password(GOOD)
    monkeypatch.setattr(passwords.hmac, "compare_digest", spy)
    assert passwords.verify_password(GOOD, stored)
    assert len(calls) == 1


@pytest.mark.parametrize("stored", [
    "", "secret", "$2y$10$abcdefghijklmnopqrstuv", "$scrypt$ln=14,r=8,p=1$short$short",
    "$scrypt$ln=30,r=8,p=1$" + "A" * 22 + "$" + "A" * 43,  # 2**30 * 1 KiB: refused, not computed
    "$scrypt$ln=14,r=99,p=1$" + "A" * 22 + "$" + "A" * 43,
    "$scrypt$ln=0,r=8,p=1$" + "A" * 22 + "$" + "A" * 43,
])
def test_invalid_stored_hashes_raise(stored):
    with pytest.raises(ValueError):
        passwords.verify_password(GOOD, stored)
