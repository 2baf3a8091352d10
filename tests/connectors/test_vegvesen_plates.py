"""Plate and VIN normalization: every way a fleet list writes a plate."""

from __future__ import annotations

import pytest

from connectors.vegvesen.plates import PlateError, display_plate, normalize_identifier, normalize_plate


@pytest.mark.parametrize("raw", ["EK 39085", "ek 39085", "EK39085", "EK-39085", " ek\u00a039085 ", "Ek 39 085"])
def test_plate_variants_normalize(raw):
    assert normalize_plate(raw) == "EK39085"


def test_four_digit_plates_and_display_form():
    assert normalize_plate("AB 1234") == "AB1234"
    assert display_plate("EK39085") == "EK 39085"


@pytest.mark.parametrize("raw", ["E 39085", "EK 390856", "1234567", "", None, "ØØ 12345", "EKK 3908", "AB 12"])
def test_malformed_plates_are_refused_with_a_norwegian_reason(raw):
    with pytest.raises(PlateError) as info:
        normalize_plate(raw)
    assert "kjennemerke" in info.value.reason.lower()


def test_personalized_plates_only_when_allowed():
    with pytest.raises(PlateError):
        normalize_plate("TESLA1")
    assert normalize_plate("tesla 1", allow_personalized=True) == "TESLA1"


def test_vin_is_recognised():
    ident = normalize_identifier("5yj3e7eb2kf123456")
    assert (ident.by, ident.value, ident.display) == ("understellsnummer", "5YJ3E7EB2KF123456", "5YJ3E7EB2KF123456")
    plate = normalize_identifier("ek 39085")
    assert (plate.by, plate.value, plate.display) == ("kjennemerke", "EK39085", "EK 39085")
