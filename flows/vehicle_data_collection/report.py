"""kjoretoy.xlsx: sheet Kjøretøy (one row per vehicle in the fleet list) and Klimarapport (the
zero-emission shares beside the previous tertial's, with the chart as an embedded PNG).

Dates are real Excel dates shown dd.mm.åååå, weights and kilometres whole numbers with a
thousands separator, shares percentages with one decimal, changes in percentage points: Excel
renders separators by the reader's locale (space and comma in Norwegian Excel).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from connectors.vegvesen.codes import FUELS
from connectors.vegvesen.parser import Vehicle
from flows.vehicle_data_collection.climate import Climate, Share

VEHICLE_SHEET = "Kjøretøy"
CLIMATE_SHEET = "Klimarapport"

VEHICLE_COLUMNS: list[tuple[str, int]] = [
    ("Rad i listen", 9), ("Kjennemerke", 13), ("Virksomhet", 32), ("Understellsnummer", 20), ("Merke", 15),
    ("Modell", 22), ("Kjøretøygruppe", 16), ("Energiklasse", 14), ("Drivstoff", 18), ("Nullutslipp", 11),
    ("Vektklasse", 10), ("Tillatt totalvekt (kg)", 14), ("Vektklasse ut fra", 16), ("Første registrering", 14),
    ("Registreringsstatus", 18), ("Frist EU-kontroll", 14), ("Sist godkjent EU-kontroll", 14), ("CO2 (g/km)", 10),
    ("CO2 målemetode", 13), ("Kilometerstand", 13), ("Kilometerstand kilde", 30), ("Datakilde", 12), ("Avvik", 48),
]


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
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    shares: list[Share] = [*climate.by_unit, *climate.by_weight, climate.total]
    names = [s.name for s in shares]
    now = [(s.share or 0) * 100 for s in shares]
    prev = [(s.previous or 0) * 100 if s.previous is not None else None for s in shares]
    has_previous = any(p is not None for p in prev)
    height = 0.38 if has_previous else 0.6
    offset = height / 2 if has_previous else 0.0
    fig = Figure(figsize=(8.5, 0.42 * len(shares) + 1.4), dpi=110)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ys = list(range(len(shares)))[::-1]
    ax.barh([y + offset for y in ys], now, height, label=climate.period.label, color="#1b7f3b")
    if has_previous:
        ax.barh([y - offset for y, p in zip(ys, prev, strict=True)], [p or 0 for p in prev], height,
                label=f"Forrige ({climate.previous_period or '–'})", color="#a6d5b3")
    for y, value in zip(ys, now, strict=True):
        ax.text(value + 1, y + offset, f"{value:.1f} %".replace(".", ","), va="center", fontsize=8)
    ax.set_yticks(ys, names, fontsize=8)
    ax.set_xlim(0, 110)
    ax.set_xlabel("Andel nullutslippskjøretøy (%)")
    ax.set_title(f"Andel nullutslipp – {climate.period.label}", fontsize=11)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def write_report(path: Path, rows: list[ReportRow], climate: Climate, *, run_id: str, meanings: dict[str, str],
                 excluded: dict[str, int], generated: datetime | None = None,
                 rules_version: str = "") -> tuple[Path, Path]:
    """Write the workbook and the chart; returns (xlsx path, png path)."""
    import xlsxwriter

    path.parent.mkdir(parents=True, exist_ok=True)
    generated = generated or datetime.now()
    png = _chart_png(climate)
    png_path = path.with_name("klimarapport.png")
    png_path.write_bytes(png)

    wb = xlsxwriter.Workbook(str(path), {"remove_timezone": True})
    try:
        bold = wb.add_format({"bold": True})
        head = wb.add_format({"bold": True, "bg_color": "#DDEBDF", "border": 1, "text_wrap": True, "valign": "top"})
        d = wb.add_format({"num_format": "dd.mm.yyyy"})
        n = wb.add_format({"num_format": "#,##0"})
        pct = wb.add_format({"num_format": "0.0 %"})
        pct_b = wb.add_format({"num_format": "0.0 %", "bold": True})
        pp = wb.add_format({"num_format": '+0.0" pp";-0.0" pp";0.0" pp"'})
        pp_b = wb.add_format({"num_format": '+0.0" pp";-0.0" pp";0.0" pp"', "bold": True})
        warn = wb.add_format({"font_color": "#9C0006"})
        title = wb.add_format({"bold": True, "font_size": 14})

        ws = wb.add_worksheet(VEHICLE_SHEET)
        for col, (name, width) in enumerate(VEHICLE_COLUMNS):
            ws.write(0, col, name, head)
            ws.set_column(col, col, width)
        ws.freeze_panes(1, 2)
        for r, row in enumerate(rows, start=1):
            v = row.vehicle
            ws.write_number(r, 0, row.row)
            ws.write_string(r, 1, v.plate_display if v and v.plate else row.raw)
            ws.write_string(r, 2, row.org_unit)
            if v:
                ws.write_string(r, 3, v.vin or "")
                ws.write_string(r, 4, v.make or "")
                ws.write_string(r, 5, v.model or "")
                ws.write_string(r, 6, " ".join(p for p in (v.vehicle_group, v.vehicle_group_name) if p))
                ws.write_string(r, 7, str(v.energy_class))
                ws.write_string(r, 8, ", ".join(FUELS.get(f, f) for f in v.fuels))
                ws.write_string(r, 9, "Ja" if v.zero_emission else "Nei")
                ws.write_string(r, 10, {"lett": "Lett", "tung": "Tung"}.get(str(v.weight_class), "Ukjent")
                                if v.weight_class else "Ukjent")
                _num(ws, r, 11, v.permitted_total_weight_kg, n)
                ws.write_string(r, 12, v.weight_class_basis or "")
                _date(ws, r, 13, v.first_registration, d)
                ws.write_string(r, 14, v.status_name)
                _date(ws, r, 15, v.eu_control_deadline, d)
                _date(ws, r, 16, v.eu_control_last_passed, d)
                _num(ws, r, 17, v.co2_g_per_km, n)
                ws.write_string(r, 18, v.co2_basis or "")
            _num(ws, r, 19, row.odometer_km, n)
            ws.write_string(r, 20, row.odometer_source or ("Mangler" if v else ""))
            ws.write_string(r, 21, row.data_source)
            ws.write_string(r, 22, row.remark, warn if row.category else None)
        ws.autofilter(0, 0, max(len(rows), 1), len(VEHICLE_COLUMNS) - 1)

        cs = wb.add_worksheet(CLIMATE_SHEET)
        cs.set_column(0, 0, 40)
        cs.set_column(1, 5, 15)
        cs.write(0, 0, f"Klimarapport – andel nullutslippskjøretøy, {climate.period.label}", title)
        source = climate.previous_run_id or ""
        prev_text = (f"Forrige: {climate.previous_period} ({'kjøring ' if source[:1].isdigit() else ''}{source})"
                     if climate.previous_period else "Forrige: ingen tidligere kjøring for et tidligere tertial")
        version = f" {rules_version}." if rules_version else ""
        cs.write(1, 0, f"Kjøring {run_id}, laget {generated:%d.%m.%Y kl. %H:%M}.{version} {prev_text}")
        r = 3
        r = _share_table(cs, r, "Virksomhet", climate.by_unit, climate.total, head, n, pct, pct_b, pp, pp_b, bold)
        r = _share_table(cs, r + 1, "Vektklasse", climate.by_weight, climate.total, head, n, pct, pct_b, pp, pp_b,
                         bold)
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
        r += 1
        for note in notes:
            cs.write(r, 0, note)
            r += 1
        cs.insert_image(3, 7, "klimarapport.png", {"image_data": io.BytesIO(png), "object_position": 3})
    finally:
        wb.close()
    return path, png_path


def _share_table(cs, r: int, first: str, shares: list[Share], total: Share, head, n, pct, pct_b, pp, pp_b,
                 bold) -> int:
    for col, name in enumerate([first, "Kjøretøy", "Nullutslipp", "Andel nullutslipp", "Forrige tertial",
                                "Endring (prosentpoeng)"]):
        cs.write(r, col, name, head)
    r += 1
    for s in [*shares, total]:
        is_total = s is total
        cs.write_string(r, 0, s.name, bold if is_total else None)
        cs.write_number(r, 1, s.vehicles, n)
        cs.write_number(r, 2, s.zero_emission, n)
        _num(cs, r, 3, s.share, pct_b if is_total else pct)
        _num(cs, r, 4, s.previous, pct)
        _num(cs, r, 5, s.change_pp, pp_b if is_total else pp)
        r += 1
    return r


def _num(ws, r: int, c: int, value: float | None, fmt) -> None:
    if value is None:
        ws.write_blank(r, c, None)
    else:
        ws.write_number(r, c, value, fmt)


def _date(ws, r: int, c: int, value: date | None, fmt) -> None:
    if value is None:
        ws.write_blank(r, c, None)
    else:
        ws.write_datetime(r, c, datetime.combine(value, datetime.min.time()), fmt)
