# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""File I/O shared by the backends: reads that tell "missing" from "unreadable", private
directories, and atomic writes of secret material (mode set before the first byte, fsync, rename)."""

from __future__ import annotations

import errno
import os
import tempfile


def read_bytes(path):
    """The file's bytes, or None when it does not exist; other OSErrors propagate."""
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            return None
        raise


def ensure_dir(path, mode=0o700, check_mode=False):
    """Create the directory and its missing parents, each with ``mode`` whatever the umask.

    Returns the directories created, outermost first (in check mode: those that would be);
    an empty list when ``path`` is a directory already."""
    missing = []
    probe = os.path.abspath(path)
    while not os.path.isdir(probe):
        missing.append(probe)
        parent = os.path.dirname(probe)
        if parent == probe:
            break
        probe = parent
    missing.reverse()
    if check_mode:
        return missing
    created = []
    for directory in missing:
        try:
            os.mkdir(directory, mode)
        except FileExistsError:
            continue  # created meanwhile by someone else
        os.chmod(directory, mode)  # mkdir's mode is filtered by the umask
        created.append(directory)
    return created


def write_atomic(path, data, mode=0o600, uid=-1, gid=-1):
    """Write ``data`` so that readers see the old file or the new one, never a mix.

    The temp file sits in the same directory (same filesystem) and gets its mode (and
    owner) before any byte is written, so secret material is never readable by others even
    for an instant; fsync, os.replace, then fsync of the directory so the rename survives a
    crash. The directory must exist.
    """
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    try:
        os.fchmod(fd, mode)
        if uid != -1 or gid != -1:
            os.fchown(fd, uid, gid)
        with os.fdopen(fd, "wb") as handle:
            fd = None
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
        tmp = None
    finally:
        if fd is not None:
            os.close(fd)
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
    _fsync_dir(directory)


def _fsync_dir(directory):
    try:
        dir_fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass  # some filesystems refuse fsync on directories; the rename itself is done
    finally:
        os.close(dir_fd)
