"""What happens to a vehicle: done, or an exception case with evidence a reviewer can act on.

Evidence follows the review app's generic convention: titled sections of Felt/Verdi rows or text,
plus machine-readable `data` (the parsed vehicle, so the report can show a deregistered vehicle's
details without asking the registry again).
"""

from __future__ import annotations

from typing import Any

from connectors.norwegian import fmt_date, fmt_int
from connectors.vegvesen.parser import Vehicle
from connectors.vegvesen.plates import Identifier
from flows.kit import RunContext
from flows.vehicle_data_collection.fleet import FleetRow
from workqueue.store import NewCase

NOT_FOUND = "NOT_FOUND"
DEREGISTERED = "DEREGISTERED"
EU_CONTROL_OVERDUE = "EU_CONTROL_OVERDUE"
PLATE_MALFORMED = "PLATE_MALFORMED"
DUPLICATE_PLATE = "DUPLICATE_PLATE"
SYSTEM_ERROR = "SYSTEM_ERROR"


def _kg(value: int | float | None) -> str:
    return "" if value is None else f"{fmt_int(round(value))} kg"


def shown(payload: dict[str, Any]) -> str:
    return Identifier(payload["by"], payload["value"]).display if payload.get("value") else payload.get("raw") or ""


def list_section(payload: dict[str, Any]) -> dict[str, Any]:
    return {"title": "Fra kjøretøylisten", "columns": ["Felt", "Verdi"], "rows": [
        ["Rad", str(payload.get("row", ""))],
        ["Kjennemerke slik det står", payload.get("raw") or "(tomt)"],
        ["Virksomhet", payload.get("org_unit", "")],
        ["Fil", payload.get("fleet_file", "")],
    ]}


def vehicle_section(v: Vehicle) -> dict[str, Any]:
    rows = [
        ["Kjennemerke", v.plate_display],
        ["Understellsnummer", v.vin or ""],
        ["Merke og modell", v.make_model],
        ["Kjøretøygruppe", v.group_text],
        ["Drivstoff", v.fuel_text],
        ["Energiklasse", str(v.energy_class)],
        ["Registreringsstatus", v.status_name],
        ["Første registrering i Norge", fmt_date(v.first_registration)],
        ["Frist for EU-kontroll", fmt_date(v.eu_control_deadline) or "ingen registrert"],
        ["Sist godkjent EU-kontroll", fmt_date(v.eu_control_last_passed) or "ingen registrert"],
        ["Tillatt totalvekt", _kg(v.permitted_total_weight_kg) or "ikke registrert"],
    ]
    return {"title": "Fra kjøretøyregisteret", "columns": ["Felt", "Verdi"], "rows": rows}


def _evidence(payload: dict[str, Any], explanation: str, vehicle: Vehicle | None = None,
              **data: Any) -> dict[str, Any]:
    sections = [list_section(payload)]
    if vehicle is not None:
        sections.append(vehicle_section(vehicle))
    sections.append({"title": "Forklaring", "text": explanation})
    return {"sections": sections, "data": {"row": payload.get("row"), "plate": payload.get("value"),
                                           "org_unit": payload.get("org_unit"),
                                           "vehicle": vehicle.to_dict() if vehicle else None, **data}}


def _search(payload: dict[str, Any], vehicle: Vehicle | None = None) -> str:
    words = [payload.get("raw") or "", payload.get("value") or "", shown(payload), payload.get("org_unit") or ""]
    if vehicle:
        words += [vehicle.make or "", vehicle.model or "", vehicle.vin or ""]
    return " ".join(w for w in words if w)


def _case(ctx: RunContext, category: str, payload: dict[str, Any], message: str, explanation: str,
          vehicle: Vehicle | None = None, **data: Any) -> NewCase:
    """The row's case: the list's row (and the register's vehicle) as evidence, found by plate and unit."""
    return ctx.new_case(category, message, org_unit=payload.get("org_unit"), search_text=_search(payload, vehicle),
                        evidence=_evidence(payload, explanation, vehicle, **data))


