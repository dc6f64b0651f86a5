# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import datetime
import os
import stat
import string

import pytest
from ansible_collections.waent.onprem.plugins.module_utils import _secrets as s
from ansible_collections.waent.onprem.plugins.module_utils import _secrets_bundle as sb
from ansible_collections.waent.onprem.plugins.module_utils import _secrets_policy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

NOW = datetime.datetime(2026, 11, 24, 12, 0, 0, tzinfo=datetime.timezone.utc)  # noqa: UP017
# One fingerprint key for the plans of a test, as a bundle keeps one across runs.
KEY = "0123456789abcdef" * 4


def specs(*items):
    return s.normalize_specs([dict(item) for item in items])


def plan(current, spec_list, **kwargs):
    """s.plan on a bundle whose fingerprint key is KEY."""
    kwargs.setdefault("fingerprint_key", KEY)
    return s.plan(current, spec_list, **kwargs)


def make(**items):
    """A bundle created at NOW for the given name=policy pairs."""
    planned = plan({}, specs(*({"name": n, "policy": p} for n, p in items.items())), now=NOW)
    return planned.entries


# --------------------------------------------------------------------------- policies


@pytest.mark.parametrize("name", sp.BUILTIN_POLICIES)
def test_builtin_generates_valid_values(name):
    policy = sp.BUILTIN_POLICIES[name]()
    for _attempt in range(50):
        value = policy.generate()
        assert len(value) == policy.length
        assert policy.violations(value) == []
        assert set(value) <= set(policy.alphabet)


def test_generated_values_differ():
    policy = sp.BUILTIN_POLICIES["wa_secret"]()
    assert len({policy.generate() for _attempt in range(20)}) == 20


def test_jwt_key_is_64_alphanumerics():
    policy = sp.BUILTIN_POLICIES["jwt_key"]()
    value = policy.generate()
    assert len(value) == 64 and value.isalnum() and value.isascii()
    assert "longer than the maximum length 64" in policy.violations(value + "a")[0]
    assert policy.violations(value[:-1] + "-") == ["contains characters outside the policy's alphabet (punctuation)"]


@pytest.mark.parametrize("char", list("?{}&~!()^=") + [" ", "'", '"', "\\", ";", "#", "$", "`"])
def test_db_password_rejects_vendor_and_env_breaking_chars(char):
    policy = sp.BUILTIN_POLICIES["db_password"]()
    value = "Aa1-" + "x" * 10 + char
    broken = policy.violations(value)
    assert len(broken) == 1 and "forbids" in broken[0]
    # the message lists the rule's set, so it is the same whatever the offending char
    assert broken == policy.violations("Aa1-" + "y" * 10 + "?")


def test_db_password_bounds():
    policy = sp.BUILTIN_POLICIES["db_password"]()
    assert policy.violations("Aa1-xyz")[0] == "shorter than the minimum length 8"
    assert policy.violations("Aa1-" + "x" * 38) == ["longer than the maximum length 41"]
    assert policy.violations("Aa1-" + "x" * 37) == []


@pytest.mark.parametrize(("value", "rule"), [
    ("aaaaaaa1!", "needs at least one uppercase character"),
    ("AAAAAAA1!", "needs at least one lowercase character"),
    ("AAAAaaaa!", "needs at least one digit character"),
    ("AAAAaaaa1", "needs at least one special"),
    ("Aa1!", "shorter than the minimum length 8"),
    ("Aa1!" * 17, "longer than the maximum length 64"),
    ("Aa1! bcdef", "outside the policy's alphabet (space)"),
    ("Aa1!bcdéf", "outside the policy's alphabet (non-ASCII character)"),
])
def test_admin_password_rules(value, rule):
    broken = sp.BUILTIN_POLICIES["admin_password"]().violations(value)
    assert any(rule in b for b in broken), broken


def test_admin_password_accepts_every_documented_special():
    policy = sp.BUILTIN_POLICIES["admin_password"]()
    for char in sp.ADMIN_SPECIALS:
        assert policy.violations("Abcdef1" + char) == [], char


def test_wa_secret_low_diversity_rejected():
    policy = sp.BUILTIN_POLICIES["wa_secret"]()
    assert "distinct" in policy.violations("Ab1" * 20)[-1]


