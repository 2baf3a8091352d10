"""The stand-in's vehicle register: specs -> answers shaped like the real API's, and the web page's fields.

A `VehicleSpec` is what the seed decides about a vehicle; `to_kjoretoydata` renders it the way
the Kjøretøyopplysninger API does (kjoretoyId with a spaced plate, coded values as
{kodeVerdi, kodeNavn, kodeBeskrivelse}, one miljoOgdrivstoffGruppe per fuel, PKK absent for new
vehicles, sparse blocks for deregistered ones), and `web_sections` renders the same data the way
the human page "Sjekk kjøretøyopplysninger" shows it. One source for both paths.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

FUEL_NAMES = {"1": "Bensin", "2": "Diesel", "3": "Parafin", "4": "Gass", "5": "Elektrisk", "6": "Hydrogen",
              "10": "Biodiesel", "12": "LPG", "13": "CNG", "14": "Metanol", "15": "Etanol"}
HYBRID_NAMES = {"INGEN": "Ingen", "LADBAR": "Ladbar hybrid", "IKKE_LADBAR": "Ikke ladbar hybrid"}
GROUP_NAMES = {"M1": "Personbil", "N1": "Varebil", "N2": "Lastebil", "N3": "Lastebil", "M2": "Minibuss",
               "M3": "Buss"}
STATUS_NAMES = {"REGISTRERT": "Registrert", "AVREGISTRERT": "Avregistrert", "UREGISTRERT": "Uregistrert",
                "UTFORT": "Utført", "VRAKET": "Vraket"}
EURO_NAMES = {"0": "Nullutslipp", "4": "Euro 4", "5": "Euro 5", "6": "Euro 6", "VI": "Euro VI"}


@dataclass
class VehicleSpec:
    plate: str                        # normalized, "EK39085"
    vin: str
    make: str
    model: str
    group: str                        # M1, N1, N2, N3, M2, M3
    fuels: list[str]                  # one miljoOgdrivstoffGruppe per fuel code
    hybrid: str = "INGEN"
    euro: str = "6"
    total_weight: int | None = None
    curb_weight: int | None = None
    first_registered: str = "2020-01-01"  # ISO date
    status: str = "REGISTRERT"
    deregistered_since: str | None = None
    pkk_deadline: str | None = None
    pkk_last: str | None = None
    co2_wltp: float | None = None
    co2_nedc: float | None = None
    co2_weighted: int | None = None    # plug-in hybrids: vektetKombinertDrivstoffCO2
    import_km: int | None = None
    import_country: str | None = None
    odometer: list[tuple[str, int]] = field(default_factory=list)  # (ISO date, km) at EU controls
    sparse: bool = False               # a deregistered vehicle's thin record: no weights or emissions

    @property
    def spaced_plate(self) -> str:
        return f"{self.plate[:2]} {self.plate[2:]}"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> VehicleSpec:
        data = dict(data)
        data["odometer"] = [tuple(r) for r in data.get("odometer", [])]
        return cls(**data)


def kode(verdi: str, navn: str | None = None, beskrivelse: str | None = None,
         type_id: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"kodeVerdi": verdi}
    if navn:
        out["kodeNavn"] = navn
    if beskrivelse:
        out["kodeBeskrivelse"] = beskrivelse
    if type_id:
        out["kodeTypeId"] = type_id
    return out


def _approval_id(spec: VehicleSpec) -> str:
    return f"{zlib.crc32(spec.vin.encode()) % 10**8:08d}"


def _emissions(spec: VehicleSpec, fuel: str) -> list[dict[str, Any]]:
    if spec.sparse:
        return []
    if fuel == "5":
        if len(spec.fuels) > 1:  # the electric group of a plug-in hybrid
            return [{"malemetode": kode("WLTP", "WLTP"), "elEnergiforbruk": 190, "rekkeviddeKm": 55}]
        return [{"co2BlandetKjoring": 0, "malemetode": kode("WLTP", "WLTP"), "elEnergiforbruk": 165,
                 "rekkeviddeKm": 420, "wltpKjoretoyspesifikk": {"co2Kombinert": 0, "forbrukKombinert": 0}}]
    if fuel == "6":
        return [{"co2BlandetKjoring": 0, "malemetode": kode("WLTP", "WLTP"), "rekkeviddeKm": 650,
                 "wltpKjoretoyspesifikk": {"co2Kombinert": 0}}]
    entry: dict[str, Any] = {"malemetode": kode("WLTP" if spec.co2_wltp is not None else "NEDC")}
    if spec.co2_nedc is not None:
        entry["co2BlandetKjoring"] = spec.co2_nedc
    if spec.co2_wltp is not None:
        entry["wltpKjoretoyspesifikk"] = {"co2Kombinert": spec.co2_wltp, "forbrukKombinert": round(spec.co2_wltp / 23.5, 1)}
    if spec.co2_weighted is not None:
        entry["vektetKombinertDrivstoffCO2"] = spec.co2_weighted
        entry.setdefault("wltpKjoretoyspesifikk", {})["co2VektetKombinert"] = float(spec.co2_weighted)
    return [entry]


def _motors(spec: VehicleSpec) -> list[dict[str, Any]]:
    combustion = [f for f in spec.fuels if f != "5"]
    motors = []
    if combustion:
        motors.append({"antallSylindre": 4, "slagvolum": 1998 if spec.group == "M1" else 2967,
                       "arbeidsprinsipp": kode("FIRETAKT", "Firetakt"),
                       "drivstoff": [{"drivstoffKode": kode(f, FUEL_NAMES.get(f)), "maksNettoEffekt": 110.0}
                                     for f in combustion]})
    if "5" in spec.fuels or spec.hybrid != "INGEN":
        motors.append({"antallSylindre": 0, "drivstoff": [
            {"drivstoffKode": kode("5", "Elektrisk"), "maksNettoEffekt": 150.0, "maksEffektPrTime": 90.0}]})
    return motors


def to_kjoretoydata(spec: VehicleSpec) -> dict[str, Any]:
    """One element of kjoretoydataListe, shaped like the agency's answer."""
    group_name = GROUP_NAMES.get(spec.group, spec.group)
    technical: dict[str, Any] = {
        "generelt": {
            "fabrikant": [{"fabrikantNavn": spec.make.title()}],
            "handelsbetegnelse": [spec.model],
            "merke": [{"merke": spec.make, "merkeKode": f"{zlib.crc32(spec.make.encode()) % 9000 + 1000}"}],
            "tekniskKode": kode(spec.group, group_name, group_name),
            "typebetegnelse": spec.model.split()[0],
        },
        "motorOgDrivverk": {
            "hybridKategori": kode(spec.hybrid, HYBRID_NAMES[spec.hybrid]),
            "maksimumHastighet": [180 if spec.group == "M1" else 130],
            "motor": _motors(spec),
            "girkassetype": kode("AUTOMAT", "Automat"),
        },
        "persontall": {"sitteplasserForan": 2, "sitteplasserTotalt": 5 if spec.group == "M1" else 3},
        "dimensjoner": {"bredde": 1850, "hoyde": 1500 if spec.group == "M1" else 2500, "lengde": 4700},
    }
    if not spec.sparse:
        technical["miljodata"] = {
            "euroKlasse": kode(spec.euro, EURO_NAMES.get(spec.euro, f"Euro {spec.euro}")),
            "miljoOgdrivstoffGruppe": [
                {"drivstoffKodeMiljodata": kode(f, FUEL_NAMES.get(f)),
                 "forbrukOgUtslipp": _emissions(spec, f),
                 "lyd": {"kjorestoy": 68, "standstoy": 0 if f == "5" else 72, "stoyMalingOppgittAv": kode("2")}}
                for f in spec.fuels],
            "okoInnovasjon": False,
        }
    weights: dict[str, Any] = {}
    if spec.curb_weight is not None:
        weights["egenvekt"] = spec.curb_weight
    if spec.total_weight is not None:
        weights["tillattTotalvekt"] = spec.total_weight
        if spec.curb_weight is not None:
            weights["nyttelast"] = spec.total_weight - spec.curb_weight
    if weights:
        weights["tillattTilhengervektMedBrems"] = 1500
        technical["vekter"] = weights

    first_approval: dict[str, Any] = {
        "forstegangRegistrertDato": spec.first_registered,
        "godkjenningsId": _approval_id(spec),
        "godkjenningsundertype": kode("INGEN", "Ingen"),
        "gyldigFraDato": spec.first_registered,
        "unntak": [],
    }
    if spec.import_km is not None:
        first_approval["bruktimport"] = {"importland": {"landNavn": spec.import_country or "Tyskland",
                                                        "landkode": "D"},
                                         "kilometerstand": spec.import_km}
    registration: dict[str, Any] = {
        "fomTidspunkt": f"{spec.first_registered}T00:00:00+01:00",
        "kjoringensArt": kode("EGIRAAT", "Egen bruk"),
        "registreringsstatus": kode(spec.status, STATUS_NAMES.get(spec.status), STATUS_NAMES.get(spec.status)),
    }
    if spec.deregistered_since:
        registration["avregistrertSidenDato"] = f"{spec.deregistered_since}T00:00:00+01:00"
    v: dict[str, Any] = {
        "kjoretoyId": {"kjennemerke": spec.spaced_plate, "understellsnummer": spec.vin},
        "forstegangsregistrering": {"registrertForstegangNorgeDato": spec.first_registered},
        "kjennemerke": [{"fomTidspunkt": f"{spec.first_registered}T00:00:00+01:00", "kjennemerke": spec.spaced_plate,
                         "kjennemerkekategori": "KJORETOY",
                         "kjennemerketype": kode("ORDINART", "Ordinære kjennemerker")}],
        "registrering": registration,
        "godkjenning": {
            "forstegangsGodkjenning": first_approval,
            "kjoretoymerknad": [],
            "registreringsbegrensninger": {"registreringsbegrensning": []},
            "tekniskGodkjenning": {
                "godkjenningsId": _approval_id(spec),
                "godkjenningsundertype": kode("INGEN", "Ingen"),
                "gyldigFraDato": spec.first_registered,
                "kjoretoyklassifisering": {
                    "beskrivelse": group_name,
                    "tekniskKode": kode(spec.group, group_name, group_name),
                    "tekniskUnderkode": kode("INGENKODE", "Ingen underkode"),
                    "iSamsvarMedTypegodkjenning": True,
                },
                "krav": [],
                "tekniskeData": technical,
                "unntak": [],
            },
            "tilleggsgodkjenninger": [],
        },
    }
    if spec.pkk_deadline or spec.pkk_last:
        pkk = {}
        if spec.pkk_deadline:
            pkk["kontrollfrist"] = spec.pkk_deadline
        if spec.pkk_last:
            pkk["sistGodkjent"] = spec.pkk_last
        v["periodiskKjoretoyKontroll"] = pkk
    return v


