"""One request -> one tjenestebevis letter, or a case for HR with the records side by side."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Any

from connectors.identifiers import fnr_birth_date, mask_fnr
from connectors.letters import Letter, write_letter
from connectors.spreadsheet import write_sheet
from connectors.tables import parse_date, read_rows
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
from workqueue.store import NewItem

ISSUE_ANYWAY = "issue_anyway"  # declared in actions.py


def read_requests(path: Path, spec: Any) -> list[NewItem]:
    """One work item per request, reference = bestilling_id (the row where it is missing)."""
    return [NewItem(r.get("bestilling_id") or f"rad-{r.number}", {
        "row": r.number, "fnr": normalise_fnr(r.get("fnr")), "purpose": r.get("formal"), "file": path.name,
        "ordered": (parse_date(r.get("bestilt_dato")) or date.today()).isoformat()})
        for r in read_rows(path, spec, "bestillingsfilen")]


def read_positions(path: Path, spec: Any) -> dict[str, list[Position]]:
    """Positions per person (11-digit fnr). Unreadable cells stay on the position as `problem`."""
    by_person: dict[str, list[Position]] = defaultdict(list)
    for r in read_rows(path, spec, "arbeidsforholdsfilen"):
        problems: list[str] = []
        fnr = normalise_fnr(r.get("fnr"))
        by_person[fnr].append(Position(
            r.number, fnr, r.get("navn"), r.get("stillingstittel"), r.get("virksomhet"), r.as_date("fra_dato", problems),
            r.as_date("til_dato", problems, required=False), r.as_number("stillingsprosent", problems),
            r.get("arbeidsoppgaver"), "; ".join(problems)))
    return by_person


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


def letter_for(request: dict[str, Any], positions: list[Position], rules: Any, as_of: date) -> Letter:
    name = next((p.name for p in positions if p.name), "")
    born = fnr_birth_date(request["fnr"])
    rows = [[p.title, p.unit, f"{p.start:%d.%m.%Y}–{p.end:%d.%m.%Y}" if p.end else f"{p.start:%d.%m.%Y}–d.d.",
             fmt_percent(p.percent), p.duties] for p in sorted(positions, key=lambda p: (p.start, p.row))]
    years, months = employment_length(positions, as_of)
    municipality = rules.municipality
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
          out_dir: Path) -> Path:
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in reference)[:80]
    return write_letter(letter_for(request, positions, rules, as_of),
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


OUTCOME_WORDS = {"UTSTEDT": "Tjenestebevis utstedt", "SAMME_BESTILLING": "Samme bestilling som før: brevet er sendt",
                 "INVALID_FNR": "Til HR: ugyldig fødselsnummer", "NO_EMPLOYMENT": "Til HR: ingen arbeidsforhold",
                 "INCONSISTENT_RECORDS": "Til HR: arbeidsforholdene henger ikke sammen",
                 "DUPLICATE_REQUEST": "Til HR: ny bestilling med annet formål"}


def write_summary(path: Path, outcomes: dict[str, dict[str, Any]]) -> Path:
    """tjenestebevis.xlsx: one row per request this run handled (masked fnr, never a name)."""
    return write_sheet(path, "Tjenestebevis", ["Bestilling", "Fødselsnummer", "Utfall", "Fil"],
                       ([ref, mask_fnr(o["fnr"]), OUTCOME_WORDS.get(o["utfall"], o["utfall"]), o.get("fil", "")]
                        for ref, o in sorted(outcomes.items())), widths=(18, 16, 44, 40))