def test_violations_non_string():
    assert sp.BUILTIN_POLICIES["jwt_key"]().violations(1234) == ["must be a string"]


def test_custom_policy():
    policy = sp.build_policy({"name": "t", "policy": "custom", "alphabet": "abc0123", "length": 12,
                             "required": ["digit", "lower"]})
    value = policy.generate()
    assert len(value) == 12 and set(value) <= set("abc0123")
    assert policy.violations("abcabcabcab0") == []
    assert policy.violations("abc01") == ["shorter than the minimum length 12"]
    assert "needs at least one digit character" in policy.violations("abcabcabcabc")


@pytest.mark.parametrize(("spec", "message"), [
    ({"policy": "jwt_key", "length": 32}, "length 32 is outside 64-64 allowed by policy jwt_key"),
    ({"policy": "db_password", "length": 50}, "outside 8-41"),
    ({"policy": "db_password", "alphabet": "abc"}, "only apply to policy custom"),
    ({"policy": "nope"}, "unknown policy nope"),
    ({"policy": "custom", "alphabet": "a"}, "at least 2 distinct"),
    ({"policy": "custom", "alphabet": "ab c"}, "visible ASCII"),
    ({"policy": "custom", "alphabet": "abc", "required": ["digit"]}, "required class digit has no character"),
    ({"policy": "custom", "required": ["bogus"]}, "required class bogus is not one of"),
    ({"policy": "custom", "length": 2, "alphabet": "aA1", "required": ["lower", "upper", "digit"]},
     "cannot hold one character"),
    ({"policy": "custom", "length": 0}, "positive integer"),
    ({"policy": "custom", "length": 5000}, "at most 1024"),
])
def test_bad_policy_options(spec, message):
    with pytest.raises(sp.PolicyError, match="secret t: .*" + message.replace("(", r"\(").replace(")", r"\)")):
        sp.build_policy(dict(spec, name="t"))


# Property-based: whatever the RNG gives, generated values satisfy their policy and any
# string the policy accepts really has the properties the product relies on.


@settings(max_examples=200, deadline=None)
@given(name=st.sampled_from(sorted(sp.BUILTIN_POLICIES)), data=st.data())
def test_property_generation_satisfies_policy(name, data):
    policy = sp.BUILTIN_POLICIES[name]()
    length = data.draw(st.integers(min_value=max(policy.min_length, len(policy.required)),
                                   max_value=policy.max_length))
    value = policy.generate(length)
    assert len(value) == length
    assert policy.violations(value) == []


@settings(max_examples=300, deadline=None)
@given(value=st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x2FF), max_size=80))
def test_property_accepted_db_password_is_safe(value):
    policy = sp.BUILTIN_POLICIES["db_password"]()
    if policy.violations(value):
        return
    assert 8 <= len(value) <= 41
    assert not set(value) & set("?{}&~!()^= '\"\\;#$`")
    assert all(0x21 <= ord(c) < 0x7F for c in value)


@settings(max_examples=300, deadline=None)
@given(value=st.text(alphabet=string.printable + "é", min_size=0, max_size=70))
def test_property_admin_password_matches_webapp_rule(value):
    accepted = not sp.BUILTIN_POLICIES["admin_password"]().violations(value)
    webapp_rule = (8 <= len(value) <= 64
                   and any(c.isdigit() for c in value) and any(c.isupper() for c in value)
                   and any(c.islower() for c in value) and any(c in sp.ADMIN_SPECIALS for c in value)
                   and all(c in string.ascii_letters + string.digits + sp.ADMIN_SPECIALS for c in value))
    assert accepted == webapp_rule


@settings(max_examples=200, deadline=None)
@given(value=st.text(min_size=1, max_size=60))
def test_property_messages_never_echo_value(value):
    for name in sp.BUILTIN_POLICIES:
        for message in sp.BUILTIN_POLICIES[name]().violations("Zq" + value + "Zq"):
            assert "Zq" + value + "Zq" not in message


@settings(max_examples=100, deadline=None)
@given(alphabet=st.text(alphabet=string.ascii_letters + string.digits + "-_.", min_size=2, max_size=20),
       length=st.integers(min_value=4, max_value=64))
