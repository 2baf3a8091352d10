"""One request -> one tjenestebevis letter, or a case for HR with the records side by side."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from connectors.identifiers import fnr_birth_date, mask_fnr
from connectors.letters import Letter, write_letter
from connectors.nav.tables import InputFileError, map_columns, read_table
from flows.tjenestebevis.certificate import (
    Finding,
    Position,
    check_identity,
    check_records,
    employment_length,
    fmt_length,
    fmt_percent,
    normalise_fnr,
)

ISSUE_ANYWAY = "issue_anyway"


@dataclass(frozen=True)
class Request:
    row: int
    id: str
    fnr: str
    ordered: date | None
    purpose: str


def parse_date(text: str) -> date | None:
    """dd.mm.åååå, åååå-mm-dd (Excel dates arrive so) or an Excel serial day number; else None."""
    text = (text or "").strip()
    for fmt in ("%d.%m.%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(text[:10], fmt).date()
        except ValueError:
            pass
    if text.isdigit() and 20000 < int(text) < 80000:
        return date(1899, 12, 30) + timedelta(days=int(text))
    return None


def _rows(path: Path, spec: Any, label: str) -> list[tuple[int, dict[str, str]]]:
    df = read_table(path, label)
    found = map_columns(df, path, spec.columns, spec.required_columns, label)
    if df.empty:
        raise InputFileError(path, [f"{label} har ingen rader: ingenting å behandle"])
    return [(n + 2, {field: str(rec[header]).strip() for field, header in found.items()})
            for n, rec in enumerate(df.to_dict("records"))]


def read_requests(path: Path, spec: Any) -> list[Request]:
    out = []
    for row, cells in _rows(path, spec, "bestillingsfilen"):
        out.append(Request(row, cells.get("bestilling_id", ""), normalise_fnr(cells.get("fnr", "")),
                           parse_date(cells.get("bestilt_dato", "")), cells.get("formal", "")))
    return out


def read_positions(path: Path, spec: Any) -> dict[str, list[Position]]:
    """Positions per person (11-digit fnr). Unreadable cells stay on the position as `problem`."""
    by_person: dict[str, list[Position]] = defaultdict(list)
    for row, c in _rows(path, spec, "arbeidsforholdsfilen"):
        start, end = parse_date(c.get("fra_dato", "")), parse_date(c.get("til_dato", ""))
        problems = []
        if start is None:
            problems.append(f"fra_dato «{c.get('fra_dato', '')}» er ikke en dato")
        if c.get("til_dato") and end is None:
            problems.append(f"til_dato «{c['til_dato']}» er ikke en dato")
        try:
            percent = float(c.get("stillingsprosent", "").replace(",", ".").rstrip(" %"))
        except ValueError:
            percent = None
            problems.append(f"stillingsprosent «{c.get('stillingsprosent', '')}» er ikke et tall")
        fnr = normalise_fnr(c.get("fnr", ""))
        by_person[fnr].append(Position(row, fnr, c.get("navn", ""), c.get("stillingstittel", ""),
                                       c.get("virksomhet", ""), start, end, percent, c.get("arbeidsoppgaver", ""),
                                       "; ".join(problems)))
    return by_person


def payload(request: Request, source: str) -> dict[str, Any]:
    return {"row": request.row, "fnr": request.fnr, "ordered": request.ordered.isoformat() if request.ordered else None,
            "purpose": request.purpose, "file": source}


def assess(request: dict[str, Any], positions: list[Position], rules: Any, as_of: date,
           earlier: list[dict[str, Any]], forced: bool) -> Finding | None:
    """The reason this request needs a person, or None when the letter can be issued."""
    finding = check_identity(request["fnr"]) or (None if positions else Finding(
        "NO_EMPLOYMENT", "Ingen arbeidsforhold er registrert på denne personen. Kontroller fødselsnummeret, "
                         "eller svar personen at kommunen ikke har arbeidsforhold registrert."))
    if finding or forced:
        return finding
    finding = check_records(positions, rules.max_total_percent, as_of)
    if finding:
        return finding
    differing = [e for e in earlier if e.get("purpose", "") != request.get("purpose", "")]
    if differing:
        return Finding("DUPLICATE_REQUEST", f"Personen bestilte tjenestebevis også {len(earlier)} gang(er) de siste "
                       f"{rules.duplicate_window_days} dagene, med et annet formål. Velg om et nytt brev skal sendes.")
    return None


def letter_for(request: dict[str, Any], positions: list[Position], rules: Any, as_of: date,
               municipality: str) -> Letter:
    name = next((p.name for p in positions if p.name), "")
    born = fnr_birth_date(request["fnr"])
    rows = [[p.title, p.unit, f"{p.start:%d.%m.%Y}–{p.end:%d.%m.%Y}" if p.end else f"{p.start:%d.%m.%Y}–d.d.",
             fmt_percent(p.percent), p.duties] for p in sorted(positions, key=lambda p: (p.start, p.row))]
    years, months = employment_length(positions, as_of)
    return Letter(
        sender=municipality, unit=rules.issuing_unit, title="Tjenestebevis",
        paragraphs=[f"Navn: {name}", f"Fødselsdato: {born:%d.%m.%Y}",
                    f"{name} har vært ansatt i {municipality} i disse stillingene:"],
        table_header=["Stilling", "Virksomhet", "Periode", "Stillingsprosent", "Arbeidsoppgaver"],
        table_rows=rows, table_widths=[0.22, 0.22, 0.24, 0.12, 0.20],
        closing=[f"Samlet tjenestetid: {fmt_length(years, months)}."],
        place_date=f"{rules.place}, {as_of:%d.%m.%Y}",
        signature=["Dokumentet er elektronisk godkjent og har derfor ingen signatur.", rules.issuing_unit])


def issue(request: dict[str, Any], reference: str, positions: list[Position], rules: Any, as_of: date,
          municipality: str, out_dir: Path) -> Path:
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in reference)[:80]
    return write_letter(letter_for(request, positions, rules, as_of, municipality),
                        out_dir / "brev" / f"tjenestebevis-{safe}.pdf")


def evidence(request: dict[str, Any], positions: list[Position], finding: Finding) -> dict[str, Any]:
    """The request and the person's records side by side (fnr masked; the clear one in `data`)."""
    return {"sections": [
        {"title": "Bestillingen", "columns": ["Felt", "Verdi"], "rows": [
            ["Rad", str(request.get("row", ""))], ["Fødselsnummer", mask_fnr(request["fnr"])],
            ["Bestilt", request.get("ordered") or ""], ["Formål", request.get("purpose") or ""],
            ["Fil", request.get("file", "")]]},
        {"title": "Arbeidsforhold i HR-eksporten",
         "columns": ["Rad", "Stilling", "Virksomhet", "Fra", "Til", "Stillingsprosent", "Merknad"],
         "rows": [[str(p.row), p.title, p.unit, f"{p.start:%d.%m.%Y}" if p.start else "",
                   f"{p.end:%d.%m.%Y}" if p.end else "d.d.", fmt_percent(p.percent), p.problem]
                  for p in positions]},
        {"title": "Hva du gjør", "text": finding.message}],
        "data": {"fnr": request["fnr"], "positions": len(positions)}}
