# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Guarded import of the `cryptography` library.

Import this module instead of `cryptography` directly so that the collection still imports
(ansible-test's import sanity test, ansible-doc) when the library is absent, and so that the
error a user sees names the interpreter that lacks it: the top support question of
community.crypto (#762, #466) is "cryptography is installed but not found", which is always
a different interpreter than the one the user checked.
"""

from __future__ import annotations

import sys
import traceback

from ansible.module_utils.basic import missing_required_lib

# The oldest cryptography a user really has: Debian 12's python3-cryptography. Declared the same in
# meta/ee-requirements.txt and in the modules' `requirements:` (a unit test compares them), and
# tested: `make test` runs the X.509 unit tests with exactly this version (units-floor).
MINIMUM_CRYPTOGRAPHY_VERSION = "38.0.4"

try:
    import cryptography

    HAS_CRYPTOGRAPHY = True
    CRYPTOGRAPHY_IMPORT_ERROR = None
    CRYPTOGRAPHY_VERSION = getattr(cryptography, "__version__", "0")
    CRYPTOGRAPHY_LOCATION = getattr(cryptography, "__file__", None) or "?"
except ImportError:
    HAS_CRYPTOGRAPHY = False
    CRYPTOGRAPHY_IMPORT_ERROR = traceback.format_exc()
    CRYPTOGRAPHY_VERSION = None
    CRYPTOGRAPHY_LOCATION = None


def _version_tuple(version):
    parts = []
    for piece in str(version).split("."):
        digits = ""
        for char in piece:
            if not char.isdigit():
                break
            digits += char
        parts.append(int(digits) if digits else 0)
        if digits != piece:
            break
    return tuple(parts)


def cryptography_problem(minimum=MINIMUM_CRYPTOGRAPHY_VERSION):
    """Return a message describing why `cryptography` is unusable, or None when it is fine."""
    if not HAS_CRYPTOGRAPHY:
        required = missing_required_lib(f"cryptography >= {minimum}")
        return f"{required} Python interpreter {sys.executable} (version {sys.version.split()[0]}) could not import it."
    if _version_tuple(CRYPTOGRAPHY_VERSION) < _version_tuple(minimum):
        return (
            f"cryptography {CRYPTOGRAPHY_VERSION} is too old at {CRYPTOGRAPHY_LOCATION}, need >= {minimum} "
            f"(Python interpreter {sys.executable}). "
            "Upgrade it for that interpreter, or point ansible_python_interpreter at one that has it."
        )
    return None


def check_cryptography(module, minimum=MINIMUM_CRYPTOGRAPHY_VERSION):
    """Fail the module with a useful message when `cryptography` is missing or too old."""
    problem = cryptography_problem(minimum)
    if problem:
        module.fail_json(msg=problem, exception=CRYPTOGRAPHY_IMPORT_ERROR)
