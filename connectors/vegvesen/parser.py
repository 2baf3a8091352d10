"""The registry's answer -> a typed `Vehicle`.

Paths (from the agency's OpenAPI): V = kjoretoydataListe[0], TG = V.godkjenning.tekniskGodkjenning,
TD = TG.tekniskeData. Every block may be absent: a new vehicle has no periodiskKjoretoyKontroll,
a deregistered one often lacks weights or environmental data. The parser never raises on a missing
block; it leaves the field empty and the derived classes fall back as documented below.

Derived classes (documented in docs/vehicles.md):
- energy class: hydrogen if any fuel is 6; elektrisk if every fuel is 5 (or euro class "0" with
  fuel 5); ladbar hybrid if hybridKategori LADBAR (or an electric group beside a combustion fuel
  without a hybrid category); hybrid if IKKE_LADBAR; else by the first combustion fuel.
- zero-emission: elektrisk or hydrogen.
- weight class: tillattTotalvekt <= 3 500 kg is lett, above is tung; the group code only when
  the weight is missing.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, fields
from datetime import date, datetime
from typing import Any

from connectors.vegvesen.codes import (
    ELECTRIC,
    ENERGY_BY_FUEL,
    FUEL_CODES_BY_NAME,
    FUELS,
    GROUP_NAMES,
    HYBRID_BY_NAME,
    HYDROGEN,
    LIGHT_MAX_KG,
    STATUS_BY_NAME,
    STATUS_NAMES,
    WEIGHT_BY_GROUP,
    EnergyClass,
    WeightClass,
)
from connectors.vegvesen.plates import compact, display_plate


class ParseError(ValueError):
    """The answer has no vehicle at all (not a missing block: those are tolerated)."""


@dataclass
class OdometerReading:
    km: int
    date: date | None
    source: str  # "bruktimport", "nettside", "egne data"


@dataclass
class Vehicle:
    plate: str | None                      # normalized, "EK39085"
    vin: str | None
    make: str | None = None
    model: str | None = None
    vehicle_group: str | None = None       # tekniskKode: M1, N1, N2, N3, M2, M3 ...
    vehicle_group_name: str | None = None
    fuels: list[str] = field(default_factory=list)   # kodeVerdi, groups first, then motors
    hybrid_category: str | None = None
    euro_class: str | None = None
    energy_class: EnergyClass = EnergyClass.annet
    zero_emission: bool = False
    permitted_total_weight_kg: int | None = None
    curb_weight_kg: int | None = None
    weight_class: WeightClass | None = None
    weight_class_basis: str | None = None  # "tillatt totalvekt" | "kjøretøygruppe"
    first_registration: date | None = None
    registration_status: str | None = None
    eu_control_deadline: date | None = None
    eu_control_last_passed: date | None = None
    co2_g_per_km: float | None = None
    co2_basis: str | None = None           # "WLTP", "WLTP vektet", "NEDC"
    odometer: OdometerReading | None = None
    source: str = "api"                    # "api" | "web"

    @property
    def plate_display(self) -> str:
        return display_plate(self.plate) if self.plate else ""

    @property
    def fuel_names(self) -> list[str]:
        return [FUELS.get(code, f"kode {code}") for code in self.fuels]

    @property
    def fuel_text(self) -> str:
        """"bensin, elektrisk": the fuels as staff read them (an unknown code as it is)."""
        return ", ".join(FUELS.get(code, code) for code in self.fuels)

    @property
    def make_model(self) -> str:
        return " ".join(p for p in (self.make, self.model) if p)

    @property
    def group_text(self) -> str:
        """"M1 Personbil": the vehicle group's code and name."""
        return " ".join(p for p in (self.vehicle_group, self.vehicle_group_name) if p)

    @property
    def status_name(self) -> str:
        return STATUS_NAMES.get(self.registration_status or "", self.registration_status or "")

    @property
    def is_registered(self) -> bool:
        return self.registration_status == "REGISTRERT"

    def eu_control_overdue(self, today: date) -> bool:
        return self.is_registered and self.eu_control_deadline is not None and self.eu_control_deadline < today

    # JSON round trip for work-item results and the cache ---------------------------------------
    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key, value in list(data.items()):
            if isinstance(value, date):
                data[key] = value.isoformat()
        if self.odometer:
            data["odometer"] = {"km": self.odometer.km, "source": self.odometer.source,
                                "date": self.odometer.date.isoformat() if self.odometer.date else None}
        data["energy_class"] = str(self.energy_class)
        data["weight_class"] = str(self.weight_class) if self.weight_class else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Vehicle:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        for key in ("first_registration", "eu_control_deadline", "eu_control_last_passed"):
            values[key] = parse_date(values.get(key))
        odo = values.get("odometer")
        values["odometer"] = (OdometerReading(int(odo["km"]), parse_date(odo.get("date")), odo["source"])
                              if odo else None)
        values["energy_class"] = EnergyClass(values.get("energy_class") or "annet")
        values["weight_class"] = WeightClass(values["weight_class"]) if values.get("weight_class") else None
        return cls(**values)