def test_property_custom_generation(alphabet, length):
    if len(set(alphabet)) < 2:
        return
    policy = sp.build_policy({"name": "c", "policy": "custom", "alphabet": alphabet, "length": length})
    value = policy.generate()
    assert len(value) == length and set(value) <= set(alphabet)


# --------------------------------------------------------------------------- options


def test_normalize_specs_errors():
    with pytest.raises(sb.SecretError, match="listed twice"):
        specs({"name": "a"}, {"name": "a"})
    with pytest.raises(sb.SecretError, match="needs a name"):
        specs({"policy": "jwt_key"})
    with pytest.raises(sb.SecretError, match="max_age_days must be"):
        specs({"name": "a", "max_age_days": 0})
    with pytest.raises(sb.SecretError, match="must be a list"):
        s.normalize_specs("a")


def test_empty_value_is_not_supplied():
    assert specs({"name": "a", "value": ""})[0]["value"] is None


@pytest.mark.parametrize(("value", "expected"), [
    (None, []), (False, []), (True, ["a", "b"]), ("all", ["a", "b"]), ("", []), ("b, a", ["b", "a"]),
    (["a", "a"], ["a"]),
])
def test_normalize_names(value, expected):
    assert s.normalize_names("rotate", value, ["a", "b"]) == expected


def test_normalize_names_unknown():
    with pytest.raises(sb.SecretError, match="rotate names c, which is not one of the secrets"):
        s.normalize_names("rotate", ["c"], ["a", "b"])
    with pytest.raises(sb.SecretError, match="list of secret names"):
        s.normalize_names("rotate", 3, ["a"])
    with pytest.raises(sb.SecretError, match="list of secret names"):
        s.normalize_names("rotate", [3], ["a"])


# --------------------------------------------------------------------------- the predicate


def test_predicate_missing():
    spec = specs({"name": "a", "policy": "jwt_key"})[0]
    assert s.needs_new_value(None, spec, [], NOW) == "missing"


def test_predicate_keep():
    entries = make(a="jwt_key")
    spec = specs({"name": "a", "policy": "jwt_key", "max_age_days": 30})[0]
    assert s.needs_new_value(entries["a"], spec, [], NOW + datetime.timedelta(days=29)) is None


def test_predicate_rotate():
    entries = make(a="jwt_key")
    spec = specs({"name": "a", "policy": "jwt_key"})[0]
    assert s.needs_new_value(entries["a"], spec, ["a"], NOW) == "rotate"


def test_predicate_policy():
    entries = make(a="custom")  # 32 alphanumerics: not a db_password (no special)
    spec = specs({"name": "a", "policy": "db_password"})[0]
    assert s.needs_new_value(entries["a"], spec, [], NOW) == "policy"


def test_predicate_max_age():
    entries = make(a="jwt_key")
    spec = specs({"name": "a", "policy": "jwt_key", "max_age_days": 30})[0]
    assert s.needs_new_value(entries["a"], spec, [], NOW + datetime.timedelta(days=30)) == "max_age"


def test_predicate_max_age_counts_from_rotation():
    entries = plan(make(a="jwt_key"), specs({"name": "a", "policy": "jwt_key"}), rotate=["a"],
                   now=NOW + datetime.timedelta(days=20)).entries
    spec = specs({"name": "a", "policy": "jwt_key", "max_age_days": 30})[0]
    assert s.needs_new_value(entries["a"], spec, [], NOW + datetime.timedelta(days=31)) is None
    assert s.needs_new_value(entries["a"], spec, [], NOW + datetime.timedelta(days=50)) == "max_age"


def test_predicate_adopted_wins_over_rotate():
    entries = make(a="jwt_key")
    value = "A1" * 32
    spec = specs({"name": "a", "policy": "custom", "value": value})[0]
    assert s.needs_new_value(entries["a"], spec, ["a"], NOW) == "adopted"
    same = specs({"name": "a", "policy": "jwt_key", "value": entries["a"]["value"]})[0]
    assert s.needs_new_value(entries["a"], same, ["a"], NOW) is None


# --------------------------------------------------------------------------- plan


ALL = (
    {"name": "wa_secret", "policy": "wa_secret"},
    {"name": "jwt", "policy": "jwt_key"},
    {"name": "db", "policy": "db_password"},
    {"name": "admin", "policy": "admin_password"},
)


