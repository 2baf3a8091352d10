"""Reading the municipality's own tables (Excel or CSV) with errors staff can act on.

Everything is read as text first and converted column-wise (vectorized), so a 1M-row export
reads in about a second and every bad cell can be named: file, row (as Excel numbers it, the
header being row 1), column and value. Norwegian conventions are accepted as exported:
semicolon separator, decimal comma, `1 234,50`, dates dd.mm.åååå or ISO, fnr stored by Excel
as a number (leading zero lost).
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from connectors.identifiers import mask_fnr, mask_fnrs_in_text

EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
MAX_LISTED = 15


class InputFileError(ValueError):
    """An input file that cannot be used as a whole; nothing from it is imported."""

    def __init__(self, path: Path | str, problems: list[str]):
        self.path = Path(path)
        self.problems = problems
        listed = problems[:MAX_LISTED]
        more = f"\n  … og {len(problems) - MAX_LISTED} til" if len(problems) > MAX_LISTED else ""
        super().__init__(f"{self.path.name}: " + ("\n  - ".join(["", *listed]).lstrip("\n ") if len(listed) > 1
                                                  else listed[0]) + more)


@dataclass
class Problems:
    """Collects bad cells; raise() at the end so the user sees all of them at once."""

    path: Path
    items: list[str]

    def add(self, rows: np.ndarray | list[int], column: str, reason: str, values: list[str] | None = None) -> None:
        for n, row in enumerate(rows):
            if len(self.items) >= 200:
                return
            shown = f" («{values[n]}»)" if values is not None and values[n] != "" else ""
            self.items.append(f"rad {int(row)}, kolonne {column}: {reason}{shown}")

    def raise_if_any(self) -> None:
        if self.items:
            raise InputFileError(self.path, self.items)


def _cell_text(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, pd.Timestamp) or hasattr(value, "isoformat"):
        return value.isoformat()[:10]
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_table(path: Path | str, label: str = "fil") -> pd.DataFrame:
    """All cells as stripped text, columns as in the header row. Raises InputFileError."""
    path = Path(path)
    if not path.exists():
        raise InputFileError(path, [f"{label} finnes ikke ({path})"])
    if path.is_dir():
        raise InputFileError(path, [f"{label} er en mappe, ikke en fil ({path})"])
    if path.suffix.lower() in EXCEL_SUFFIXES:
        df = _read_excel(path, label)
    elif path.suffix.lower() in (".csv", ".txt"):
        df = _read_csv(path, label)
    else:
        raise InputFileError(path, [f"ukjent filtype {path.suffix!r} for {label} (bruk .xlsx eller .csv)"])
    df.columns = [str(c).strip() for c in df.columns]
    if df.empty and not len(df.columns):
        raise InputFileError(path, [f"{label} er tom"])
    blank = (df == "").all(axis=1)
    if blank.any():
        df = df[~blank]
    return df


def _read_excel(path: Path, label: str) -> pd.DataFrame:
    try:
        raw = pd.read_excel(path, dtype=object, engine="openpyxl", sheet_name=0)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise InputFileError(path, [f"{label} kan ikke leses som Excel-fil ({exc.__class__.__name__})"]) from None
    out = pd.DataFrame({c: [_cell_text(v) for v in raw[c].tolist()] for c in raw.columns}, dtype=object)
    out.index = raw.index
    return out


def _read_csv(path: Path, label: str) -> pd.DataFrame:
    """Every cell as text via Arrow's CSV reader (multi-threaded; a 1M-row export in about a second)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    data = path.read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if not data.strip():
        raise InputFileError(path, [f"{label} er tom"])
    try:
        data.decode("utf-8")
        encoding = "utf-8"
    except UnicodeDecodeError:
        encoding = "cp1252"  # what Excel writes when it saves CSV on a Norwegian Windows
    header = data.split(b"\n", 1)[0].decode(encoding, errors="replace")
    sep = ";" if ";" in header else ("\t" if "\t" in header else ",")
    names = [h.strip().strip('"') for h in header.rstrip("\r").split(sep)]
    try:
        table = pacsv.read_csv(
            pa.BufferReader(data),
            read_options=pacsv.ReadOptions(encoding=encoding, use_threads=True),
            parse_options=pacsv.ParseOptions(delimiter=sep),
            convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False))
    except (pa.ArrowInvalid, pa.ArrowKeyError, ValueError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
        raise InputFileError(path, [_csv_problem(data, encoding, sep, label, first)]) from None
    string = pd.StringDtype("pyarrow", na_value=np.nan)
    return table.to_pandas(types_mapper=lambda t: string if t == pa.string() else None)


def _csv_problem(data: bytes, encoding: str, sep: str, label: str, arrow_message: str) -> str:
    """Arrow's CSV error in Norwegian, with the row as the user numbers it where it can be found."""
    import csv
    import io
    import re

    m = re.search(r"Expected (\d+) columns, got (\d+)", arrow_message)
    if m:
        expected = int(m[1])
        rows = csv.reader(io.StringIO(data.decode(encoding, errors="replace"), newline=""), delimiter=sep)
        for number, row in enumerate(rows, start=1):
            if row and len(row) != expected:
                return (f"{label}, rad {number}: {len(row)} felt, men overskriften har {expected} kolonner "
                        f"(skilletegn «{sep}»: feil skilletegn, eller et skilletegn inne i en verdi uten anførselstegn?)")
    return f"{label} kan ikke leses som CSV: {mask_fnrs_in_text(arrow_message)}"


def map_columns(df: pd.DataFrame, path: Path, columns: dict[str, str], required: list[str],
                label: str = "filen") -> dict[str, str]:
    """our field -> actual header; InputFileError naming every missing required column."""
    actual = {c.strip().lower(): c for c in df.columns}
    found: dict[str, str] = {}
    missing: list[str] = []
    for field_name, header in columns.items():
        hit = actual.get(header.strip().lower())
        if hit is not None:
            found[field_name] = hit
        elif field_name in required:
            missing.append(header if header == field_name else f"{header} ({field_name})")
    if missing:
        raise InputFileError(path, [f"{label} mangler kolonne(r): {', '.join(missing)}. "
                                    f"Kolonner i filen: {', '.join(map(str, df.columns)) or '(ingen)'}"])
    return found


def row_numbers(df: pd.DataFrame) -> np.ndarray:
    """Row numbers as the user sees them (header = row 1)."""
    return np.arange(2, len(df) + 2)


def open_table(path: Path | str, label: str, columns: dict[str, str], required: list[str]
               ) -> tuple[Path, pd.DataFrame, dict[str, str], np.ndarray, Problems]:
    """What every reader starts with: (path, the cells as text, our field -> header, row numbers
    as the user sees them, an empty Problems to collect bad cells in)."""
    path = Path(path)
    df = read_table(path, label)
    return path, df, map_columns(df, path, columns, required, label), row_numbers(df), Problems(path, [])


def require_rows(path: Path, df: pd.DataFrame, label: str) -> None:
    """A file with headers and no rows is refused as a whole: nothing in it can be matched, and
    an empty list must never pass for 'nothing outstanding'."""
    if len(df) == 0:
        raise InputFileError(path, [f"{label} har overskrifter, men ingen rader; eksporter filen på nytt"])


def check_pattern(values, rows: np.ndarray, column: str, pattern: str, problems: Problems) -> None:
    """Cells (Arrow strings) that do not match `pattern` as a whole (empty cells are left to the
    column's own 'missing' check)."""
    import re

    import pyarrow as pa
    import pyarrow.compute as pc

    try:  # vectorized (RE2) for a 1M-row export; Python's re where RE2 does not know the syntax
        ok = _np(pc.match_substring_regex(values, f"^(?:{pattern})$")) | _np(pc.equal(values, ""))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        compiled = re.compile(pattern)
        ok = np.array([not v or bool(compiled.fullmatch(v)) for v in values.to_pylist()], dtype=bool)
    if not ok.all():
        bad = ~ok
        problems.add(rows[bad], column, "ugyldig verdi: bare bokstaver, sifre og enkle skilletegn er tillatt "
                     "(verdien går til regnskapsimporten)", [mask_fnrs_in_text(v) for v in _shown(values, bad)])


def arrow_text(s: pd.Series):
    """A text column as a pyarrow string array, trimmed, empty where missing (zero-copy when
    the column is already Arrow-backed)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        arr = pa.array(s) if not isinstance(s.dtype, np.dtype) else pa.array(s.to_numpy(dtype=object),
                                                                             from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        arr = pa.array([_cell_text(v) for v in s.tolist()], type=pa.string())
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if arr.type != pa.string():
        arr = pc.cast(arr, pa.string())
    return pc.utf8_trim_whitespace(pc.fill_null(arr, ""))


def _np(arr) -> np.ndarray:
    return np.asarray(arr.to_numpy(zero_copy_only=False))


def _shown(arr, mask: np.ndarray) -> list[str]:
    import pyarrow as pa

    return arr.filter(pa.array(mask)).to_pylist()


def _ymd(dates_struct, idx: int) -> np.ndarray:
    import pyarrow as pa
    import pyarrow.compute as pc

    field = dates_struct.field(idx)
    return _np(pc.cast(pc.fill_null(pc.if_else(pc.equal(field, ""), "0", field), "0"), pa.int64()))


def parse_dates(s: pd.Series, rows: np.ndarray, column: str, problems: Problems,
                required: bool = True) -> np.ndarray:
    """dd.mm.åååå, d.m.åå or ISO (åååå-mm-dd, with or without time) -> datetime64[D] (NaT if empty).
    Strict: 31.02.2026 is an error, not 3 March."""
    import pyarrow.compute as pc

    a = arrow_text(s)
    empty = _np(pc.equal(a, ""))
    # Fast path (one regex, then fixed slices): the common dd.mm.åååå of an export.
    strict = _np(pc.match_substring_regex(a, r"^\d{2}\.\d{2}\.\d{4}$"))
    if strict.all() or (strict | empty).all():
        import pyarrow as pa

        text = pc.if_else(pa.array(strict), a, "00.00.0000")
        d = _np(pc.cast(pc.utf8_slice_codeunits(text, 0, 2), pa.int64()))
        m = _np(pc.cast(pc.utf8_slice_codeunits(text, 3, 5), pa.int64()))
        y = _np(pc.cast(pc.utf8_slice_codeunits(text, 6, 10), pa.int64()))
        return _checked_dates(d, m, y, strict, empty, a, rows, column, problems, required)
    dmy = pc.extract_regex(a, r"^(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>\d{4}|\d{2})$")
    iso = pc.extract_regex(a, r"^(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})(?:[ T].*)?$")
    is_dmy = _np(pc.is_valid(dmy))
    is_iso = _np(pc.is_valid(iso))
    d = np.where(is_dmy, _ymd(dmy, 0), _ymd(iso, 2))
    m = np.where(is_dmy, _ymd(dmy, 1), _ymd(iso, 1))
    y = np.where(is_dmy, _ymd(dmy, 2), _ymd(iso, 0))
    y = np.where(y < 100, 2000 + y, y)
    return _checked_dates(d, m, y, is_dmy | is_iso, empty, a, rows, column, problems, required)


def _checked_dates(d, m, y, matched, empty, a, rows, column, problems, required) -> np.ndarray:
    ok = matched & (y >= 1900) & (y <= 2099) & (m >= 1) & (m <= 12) & (d >= 1)
    months = np.where(ok, (y - 1970) * 12 + (m - 1), 0).astype("datetime64[M]")
    first = months.astype("datetime64[D]")
    ok &= d <= ((months + 1).astype("datetime64[D]") - first).astype(np.int64)
    out = np.where(ok, first + np.where(ok, d - 1, 0).astype("timedelta64[D]"), np.datetime64("NaT"))
    bad = ~ok & ~empty
    if bad.any():
        problems.add(rows[bad], column, "ugyldig dato (bruk dd.mm.åååå eller åååå-mm-dd)", _shown(a, bad))
    if required and empty.any():
        problems.add(rows[empty], column, "mangler dato")
    return out.astype("datetime64[D]")


def parse_amounts(s: pd.Series, rows: np.ndarray, column: str, problems: Problems,
                  required: bool = True) -> np.ndarray:
    """'1 234,50', '1234.50', '1.234,50', 'kr 1 234' -> øre as float64 (NaN where empty)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    a = arrow_text(s)
    empty = _np(pc.equal(a, ""))
    plain = _np(pc.match_substring_regex(a, r"^-?\d+([.,]\d+)?$"))
    if (plain | empty).all():  # fast path: 1234,50 or 1234.50 as most exports write them
        text = pc.replace_substring(pc.if_else(pa.array(plain), a, "0"), ",", ".")
        value = np.where(plain, _np(pc.cast(text, pa.float64())), np.nan)
        if required and empty.any():
            problems.add(rows[empty], column, "mangler beløp")
        return np.round(value * 100)
    cleaned = pc.replace_substring_regex(a, r"[\s\x{00a0}\x{202f}]|[Kk][Rr]\.?|NOK", "")
    comma = pc.match_substring(cleaned, ",")
    cleaned = pc.if_else(comma, pc.replace_substring(pc.replace_substring(cleaned, ".", ""), ",", "."), cleaned)
    valid = pc.match_substring_regex(cleaned, r"^[-+]?(\d+(\.\d*)?|\.\d+)$")
    value = _np(pc.cast(pc.if_else(valid, cleaned, "0"), pa.float64()))
    valid_np = _np(valid)
    value = np.where(valid_np, value, np.nan)
    bad = ~valid_np & ~empty
    if bad.any():
        problems.add(rows[bad], column, "ugyldig beløp", _shown(a, bad))
    if required and empty.any():
        problems.add(rows[empty], column, "mangler beløp")
    return np.round(value * 100)


def _digit_ints(a, width: int, pad_from: int | None = None):
    """(int64 values, well-formed mask) of `width`-digit identifiers, separators removed."""
    import pyarrow as pa
    import pyarrow.compute as pc

    plain = pc.match_substring_regex(a, rf"^\d{{{width}}}$")
    if _np(plain).all():
        return _np(pc.cast(a, pa.int64())), np.ones(len(a), dtype=bool), a
    c = pc.replace_substring_regex(a, r"[\s.\-]", "")
    if pad_from is not None:
        c = pc.if_else(pc.equal(pc.utf8_length(c), pad_from), pc.binary_join_element_wise("0", c, ""), c)
    shape = pc.match_substring_regex(c, rf"^\d{{{width}}}$")
    values = _np(pc.cast(pc.if_else(shape, c, "0"), pa.int64()))
    return values, _np(shape), c


def _digits(values: np.ndarray, width: int) -> np.ndarray:
    return values[:, None] // (10 ** np.arange(width - 1, -1, -1)).astype(np.int64) % 10


def _mod11(dm: np.ndarray, weights: list[int]) -> np.ndarray:
    rest = 11 - (dm @ np.array(weights, dtype=np.int64)) % 11
    return np.where(rest == 11, 0, np.where(rest == 10, -1, rest))


def parse_fnr(s: pd.Series, rows: np.ndarray, column: str, problems: Problems) -> np.ndarray:
    """11-digit fnr with valid check digits -> int64. A 10-digit value is an fnr that Excel
    stored as a number (leading zero lost) and is padded back."""
    values, shape, text = _digit_ints(arrow_text(s), 11, pad_from=10)
    if (~shape).any():
        problems.add(rows[~shape], column, "fødselsnummer må ha 11 sifre",
                     [mask_fnr(v) for v in _shown(text, ~shape)])
    dm = _digits(values, 11)
    k1 = _mod11(dm[:, :9], [3, 7, 6, 1, 8, 9, 4, 5, 2])
    k2 = _mod11(np.concatenate([dm[:, :9], np.where(k1 < 0, 0, k1)[:, None]], axis=1), [5, 4, 3, 2, 7, 6, 5, 4, 3, 2])
    ok = (k1 >= 0) & (k2 >= 0) & (k1 == dm[:, 9]) & (k2 == dm[:, 10])
    bad = shape & ~ok
    if bad.any():
        problems.add(rows[bad], column, "ugyldig fødselsnummer (kontrollsiffer)",
                     [mask_fnr(v) for v in _shown(text, bad)])
    return np.where(shape, values, 0)


def parse_orgnr(s: pd.Series, rows: np.ndarray, column: str, problems: Problems,
                required: bool = True) -> np.ndarray:
    """9-digit organisation number with a valid mod-11 check digit -> int64 (0 where empty)."""
    import pyarrow.compute as pc

    a = arrow_text(s)
    empty = _np(pc.equal(a, ""))
    values, shape, text = _digit_ints(a, 9)
    bad_shape = ~shape & (np.ones(len(shape), dtype=bool) if required else ~empty)
    if bad_shape.any():
        problems.add(rows[bad_shape], column, "må være 9 sifre", _shown(text, bad_shape))
    dm = _digits(values, 9)
    ok = _mod11(dm[:, :8], [3, 2, 7, 6, 5, 4, 3, 2]) == dm[:, 8]
    bad = shape & ~ok
    if bad.any():
        problems.add(rows[bad], column, "ugyldig kontrollsiffer", _shown(text, bad))
    return np.where(shape, values, 0)