# -- helpers --------------------------------------------------------------------------------------

def _get(obj: Any, *path: str | int) -> Any:
    """obj[path[0]][path[1]]... or None at the first missing step (lists and dicts alike)."""
    for step in path:
        if isinstance(step, int):
            if not isinstance(obj, list) or len(obj) <= step:
                return None
            obj = obj[step]
        else:
            if not isinstance(obj, dict):
                return None
            obj = obj.get(step)
        if obj is None:
            return None
    return obj


def _code(obj: Any) -> str | None:
    """kodeVerdi of a coded value; tolerates a bare string."""
    if isinstance(obj, dict):
        value = obj.get("kodeVerdi")
        return str(value) if value not in (None, "") else None
    if isinstance(obj, str | int):
        return str(obj)
    return None


def parse_date(value: Any) -> date | None:
    """ISO (2019-03-14, also with a time) or Norwegian (14.03.2019) dates; None when unreadable."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        pass
    match = re.fullmatch(r"(\d{1,2})\.(\d{1,2})\.(\d{4})", text)
    if match:
        d, m, y = (int(g) for g in match.groups())
        try:
            return date(y, m, d)
        except ValueError:
            return None
    return None


def parse_int(value: Any) -> int | None:
    """2232, 2232.0, '2 232 kg', '61\u00a0234' -> int; None when there are no digits."""
    if value in (None, ""):
        return None
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value)
    digits = re.sub(r"[^\d]", "", str(value).split(",")[0])
    return int(digits) if digits else None


def _float(value: Any) -> float | None:
    if value in (None, ""):
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    text = str(value).replace("\u00a0", "").replace(" ", "").replace(",", ".")
    match = re.match(r"-?\d+(\.\d+)?", text)
    return float(match.group()) if match else None


def _unique(values: list[str]) -> list[str]:
    seen: list[str] = []
    for v in values:
        if v and v not in seen:
            seen.append(v)
    return seen


# -- derived classes ------------------------------------------------------------------------------

def energy_class(fuels: list[str], hybrid_category: str | None, euro_class: str | None) -> EnergyClass:
    fuel_set = set(fuels)
    if HYDROGEN in fuel_set:
        return EnergyClass.hydrogen
    if fuel_set and fuel_set == {ELECTRIC}:
        return EnergyClass.elektrisk
    if euro_class == "0" and ELECTRIC in fuel_set and hybrid_category != "LADBAR":
        return EnergyClass.elektrisk
    if hybrid_category == "LADBAR":
        return EnergyClass.ladbar_hybrid
    if hybrid_category == "IKKE_LADBAR":
        return EnergyClass.hybrid
    combustion = [f for f in fuels if f != ELECTRIC]
    if ELECTRIC in fuel_set and combustion:
        # Two groups (electric + combustion) but no hybrid category: a plug-in by its data.
        return EnergyClass.ladbar_hybrid
    if combustion:
        return ENERGY_BY_FUEL.get(combustion[0], EnergyClass.annet)
    return EnergyClass.annet


def weight_class(total_weight_kg: int | None, group: str | None) -> tuple[WeightClass | None, str | None]:
    if total_weight_kg:
        return (WeightClass.lett if total_weight_kg <= LIGHT_MAX_KG else WeightClass.tung), "tillatt totalvekt"
    if group and group in WEIGHT_BY_GROUP:
        return WEIGHT_BY_GROUP[group], "kjøretøygruppe"
    return None, None


def _co2(groups: list[Any], energy: EnergyClass) -> tuple[float | None, str | None]:
    """The combined CO2 of the combustion group: PHEV weighted WLTP, WLTP combined, then NEDC."""
    candidates: list[tuple[int, float, str]] = []
    for group in groups:
        for measurement in _get(group, "forbrukOgUtslipp") or []:
            wltp = _get(measurement, "wltpKjoretoyspesifikk") or {}
            options = [
                (0, measurement.get("vektetKombinertDrivstoffCO2"), "WLTP vektet"),
                (0, wltp.get("co2VektetKombinert"), "WLTP vektet"),
                (1, wltp.get("co2Kombinert"), "WLTP"),
                (2, measurement.get("co2BlandetKjoring"), "NEDC"),
            ]
            for rank, value, basis in options:
                number = _float(value)
                if number is not None:
                    candidates.append((rank, number, basis))
    if not candidates:
        return None, None
    if energy is not EnergyClass.ladbar_hybrid:
        candidates = [c for c in candidates if c[2] != "WLTP vektet"] or candidates
    # Prefer the best basis; among equals the largest figure (the combustion group's, not the 0 of
    # the electric group of a plug-in hybrid).
    rank, number, basis = min(candidates, key=lambda c: (c[0], -c[1]))
    return number, basis


# -- the API answer -------------------------------------------------------------------------------

def parse_response(body: dict[str, Any] | None) -> Vehicle:
    """Root {feilmelding?, kjoretoydataListe: [V]} -> Vehicle; ParseError when no vehicle."""
    if not isinstance(body, dict):
        raise ParseError("svaret er ikke et JSON-objekt")
    vehicles = body.get("kjoretoydataListe") or []
    if not vehicles:
        raise ParseError(body.get("feilmelding") or "kjoretoydataListe er tom")
    return parse_vehicle(vehicles[0])


def parse_vehicle(v: dict[str, Any]) -> Vehicle:
    """One element of kjoretoydataListe -> Vehicle (absent blocks give empty fields)."""
    if not isinstance(v, dict):
        raise ParseError("kjøretøyet er ikke et JSON-objekt")
    tg = _get(v, "godkjenning", "tekniskGodkjenning") or {}
    td = _get(tg, "tekniskeData") or {}

    plate_raw = _get(v, "kjoretoyId", "kjennemerke") or _get(v, "kjennemerke", 0, "kjennemerke")
    vin = _get(v, "kjoretoyId", "understellsnummer")
    group = _code(_get(tg, "kjoretoyklassifisering", "tekniskKode")) or _code(_get(td, "generelt", "tekniskKode"))
    group_name = (_get(tg, "kjoretoyklassifisering", "tekniskKode", "kodeNavn")
                  or _get(tg, "kjoretoyklassifisering", "beskrivelse") or GROUP_NAMES.get(group or ""))

    groups = _get(td, "miljodata", "miljoOgdrivstoffGruppe") or []
    fuels = [_code(_get(g, "drivstoffKodeMiljodata")) for g in groups]
    for motor in _get(td, "motorOgDrivverk", "motor") or []:
        fuels += [_code(_get(d, "drivstoffKode")) for d in _get(motor, "drivstoff") or []]
    fuels = _unique([f for f in fuels if f])
    hybrid = _code(_get(td, "motorOgDrivverk", "hybridKategori"))
    euro = _code(_get(td, "miljodata", "euroKlasse"))
    energy = energy_class(fuels, hybrid, euro)

    total = parse_int(_get(td, "vekter", "tillattTotalvekt"))
    wclass, basis = weight_class(total, group)
    co2, co2_basis = _co2(groups, energy)

    km = parse_int(_get(v, "godkjenning", "forstegangsGodkjenning", "bruktimport", "kilometerstand"))
    first_reg = parse_date(_get(v, "forstegangsregistrering", "registrertForstegangNorgeDato")
                      or _get(v, "godkjenning", "forstegangsGodkjenning", "forstegangRegistrertDato"))
    odometer = OdometerReading(km, first_reg, "bruktimport") if km else None

    return Vehicle(
        plate=compact(plate_raw) or None,
        vin=vin,
        make=_get(td, "generelt", "merke", 0, "merke"),
        model=_get(td, "generelt", "handelsbetegnelse", 0),
        vehicle_group=group,
        vehicle_group_name=group_name,
        fuels=fuels,
        hybrid_category=hybrid,
        euro_class=euro,
        energy_class=energy,
        zero_emission=energy.zero_emission,
        permitted_total_weight_kg=total,
        curb_weight_kg=parse_int(_get(td, "vekter", "egenvekt")),
        weight_class=wclass,
        weight_class_basis=basis,
        first_registration=first_reg,
        registration_status=_code(_get(v, "registrering", "registreringsstatus")),
        eu_control_deadline=parse_date(_get(v, "periodiskKjoretoyKontroll", "kontrollfrist")),
        eu_control_last_passed=parse_date(_get(v, "periodiskKjoretoyKontroll", "sistGodkjent")),
        co2_g_per_km=co2,
        co2_basis=co2_basis,
        odometer=odometer,
        source="api",
    )


# -- the web page (the bot path) ------------------------------------------------------------------

def _norm_label(label: str) -> str:
    return re.sub(r"[\s:]+", " ", label).strip().lower()


def vehicle_from_web(sections: dict[str, dict[str, str]], readings: list[tuple[date | None, int]]) -> Vehicle:
    """The labelled values of 'Sjekk kjøretøyopplysninger' -> Vehicle.

    `sections` maps a section title to {label: value text}; labels are matched case-insensitively
    over all sections (the page has moved fields between sections before). The page shows names,
    not codes: fuels and statuses are mapped back to kodeVerdi.
    """
    values: dict[str, str] = {}
    for pairs in sections.values():
        for label, value in pairs.items():
            values.setdefault(_norm_label(label), (value or "").strip())

    def pick(*labels: str) -> str | None:
        for label in labels:
            value = values.get(label)
            if value and value not in ("-", "–", "Ikke registrert", "Ikke kontrollert ennå"):
                return value
        return None

    group_text = pick("kjøretøygruppe", "teknisk kode") or ""
    group = group_text.split()[0] if group_text else None
    fuel_text = pick("drivstoff") or ""
    fuels = _unique([FUEL_CODES_BY_NAME.get(name.strip().lower(), "")
                     for name in re.split(r"[,/+]| og ", fuel_text) if name.strip()])
    hybrid_text = (pick("hybridkategori") or "").strip().lower()
    hybrid = HYBRID_BY_NAME.get(hybrid_text) if hybrid_text else None
    euro_text = pick("euroklasse") or ""
    euro = "0" if "null" in euro_text.lower() else (re.sub(r"(?i)euro\s*", "", euro_text).strip() or None)
    energy = energy_class(fuels, hybrid, euro)
    total = parse_int(pick("tillatt totalvekt"))
    wclass, basis = weight_class(total, group)
    status_text = (pick("registreringsstatus", "status") or "").lower()
    status = STATUS_BY_NAME.get(status_text) or (status_text.upper() or None)
    co2_text = pick("co2-utslipp", "co2 (blandet kjøring)", "co2")
    latest = max((r for r in readings if r[1] is not None), key=lambda r: (r[0] or date.min), default=None)
    plate = compact(pick("kjennemerke", "registreringsnummer") or "") or None
    return Vehicle(
        plate=plate,
        vin=pick("understellsnummer"),
        make=pick("merke"),
        model=pick("modell", "handelsbetegnelse"),
        vehicle_group=group,
        vehicle_group_name=(group_text[len(group or ""):].strip() or GROUP_NAMES.get(group or "")) or None,
        fuels=fuels,
        hybrid_category=hybrid,
        euro_class=euro,
        energy_class=energy,
        zero_emission=energy.zero_emission,
        permitted_total_weight_kg=total,
        curb_weight_kg=parse_int(pick("egenvekt")),
        weight_class=wclass,
        weight_class_basis=basis,
        first_registration=parse_date(pick("første gang registrert i norge", "første registrering i norge",
                                      "første gang registrert")),
        registration_status=status,
        eu_control_deadline=parse_date(pick("neste frist", "frist for neste eu-kontroll", "kontrollfrist")),
        eu_control_last_passed=parse_date(pick("sist godkjent", "sist godkjente eu-kontroll")),
        co2_g_per_km=_float(co2_text),
        co2_basis="WLTP" if co2_text and "nedc" not in co2_text.lower() else ("NEDC" if co2_text else None),
        odometer=OdometerReading(latest[1], latest[0], "nettside") if latest else None,
        source="web",
    )