def test_plan_creates_then_is_idempotent():
    first = plan({}, specs(*ALL), now=NOW)
    assert first.changed and sorted(first.changed_names) == ["admin", "db", "jwt", "wa_secret"]
    for name, item in first.results.items():
        assert item["reason"] == "missing" and item["before"] is None
        entry = first.entries[name]
        assert entry["fingerprint"] == sb.fingerprint(entry["value"], KEY)
        assert entry["created"] == "2026-11-24T12:00:00Z" and entry.get("rotated") is None
    second = plan(first.entries, specs(*ALL), now=NOW + datetime.timedelta(days=400))
    assert not second.changed
    assert second.entries == first.entries


def test_plan_rotation_keeps_previous_then_drop():
    first = plan({}, specs(*ALL), now=NOW).entries
    later = NOW + datetime.timedelta(days=3)
    rotated = plan(first, specs(*ALL), rotate=["db"], now=later)
    assert rotated.changed_names == ["db"]
    db = rotated.entries["db"]
    assert db["value"] != first["db"]["value"]
    assert db["previous"] == {"value": first["db"]["value"], "fingerprint": first["db"]["fingerprint"],
                              "created": "2026-11-24T12:00:00Z", "retired": "2026-11-27T12:00:00Z"}
    assert db["created"] == first["db"]["created"] and db["rotated"] == "2026-11-27T12:00:00Z"
    assert rotated.results["db"]["after"]["previous"]["fingerprint"] == first["db"]["fingerprint"]
    assert "value" not in rotated.results["db"]["after"]["previous"]
    # kept across ordinary runs
    again = plan(rotated.entries, specs(*ALL), now=later)
    assert not again.changed and again.entries["db"]["previous"]["value"] == first["db"]["value"]
    dropped = plan(again.entries, specs(*ALL), drop_previous=["db"], now=later)
    assert dropped.changed_names == ["db"] and dropped.results["db"]["reason"] == "dropped_previous"
    assert "previous" not in dropped.entries["db"] and dropped.entries["db"]["value"] == db["value"]
    # dropping what is not there changes nothing
    assert not plan(dropped.entries, specs(*ALL), drop_previous=["db", "jwt"], now=later).changed


def test_plan_rotate_and_drop_together_keeps_the_value_just_replaced():
    first = plan({}, specs(*ALL), now=NOW).entries
    r1 = plan(first, specs(*ALL), rotate=["jwt"], now=NOW).entries
    r2 = plan(r1, specs(*ALL), rotate=["jwt"], drop_previous=["jwt"], now=NOW)
    assert r2.results["jwt"]["reason"] == "rotate"
    assert r2.entries["jwt"]["previous"]["value"] == r1["jwt"]["value"]


def test_plan_adopts_valid_value_and_rejects_invalid_without_echo():
    first = plan({}, specs(*ALL), now=NOW).entries
    good = "Str0ng!Passw0rd"
    adopted = plan(first, specs({"name": "admin", "policy": "admin_password", "value": good}), now=NOW)
    assert adopted.results["admin"]["reason"] == "adopted"
    assert adopted.entries["admin"]["value"] == good
    assert adopted.entries["admin"]["previous"]["value"] == first["admin"]["value"]
    assert not plan(adopted.entries, specs({"name": "admin", "policy": "admin_password", "value": good}),
                    now=NOW).changed
    bad = "weakpassword"
    with pytest.raises(sb.SecretError) as err:
        plan(first, specs({"name": "admin", "policy": "admin_password", "value": bad}), now=NOW)
    message = str(err.value)
    assert message.startswith("secret admin: the supplied value does not satisfy policy admin_password")
    assert "uppercase" in message and "digit" in message and bad not in message


def test_plan_policy_change_regenerates_and_keeps_previous():
    first = plan({}, specs({"name": "x", "policy": "custom"}), now=NOW).entries
    changed = plan(first, specs({"name": "x", "policy": "db_password"}), now=NOW)
    assert changed.results["x"]["reason"] == "policy"
    assert changed.entries["x"]["policy"] == "db_password"
    assert changed.entries["x"]["previous"]["value"] == first["x"]["value"]


