"""The kit's small shared tools: dates, table rows as plain values, the key join, the archive, the
evidence of a failed bot step."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from config.settings import PathSettings, Settings
from flows.kit import archive
from flows.kit.dates import dato, periode, to_date
from flows.kit.evidence import attachments, scrub
from flows.kit.frames import Columns, group_first, join


def test_dates_from_anything_and_in_norwegian():
    assert to_date("2026-04-30") == date(2026, 4, 30)
    assert to_date("") is None and to_date(None) is None and to_date(np.datetime64("NaT", "D")) is None
    assert to_date(np.datetime64("2026-04-30", "D")) == date(2026, 4, 30)
    assert dato(date(2026, 4, 1)) == "01.04.2026" and dato(np.datetime64("NaT", "D")) == ""
    assert periode(date(2026, 4, 1), date(2026, 4, 30)) == "01.04.2026–30.04.2026"
    assert periode(None, None) == "(ingen periode)"


def test_columns_give_rows_as_plain_python_values():
    frame = pd.DataFrame({"id": pd.Categorical(["a", "b"]), "n": np.array([1, 2], np.int64),
                          "day": pd.to_datetime(["2026-04-01", None]), "x": np.array([1, 2], np.int64)})
    cols = Columns(frame, text=("id",), dates=("day",), floats=("x",))
    row = cols.row(1)
    assert row == {"id": "b", "n": 2, "day": None, "x": 2.0}
    assert type(row["n"]) is int and type(row["x"]) is float and type(row["id"]) is str
    assert cols.row(0, ["day"]) == {"day": date(2026, 4, 1)}


def test_join_pairs_every_equal_key_and_group_first():
    li, ri = join(np.array([3, 1, 3], np.int64), np.array([3, 2, 3], np.int64))
    assert sorted(zip(li.tolist(), ri.tolist(), strict=True)) == [(0, 0), (0, 2), (2, 0), (2, 2)]
    assert group_first(np.array([1, 0, 1], np.int64), 3).tolist() == [1, 0, -1]


def test_archive_keeps_a_file_once_under_a_safe_name(tmp_path):
    settings = Settings(paths=PathSettings(data_dir=tmp_path))
    path = archive.keep(settings, "p", "filer", "a/b c.csv", b"first")
    assert path == tmp_path / "archive" / "p" / "filer" / "a_b_c.csv" and path.read_bytes() == b"first"
    assert archive.keep(settings, "p", "filer", "a/b c.csv", b"second").read_bytes() == b"first"


def test_evidence_files_of_an_error_become_attachments_and_sections_are_scrubbed(tmp_path: Path):
    shot, gone = tmp_path / "skjerm.png", tmp_path / "borte.zip"
    shot.write_bytes(b"png")
    error = RuntimeError("nede")
    error.evidence = [shot, gone]  # type: ignore[attr-defined]
    assert attachments(error) == [("skjerm.png", "image/png", b"png")]
    assert attachments(RuntimeError("uten bevis")) == []
    [section] = scrub([{"title": "T", "rows": [["01017012345"]]}])
    assert "01017012345" not in section["rows"][0][0]
