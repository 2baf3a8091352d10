"""Reading a manifest (CSV or Excel) from the drop folder into rows, with errors that name the
file, the row and the column. Column headers come from the process definition (`inputs[manifest]
.columns`), so a municipality with other headers changes the YAML, not the code."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from pathlib import Path

from connectors.tables import Row

FIELDS = ("bilagsnummer", "leverandor_orgnr", "fakturanummer", "filnavn", "dokumenttype", "kommentar")


class ManifestError(ValueError):
    """The manifest as a whole cannot be read (encoding, missing columns, not a table)."""


class EmptyManifestError(ValueError):
    """A manifest with no rows: the run stops before anything is moved (the files it was meant
    to describe must not be quarantined as 'not in any manifest')."""


def _norm_header(text: str) -> str:
    text = unicodedata.normalize("NFKC", str(text or "")).strip().lower()
    return re.sub(r"\s+", " ", text).lstrip("\ufeff")


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # Excel turns 100234 into 100234.0
    return unicodedata.normalize("NFC", str(value)).strip()


def read_manifest(path: Path, data: bytes, columns: dict[str, str], required: list[str]) -> list[Row]:
    """Rows of a manifest; `columns` maps our field names to the headers in the file."""
    table = _xlsx_rows(path, data) if path.suffix.lower() in (".xlsx", ".xlsm") else _csv_rows(path, data)
    if not table:
        raise EmptyManifestError(f"{path.name}: manifestet er tomt (ingen overskriftsrad og ingen rader). "
                                 "Kjøringen er stoppet; legg inn et utfylt manifest")
    header = [_norm_header(h) for h in table[0]]
    index: dict[str, int] = {}
    for ours, theirs in columns.items():
        wanted = _norm_header(theirs)
        if wanted in header:
            index[ours] = header.index(wanted)
    missing = [columns.get(c, c) for c in required if c not in index]
    if missing:
        raise ManifestError(f"{path.name}, rad 1: mangler kolonne(r) {', '.join(missing)} "
                            f"(fant: {', '.join(h for h in header if h) or 'ingen'})")
    rows = []
    for number, cells in enumerate(table[1:], start=2):
        values = {ours: _cell(cells[i]) if i < len(cells) else "" for ours, i in index.items()}
        if not any(values.values()):
            continue  # blank line
        rows.append(Row(number, values))
    if not rows:
        raise EmptyManifestError(f"{path.name}: manifestet har overskrifter, men ingen rader. Kjøringen er stoppet "
                                 "og ingen filer er flyttet; legg inn et utfylt manifest")
    return rows


def _csv_rows(path: Path, data: bytes) -> list[list[str]]:
    if b"\x00" in data:
        line = data[:data.index(b"\x00")].count(b"\n") + 1
        raise ManifestError(f"{path.name}, rad {line}: ikke en tekstfil (NUL-tegn; lagret som UTF-16?). "
                            "Lagre den som «CSV UTF-8 (semikolondelt)»")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            line = data[:exc.start].count(b"\n") + 1
            raise ManifestError(f"{path.name}, rad {line}: ikke UTF-8-tekst (byte {exc.start})") from None
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") >= max(first.count(","), first.count("\t")) else (
        "\t" if first.count("\t") > first.count(",") else ",")
    return [row for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)]


def _xlsx_rows(path: Path, data: bytes) -> list[list[object]]:
    import zipfile

    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise ManifestError(f"{path.name}: kan ikke leses som Excel-arbeidsbok ({type(exc).__name__})") from None
    try:
        ws = wb.worksheets[0]
        return [list(r) for r in ws.iter_rows(values_only=True)]
    finally:
        wb.close()
