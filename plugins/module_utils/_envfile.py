# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Container env files (``--env-file``): parse them, and map the paths they hold to the host.

Shared by db_tls_check, the app roles' checks and the audit: a container reads ``KEY=value``
lines without quoting or expansion, and sees its data volume at a path of its own.
"""

from __future__ import annotations

import os

CONTAINER_DATA_PATH = "/usr/local/waent/data"


def parse_env_file(text):
    """Parse a docker/podman ``--env-file``: ``KEY=value`` lines, no quoting, ``#`` comments.

    The value is everything after the first ``=``, kept as is (``a=b;c#d`` stays whole); lines
    without ``=`` (which would pass the caller's environment through) are ignored."""
    env = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep:
            continue
        env[key.strip()] = value
    return env


def read_env_file(path):
    """``parse_env_file`` of the file at ``path`` (UTF-8); OSError propagates."""
    with open(path, encoding="utf-8") as handle:
        return parse_env_file(handle.read())


def container_to_host_path(path, data_dir, container_data_path=CONTAINER_DATA_PATH):
    """Map a path seen inside the container to the host path of the data volume."""
    if not path:
        return path
    if data_dir is None:
        return path
    prefix = container_data_path.rstrip("/") + "/"
    if path.startswith(prefix):
        return os.path.join(data_dir, path[len(prefix):])
    return path
