# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import os
import stat

import pytest
from ansible_collections.waent.onprem.plugins.module_utils import _io


def test_read_bytes_missing_is_none(tmp_path):
    assert _io.read_bytes(tmp_path / "absent") is None


def test_read_bytes_other_errors_propagate(tmp_path):
    with pytest.raises(IsADirectoryError):
        _io.read_bytes(tmp_path)


def test_write_atomic_sets_mode_and_replaces(tmp_path):
    target = tmp_path / "key.pem"
    target.write_bytes(b"old")
    os.chmod(target, 0o644)
    _io.write_atomic(str(target), b"new", 0o600)
    assert target.read_bytes() == b"new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["key.pem"]


def test_write_atomic_failure_keeps_old_file_and_no_temp(tmp_path, monkeypatch):
    target = tmp_path / "bundle.yml"
    target.write_bytes(b"old")

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(_io.os, "replace", broken_replace)
    with pytest.raises(OSError):
        _io.write_atomic(str(target), b"new")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bundle.yml"]


def test_write_atomic_never_exposes_content_with_a_wider_mode(tmp_path, monkeypatch):
    seen = []
    real_fdopen = os.fdopen

    def spying_fdopen(fd, *args, **kwargs):
        seen.append(stat.S_IMODE(os.fstat(fd).st_mode))
        return real_fdopen(fd, *args, **kwargs)

    monkeypatch.setattr(_io.os, "fdopen", spying_fdopen)
    _io.write_atomic(str(tmp_path / "secret"), b"s3cr3t", 0o600)
    assert seen == [0o600]


def test_ensure_dir_creates_every_missing_parent_with_the_mode_whatever_the_umask(tmp_path):
    target = tmp_path / "a" / "b" / "c"
    old = os.umask(0o077)
    try:
        created = _io.ensure_dir(str(target), 0o750)
    finally:
        os.umask(old)
    assert created == [str(tmp_path / "a"), str(tmp_path / "a" / "b"), str(target)]
    assert [stat.S_IMODE(os.stat(d).st_mode) for d in created] == [0o750] * 3
    assert _io.ensure_dir(str(target)) == []


def test_ensure_dir_check_mode_reports_and_creates_nothing(tmp_path):
    target = tmp_path / "x" / "y"
    assert _io.ensure_dir(str(target), check_mode=True) == [str(tmp_path / "x"), str(target)]
    assert not (tmp_path / "x").exists()
