"""Synthetic fleet for the Statens vegvesen stand-in, deterministic from the seed.

Writes
  <data_dir>/sandbox/vegvesen/kjoretoyregister.json        the register the stand-in serves
  <data_dir>/input/vehicle-data-collection/kjoretoyliste.xlsx  the municipality's fleet list
  <data_dir>/ground_truth/vehicle-data-collection.csv        the right outcome of every list row
  <data_dir>/input/vehicle-data-collection/forrige-klimarapport.json
                                                             the previous tertial's figures, as reported
                                                             by hand before the robot (the "previous"
                                                             column until the robot has its own run)

The fleet mixes what a municipality really has: electric cars and vans, plug-in hybrids (two fuel
groups), hybrids, hydrogen cars and a hydrogen truck, diesel vans and trucks, gas and biodiesel
trucks, buses, an ambulance on an M1 approval above 3 500 kg; and what goes wrong in a list:
plates the registry does not know, deregistered/scrapped/exported vehicles, missed EU controls,
malformed plates, the same plate twice, a VIN where a plate should be. Dates are relative to
`today` (default: the day of seeding); the ground truth holds for runs within 30 days of it.
"""

from __future__ import annotations

import csv
import json
import random
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from sandbox.vegvesen.human import write_fleet_register
from sandbox.vegvesen.registry import VehicleSpec, save_register

PROCESS_ID = "vehicle-data-collection"
BASE_FLEET = 300

ORG_UNITS = [
    "Bydel Gamle Oslo", "Bydel Grünerløkka", "Bydel Frogner", "Bydel Søndre Nordstrand",
    "Bymiljøetaten", "Renovasjons- og gjenvinningsetaten", "Sykehjemsetaten", "Utdanningsetaten",
]

# kind: (weight in the mix, group, fuels, hybrid, euro, expected energy class, models)
KINDS: dict[str, tuple[float, str, list[str], str, str, str, list[tuple[str, str]]]] = {
    "ev_car": (0.34, "M1", ["5"], "INGEN", "0", "elektrisk",
               [("TESLA", "MODEL 3"), ("VOLKSWAGEN", "ID.3"), ("NISSAN", "LEAF"), ("HYUNDAI", "KONA ELECTRIC"),
                ("SKODA", "ENYAQ iV 80")]),
    "ev_van": (0.14, "N1", ["5"], "INGEN", "0", "elektrisk",
               [("NISSAN", "E-NV200"), ("RENAULT", "KANGOO Z.E."), ("PEUGEOT", "E-EXPERT"), ("MAXUS", "E DELIVER 3")]),
    "ev_truck": (0.02, "N3", ["5"], "INGEN", "0", "elektrisk",
                 [("VOLVO", "FL ELECTRIC"), ("MERCEDES-BENZ", "EACTROS")]),
    "h2_car": (0.02, "M1", ["6"], "INGEN", "0", "hydrogen", [("TOYOTA", "MIRAI"), ("HYUNDAI", "NEXO")]),
    "h2_truck": (0.005, "N3", ["6"], "INGEN", "0", "hydrogen", [("HYUNDAI", "XCIENT FUEL CELL")]),
    "phev_car": (0.08, "M1", ["1", "5"], "LADBAR", "6", "ladbar hybrid",
                 [("MITSUBISHI", "OUTLANDER PHEV"), ("VOLVO", "XC60 RECHARGE"), ("TOYOTA", "RAV4 PLUG-IN")]),
    "hev_car": (0.05, "M1", ["1"], "IKKE_LADBAR", "6", "hybrid", [("TOYOTA", "COROLLA HYBRID"), ("TOYOTA", "YARIS")]),
    "petrol_car": (0.05, "M1", ["1"], "INGEN", "6", "bensin", [("VOLKSWAGEN", "GOLF"), ("TOYOTA", "AYGO")]),
    "diesel_car": (0.03, "M1", ["2"], "INGEN", "6", "diesel", [("SKODA", "OCTAVIA"), ("VOLVO", "V70")]),
    "diesel_van": (0.13, "N1", ["2"], "INGEN", "6", "diesel",
                   [("VOLKSWAGEN", "TRANSPORTER"), ("FORD", "TRANSIT CUSTOM"), ("TOYOTA", "HILUX")]),
    "diesel_truck": (0.05, "N3", ["2"], "INGEN", "VI", "diesel", [("SCANIA", "P 280"), ("VOLVO", "FE")]),
    "cng_truck": (0.01, "N3", ["13"], "INGEN", "VI", "gass", [("SCANIA", "P 280 CNG")]),
    "bio_truck": (0.01, "N3", ["10"], "INGEN", "VI", "bio", [("VOLVO", "FM HVO")]),
    "minibus": (0.01, "M2", ["2"], "INGEN", "6", "diesel", [("MERCEDES-BENZ", "SPRINTER 519")]),
    "gas_bus": (0.005, "M3", ["4"], "INGEN", "VI", "gass", [("MAN", "LIONS CITY G")]),
    "ambulance": (0.01, "M1", ["2"], "INGEN", "6", "diesel", [("MERCEDES-BENZ", "SPRINTER AMBULANSE")]),
}
WMI = {"TESLA": "5YJ", "VOLKSWAGEN": "WVW", "NISSAN": "SJN", "HYUNDAI": "KMH", "SKODA": "TMB", "RENAULT": "VF1",
       "PEUGEOT": "VF3", "MAXUS": "LSF", "VOLVO": "YV1", "MERCEDES-BENZ": "WDB", "TOYOTA": "JTD",
       "MITSUBISHI": "JMB", "FORD": "WF0", "SCANIA": "YS2", "MAN": "WMA"}
