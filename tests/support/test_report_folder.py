"""A report folder is replaced only when a report wrote it: its manifest lists what may go."""

from __future__ import annotations

from pathlib import Path

import pytest

from scaling_search.errors import InputError
from scaling_search.support.publish import MANIFEST, ReportFolderError, write_report_folder


def fill(folder: Path) -> None:
    (folder / "index.md").write_text("# Study `s`\n")
    (folder / "figures").mkdir()
    (folder / "figures" / "a.png").write_bytes(b"png")


def test_the_manifest_lists_every_file_written_and_an_earlier_report_is_replaced(tmp_path):
    out = write_report_folder(tmp_path / "report", fill)
    assert out == (tmp_path / "report").resolve()
    assert (out / MANIFEST).read_text().splitlines() == ["figures/a.png", "index.md"]
    (out / "index.md").write_text("old")
    assert write_report_folder(out, fill) == out and (out / "index.md").read_text() == "# Study `s`\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]  # no staging folder left


def test_a_folder_of_other_files_is_refused_and_kept(tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    (other / "data.csv").write_text("1,2\n")
    with pytest.raises(ReportFolderError, match="holds other files and is not an earlier report"):
        write_report_folder(other, fill)
    assert issubclass(ReportFolderError, InputError) and (other / "data.csv").read_text() == "1,2\n"
    out = write_report_folder(tmp_path / "report", fill)
    (out / "mine.txt").write_text("a user's file")
    with pytest.raises(ReportFolderError, match=r"did not write \(mine.txt\)"):
        write_report_folder(out, fill)
    assert (out / "mine.txt").exists()