# -- the web page -----------------------------------------------------------------------------------

def _no_date(iso: str | None) -> str:
    if not iso:
        return ""
    d = date.fromisoformat(iso[:10])
    return f"{d:%d.%m.%Y}"


def _kg(value: int | None) -> str:
    return f"{value:,}".replace(",", "\u00a0") + " kg" if value is not None else "Ikke registrert"


def web_sections(spec: VehicleSpec, alternate: bool = False) -> list[dict[str, Any]]:
    """Sections of 'Sjekk kjøretøyopplysninger' as {id, title, pairs | readings}."""
    group_name = GROUP_NAMES.get(spec.group, spec.group)
    co2 = spec.co2_weighted if spec.co2_weighted is not None else (
        spec.co2_wltp if spec.co2_wltp is not None else spec.co2_nedc)
    if co2 is None and set(spec.fuels) <= {"5", "6"} and spec.fuels:
        co2 = 0
    co2_text = "Ikke registrert" if co2 is None or spec.sparse else (
        f"{co2:g} g/km ({'NEDC' if spec.co2_wltp is None and spec.co2_weighted is None else 'WLTP'})")
    sections = [
        {"id": "registreringsdata", "title": "Registreringsdata", "pairs": [
            ("Kjennemerke", spec.spaced_plate),
            ("Understellsnummer", spec.vin),
            ("Merke", spec.make),
            ("Modell", spec.model),
            ("Kjøretøygruppe", f"{spec.group} {group_name}"),
            ("Registreringsstatus", STATUS_NAMES.get(spec.status, spec.status)),
            ("Første gang registrert i Norge", _no_date(spec.first_registered)),
        ]},
        {"id": "motor", "title": "Motor og kraftoverføring" if alternate else "Motor/kraftoverføring", "pairs": [
            ("Drivstoff", ", ".join(FUEL_NAMES.get(f, f) for f in spec.fuels) if not spec.sparse or spec.fuels
             else "Ikke registrert"),
            ("Hybridkategori", HYBRID_NAMES[spec.hybrid]),
            ("Euroklasse", "Ikke registrert" if spec.sparse else EURO_NAMES.get(spec.euro, f"Euro {spec.euro}")),
            ("CO2-utslipp", co2_text),
        ]},
        {"id": "eu-kontroll", "title": "EU-kontroll (PKK)" if alternate else "EU-kontroll", "pairs": [
            ("Sist godkjent", _no_date(spec.pkk_last) or "Ikke kontrollert ennå"),
            ("Neste frist", _no_date(spec.pkk_deadline) or "Ikke kontrollert ennå"),
        ]},
        {"id": "mal-og-vekt", "title": "Mål og vekt", "pairs": [
            ("Egenvekt", _kg(spec.curb_weight)),
            ("Tillatt totalvekt", _kg(spec.total_weight)),
        ]},
        {"id": "kilometerstand", "title": "Kilometerstand ved EU-kontroll" if alternate else "Kilometerstand",
         "readings": [(_no_date(d), f"{km:,}".replace(",", "\u00a0")) for d, km in sorted(spec.odometer, reverse=True)]},
    ]
    if alternate:  # the page was redesigned: the same facts, another order
        order = ["kilometerstand", "registreringsdata", "mal-og-vekt", "eu-kontroll", "motor"]
        sections.sort(key=lambda s: order.index(s["id"]))
    return sections


# -- the store the app serves ------------------------------------------------------------------------

class Register:
    """Vehicles by normalized plate and by VIN, with each answer pre-serialized (the lookup path
    must answer hundreds of requests per second, so it only looks up bytes)."""

    def __init__(self, specs: list[VehicleSpec]):
        self.specs = {s.plate: s for s in specs}
        self.by_vin = {s.vin: s.plate for s in specs}
        self.answers: dict[str, bytes] = {
            s.plate: json.dumps({"kjoretoydataListe": [to_kjoretoydata(s)]}, ensure_ascii=False).encode()
            for s in specs}

    @classmethod
    def load(cls, data_dir: Path) -> Register:
        path = register_path(data_dir)
        if not path.exists():
            return cls([])
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls([VehicleSpec.from_json(v) for v in data["kjoretoy"]])

    def __len__(self) -> int:
        return len(self.specs)


def register_path(data_dir: Path) -> Path:
    return Path(data_dir) / "sandbox" / "vegvesen" / "kjoretoyregister.json"


def save_register(data_dir: Path, specs: list[VehicleSpec]) -> Path:
    path = register_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"kjoretoy": [s.to_json() for s in specs]}, ensure_ascii=False, indent=1),
                    encoding="utf-8")
    return path
