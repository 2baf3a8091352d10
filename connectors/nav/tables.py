"""Reading the municipality's own tables (Excel or CSV) with errors staff can act on.

Everything is read as text first and converted column-wise (vectorized), so a 1M-row export
reads in about a second and every bad cell can be named: file, row (as Excel numbers it, the
header being row 1), column and value. Norwegian conventions are accepted as exported:
semicolon separator, decimal comma, `1 234,50`, dates dd.mm.åååå or ISO, fnr stored by Excel
as a number (leading zero lost).
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from connectors.identifiers import mask_fnr

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
    data = path.read_bytes()
    if not data.strip():
        raise InputFileError(path, [f"{label} er tom"])
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    header = text.split("\n", 1)[0]
    sep = ";" if ";" in header else ("\t" if "\t" in header else ",")
    try:
        df = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, na_filter=False,
                         engine="c", quoting=csv.QUOTE_MINIMAL, skipinitialspace=False)
    except (pd.errors.ParserError, ValueError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
        raise InputFileError(path, [f"{label} kan ikke leses som CSV: {first}"]) from None
    for c in df.columns:
        df[c] = df[c].str.strip()
    return df


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


def parse_dates(s: pd.Series, rows: np.ndarray, column: str, problems: Problems,
                required: bool = True) -> np.ndarray:
    """dd.mm.åååå, d.m.åååå or ISO (åååå-mm-dd, with or without time) -> datetime64[D] (NaT if empty)."""
    s = s.astype(str).str.strip()
    empty = (s == "").to_numpy()
    out = pd.to_datetime(s, format="%d.%m.%Y", errors="coerce")
    rest = out.isna().to_numpy() & ~empty
    if rest.any():
        iso = pd.to_datetime(s[rest].str.slice(0, 10), format="%Y-%m-%d", errors="coerce")
        out.loc[rest] = iso
        rest = out.isna().to_numpy() & ~empty
    if rest.any():
        loose = pd.to_datetime(s[rest], format="%d.%m.%y", errors="coerce")
        out.loc[rest] = loose
        rest = out.isna().to_numpy() & ~empty
    if rest.any():
        problems.add(rows[rest], column, "ugyldig dato (bruk dd.mm.åååå eller åååå-mm-dd)", s[rest].tolist())
    if required and empty.any():
        problems.add(rows[empty], column, "mangler dato")
    return out.to_numpy().astype("datetime64[D]")


def parse_amounts(s: pd.Series, rows: np.ndarray, column: str, problems: Problems,
                  required: bool = True) -> np.ndarray:
    """'1 234,50', '1234.50', '1.234,50', 'kr 1 234' -> øre as float64 (NaN where empty)."""
    s = s.astype(str).str.strip()
    empty = (s == "").to_numpy()
    cleaned = s.str.replace(r"[\s\u00a0\u202f]|kr|NOK", "", regex=True, case=False)
    comma = cleaned.str.contains(",", regex=False)
    cleaned = cleaned.where(~comma, cleaned.str.replace(".", "", regex=False).str.replace(",", ".", regex=False))
    value = pd.to_numeric(cleaned, errors="coerce").to_numpy(dtype=np.float64)
    bad = np.isnan(value) & ~empty
    if bad.any():
        problems.add(rows[bad], column, "ugyldig beløp", s[bad].tolist())
    if required and empty.any():
        problems.add(rows[empty], column, "mangler beløp")
    return np.round(value * 100)


def _digits_matrix(values: pd.Series, width: int) -> np.ndarray:
    return (np.array(values.tolist(), dtype=f"S{width}").view(np.uint8).reshape(-1, width).astype(np.int64) - 48)


def _mod11(dm: np.ndarray, weights: list[int]) -> np.ndarray:
    rest = 11 - (dm @ np.array(weights, dtype=np.int64)) % 11
    return np.where(rest == 11, 0, np.where(rest == 10, -1, rest))


def parse_fnr(s: pd.Series, rows: np.ndarray, column: str, problems: Problems) -> np.ndarray:
    """11-digit fnr with valid check digits -> int64. A 10-digit value is an fnr that Excel
    stored as a number (leading zero lost) and is padded back."""
    s = s.astype(str).str.replace(r"[\s.\-]", "", regex=True)
    s = s.where(s.str.len() != 10, "0" + s)
    shape = s.str.fullmatch(r"\d{11}").fillna(False).to_numpy(dtype=bool)
    out = np.zeros(len(s), dtype=np.int64)
    if (~shape).any():
        problems.add(rows[~shape], column, "fødselsnummer må ha 11 sifre",
                     [mask_fnr(v) for v in s[~shape].tolist()])
    if shape.any():
        dm = _digits_matrix(s[shape], 11)
        k1 = _mod11(dm[:, :9], [3, 7, 6, 1, 8, 9, 4, 5, 2])
        k2 = _mod11(np.concatenate([dm[:, :9], np.where(k1 < 0, 0, k1)[:, None]], axis=1), [5, 4, 3, 2, 7, 6, 5, 4, 3, 2])
        ok = (k1 >= 0) & (k2 >= 0) & (k1 == dm[:, 9]) & (k2 == dm[:, 10])
        idx = np.flatnonzero(shape)
        if (~ok).any():
            problems.add(rows[idx[~ok]], column, "ugyldig fødselsnummer (kontrollsiffer)",
                         [mask_fnr(v) for v in s[shape][~ok].tolist()])
        out[idx] = dm @ (10 ** np.arange(10, -1, -1)).astype(np.int64)
    return out


def parse_orgnr(s: pd.Series, rows: np.ndarray, column: str, problems: Problems,
                required: bool = True) -> np.ndarray:
    """9-digit organisation number with a valid mod-11 check digit -> int64 (0 where empty)."""
    s = s.astype(str).str.replace(r"\s", "", regex=True)
    empty = (s == "").to_numpy()
    shape = s.str.fullmatch(r"\d{9}").fillna(False).to_numpy(dtype=bool)
    out = np.zeros(len(s), dtype=np.int64)
    bad_shape = ~shape & (~empty if not required else np.ones(len(s), dtype=bool))
    if bad_shape.any():
        problems.add(rows[bad_shape], column, "må være 9 sifre", s[bad_shape].tolist())
    if shape.any():
        dm = _digits_matrix(s[shape], 9)
        ok = _mod11(dm[:, :8], [3, 2, 7, 6, 5, 4, 3, 2]) == dm[:, 8]
        idx = np.flatnonzero(shape)
        if (~ok).any():
            problems.add(rows[idx[~ok]], column, "ugyldig kontrollsiffer", s[shape][~ok].tolist())
        out[idx] = dm @ (10 ** np.arange(8, -1, -1)).astype(np.int64)
    return out
