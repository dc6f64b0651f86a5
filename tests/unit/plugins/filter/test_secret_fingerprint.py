# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.waent.onprem.plugins.filter.secret_fingerprint import FilterModule

secret_fingerprint = FilterModule().filters()["secret_fingerprint"]
KEY = "0123456789abcdef" * 4


def test_same_string_as_the_module():
    # printf %s Operator-Chosen-9 | openssl dgst -sha256 -hmac "$KEY"
    assert secret_fingerprint("Operator-Chosen-9", KEY) == (
        "hmac-sha256:81984e3ea4733c05b073bb94c8c1ecae5c0f48e607c54ba91d447d989a618bac")


@pytest.mark.parametrize(("value", "key", "message"), [
    (None, KEY, "the value must be a string, not NoneType"),
    (12345678, KEY, "the value must be a string, not int"),
    ("Secret-Value-1", None, "at least 32 characters"),
    ("Secret-Value-1", "Short-Key-Value", "at least 32 characters"),
])
def test_errors_name_the_problem_not_the_arguments(value, key, message):
    with pytest.raises(AnsibleFilterError) as err:
        secret_fingerprint(value, key)
    text = str(err.value)
    assert text.startswith("secret_fingerprint: ") and message in text
    assert "Secret-Value-1" not in text and "Short-Key-Value" not in text and "12345678" not in text
