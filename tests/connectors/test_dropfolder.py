"""The drop folder: what is taken in now, what waits, what is never ours."""

from __future__ import annotations

import os
import unicodedata

from connectors.dropfolder import arrived, name_key, scan


def test_partial_copies_young_files_folders_and_links_are_not_taken(tmp_path):
    for name in ("b.pdf", "a.pdf", "kopi.pdf.part", "~$ark.xlsx", "ung.pdf"):
        (tmp_path / name).write_bytes(b"x")
    os.utime(tmp_path / "ung.pdf", (1000.0, 1000.0))
    for name in ("a.pdf", "b.pdf", "kopi.pdf.part", "~$ark.xlsx"):
        os.utime(tmp_path / name, (0.0, 0.0))
    (tmp_path / "undermappe").mkdir()
    (tmp_path / "lenke.pdf").symlink_to(tmp_path / "a.pdf")
    take, skipped = scan(tmp_path, min_age_seconds=60, ignore=["*.PART", "~$*"], now=1010.0)
    assert take == ["a.pdf", "b.pdf"]
    assert skipped == ["kopi.pdf.part", "ung.pdf", "~$ark.xlsx"]
    assert scan(tmp_path / "finnes-ikke") == ([], [])


def test_names_compare_as_on_a_windows_share_and_arrival_counts_the_copy(tmp_path):
    assert name_key(unicodedata.normalize("NFD", "Ærfugl.PDF")) == name_key("ærfugl.pdf")
    (tmp_path / "a.pdf").write_bytes(b"x")
    os.utime(tmp_path / "a.pdf", (0.0, 0.0))  # a copy tool that kept the original mtime
    assert arrived(tmp_path / "a.pdf") > 0.0 and arrived(tmp_path / "borte.pdf") == 0.0
