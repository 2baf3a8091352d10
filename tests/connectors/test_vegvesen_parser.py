"""The parser on answers shaped like the real API's (tests/fixtures/vegvesen.py REAL_*)."""

from __future__ import annotations

from datetime import date

import pytest

from connectors.vegvesen.codes import EnergyClass, WeightClass
from connectors.vegvesen.parser import ParseError, Vehicle, energy_class, parse_response, vehicle_from_web
from tests.fixtures.vegvesen import (
    REAL_DEREGISTERED_VAN,
    REAL_EV,
    REAL_HEAVY_M1,
    REAL_HYDROGEN,
    REAL_PHEV,
    REAL_TRUCK_NO_WEIGHT,
    real,
)


def test_battery_electric_car():
    v = parse_response(real(REAL_EV))
    assert (v.plate, v.plate_display, v.vin) == ("EK39085", "EK 39085", "5YJ3E7EB2KF123456")
    assert (v.make, v.model, v.vehicle_group, v.vehicle_group_name) == ("TESLA", "MODEL 3", "M1", "Personbil")
    assert v.energy_class is EnergyClass.elektrisk and v.zero_emission
    assert (v.weight_class, v.weight_class_basis, v.permitted_total_weight_kg) == (WeightClass.lett, "tillatt totalvekt", 2232)
    assert v.first_registration == date(2019, 3, 14)
    assert v.registration_status == "REGISTRERT" and v.is_registered
    assert (v.eu_control_deadline, v.eu_control_last_passed) == (date(2025, 3, 14), date(2023, 2, 20))
    assert (v.co2_g_per_km, v.co2_basis) == (0.0, "WLTP")
    assert v.odometer is None


def test_plug_in_hybrid_with_two_fuel_groups():
    v = parse_response(real(REAL_PHEV))
    assert v.fuels == ["1", "5"]
    assert v.fuel_names == ["bensin", "elektrisk"]
    assert v.hybrid_category == "LADBAR"
    assert v.energy_class is EnergyClass.ladbar_hybrid and not v.zero_emission
    assert (v.co2_g_per_km, v.co2_basis) == (46.0, "WLTP vektet")  # the weighted figure, not the electric 0
    assert v.eu_control_deadline == date(2024, 6, 2) and v.eu_control_last_passed is None


def test_plug_in_hybrid_recognised_by_its_groups_when_the_category_is_missing():
    answer = real(REAL_PHEV)
    del answer["kjoretoydataListe"][0]["godkjenning"]["tekniskGodkjenning"]["tekniskeData"]["motorOgDrivverk"]["hybridKategori"]
    assert parse_response(answer).energy_class is EnergyClass.ladbar_hybrid


def test_deregistered_van_without_pkk_and_with_a_thin_record():
    v = parse_response(real(REAL_DEREGISTERED_VAN))
    assert v.registration_status == "AVREGISTRERT" and not v.is_registered
    assert v.status_name == "Avregistrert"
    assert v.eu_control_deadline is None and v.eu_control_last_passed is None
    assert v.energy_class is EnergyClass.diesel  # from the motor's fuel, as the environmental block is absent
    assert v.permitted_total_weight_kg is None
    assert (v.weight_class, v.weight_class_basis) == (WeightClass.lett, "kjøretøygruppe")  # N1 fallback
    assert v.co2_g_per_km is None
    assert not v.eu_control_overdue(date(2030, 1, 1))  # deregistered vehicles are not flagged for PKK


def test_hydrogen_wins_over_the_electric_motor():
    v = parse_response(real(REAL_HYDROGEN))
    assert v.fuels == ["6", "5"]
    assert v.energy_class is EnergyClass.hydrogen and v.zero_emission