def test_plan_policy_relabel_when_value_still_valid():
    first = plan({}, specs({"name": "x", "policy": "jwt_key"}), now=NOW).entries
    relabel = plan(first, specs({"name": "x", "policy": "custom", "length": 64}), now=NOW)
    assert relabel.results["x"]["reason"] == "policy"
    assert relabel.entries["x"]["value"] == first["x"]["value"]
    assert relabel.entries["x"]["policy"] == "custom"


def test_plan_hand_edited_value_is_adopted():
    first = plan({}, specs(*ALL), now=NOW).entries
    edited = {k: dict(v) for k, v in first.items()}
    edited["jwt"]["value"] = string.ascii_letters + "0123456789AB"
    result = plan(edited, specs(*ALL), now=NOW)
    assert result.results["jwt"]["reason"] == "adopted"
    assert result.entries["jwt"]["fingerprint"] == sb.fingerprint(edited["jwt"]["value"], KEY)
    assert "previous" not in result.entries["jwt"]


def test_plan_keeps_unlisted_secrets():
    first = plan({}, specs(*ALL), now=NOW).entries
    result = plan(first, specs({"name": "jwt", "policy": "jwt_key"}), now=NOW)
    assert not result.changed and set(result.entries) == {"wa_secret", "jwt", "db", "admin"}


def test_metadata_never_has_value_unless_asked():
    first = plan({}, specs(*ALL), now=NOW)
    meta = s.metadata("db", first.entries["db"])
    assert "value" not in meta and first.entries["db"]["value"] not in repr(meta)
    assert s.metadata("db", first.entries["db"], include_value=True)["value"] == first.entries["db"]["value"]
    assert s.metadata("db", None) is None


# --------------------------------------------------------------------------- bundle model


def test_render_parse_round_trip():
    entries = plan({}, specs(*ALL), now=NOW).entries
    entries = plan(entries, specs(*ALL), rotate=["db"], now=NOW).entries
    data = sb.render_bundle(entries, KEY)
    assert data["format"] == sb.BUNDLE_FORMAT and list(data["secrets"]) == sorted(entries)
    parsed = sb.parse_bundle(data)
    assert parsed.entries == {k: {f: v for f, v in e.items() if v is not None} for k, e in entries.items()}
    assert parsed.fingerprint_key == KEY and data["fingerprint_key"] == KEY


@pytest.mark.parametrize(("data", "message"), [
    (None, "is empty"),
    ([], "not a mapping"),
    ({"format": "other/9", "secrets": {}}, "has format 'other/9'"),
    ({"format": sb.BUNDLE_FORMAT}, "has no secrets mapping"),
    ({"format": sb.BUNDLE_FORMAT, "secrets": {"a": "x"}}, "secret a is not a mapping"),
    ({"format": sb.BUNDLE_FORMAT, "secrets": {"a": {"fingerprint": "f", "created": "2026-01-01T00:00:00Z"}}},
     "secret a is missing the field value"),
    ({"format": sb.BUNDLE_FORMAT, "secrets": {"a": {"value": "v", "created": "2026-01-01T00:00:00Z"}}},
     "secret a is missing the field fingerprint"),
    ({"format": sb.BUNDLE_FORMAT, "secrets": {"a": {"value": "v", "fingerprint": "f"}}},
     "secret a is missing the field created"),
    ({"format": sb.BUNDLE_FORMAT, "secrets": {"a": {"value": 12, "fingerprint": "f", "created": "2026-01-01"}}},
     "value is not a string"),
    ({"format": sb.BUNDLE_FORMAT, "secrets": {"a": {"value": "v", "fingerprint": "f", "created": "yesterday"}}},
     "created is not an ISO 8601 timestamp"),
    ({"format": sb.BUNDLE_FORMAT, "secrets": {"a": {"value": "v", "fingerprint": "f", "created": "2026-01-01",
                                                    "previous": {"fingerprint": "g"}}}},
     "previous must be a mapping with a string value"),
])
def test_parse_bundle_errors(data, message):
    with pytest.raises(sb.BundleError, match=message):
        sb.parse_bundle(data, "b.yml")


def test_parse_time():
    assert sb.parse_time("2026-11-24T12:00:00Z") == NOW
    assert sb.parse_time("2026-11-24T12:00:00") == NOW
    assert sb.parse_time("nope") is None and sb.parse_time(None) is None


