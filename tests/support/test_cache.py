"""Atomic writes: a file appears whole or not at all, with shareable permissions, and errors name the file."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from scaling_search.support.cache import current_umask, open_atomic, write_atomic


def test_write_atomic_replaces_whole_files_with_umask_permissions(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "folder" / "file.json"
    write_atomic(target, b"first")
    write_atomic(target, b"second")
    assert target.read_bytes() == b"second"
    assert target.stat().st_mode & 0o777 == 0o666 & ~current_umask()
    assert [p.name for p in target.parent.iterdir()] == ["file.json"]  # no temporary files left


def test_a_failed_write_leaves_the_old_file_and_names_the_path(tmp_path: Path) -> None:
    target = tmp_path / "file.bin"
    write_atomic(target, b"old")
    with pytest.raises(OSError, match=r"No space left on device: '.*file\.bin'"), open_atomic(target) as handle:
        handle.write(b"half")
        raise OSError(errno.ENOSPC, "No space left on device")  # what a full disk raises: no file name
    with pytest.raises(KeyboardInterrupt), open_atomic(target) as handle:
        handle.write(b"half")
        raise KeyboardInterrupt
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["file.bin"]


def test_exclusive_lock_runs_unlocked_where_the_file_system_has_no_locks(tmp_path, monkeypatch):
    import errno
    import fcntl

    from scaling_search.support.cache import LockHeld, exclusive_lock

    with exclusive_lock(tmp_path / "a.lock"), pytest.raises(LockHeld), exclusive_lock(tmp_path / "a.lock", wait=False):
        pass

    def no_locks(fd, operation):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(fcntl, "flock", no_locks)
    ran = []
    with exclusive_lock(tmp_path / "b.lock", wait=False):
        ran.append(True)
    assert ran == [True]
