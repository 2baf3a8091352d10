"""One request -> one tjenestebevis letter, or a case for HR with the records side by side."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Any

from connectors.identifiers import fnr_birth_date, mask_fnr, normalise_fnr
from connectors.letters import Letter, letter_file, write_letter
from connectors.norwegian import fmt_date
from connectors.periods import total_months, years_and_months_no
from connectors.spreadsheet import write_sheet
from connectors.tables import parse_date, read_rows
from flows.tjenestebevis import certificate as cert
from workqueue.store import NewItem

ISSUE_ANYWAY = "issue_anyway"  # declared in actions.py


def read_requests(path: Path, spec: Any) -> list[NewItem]:
    """One work item per request, reference = bestilling_id (the row where it is missing)."""
    return [NewItem(r.get("bestilling_id") or f"rad-{r.number}", {
        "row": r.number, "fnr": normalise_fnr(r.get("fnr")), "purpose": r.get("formal"), "file": path.name,
        "ordered": (parse_date(r.get("bestilt_dato")) or date.today()).isoformat()})
        for r in read_rows(path, spec, "bestillingsfilen")]


def read_positions(path: Path, spec: Any) -> dict[str, list[cert.Position]]:
    """Positions per person (11-digit fnr). Unreadable cells stay on the position as `problem`."""
    by_person: dict[str, list[cert.Position]] = defaultdict(list)
    for r in read_rows(path, spec, "arbeidsforholdsfilen"):
        problems: list[str] = []
        fnr = normalise_fnr(r.get("fnr"))
        by_person[fnr].append(cert.Position(
            r.number, fnr, r.get("navn"), r.get("stillingstittel"), r.get("virksomhet"), r.as_date("fra_dato", problems),
            r.as_date("til_dato", problems, required=False), r.as_number("stillingsprosent", problems),
            r.get("arbeidsoppgaver"), "; ".join(problems)))
    return by_person


def assess(request: dict[str, Any], positions: list[cert.Position], rules: Any, as_of: date,
           earlier: list[dict[str, Any]], forced: bool) -> cert.Finding | None:
    """The reason this request needs a person, or None when the letter can be issued."""
    finding = cert.check_identity(request["fnr"]) or (None if positions else cert.Finding(
        "NO_EMPLOYMENT", "Ingen arbeidsforhold er registrert på denne personen. Kontroller fødselsnummeret, "
                         "eller svar personen at kommunen ikke har arbeidsforhold registrert."))
    if finding or forced:
        return finding
    finding = cert.check_records(positions, rules.max_total_percent, as_of)
    if finding:
        return finding
    if any(e.get("purpose", "") != request.get("purpose", "") for e in earlier):
        return cert.Finding("DUPLICATE_REQUEST", f"Personen bestilte tjenestebevis også {len(earlier)} gang(er) de siste "
                       f"{rules.duplicate_window_days} dagene, med et annet formål. Velg om et nytt brev skal sendes.")
    return None


def issue(request: dict[str, Any], reference: str, positions: list[cert.Position], town: Any, unit: str,
          as_of: date, out_dir: Path) -> Path:
    """The letter as a PDF under <out>/brev/, named by the request; `town`: settings.municipality,
    `unit`: the definition's owner.org_unit."""
    name = next((p.name for p in positions if p.name), "")
    rows = [[p.title, p.unit, f"{fmt_date(p.start)}–{fmt_date(p.end) or 'd.d.'}",
             cert.fmt_percent(p.percent), p.duties] for p in sorted(positions, key=lambda p: (p.start, p.row))]
    length = years_and_months_no(*divmod(service(positions, as_of), 12))
    return write_letter(Letter(
        sender=town.name, unit=unit, title="Tjenestebevis",
        paragraphs=[f"Navn: {name}", f"Fødselsdato: {fmt_date(fnr_birth_date(request['fnr']))}",
                    f"{name} har vært ansatt i {town.name} i disse stillingene:"],
        table_header=["Stilling", "Virksomhet", "Periode", "Stillingsprosent", "Arbeidsoppgaver"],
        table_rows=rows, table_widths=[0.22, 0.22, 0.24, 0.12, 0.20],
        closing=[f"Samlet tjenestetid: {length}."],
        place=town.place, dated=as_of, approved_electronically=True),
        letter_file(out_dir / "brev", "tjenestebevis", reference))


def service(positions: list[cert.Position], as_of: date) -> int:  # months, each day once: letter and shadow value
    return total_months([(p.start, p.end) for p in positions], as_of)


def evidence(request: dict[str, Any], positions: list[cert.Position], finding: cert.Finding) -> dict[str, Any]:
    """The request and the person's records side by side (masked; the clear fnr behind the audited reveal)."""
    return {"fnr": request["fnr"], "sections": [
        {"title": "Bestillingen", "columns": ["Felt", "Verdi"], "rows": [
            ["Rad", str(request.get("row", ""))], ["Fødselsnummer", mask_fnr(request["fnr"])],
            ["Bestilt", request.get("ordered") or ""], ["Formål", request.get("purpose") or ""],
            ["Fil", request.get("file", "")]]},
        {"title": "Arbeidsforhold i HR-eksporten",
         "columns": ["Rad", "Stilling", "Virksomhet", "Fra", "Til", "Stillingsprosent", "Merknad"],
         "rows": [[str(p.row), p.title, p.unit, fmt_date(p.start),
                   fmt_date(p.end) or "d.d.", cert.fmt_percent(p.percent), p.problem]
                  for p in positions]},
        {"title": "Hva du gjør", "text": finding.message}],
        "data": {"navn": next((p.name for p in positions if p.name), ""), "positions": len(positions)}}


def write_summary(path: Path, outcomes: dict[str, dict[str, Any]], definition: Any) -> Path:
    """tjenestebevis.xlsx: one row per request this run handled (masked fnr, never a name); a case's
    outcome in the words of its category in the definition."""
    words = {"UTSTEDT": "Tjenestebevis utstedt", "SAMME_BESTILLING": "Samme bestilling som før: brevet er sendt",
             **{c.code: f"Til HR: {c.meaning}" for c in definition.exception_categories}}
    return write_sheet(path, "Tjenestebevis", ["Bestilling", "Fødselsnummer", "Utfall", "Fil"],
                       ([ref, mask_fnr(o["fnr"]), words.get(o["utfall"], o["utfall"]), o.get("fil", "")]
                        for ref, o in sorted(outcomes.items())), widths=(18, 16, 60, 40))
