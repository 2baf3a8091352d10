"""The fleet list (kjøretøyliste): an Excel file with kjennemerke, virksomhet, optionally kilometerstand.

Column headers come from the definition's input mapping (our field -> the header in the file),
matched without regard to case, spaces and æøå spelled ae/oe/aa. A file-level problem (missing
file, not Excel, a required column absent) is a FleetListError naming the file and what to fix;
a row-level problem never stops the run: a plate that cannot be read becomes a PLATE_MALFORMED
case for that row, an unreadable kilometerstand a warning naming row and column (the value is
left out). The file itself is only read, never changed.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from config.process_definition import Input
from connectors.vegvesen.plates import Identifier, PlateError, normalize_identifier


class FleetListError(ValueError):
    """The fleet list cannot be used at all; the message is Norwegian and names the file."""


@dataclass
class FleetRow:
    row: int                       # the Excel row number (header is row 1)
    raw: str                       # the plate cell as written
    org_unit: str
    identifier: Identifier | None  # None: malformed (see `problem`)
    problem: str | None = None
    own_km: int | None = None

    @property
    def key(self) -> str | None:
        return self.identifier.value if self.identifier else None


@dataclass
class FleetList:
    path: Path
    rows: list[FleetRow] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _fold(text: object) -> str:
    t = str(text or "").strip().lower()
    for a, b in (("æ", "ae"), ("ø", "oe"), ("å", "aa")):
        t = t.replace(a, b)
    return re.sub(r"[\s_\-.]+", "", t)


def parse_km(value: object) -> int | None:
    """45000, 45000.0, '45 000', '45 000 km', '45.000' -> 45000; raises ValueError otherwise."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError(value)
        return int(value)
    text = str(value).strip().lower().removesuffix("km").strip()
    text = re.sub(r"[\s\u00a0.]", "", text)
    if not re.fullmatch(r"\d+(,\d+)?", text):
        raise ValueError(value)
    return int(text.split(",")[0])


def read_fleet_list(path: Path, spec: Input, *, allow_personalized: bool = False) -> FleetList:
    path = Path(path)
    if not path.exists():
        raise FleetListError(f"Finner ikke kjøretøylisten {path}")
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        raise FleetListError(f"{path.name}: kjøretøylisten må være en Excel-fil (.xlsx), ikke {path.suffix or 'uten endelse'}")
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError) as exc:
        raise FleetListError(f"{path.name}: kan ikke leses som Excel ({exc.__class__.__name__})") from None
    try:
        ws = wb.worksheets[0]
        rows = ws.iter_rows(values_only=True)
        header = next(rows, None)
        if not header or not any(c not in (None, "") for c in header):
            raise FleetListError(f"{path.name}: første rad må være overskrifter "
                                 f"({', '.join(spec.columns.values())}), men er tom")
        folded = [_fold(h) for h in header]
        where: dict[str, int] = {}
        for field_name, column in spec.columns.items():
            if _fold(column) in folded:
                where[field_name] = folded.index(_fold(column))
        missing = [spec.columns[f] for f in spec.required_columns if f not in where]
        if missing:
            found = ", ".join(str(h) for h in header if h not in (None, ""))
            raise FleetListError(f"{path.name}: kolonnen «{'», «'.join(missing)}» mangler i overskriftsraden "
                                 f"(rad 1). Fant: {found}")
        out = FleetList(path)
        km_header = spec.columns.get("kilometerstand", "kilometerstand")
        for row_no, values in enumerate(rows, start=2):
            if values is None or all(v in (None, "") for v in values):
                continue

            def cell(name: str, values=values):
                i = where.get(name)
                return values[i] if i is not None and i < len(values) else None

            raw_plate = cell("kjennemerke")
            raw_text = "" if raw_plate is None else str(raw_plate).strip()
            org = str(cell("virksomhet") or "").strip() or "(uten virksomhet)"
            try:
                identifier, problem = normalize_identifier(raw_plate, allow_personalized=allow_personalized), None
            except PlateError as exc:
                identifier, problem = None, exc.reason
            own_km = None
            try:
                own_km = parse_km(cell("kilometerstand"))
            except ValueError:
                out.warnings.append(f"{path.name}, rad {row_no}, kolonne {km_header}: "
                                    f"«{cell('kilometerstand')}» er ikke en kilometerstand; verdien er ikke brukt")
            out.rows.append(FleetRow(row_no, raw_text, org, identifier, problem, own_km))
        if not out.rows:  # an empty list must never 'complete' with 0 vehicles and no share
            raise FleetListError(f"{path.name}: kjøretøylisten har overskrifter, men ingen kjøretøy (ingen rader "
                                 "under rad 1). Kjøringen er stoppet; eksporter listen på nytt")
        return out
    finally:
        wb.close()