VIN_CHARS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
ELECTRIC_PREFIXES = ["EL", "EK", "EV", "EB", "EC", "ED", "EF", "EH", "EJ"]
OTHER_PREFIXES = ["AB", "BT", "CF", "DN", "KH", "NF", "PR", "RJ", "SU", "VH", "ZT", "BS", "DR", "KJ"]
HEAVY_KINDS = {"ev_truck", "h2_truck", "diesel_truck", "cng_truck", "bio_truck", "minibus", "gas_bus"}
MALFORMED = ["E 39085", "EK 390856", "1234567", "", "ØØ 12345", "EKK 3908", "AB 12"]

# The first vehicles are fixed kinds so that every path exists even at a small scale.
SHOWCASE = ["ev_car", "phev_car", "h2_car", "dereg_van", "scrapped_car", "exported_car", "new_ev_van",
            "overdue_van", "ev_truck", "ambulance", "noweight_truck", "import_car", "hev_car", "cng_truck",
            "bio_truck", "h2_truck", "gas_bus", "minibus"]


@dataclass
class FleetRow:
    kjennemerke: str | None
    virksomhet: str
    kilometerstand: object | None
    outcome: str
    reference: str | None
    spec: VehicleSpec | None
    energy: str = ""


def _vin(rng: random.Random, make: str) -> str:
    return WMI.get(make, "XXX") + "".join(rng.choice(VIN_CHARS) for _ in range(14))


def _plate(rng: random.Random, used: set[str], electric: bool) -> str:
    while True:
        prefix = rng.choice(ELECTRIC_PREFIXES if electric else OTHER_PREFIXES)
        plate = f"{prefix}{rng.randint(10000, 99999)}"
        if plate not in used:
            used.add(plate)
            return plate


def _add_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


def _controls(first: date, heavy: bool, today: date) -> list[date]:
    """EU-control deadlines: light 4th year then every 2nd; heavy 2nd year then yearly."""
    first_after, every = (2, 1) if heavy else (4, 2)
    out, n = [], first_after
    while True:
        d = _add_years(first, n)
        out.append(d)
        if d > today:
            return out
        n += every


