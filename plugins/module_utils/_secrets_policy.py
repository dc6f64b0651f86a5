# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Secret value policies: what a valid value looks like, and generating one that is.

The built-in policies (wa_secret, jwt_key, db_password, admin_password) and ``custom``,
built from one entry of the module's ``secrets`` option. Pure standard library.

Nothing in here ever puts a secret value into an exception message: messages name the
secret and the rule it breaks, and the kind of a character, never the character.
"""

from __future__ import annotations

import secrets as _secrets
import string

from ansible_collections.waent.onprem.plugins.module_utils._secrets_bundle import SecretError

# Characters that break the places these values end up in: docker/podman env files and
# systemd EnvironmentFile (quotes, backslash, space, '$' expansion, '#' comments), the
# PHP-FPM pool file the Webapp copies every WA* variable into (';' comments), shells.
ENV_UNSAFE = frozenset(" '\"\\`$#;")
PRINTABLE = frozenset(chr(c) for c in range(0x21, 0x7F))  # visible ASCII, no space

# Special characters the Webapp's password rule accepts (reference section 4.1).
ADMIN_SPECIALS = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
# Characters the vendor's templates reject in DB passwords (reference section 2.1).
DB_FORBIDDEN = frozenset("?{}&~!()^=")

ALNUM = string.ascii_letters + string.digits

CLASS_SETS = {
    "lower": frozenset(string.ascii_lowercase),
    "upper": frozenset(string.ascii_uppercase),
    "digit": frozenset(string.digits),
}
CLASS_NAMES = ("lower", "upper", "digit", "special")

CUSTOM_MAX_LENGTH = 1024


class PolicyError(SecretError):
    """A policy definition (options of one secret) is invalid."""


class Policy:
    """What a valid value looks like, and how to generate one.

    ``alphabet`` is what generation draws from; ``allowed`` is what validation accepts
    (a superset, so that values supplied by operators are not rejected for using a
    harmless character the generator happens to avoid).
    """

    def __init__(self, name, length, min_length, max_length, *, alphabet, allowed=None,
                 required=(), specials=None, min_unique=1, forbidden=frozenset()):
        self.name = name
        self.length = length
        self.min_length = min_length
        self.max_length = max_length
        self.alphabet = alphabet
        self.allowed = frozenset(allowed if allowed is not None else alphabet)
        self.specials = frozenset(specials if specials is not None else
                                  (c for c in self.allowed if c not in ALNUM))
        self.required = tuple(required)
        self.min_unique = min_unique
        self.forbidden = frozenset(forbidden)

    def class_set(self, cls):
        if cls == "special":
            return self.specials
        return CLASS_SETS[cls]

    def describe(self):
        return {
            "policy": self.name,
            "length": self.length,
            "min_length": self.min_length,
            "max_length": self.max_length,
            "required_classes": list(self.required),
        }

    def violations(self, value):
        """Every rule ``value`` breaks, as messages that never include the value."""
        if not isinstance(value, str):
            return ["must be a string"]
        broken = []
        if len(value) < self.min_length:
            broken.append(f"shorter than the minimum length {self.min_length}")
        if len(value) > self.max_length:
            broken.append(f"longer than the maximum length {self.max_length}")
        if any(c in self.forbidden for c in value):
            # The rule, not the offending characters: they are part of the secret.
            shown = "".join(sorted(self.forbidden)).replace(" ", "")
            broken.append(f"contains a character the product forbids (space or any of {shown})"
                          if " " in self.forbidden else
                          f"contains a character the product forbids (any of {shown})")
        outside = {c for c in value if c not in self.allowed and c not in self.forbidden}
        if outside:
            # Name the kind of character, not the character: a single char of a secret
            # is still part of the secret.
            kinds = sorted({_char_kind(c) for c in outside})
            broken.append("contains characters outside the policy's alphabet ({})".format(", ".join(kinds)))
        for cls in self.required:
            if not any(c in self.class_set(cls) for c in value):
                broken.append(f"needs at least one {_class_label(cls, self)} character")
        if len(set(value)) < self.min_unique:
            broken.append(f"needs at least {self.min_unique} distinct characters")
        return broken

    def generate(self, length=None):
        """A fresh value of ``length`` (default: the policy's) that satisfies the policy.

        One character is drawn from every required class and the rest from the whole
        alphabet, then the positions are shuffled, all with the OS CSPRNG.
        """
        length = self.length if length is None else length
        rng = _secrets.SystemRandom()
        for _attempt in range(100):
            chars = [_secrets.choice(sorted(self.class_set(cls) & set(self.alphabet)))
                     for cls in self.required]
            chars += [_secrets.choice(self.alphabet) for _i in range(length - len(chars))]
            rng.shuffle(chars)
            value = "".join(chars)
            if not self.violations(value):
                return value
        raise PolicyError(f"policy {self.name} cannot generate a valid value of length {length}")


def _char_kind(char):
    if char == " ":
        return "space"
    if char in "\t\r\n":
        return "whitespace"
    if ord(char) < 0x20 or ord(char) == 0x7F:
        return "control character"
    if ord(char) > 0x7F:
        return "non-ASCII character"
    return "punctuation"


def _class_label(cls, policy):
    if cls == "special":
        return "special (one of {})".format("".join(sorted(policy.specials)))
    return {"lower": "lowercase", "upper": "uppercase", "digit": "digit"}[cls]


def _wa_secret(length=None):
    # 64 characters from a 70-symbol set: about 390 bits, far beyond what PBKDF2 needs.
    return Policy(
        "wa_secret", length or 64, 32, 256,
        alphabet=ALNUM + "-_.,:+/@%",
        allowed=PRINTABLE - ENV_UNSAFE,
        required=("lower", "upper", "digit"),
        min_unique=16,
    )


def _jwt_key(length=None):
    # The CloudFormation template generates exactly this shape for WA_WEB_JWT_CRYPTO_KEY.
    return Policy("jwt_key", length or 64, 64, 64, alphabet=ALNUM, min_unique=16)


def _db_password(length=None):
    # 8-41 is the vendor's CloudFormation bound; one special keeps MySQL's
    # validate_password (MEDIUM) happy.
    return Policy(
        "db_password", length or 32, 8, 41,
        alphabet=ALNUM + "-_.,+",
        allowed=PRINTABLE - ENV_UNSAFE - DB_FORBIDDEN,
        required=("lower", "upper", "digit", "special"),
        specials="-_.,+",
        forbidden=DB_FORBIDDEN | ENV_UNSAFE,
    )


def _admin_password(length=None):
    # The generator avoids the specials that need quoting in shells and env files; an
    # operator-supplied password may use any special the Webapp accepts.
    return Policy(
        "admin_password", length or 24, 8, 64,
        alphabet=ALNUM + "-_.,+%@*=",
        allowed=ALNUM + ADMIN_SPECIALS,
        required=("lower", "upper", "digit", "special"),
        specials=ADMIN_SPECIALS,
    )


BUILTIN_POLICIES = {
    "wa_secret": _wa_secret,
    "jwt_key": _jwt_key,
    "db_password": _db_password,
    "admin_password": _admin_password,
}
POLICY_NAMES = tuple(BUILTIN_POLICIES) + ("custom",)


def build_policy(spec):
    """The Policy for one entry of the ``secrets`` option; PolicyError names the bad option."""
    name = spec["name"]
    policy_name = spec.get("policy") or "custom"
    length = spec.get("length")
    if length is not None and (not isinstance(length, int) or isinstance(length, bool) or length < 1):
        raise PolicyError(f"secret {name}: length must be a positive integer")
    if policy_name in BUILTIN_POLICIES:
        if spec.get("alphabet") or spec.get("required"):
            raise PolicyError(f"secret {name}: alphabet and required only apply to policy custom, not {policy_name}")
        policy = BUILTIN_POLICIES[policy_name](length)
        if not policy.min_length <= policy.length <= policy.max_length:
            raise PolicyError(f"secret {name}: length {policy.length} is outside "
                              f"{policy.min_length}-{policy.max_length} allowed by policy {policy_name}")
        return policy
    if policy_name != "custom":
        raise PolicyError(f"secret {name}: unknown policy {policy_name} (choose one of {', '.join(POLICY_NAMES)})")
    alphabet = spec.get("alphabet") or ALNUM
    if not isinstance(alphabet, str):
        raise PolicyError(f"secret {name}: alphabet must be a string")
    bad = {c for c in alphabet if c not in PRINTABLE}
    if bad:
        raise PolicyError(f"secret {name}: alphabet may only contain visible ASCII characters (no space, "
                          "no control or non-ASCII characters)")
    alphabet = "".join(sorted(set(alphabet)))
    if len(alphabet) < 2:
        raise PolicyError(f"secret {name}: alphabet needs at least 2 distinct characters")
    required = spec.get("required") or []
    for cls in required:
        if cls not in CLASS_NAMES:
            raise PolicyError("secret {}: required class {} is not one of {}".format(name, cls, ", ".join(CLASS_NAMES)))
    length = length or 32
    if length > CUSTOM_MAX_LENGTH:
        raise PolicyError(f"secret {name}: length may be at most {CUSTOM_MAX_LENGTH}")
    policy = Policy("custom", length, length, CUSTOM_MAX_LENGTH, alphabet=alphabet,
                    required=tuple(dict.fromkeys(required)))
    for cls in policy.required:
        if not policy.class_set(cls) & set(alphabet):
            raise PolicyError(f"secret {name}: required class {cls} has no character in the alphabet")
    if len(policy.required) > length:
        raise PolicyError(f"secret {name}: length {length} cannot hold one character of each of the "
                          f"{len(policy.required)} required classes")
    return policy
