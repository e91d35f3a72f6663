"""The stage-then-rename publisher: all new entries or all old ones, and never a staging folder left behind."""

from __future__ import annotations

import os

import pytest

from scaling_search.support.publish import publish


def contents(folder):
    return {str(p.relative_to(folder)): p.read_text() for p in sorted(folder.rglob("*")) if p.is_file()}


def write_new(staging):
    (staging / "a.txt").write_text("new a")
    (staging / "b.txt").write_text("new b")
    (staging / "sub").mkdir()
    (staging / "sub" / "c.txt").write_text("new c")


@pytest.fixture
def folder(tmp_path):
    folder = tmp_path / "out"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_text("old a")
    (folder / "b.txt").write_text("old b")
    (folder / "sub" / "stale.txt").write_text("old, not rewritten")
    (folder / "keep.txt").write_text("not published: left alone")
    return folder


def test_published_entries_replace_the_old_ones_and_others_stay(folder):
    assert publish(folder, write_new) == ["a.txt", "b.txt", "sub"]
    assert contents(folder) == {"a.txt": "new a", "b.txt": "new b", "keep.txt": "not published: left alone",
                                "sub/c.txt": "new c"}  # a published folder replaces the old one as a whole
    assert sorted(p.name for p in folder.iterdir()) == ["a.txt", "b.txt", "keep.txt", "sub"]


def test_a_failing_fill_leaves_everything_as_it_was(folder):
    before = contents(folder)

    def half(staging):
        (staging / "a.txt").write_text("new a")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space left"):
        publish(folder, half)
    assert contents(folder) == before and sorted(p.name for p in folder.iterdir()) == sorted(before_names(before))


@pytest.mark.parametrize("failing_call", range(1, 7))
def test_a_rename_failing_midway_puts_the_old_entries_back(folder, monkeypatch, failing_call):
    """Three entries: calls 1-3 move the old ones aside, 4-6 the new ones in; any of them may meet a full disk."""
    before = contents(folder)
    real_replace = os.replace
    calls = {"n": 0}

    def disk_full(source, target):
        calls["n"] += 1
        if calls["n"] == failing_call:
            raise OSError(28, "No space left on device")
        return real_replace(source, target)

    monkeypatch.setattr("scaling_search.support.publish.os.replace", disk_full)
    with pytest.raises(OSError, match="No space left"):
        publish(folder, write_new)
    assert contents(folder) == before
    assert sorted(p.name for p in folder.iterdir()) == sorted(before_names(before))


def before_names(before):
    return {name.split("/")[0] for name in before}


def test_staging_left_by_a_killed_writer_is_removed_and_nothing_else(tmp_path):
    from scaling_search.support.publish import remove_stale_staging

    (tmp_path / ".export-ab12cd").mkdir()
    (tmp_path / ".export-ab12cd" / "best.json").write_text("{}")
    (tmp_path / "best.json").write_text("{}")
    (tmp_path / ".staging-xyz").mkdir()
    assert remove_stale_staging(tmp_path, ".export-") == [".export-ab12cd"]
    assert sorted(entry.name for entry in tmp_path.iterdir()) == [".staging-xyz", "best.json"]