def _make_spec(rng: random.Random, kind: str, plate: str, today: date) -> tuple[VehicleSpec, str]:
    """A vehicle of `kind` (or a showcase variant); returns the spec and its expected energy class."""
    base = {"dereg_van": "diesel_van", "scrapped_car": "petrol_car", "exported_car": "diesel_car",
            "new_ev_van": "ev_van", "overdue_van": "diesel_van", "noweight_truck": "diesel_truck",
            "import_car": "petrol_car"}.get(kind, kind)
    _w, group, fuels, hybrid, euro, energy, models = KINDS[base]
    make, model = rng.choice(models)
    heavy = base in HEAVY_KINDS
    if base == "ambulance":
        total = 3880
    elif group in ("N2", "N3"):
        total = rng.choice([7500, 12000, 16000, 19000, 26000, 32000])
    elif group == "M3":
        total = 19000
    elif group == "M2":
        total = 5000
    elif group == "N1":
        total = rng.randint(22, 35) * 100
    else:
        total = rng.randint(15, 26) * 100
    curb = int(total * rng.uniform(0.55, 0.75))
    age_days = rng.randint(200, 12 * 365)
    if kind == "new_ev_van":
        age_days = rng.randint(60, 300)
    first = today - timedelta(days=age_days)
    spec = VehicleSpec(plate=plate, vin=_vin(rng, make), make=make, model=model, group=group, fuels=list(fuels),
                       hybrid=hybrid, euro=euro, total_weight=total, curb_weight=curb,
                       first_registered=first.isoformat())
    if energy in ("bensin", "diesel", "gass", "bio", "hybrid"):
        spec.co2_wltp = round(rng.uniform(95, 160) if group == "M1" else rng.uniform(170, 260), 0)
        if first.year < 2018:
            spec.co2_nedc, spec.co2_wltp = spec.co2_wltp - 15, None
    if energy == "ladbar hybrid":
        spec.co2_wltp = round(rng.uniform(150, 200), 0)
        spec.co2_weighted = rng.randint(20, 45)

    # EU control: none before the first deadline (new vehicles have no PKK block).
    deadlines = _controls(first, heavy or total > 3500, today)
    passed = [d for d in deadlines if d <= today]
    km_per_year = rng.randint(40_000, 80_000) if heavy else rng.randint(8_000, 25_000)
    if passed:
        spec.pkk_last = (passed[-1] - timedelta(days=rng.randint(5, 60))).isoformat()
        spec.pkk_deadline = deadlines[-1].isoformat()
        spec.odometer = [((d - timedelta(days=20)).isoformat(),
                          int((d - first).days / 365 * km_per_year)) for d in passed]
    if deadlines[-1] - today < timedelta(days=31):  # keep the truth stable for 30 days
        spec.pkk_deadline = (today + timedelta(days=45)).isoformat()

    if kind == "overdue_van" or (kind == base and passed and rng.random() < 0.03):
        overdue = today - timedelta(days=rng.randint(10, 200))
        spec.pkk_deadline = overdue.isoformat()
        spec.pkk_last = _add_years(overdue, -(1 if heavy else 2)).isoformat()
    if kind == "noweight_truck":
        spec.total_weight = None
    if kind == "import_car" or (kind == base and rng.random() < 0.04):
        spec.import_km = rng.randint(20_000, 90_000)
        spec.import_country = rng.choice(["Tyskland", "Sverige", "Danmark"])
    status = {"dereg_van": "AVREGISTRERT", "scrapped_car": "VRAKET", "exported_car": "UTFORT"}.get(kind)
    if status is None and kind == base and rng.random() < 0.02:
        status = rng.choice(["AVREGISTRERT", "VRAKET", "UTFORT"])
    if status:
        spec.status = status
        spec.deregistered_since = (today - timedelta(days=rng.randint(30, 700))).isoformat()
        spec.pkk_deadline = spec.pkk_last = None
        spec.sparse = kind == "dereg_van" or rng.random() < 0.5
    return spec, energy


def _list_form(rng: random.Random, plate: str) -> str:
    roll = rng.random()
    spaced = f"{plate[:2]} {plate[2:]}"
    if roll < 0.70:
        return spaced
    if roll < 0.85:
        return plate
    if roll < 0.95:
        return spaced.lower()
    return f"{plate[:2]}-{plate[2:]}"


def _outcome(spec: VehicleSpec, today: date) -> str:
    if spec.status != "REGISTRERT":
        return "DEREGISTERED"
    if spec.pkk_deadline and date.fromisoformat(spec.pkk_deadline) < today:
        return "EU_CONTROL_OVERDUE"
    return "OK"


def build(seed: int = 42, scale: float = 1.0, today: date | None = None) -> tuple[list[VehicleSpec], list[FleetRow]]:
    """The register and the fleet list, in memory (seed() writes them)."""
    today = today or date.today()
    rng = random.Random(seed)
    n = max(len(SHOWCASE), round(BASE_FLEET * scale))
    kinds = list(KINDS)
    weights = [KINDS[k][0] for k in kinds]
    used: set[str] = set()
    specs: list[VehicleSpec] = []
    rows: list[FleetRow] = []
    for i in range(n):
        kind = SHOWCASE[i] if i < len(SHOWCASE) else rng.choices(kinds, weights)[0]
        electric = kind == "new_ev_van" or (kind in KINDS and KINDS[kind][5] in ("elektrisk", "hydrogen"))
        plate = _plate(rng, used, electric=electric)
        spec, energy = _make_spec(rng, kind, plate, today)
        specs.append(spec)
        km: object | None = None
        if rng.random() < 0.3:
            km = rng.randint(5_000, 250_000)
            if rng.random() < 0.1:
                km = f"{km:,} km".replace(",", " ")
        rows.append(FleetRow(_list_form(rng, plate), rng.choice(ORG_UNITS), km, _outcome(spec, today), plate,
                             spec, energy))
    rng.shuffle(rows)
    # One vehicle listed by its VIN instead of its plate.
    by_vin = next(r for r in rows if r.outcome == "OK")
    by_vin.kjennemerke = by_vin.spec.vin
    by_vin.reference = by_vin.spec.vin
    # Plates the registry does not know.
    extras: list[FleetRow] = []
    for _ in range(max(2, round(n * 0.02))):
        plate = _plate(rng, used, electric=rng.random() < 0.5)
        extras.append(FleetRow(_list_form(rng, plate), rng.choice(ORG_UNITS), None, "NOT_FOUND", plate, None))
    # Malformed plates.
    for text in MALFORMED[: max(2, round(n * 0.01))]:
        extras.append(FleetRow(text or None, rng.choice(ORG_UNITS), None, "PLATE_MALFORMED", None, None))
    for extra in extras:
        rows.insert(rng.randint(1, len(rows)), extra)
    # The same plate twice (written differently the second time), always after the original.
    originals = rng.sample([r for r in rows if r.outcome in ("OK", "EU_CONTROL_OVERDUE", "DEREGISTERED")
                            and r.reference != by_vin.reference], max(2, round(n * 0.01)))
    for original in originals:
        at = rows.index(original)
        rows.insert(rng.randint(at + 1, len(rows)), FleetRow(original.reference.lower(), original.virksomhet, None,
                                                             "DUPLICATE_PLATE", original.reference, None))
    return specs, rows


