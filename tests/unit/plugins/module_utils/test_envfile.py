# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import pytest
from ansible_collections.waent.onprem.plugins.module_utils import _envfile


def test_parse_env_file_keeps_values_verbatim():
    env = _envfile.parse_env_file("# c\n\nWA_DB_PASSWORD=a=b;c#d\nWA_DB_PORT=3306\nnoequals\n  # indented comment\n")
    assert env == {"WA_DB_PASSWORD": "a=b;c#d", "WA_DB_PORT": "3306"}


def test_read_env_file(tmp_path):
    path = tmp_path / "db.env"
    path.write_text("WA_DB_HOSTNAME=db1\nWA_DB_USERNAME=waent\n", encoding="utf-8")
    assert _envfile.read_env_file(str(path)) == {"WA_DB_HOSTNAME": "db1", "WA_DB_USERNAME": "waent"}
    with pytest.raises(FileNotFoundError):
        _envfile.read_env_file(str(tmp_path / "absent.env"))


@pytest.mark.parametrize(("path", "expected"), [
    ("/usr/local/waent/data/certs/db-ca.pem", "/srv/waent/waweb/certs/db-ca.pem"),
    ("/usr/local/waent/database/x.pem", "/usr/local/waent/database/x.pem"),  # a prefix of the name only
    ("/opt/elsewhere/key.pem", "/opt/elsewhere/key.pem"),
    ("", ""),
    (None, None),
])
def test_container_paths_under_the_data_volume_map_to_the_host(path, expected):
    assert _envfile.container_to_host_path(path, "/srv/waent/waweb") == expected


def test_without_a_data_dir_paths_are_kept():
    assert _envfile.container_to_host_path("/usr/local/waent/data/certs/a.pem", None) == \
        "/usr/local/waent/data/certs/a.pem"