def not_found_case(ctx: RunContext, payload: dict[str, Any], form: str, detail: str | None = None) -> NewCase:
    answer = form + (f": {detail}" if detail else "")
    message = (f"Statens vegvesen fant ikke kjøretøyet {shown(payload)} (rad {payload.get('row')}, svar: {answer}). "
               "Kontroller kjennemerket i kjøretøylisten.")
    explanation = ("Registeret svarte at kjøretøyet ikke finnes. Det skyldes oftest en skrivefeil i listen, et "
                   "kjennemerke som er byttet ut, eller et kjøretøy som aldri er registrert i Norge. Rett listen, "
                   "eller velg «Prøv igjen» om kjennemerket er riktig.")
    return _case(ctx, NOT_FOUND, payload, message, explanation, answer=answer)


def malformed_case(ctx: RunContext, payload: dict[str, Any], reason: str) -> NewCase:
    message = f"Rad {payload.get('row')} i kjøretøylisten: {reason}. Rett kjennemerket i listen."
    explanation = ("Et vanlig kjennemerke har to bokstaver og fire eller fem sifre (f.eks. EK 39085). "
                   "Understellsnummer (17 tegn) kan også brukes. Raden er ikke slått opp i registeret.")
    return _case(ctx, PLATE_MALFORMED, payload, message, explanation, reason=reason)


def duplicate_case(ctx: RunContext, payload: dict[str, Any]) -> NewCase:
    first = payload.get("first_row")
    rows = payload.get("rows") or [payload.get("row")]
    listed = ", ".join(str(r) for r in rows[:20]) + (f" og {len(rows) - 20} rader til" if len(rows) > 20 else "")
    message = (f"Kjennemerket {shown(payload)} står {len(rows) + 1} ganger i kjøretøylisten (rad {first} og rad "
               f"{listed}). Kjøretøyet er tatt med én gang, fra rad {first}.")
    explanation = ("Samme kjøretøy skal bare stå én gang i listen; ellers telles det dobbelt i klimarapporten. "
                   "Fjern den ene raden (og sjekk hvilken virksomhet kjøretøyet hører til).")
    return _case(ctx, DUPLICATE_PLATE, payload, message, explanation, first_row=first)


def deregistered_case(ctx: RunContext, payload: dict[str, Any], v: Vehicle) -> NewCase:
    message = (f"Kjøretøyet {v.plate_display or shown(payload)} har status «{v.status_name}» i kjøretøyregisteret, "
               f"men står i kjøretøylisten (rad {payload.get('row')}, {payload.get('org_unit')}). Det er ikke tatt "
               "med i andelen nullutslipp.")
    explanation = ("Avregistrerte, vrakede og eksporterte (utførte) kjøretøy er ikke i bruk. Fjern kjøretøyet fra "
                   "listen, eller få det registrert på nytt om det skal brukes.")
    return _case(ctx, DEREGISTERED, payload, message, explanation, v)


def eu_overdue_case(ctx: RunContext, payload: dict[str, Any], v: Vehicle) -> NewCase:
    message = (f"Fristen for EU-kontroll for {v.plate_display} ({v.make_model}) gikk "
               f"ut {fmt_date(v.eu_control_deadline)}. Kjøretøyet har bruksforbud til det er godkjent.")
    explanation = ("Lette kjøretøy (til og med 3 500 kg) skal til EU-kontroll første gang innen 4 år etter første "
                   "registrering og deretter hvert 2. år; tunge kjøretøy, busser, drosjer og ambulanser første "
                   "gang etter 2 år og deretter hvert år. Bestill kontroll og marker saken som håndtert.")
    return _case(ctx, EU_CONTROL_OVERDUE, payload, message, explanation, v)


def settled_case(ctx: RunContext, payload: dict[str, Any]) -> NewCase:
    """The case of a row decided without the registry: a malformed or a repeated plate."""
    if payload.get("kind") == "malformed":
        return malformed_case(ctx, payload, payload.get("problem") or "ugyldig kjennemerke")
    return duplicate_case(ctx, payload)


def system_evidence(payload: dict[str, Any], error: str) -> dict[str, Any]:
    return _evidence(payload, f"Teknisk feil ved oppslag: {error}")


def payload_for(row: FleetRow, period: str, fleet_file: str, kind: str, first_row: int | None = None) -> dict[str, Any]:
    return {"kind": kind, "period": period, "row": row.row, "raw": row.raw, "org_unit": row.org_unit,
            "by": row.identifier.by if row.identifier else None, "value": row.key, "own_km": row.own_km,
            "problem": row.problem, "fleet_file": fleet_file, "first_row": first_row}