# --------------------------------------------------------------------------- files


def test_write_atomic_creates_dirs_and_modes(tmp_path):
    target = tmp_path / "a" / "b" / "bundle.yml"
    old_umask = os.umask(0o022)
    try:
        sb.write_atomic(str(target), b"one")
    finally:
        os.umask(old_umask)
    assert target.read_bytes() == b"one"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "a").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "a" / "b").stat().st_mode) == 0o700
    sb.write_atomic(str(target), b"two")
    assert target.read_bytes() == b"two"
    assert os.listdir(target.parent) == ["bundle.yml"]  # no temp file left behind
    assert sb.file_mode(str(target)) == 0o600
    assert sb.file_mode(str(tmp_path / "missing")) is None


def test_write_atomic_keeps_existing_dir_mode(tmp_path):
    (tmp_path / "d").mkdir(mode=0o755)
    os.chmod(tmp_path / "d", 0o755)  # noqa: S103 - an operator-chosen, looser directory
    sb.write_atomic(str(tmp_path / "d" / "f"), b"x")
    assert stat.S_IMODE((tmp_path / "d").stat().st_mode) == 0o755


def test_write_atomic_failure_leaves_old_file(tmp_path, monkeypatch):
    target = tmp_path / "bundle.yml"
    target.write_bytes(b"old")

    def boom(*_args):
        raise OSError("disk full")

    monkeypatch.setattr(sb.os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        sb.write_atomic(str(target), b"new")
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["bundle.yml"]


def test_read_bytes(tmp_path):
    assert sb.read_bytes(str(tmp_path / "none")) is None
    (tmp_path / "f").write_bytes(b"abc")
    assert sb.read_bytes(str(tmp_path / "f")) == b"abc"
    with pytest.raises(sb.BundleError, match="cannot read"):
        sb.read_bytes(str(tmp_path))  # a directory


def test_bundle_lock_excludes_a_second_run(tmp_path):
    path = str(tmp_path / "bundle.yml")
    with sb.BundleLock(path) as first:
        assert first.fd is not None
        with pytest.raises(sb.BundleError, match="another run has held it"):
            with sb.BundleLock(path, timeout=0.3):
                pass
    with sb.BundleLock(path):  # released
        pass


def test_bundle_lock_without_directory(tmp_path):
    with sb.BundleLock(str(tmp_path / "missing" / "bundle.yml")) as lock:
        assert lock.fd is None
    assert not (tmp_path / "missing").exists()


# Whatever sequence of runs an operator makes (rotations, drops, adopted values, days
# passing, a new fingerprint key), the bundle stays coherent and a plain re-run changes nothing.
OPERATION = st.one_of(
    st.tuples(st.just("rotate"), st.sampled_from(["wa_secret", "jwt", "db", "admin"])),
    st.tuples(st.just("drop"), st.sampled_from(["wa_secret", "jwt", "db", "admin"])),
    st.tuples(st.just("adopt"), st.sampled_from(["Adopted-Pass-1", "Other-Pass-22"])),
    st.tuples(st.just("days"), st.integers(min_value=1, max_value=200)),
    st.tuples(st.just("rotate_key"), st.none()),
)


@settings(max_examples=60, deadline=None)
@given(operations=st.lists(OPERATION, max_size=8))
def test_property_bundle_stays_coherent(operations):
    base = [dict(item) for item in ALL]
    base[2]["max_age_days"] = 90
    now = NOW
    first = s.plan({}, specs(*base), now=now)
    entries, key = first.entries, first.fingerprint_key
    for kind, arg in operations:
        items = [dict(item) for item in base]
        rotate, drop = [], []
        if kind == "rotate":
            rotate = [arg]
        elif kind == "drop":
            drop = [arg]
        elif kind == "adopt":
            items[3]["value"] = arg
        elif kind == "days":
            now = now + datetime.timedelta(days=arg)
        before = {name: dict(entry) for name, entry in entries.items()}
        planned = s.plan(entries, specs(*items), rotate=rotate, drop_previous=drop, now=now, fingerprint_key=key,
                         rotate_fingerprint_key=kind == "rotate_key")
        assert (planned.fingerprint_key != key) == (kind == "rotate_key")
        parsed = sb.parse_bundle(sb.render_bundle(planned.entries, planned.fingerprint_key))
        entries, key = parsed.entries, parsed.fingerprint_key
        for name, entry in entries.items():
            assert entry["fingerprint"] == sb.fingerprint(entry["value"], key)
            assert not sp.BUILTIN_POLICIES[entry["policy"]]().violations(entry["value"])
            previous = entry.get("previous")
            if previous:
                assert previous["value"] != entry["value"]
                assert previous["fingerprint"] == sb.fingerprint(previous["value"], key)
            if entry["value"] != before[name]["value"]:
                assert name in planned.changed_names
                assert previous and previous["value"] == before[name]["value"]
        # a new key is never taken for hand-edited values
        assert set(planned.changed_names) == {n for n, r in planned.results.items() if r["changed"]}
        assert not [r for r in planned.results.values() if r["reason"] == "adopted" and kind != "adopt"]
        again = s.plan(entries, specs(*[dict(i, value=None) for i in items]), now=now, fingerprint_key=key)
        assert not again.changed


# --------------------------------------------------------------------------- keyed fingerprints


def test_fingerprint_is_hmac_sha256_under_the_key():
    # Computed independently: printf %s Operator-Chosen-9 | openssl dgst -sha256 -hmac "$KEY"
    assert sb.fingerprint("Operator-Chosen-9", KEY) == (
        "hmac-sha256:81984e3ea4733c05b073bb94c8c1ecae5c0f48e607c54ba91d447d989a618bac")
    assert sb.fingerprint("Operator-Chosen-9", KEY[::-1]) != sb.fingerprint("Operator-Chosen-9", KEY)


def test_fingerprint_key_is_required_and_never_echoed():
    for key in (None, "", "short-key", 12345):
        with pytest.raises(sb.SecretError) as err:
            sb.fingerprint("Some-Value-1", key)
        assert "at least 32 characters" in str(err.value)
        assert "short-key" not in str(err.value) and "Some-Value-1" not in str(err.value)
    with pytest.raises(sb.SecretError, match="string value"):
        sb.fingerprint(None, KEY)


def test_new_fingerprint_keys_are_random_and_long():
    keys = {sb.new_fingerprint_key() for _i in range(20)}
    assert len(keys) == 20 and all(len(k) == 64 and int(k, 16) >= 0 for k in keys)


@settings(max_examples=200, deadline=None)
@given(value=st.text(min_size=1, max_size=60))
def test_property_fingerprint_hides_the_value(value):
    printed = sb.fingerprint(value, KEY)
    assert printed.startswith("hmac-sha256:") and len(printed) == len("hmac-sha256:") + 64
    # not the unkeyed hash a job log used to show, so a guess cannot be checked without the key
    assert printed[len("hmac-sha256:"):] != sb.legacy_fingerprint(value)[len("sha256:"):]
    assert sb.fingerprint_matches(printed, value, KEY) is True
    assert sb.fingerprint_matches(printed, value + "x", KEY) is False


def test_plan_new_bundle_generates_a_key():
    first = s.plan({}, specs(*ALL), now=NOW)
    assert first.key_change == "added" and len(first.fingerprint_key) == 64
    for entry in first.entries.values():
        assert entry["fingerprint"] == sb.fingerprint(entry["value"], first.fingerprint_key)
    assert not s.plan(first.entries, specs(*ALL), now=NOW, fingerprint_key=first.fingerprint_key).changed
    # the key belongs to the bundle: another bundle gets another key
    assert s.plan({}, specs(*ALL), now=NOW).fingerprint_key != first.fingerprint_key


def legacy_bundle():
    """A bundle as format /1 wrote it: no key, unkeyed SHA-256 fingerprints."""
    entries = plan(plan({}, specs(*ALL), now=NOW).entries, specs(*ALL), rotate=["db"], now=NOW).entries
    data = {"format": "waent.onprem.secret/1", "secrets": {}}
    for name, rendered in sb.render_bundle(entries, KEY)["secrets"].items():
        entry = dict(rendered, fingerprint=sb.legacy_fingerprint(rendered["value"]))
        if "previous" in entry:
            entry["previous"] = dict(entry["previous"], fingerprint=sb.legacy_fingerprint(entry["previous"]["value"]))
        data["secrets"][name] = entry
    return data


def test_legacy_bundle_upgrades_in_place():
    data = legacy_bundle()
    parsed = sb.parse_bundle(data)
    assert parsed.fingerprint_key is None
    upgraded = s.plan(parsed.entries, specs(*ALL), now=NOW)
    # the file changes (a key is added, every fingerprint once), no secret does
    assert upgraded.changed and upgraded.key_change == "added" and upgraded.changed_names == []
    key = upgraded.fingerprint_key
    for name, entry in upgraded.entries.items():
        assert entry["value"] == data["secrets"][name]["value"]
        assert entry["fingerprint"] == sb.fingerprint(entry["value"], key)
        result = upgraded.results[name]
        assert result["reason"] is None and not result["changed"]
        # the unkeyed fingerprints are not shown again, not even as "before"
        assert result["before"]["fingerprint"] is None
        assert result["after"]["fingerprint"] == entry["fingerprint"]
    prev = upgraded.entries["db"]["previous"]
    assert prev["fingerprint"] == sb.fingerprint(data["secrets"]["db"]["previous"]["value"], key)
    assert upgraded.results["db"]["before"]["previous"]["fingerprint"] is None
    rendered = sb.render_bundle(upgraded.entries, key)
    assert rendered["format"] == sb.BUNDLE_FORMAT and "sha256:" not in repr(rendered).replace("hmac-sha256:", "")
    again = sb.parse_bundle(rendered)
    assert not s.plan(again.entries, specs(*ALL), now=NOW, fingerprint_key=again.fingerprint_key).changed


def test_legacy_bundle_hand_edited_value_is_adopted_on_upgrade():
    data = legacy_bundle()
    data["secrets"]["jwt"]["value"] = "B" * 32 + "c" * 16 + "0123456789abcdef"
    upgraded = s.plan(sb.parse_bundle(data).entries, specs(*ALL), now=NOW)
    assert upgraded.changed_names == ["jwt"] and upgraded.results["jwt"]["reason"] == "adopted"


def test_rotate_fingerprint_key_changes_every_fingerprint_and_no_value():
    first = plan({}, specs(*ALL), now=NOW)
    rotated = plan(first.entries, specs({"name": "jwt", "policy": "jwt_key"}), now=NOW, rotate_fingerprint_key=True)
    assert rotated.key_change == "rotated" and rotated.fingerprint_key != KEY
    assert rotated.changed and rotated.changed_names == []
    for name, entry in rotated.entries.items():  # unlisted secrets too
        assert entry["value"] == first.entries[name]["value"]
        assert entry["fingerprint"] == sb.fingerprint(entry["value"], rotated.fingerprint_key)
        assert entry["fingerprint"] != first.entries[name]["fingerprint"]


def test_deleted_key_is_replaced_without_adopting_every_value():
    first = plan({}, specs(*ALL), now=NOW)
    data = sb.render_bundle(first.entries, KEY)
    del data["fingerprint_key"]
    replaced = s.plan(sb.parse_bundle(data).entries, specs(*ALL), now=NOW)
    assert replaced.key_change == "added" and replaced.changed_names == []


def test_parse_bundle_fingerprint_key_errors_do_not_echo():
    data = sb.render_bundle(plan({}, specs(*ALL), now=NOW).entries, KEY)
    data["fingerprint_key"] = "tooShortKey"
    with pytest.raises(sb.BundleError) as err:
        sb.parse_bundle(data, "b.yml")
    assert "fingerprint_key must be a string of at least 32" in str(err.value)
    assert "tooShortKey" not in str(err.value)


def test_plan_reports_generated_values():
    given = {"name": "given", "policy": "jwt_key", "value": "0123456789abcdefABCDEFGH" * 2 + "x" * 16}
    first = plan({}, specs(*ALL, given), now=NOW)
    assert {n for n, r in first.results.items() if r["generated"]} == {"wa_secret", "jwt", "db", "admin"}
    assert first.results["given"]["generated"] is False and first.results["given"]["reason"] == "adopted"
    relabel = plan(first.entries, specs({"name": "jwt", "policy": "custom", "length": 64}), now=NOW)
    assert relabel.results["jwt"]["reason"] == "policy" and relabel.results["jwt"]["generated"] is False