def write_fleet_list(path: Path, rows: list[FleetRow]) -> Path:
    from openpyxl import Workbook

    path.parent.mkdir(parents=True, exist_ok=True)
    wb = Workbook()
    ws = wb.active
    ws.title = "Kjøretøyliste"
    ws.append(["kjennemerke", "virksomhet", "kilometerstand"])
    for r in rows:
        ws.append([r.kjennemerke, r.virksomhet, r.kilometerstand])
    ws.column_dimensions["A"].width = 22
    ws.column_dimensions["B"].width = 36
    ws.column_dimensions["C"].width = 16
    wb.save(path)
    return path


def previous_report(rows: list[FleetRow], today: date, seed: int) -> dict:
    """The last tertial's figures: the same fleet, some of today's electric vehicles still fossil."""
    rng = random.Random(seed + 1)
    y = today - timedelta(days=1)
    number = (y.month - 1) // 4 + 1
    period = f"{y.year - 1}-T3" if number == 1 else f"{y.year}-T{number - 1}"
    units: dict[str, list[int]] = {}
    weights: dict[str, list[int]] = {}
    total = [0, 0]
    for r in rows:
        if r.outcome not in ("OK", "EU_CONTROL_OVERDUE") or r.spec is None:
            continue
        zero = r.energy in ("elektrisk", "hydrogen") and rng.random() > 0.12
        heavy = (r.spec.total_weight or 0) > 3500 if r.spec.total_weight else r.spec.group in ("N2", "N3", "M2", "M3")
        for bucket in (units.setdefault(r.virksomhet, [0, 0]), weights.setdefault("tung" if heavy else "lett", [0, 0]),
                       total):
            bucket[0] += 1
            bucket[1] += zero
    share = lambda b: round(b[1] / b[0], 4) if b[0] else None  # noqa: E731
    return {"period": period, "kilde": "manuell rapport", "total": share(total),
            "by_unit": {u: share(b) for u, b in sorted(units.items())},
            "by_weight": {w: share(b) for w, b in sorted(weights.items())}}


def seed(data_dir: Path, seed: int = 42, scale: float = 1.0, *, today: date | None = None) -> dict[str, Path]:
    data_dir = Path(data_dir)
    today = today or date.today()
    specs, rows = build(seed, scale, today)
    register = save_register(data_dir, specs)
    fleet = write_fleet_list(data_dir / "input" / PROCESS_ID / "kjoretoyliste.xlsx", rows)
    baseline = data_dir / "input" / PROCESS_ID / "forrige-klimarapport.json"
    baseline.write_text(json.dumps(previous_report(rows, today, seed), ensure_ascii=False, indent=1), encoding="utf-8")
    truth = data_dir / "ground_truth" / f"{PROCESS_ID}.csv"
    truth.parent.mkdir(parents=True, exist_ok=True)
    with truth.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["rad", "kjennemerke", "referanse", "virksomhet", "utfall", "energiklasse", "nullutslipp",
                    "vektklasse", "registreringsstatus"])
        for row_no, r in enumerate(rows, start=2):
            spec = r.spec if r.outcome in ("OK", "EU_CONTROL_OVERDUE", "DEREGISTERED") else None
            weight = ""
            if spec:
                if spec.total_weight is not None:
                    weight = "lett" if spec.total_weight <= 3500 else "tung"
                else:
                    weight = "tung" if spec.group in ("N2", "N3", "M2", "M3") else "lett"
            w.writerow([row_no, r.kjennemerke or "", r.reference or "", r.virksomhet, r.outcome,
                        r.energy if spec else "", ("ja" if r.energy in ("elektrisk", "hydrogen") else "nei") if spec else "",
                        weight, spec.status if spec else ""])
    return {"register": register, "fleet_list": fleet, "ground_truth": truth, "previous_report": baseline,
            **write_fleet_register(data_dir, truth, seed)}
