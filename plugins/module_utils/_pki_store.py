# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The pki backend's files: reading PEM material, atomic writes, backups, owner/group/mode.

Also the errors the pki backend reports (``PkiError``, ``Unreadable``), which every layer of it
raises. Check mode is honoured here: a store in check mode reports what would change and
touches nothing.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import time

from ansible_collections.waent.onprem.plugins.module_utils import _io, _x509


class PkiError(Exception):
    """An error to report to the user (clear message, nothing was changed by the failing step)."""


class Unreadable(PkiError):
    def __init__(self, path, why):
        super().__init__(f"{path} cannot be read: {why}")
        self.path = path
        self.why = why


def resolve(directory, path):
    """``path``, relative to ``directory`` unless absolute."""
    return path if os.path.isabs(path) else os.path.join(directory, path)


# --------------------------------------------------------------------------- reading


def read_bytes(path):
    """File content, or None when the file does not exist."""
    try:
        return _io.read_bytes(path)
    except OSError as exc:
        raise Unreadable(path, exc.strerror or str(exc)) from exc


def parse_certs(path, data):
    """All certificates of a PEM file (at least one), or Unreadable naming the file."""
    try:
        return _x509.load_certificates(data)
    except _x509.X509Error as exc:
        raise Unreadable(path, str(exc)) from None


def parse_key(path, data):
    """The private key of a PEM file, or Unreadable naming the file."""
    try:
        return _x509.load_private_key(data)
    except _x509.X509Error as exc:
        raise Unreadable(path, str(exc)) from None


def read_existing(path, parse):
    """``parse(path, bytes)`` of a file that must exist; Unreadable otherwise."""
    data = read_bytes(path)
    if data is None:
        raise Unreadable(path, "file does not exist")
    return parse(path, data)


# --------------------------------------------------------------------------- attributes


def parse_mode(value, option):
    if value is None:
        return None
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip(), 8)
    except ValueError as exc:
        raise PkiError(f"{option}: {value!r} is not an octal file mode such as '0600'") from exc


def resolve_uid(owner):
    if owner is None:
        return -1
    try:
        return pwd.getpwnam(owner).pw_uid
    except KeyError:
        if owner.isdigit():
            return int(owner)
        raise PkiError(f"owner {owner!r}: no such user") from None


def resolve_gid(group):
    if group is None:
        return -1
    try:
        return grp.getgrnam(group).gr_gid
    except KeyError:
        if group.isdigit():
            return int(group)
        raise PkiError(f"group {group!r}: no such group") from None


# --------------------------------------------------------------------------- writing


class FileStore:
    """Atomic writes, backups and attribute reconciliation; honours check mode."""

    def __init__(self, check_mode=False, backup=False):
        self.check_mode = check_mode
        self.backup = backup
        self.backup_files = []

    def make_backup(self, path, force=False):
        if not (self.backup or force) or self.check_mode or not os.path.lexists(path):
            return None
        stamp = time.strftime("%Y-%m-%d@%H:%M:%S", time.localtime())
        target = f"{path}.{os.getpid()}.{stamp}~"
        shutil.copy2(path, target)
        self.backup_files.append(target)
        return target

    def ensure_dir(self, path):
        """Create ``path`` (and parents) with mode 0700. Returns True if it was (or would be) created."""
        return bool(_io.ensure_dir(path, 0o700, check_mode=self.check_mode))

    def write(self, path, data, mode, uid=-1, gid=-1, force_backup=False):  # noqa: PLR0917
        """Write ``data`` to ``path`` atomically (``_io.write_atomic``), keeping a backup when asked.
        Returns True (a write happened or would happen)."""
        if self.check_mode:
            return True
        self.ensure_dir(os.path.dirname(os.path.abspath(path)))
        self.make_backup(path, force=force_backup)
        _io.write_atomic(path, data, mode, uid, gid)
        return True

    def set_attributes(self, path, mode, uid=-1, gid=-1):
        """Bring mode/owner/group of an existing file in line. Returns True if anything differs."""
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            return False
        changed = False
        if mode is not None and (st.st_mode & 0o7777) != mode:
            changed = True
            if not self.check_mode:
                os.chmod(path, mode)
        want_uid = st.st_uid if uid == -1 else uid
        want_gid = st.st_gid if gid == -1 else gid
        if (want_uid, want_gid) != (st.st_uid, st.st_gid):
            changed = True
            if not self.check_mode:
                os.chown(path, want_uid, want_gid)
        return changed
