"""The fleet list (kjøretøyliste): kjennemerke (or a VIN), virksomhet, optionally kilometerstand.

Read by the shared table reader (connectors.tables: the definition's columns, a list unusable as a
whole is an InputFileError naming the file). A row-level problem never stops the run: a plate
that cannot be read becomes a PLATE_MALFORMED case for that row, an unreadable kilometerstand a
warning naming row and column (the value is left out).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from config.process_definition import Input
from connectors.tables import parse_whole_number, read_rows
from connectors.vegvesen.plates import Identifier, PlateError, normalize_identifier


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


def read_fleet_list(path: Path, spec: Input, *, allow_personalized: bool = False) -> tuple[list[FleetRow], list[str]]:
    """(rows, warnings)."""
    rows: list[FleetRow] = []
    warnings: list[str] = []
    for r in read_rows(path, spec, "kjøretøylisten"):
        try:
            identifier, problem = normalize_identifier(r.get("kjennemerke"), allow_personalized=allow_personalized), None
        except PlateError as exc:
            identifier, problem = None, exc.reason
        try:
            own_km = parse_whole_number(r.get("kilometerstand"), "km")
        except ValueError:
            own_km = None
            warnings.append(f"{Path(path).name}, rad {r.number}, kolonne {spec.columns.get('kilometerstand')}: "
                            f"«{r.get('kilometerstand')}» er ikke en kilometerstand; verdien er ikke brukt")
        rows.append(FleetRow(r.number, r.get("kjennemerke"), r.get("virksomhet") or "(uten virksomhet)", identifier,
                             problem, own_km))
    return rows, warnings
