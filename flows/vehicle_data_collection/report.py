"""kjoretoy.xlsx: sheet Kjøretøy (one row per vehicle in the fleet list) and Klimarapport (the
zero-emission shares beside the previous tertial's, with the chart as an embedded PNG).

Dates are real Excel dates shown dd.mm.åååå, weights and kilometres whole numbers with a
thousands separator, shares percentages with one decimal, changes in percentage points: Excel
renders separators by the reader's locale (space and comma in Norwegian Excel).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from connectors import spreadsheet as xl
from connectors.charts import compare_bars
from connectors.files import atomic_write
from connectors.norwegian import fmt_datetime
from connectors.vegvesen.parser import Vehicle
from flows.vehicle_data_collection.climate import Climate, Share

VEHICLE_SHEET = "Kjøretøy"
CLIMATE_SHEET = "Klimarapport"

POINTS = xl.Kind('+0.0" pp";-0.0" pp";0.0" pp"')  # a change in percentage points
KINDS = {"Tillatt totalvekt (kg)": xl.INTEGER, "Første registrering": xl.DATE, "Frist EU-kontroll": xl.DATE,
         "Sist godkjent EU-kontroll": xl.DATE, "CO2 (g/km)": xl.INTEGER, "Kilometerstand": xl.INTEGER}
VEHICLE_COLUMNS = [xl.Column(title, width, KINDS.get(title, xl.TEXT)) for title, width in [
    ("Rad i listen", 9), ("Kjennemerke", 13), ("Virksomhet", 32), ("Understellsnummer", 20), ("Merke", 15),
    ("Modell", 22), ("Kjøretøygruppe", 16), ("Energiklasse", 14), ("Drivstoff", 18), ("Nullutslipp", 11),
    ("Vektklasse", 10), ("Tillatt totalvekt (kg)", 14), ("Vektklasse ut fra", 16), ("Første registrering", 14),
    ("Registreringsstatus", 18), ("Frist EU-kontroll", 14), ("Sist godkjent EU-kontroll", 14), ("CO2 (g/km)", 10),
    ("CO2 målemetode", 13), ("Kilometerstand", 13), ("Kilometerstand kilde", 30), ("Datakilde", 12), ("Avvik", 48),
]]
SHARE_COLUMNS = [xl.Column("Kjøretøy", kind=xl.INTEGER), xl.Column("Nullutslipp", kind=xl.INTEGER),
                 xl.Column("Andel nullutslipp", kind=xl.PERCENT), xl.Column("Forrige tertial", kind=xl.PERCENT),
                 xl.Column("Endring (prosentpoeng)", kind=POINTS)]


@dataclass
class ReportRow:
    row: int
    raw: str
    org_unit: str
    vehicle: Vehicle | None
    category: str | None          # the exception category, if any (EU_CONTROL_OVERDUE for a flagged vehicle)
    remark: str = ""              # Norwegian text for the Avvik column
    odometer_km: int | None = None
    odometer_source: str = ""
    data_source: str = ""


def _chart_png(climate: Climate) -> bytes:
    """Horizontal bars: this tertial and the previous one, per unit, light/heavy and in total."""
    shares: list[Share] = [*climate.by_unit, *climate.by_weight, climate.total]
    return compare_bars([s.name for s in shares], [s.share for s in shares], [s.previous for s in shares],
                        title=f"Andel nullutslipp – {climate.period.label}", x_label="Andel nullutslippskjøretøy (%)",
                        now_label=climate.period.label, previous_label=f"Forrige ({climate.previous_period or '–'})")


def write_report(path: Path, rows: list[ReportRow], climate: Climate, *, run_id: str, meanings: dict[str, str],
                 excluded: dict[str, int], generated: datetime | None = None,
                 rules_version: str = "") -> tuple[Path, Path]:
    """Write the workbook and the chart; returns (xlsx path, png path)."""
    # Oslo time, as every other report says it (a naive value is taken as UTC, as the store keeps it).
    generated = generated or datetime.now(UTC)
    png = _chart_png(climate)
    png_path = path.with_name("klimarapport.png")
    atomic_write(png_path, png)

    source = climate.previous_run_id or ""
    prev_text = (f"Forrige: {climate.previous_period} ({'kjøring ' if source[:1].isdigit() else ''}{source})"
                 if climate.previous_period else "Forrige: ingen tidligere kjøring for et tidligere tertial")
    version = f" {rules_version}." if rules_version else ""
    notes = [
        "Nullutslipp: energiklasse elektrisk eller hydrogen (ladbare hybrider regnes ikke som nullutslipp).",
        "Vektklasse etter tillatt totalvekt (til og med 3 500 kg er lett); kjøretøygruppen brukes bare når "
        "vekten mangler.",
        f"Med i andelen: {climate.total.vehicles} kjøretøy funnet i kjøretøyregisteret og i bruk "
        "(også de med passert frist for EU-kontroll).",
    ]
    if excluded:
        notes.append("Ikke med: " + "; ".join(f"{meanings.get(code, code).rstrip('.')} ({count})"
                                                 for code, count in sorted(excluded.items())))
    notes.append("Endring i prosentpoeng (pp) fra forrige tertial.")
    xl.write_workbook(path, [
        xl.Sheet(VEHICLE_SHEET, [xl.Table(VEHICLE_COLUMNS, [_vehicle_row(row) for row in rows], freeze=True,
                                          frozen_columns=2, autofilter=True)]),
        xl.Sheet(CLIMATE_SHEET, [
            xl.Title(f"Klimarapport – andel nullutslippskjøretøy, {climate.period.label}"),
            xl.Text(f"Kjøring {run_id}, laget {fmt_datetime(generated)}.{version} {prev_text}"), xl.Gap(),
            _share_table("Virksomhet", climate.by_unit, climate.total), xl.Gap(),
            _share_table("Vektklasse", climate.by_weight, climate.total), xl.Gap(),
            *(xl.Text(note) for note in notes),
        ], widths=(40, 15, 15, 15, 15, 15), images=[xl.Image(png, 3, 7, "klimarapport.png")]),
    ])
    return path, png_path


def _vehicle_row(row: ReportRow) -> list:
    """One vehicle in VEHICLE_COLUMNS' order; a row not found in the register has only the list's cells."""
    v = row.vehicle
    found = [v.vin, v.make, v.model, v.group_text, str(v.energy_class), v.fuel_text, "Ja" if v.zero_emission else "Nei",
             {"lett": "Lett", "tung": "Tung"}.get(str(v.weight_class), "Ukjent") if v.weight_class else "Ukjent",
             v.permitted_total_weight_kg, v.weight_class_basis, v.first_registration, v.status_name,
             v.eu_control_deadline, v.eu_control_last_passed, v.co2_g_per_km, v.co2_basis] if v else [None] * 16
    return [row.row, v.plate_display if v and v.plate else row.raw, row.org_unit, *found, row.odometer_km,
            row.odometer_source or ("Mangler" if v else ""), row.data_source,
            xl.Cell(row.remark, alert=bool(row.category))]


def _share_table(first: str, shares: list[Share], total: Share) -> xl.Table:
    rows = [[s.name, s.vehicles, s.zero_emission, s.share, s.previous, s.change_pp] for s in [*shares, total]]
    return xl.Table([xl.Column(first), *SHARE_COLUMNS], [*rows[:-1], xl.Total(rows[-1])])