def test_m1_above_3500_kg_is_heavy_by_weight_and_import_odometer_is_read():
    v = parse_response(real(REAL_HEAVY_M1))
    assert v.vehicle_group == "M1"
    assert (v.weight_class, v.weight_class_basis) == (WeightClass.tung, "tillatt totalvekt")
    assert (v.co2_g_per_km, v.co2_basis) == (231.0, "NEDC")
    assert v.odometer.km == 61234 and v.odometer.source == "bruktimport"
    assert v.eu_control_overdue(date(2021, 1, 21)) and not v.eu_control_overdue(date(2021, 1, 20))


def test_truck_without_weight_falls_back_to_its_group():
    v = parse_response(real(REAL_TRUCK_NO_WEIGHT))
    assert (v.weight_class, v.weight_class_basis) == (WeightClass.tung, "kjøretøygruppe")
    assert v.energy_class is EnergyClass.gass
    assert v.vin is None and v.make is None and v.first_registration is None


@pytest.mark.parametrize("body", [{"kjoretoydataListe": []}, {"feilmelding": "Ingen kjoretoy funnet"}, [], None])
def test_no_vehicle_is_a_parse_error(body):
    with pytest.raises(ParseError):
        parse_response(body)


@pytest.mark.parametrize("fuels, hybrid, euro, expected", [
    (["5"], "INGEN", "0", EnergyClass.elektrisk),
    (["5", "1"], None, "0", EnergyClass.elektrisk),  # euro class "0" with fuel 5
    (["6"], None, None, EnergyClass.hydrogen),
    (["1"], "IKKE_LADBAR", "6", EnergyClass.hybrid),
    (["2"], "INGEN", "6", EnergyClass.diesel),
    (["8"], None, None, EnergyClass.diesel),          # legacy code re-coded to 2
    (["13"], None, None, EnergyClass.gass),
    (["12"], None, None, EnergyClass.gass),
    (["10"], None, None, EnergyClass.bio),
    (["15"], None, None, EnergyClass.bio),
    (["3"], None, None, EnergyClass.annet),
    ([], None, None, EnergyClass.annet),
])
def test_energy_class_rules(fuels, hybrid, euro, expected):
    assert energy_class(fuels, hybrid, euro) is expected


def test_round_trip_through_json():
    v = parse_response(real(REAL_HEAVY_M1))
    again = Vehicle.from_dict(v.to_dict())
    assert again == v


def test_vehicle_from_the_web_page_fields():
    sections = {
        "Registreringsdata": {"Kjennemerke": "EB 70111", "Understellsnummer": "JMBXTGF2WKZ000111",
                              "Merke": "MITSUBISHI", "Modell": "OUTLANDER PHEV", "Kjøretøygruppe": "M1 Personbil",
                              "Registreringsstatus": "Registrert", "Første gang registrert i Norge": "02.06.2020"},
        "Motor/kraftoverføring": {"Drivstoff": "Bensin, Elektrisk", "Hybridkategori": "Ladbar hybrid",
                                  "Euroklasse": "Euro 6", "CO2-utslipp": "46 g/km (WLTP)"},
        "EU-kontroll": {"Sist godkjent": "Ikke kontrollert ennå", "Neste frist": "02.06.2024"},
        "Mål og vekt": {"Egenvekt": "1\u00a0880 kg", "Tillatt totalvekt": "2\u00a0390 kg"},
    }
    v = vehicle_from_web(sections, [(date(2024, 5, 20), 61000), (date(2022, 5, 1), 30500)])
    assert (v.plate, v.vehicle_group, v.fuels, v.hybrid_category) == ("EB70111", "M1", ["1", "5"], "LADBAR")
    assert v.energy_class is EnergyClass.ladbar_hybrid
    assert (v.permitted_total_weight_kg, v.curb_weight_kg, v.weight_class) == (2390, 1880, WeightClass.lett)
    assert v.first_registration == date(2020, 6, 2) and v.eu_control_last_passed is None
    assert v.eu_control_deadline == date(2024, 6, 2)
    assert v.odometer.km == 61000 and v.odometer.source == "nettside" and v.odometer.date == date(2024, 5, 20)
    assert v.source == "web" and v.co2_g_per_km == 46.0
