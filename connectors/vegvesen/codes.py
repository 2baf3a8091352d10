"""The registry's code lists (kodeverk) we rely on, and the classes we derive from them.

Coded values arrive as {kodeVerdi, kodeNavn?, kodeBeskrivelse?}; we match on kodeVerdi only
(names change wording, values do not).
"""

from __future__ import annotations

from enum import StrEnum

# drivstoffKode / drivstoffKodeMiljodata .kodeVerdi -> our fuel name.
# 1, 2, 5 are seen in real responses; the rest come from an open-source mapper. The legacy codes
# 7 and 8 were re-coded to 1 and 2 by the agency; old extracts may still carry them.
FUELS: dict[str, str] = {
    "1": "bensin", "2": "diesel", "3": "parafin", "4": "gass", "5": "elektrisk", "6": "hydrogen",
    "7": "bensin", "8": "diesel", "10": "biodiesel", "12": "LPG", "13": "CNG", "14": "metanol",
    "15": "etanol",
}
ELECTRIC, HYDROGEN = "5", "6"

# Fuel names the web page shows -> kodeVerdi (the bot path reads names, not codes).
FUEL_CODES_BY_NAME: dict[str, str] = {
    "bensin": "1", "diesel": "2", "parafin": "3", "gass": "4", "elektrisk": "5", "elektrisitet": "5",
    "el": "5", "hydrogen": "6", "biodiesel": "10", "lpg": "12", "cng": "13", "metanol": "14", "etanol": "15",
}


class EnergyClass(StrEnum):
    """Our energy classes, in the climate report's Norwegian words."""

    elektrisk = "elektrisk"
    hydrogen = "hydrogen"
    ladbar_hybrid = "ladbar hybrid"
    hybrid = "hybrid"
    bensin = "bensin"
    diesel = "diesel"
    gass = "gass"
    bio = "bio"
    annet = "annet"

    @property
    def zero_emission(self) -> bool:
        return self in (EnergyClass.elektrisk, EnergyClass.hydrogen)


# A fossil or bio vehicle's class from its first (non-electric) fuel.
ENERGY_BY_FUEL: dict[str, EnergyClass] = {
    "1": EnergyClass.bensin, "7": EnergyClass.bensin,
    "2": EnergyClass.diesel, "8": EnergyClass.diesel,
    "4": EnergyClass.gass, "12": EnergyClass.gass, "13": EnergyClass.gass,
    "10": EnergyClass.bio, "15": EnergyClass.bio,
    "3": EnergyClass.annet, "14": EnergyClass.annet,
}


class HybridCategory(StrEnum):
    INGEN = "INGEN"
    LADBAR = "LADBAR"          # plug-in hybrid
    IKKE_LADBAR = "IKKE_LADBAR"


HYBRID_BY_NAME = {"ingen": "INGEN", "ladbar": "LADBAR", "ladbar hybrid": "LADBAR", "ikke ladbar": "IKKE_LADBAR",
                  "ikke ladbar hybrid": "IKKE_LADBAR", "ikke-ladbar": "IKKE_LADBAR"}


class WeightClass(StrEnum):
    lett = "lett"   # tillattTotalvekt <= 3 500 kg
    tung = "tung"


LIGHT_MAX_KG = 3500

# Fallback when the permitted total weight is missing: the group code's usual class.
# M1 cars and N1 vans are light by definition of N1 (<= 3 500 kg) and almost always for M1;
# N2/N3 trucks and M2/M3 buses are heavy (buses follow the heavy EU-control regime too).
WEIGHT_BY_GROUP: dict[str, WeightClass] = {
    "M1": WeightClass.lett, "M1G": WeightClass.lett, "N1": WeightClass.lett, "N1G": WeightClass.lett,
    "L1e": WeightClass.lett, "L3e": WeightClass.lett,
    "N2": WeightClass.tung, "N2G": WeightClass.tung, "N3": WeightClass.tung, "N3G": WeightClass.tung,
    "M2": WeightClass.tung, "M3": WeightClass.tung,
}

GROUP_NAMES: dict[str, str] = {
    "M1": "Personbil", "M1G": "Personbil (terreng)", "N1": "Varebil", "N1G": "Varebil (terreng)",
    "N2": "Lastebil", "N2G": "Lastebil (terreng)", "N3": "Lastebil", "N3G": "Lastebil (terreng)",
    "M2": "Minibuss", "M3": "Buss", "L1e": "Moped", "L3e": "Motorsykkel",
}


class RegistrationStatus(StrEnum):
    REGISTRERT = "REGISTRERT"
    AVREGISTRERT = "AVREGISTRERT"   # temporarily deregistered
    UREGISTRERT = "UREGISTRERT"     # approved, never registered
    UTFORT = "UTFORT"               # exported
    VRAKET = "VRAKET"               # scrapped


STATUS_NAMES: dict[str, str] = {
    "REGISTRERT": "Registrert", "AVREGISTRERT": "Avregistrert", "UREGISTRERT": "Uregistrert",
    "UTFORT": "Utført (eksportert)", "VRAKET": "Vraket",
}
STATUS_BY_NAME = {name.lower(): code for code, name in STATUS_NAMES.items()} | {
    "utført": "UTFORT", "eksportert": "UTFORT", "avregistrert (midlertidig)": "AVREGISTRERT"}
