"""The 'Sjekk kjøretøyopplysninger' bot in real Chromium against the stand-in's page."""

from __future__ import annotations

import zipfile

import pytest

from bots.vegvesen_web import VegvesenWeb, VegvesenWebError, WebVehicleNotFound
from connectors.vegvesen.codes import EnergyClass
from flows.kit.evidence import attachments

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("bots_share_chromium")]  # one Chromium per module


def _register(sb):
    import json

    return {s["plate"]: s for s in json.loads(sb.files["register"].read_text(encoding="utf-8"))["kjoretoy"]}


@pytest.mark.parametrize("alternate", [False, True], ids=["layout", "alternate-layout"])
def test_reads_every_section_and_the_odometer_history(vegvesen_sandbox, tmp_path, alternate):
    sb = vegvesen_sandbox
    register = _register(sb)
    with_history = [s for s in register.values() if len(s["odometer"]) >= 2]
    phev = next((s for s in with_history if s["hybrid"] == "LADBAR"), with_history[0])
    sb.faults(alternate_layout=alternate)
    with VegvesenWeb(evidence_dir=tmp_path / "evidence", min_interval_seconds=0) as web:
        found = web.lookup(phev["plate"].lower())
    assert found.sections["Registreringsdata"]["Kjennemerke"] == f"{phev['plate'][:2]} {phev['plate'][2:]}"
    assert "Drivstoff" in found.sections["Motor/kraftoverføring"]
    expected = sorted(((d, km) for d, km in phev["odometer"]), reverse=True)
    assert [(d.isoformat(), km) for d, km in found.readings] == [tuple(r) for r in expected]
    vehicle = found.to_vehicle()
    assert vehicle.plate == phev["plate"] and vehicle.vin == phev["vin"]
    truth = next(r for r in sb.truth if r["referanse"] == phev["plate"])
    assert vehicle.energy_class is EnergyClass(truth["energiklasse"])
    assert vehicle.permitted_total_weight_kg == phev["total_weight"]
    assert vehicle.odometer.km == expected[0][1] and vehicle.odometer.source == "nettside"
    assert not (tmp_path / "evidence").exists()  # no evidence kept on success


def test_unknown_plate_is_not_found(vegvesen_sandbox, tmp_path):
    with VegvesenWeb(evidence_dir=tmp_path / "evidence", min_interval_seconds=0) as web, \
            pytest.raises(WebVehicleNotFound) as info:
        web.lookup(vegvesen_sandbox.plates("NOT_FOUND")[0])
    assert "fant ikke" in info.value.message and not info.value.invalid


def test_new_vehicle_without_controls_has_no_readings(vegvesen_sandbox, tmp_path):
    register = _register(vegvesen_sandbox)
    new = next(s for s in register.values() if not s["odometer"] and s["status"] == "REGISTRERT")
    with VegvesenWeb(evidence_dir=tmp_path / "evidence", min_interval_seconds=0) as web:
        found = web.lookup(new["plate"])
    assert found.readings == []
    assert found.to_vehicle().eu_control_deadline is None


def test_failure_keeps_screenshot_and_trace(vegvesen_sandbox, tmp_path, monkeypatch):
    from config.settings import get_settings

    monkeypatch.setenv("RPA_BROWSER__TIMEOUT_MS", "700")
    get_settings.cache_clear()
    vegvesen_sandbox.faults(slow_page_ms=3000)
    with VegvesenWeb(evidence_dir=tmp_path / "evidence", min_interval_seconds=0) as web, \
            pytest.raises(VegvesenWebError) as info:
        web.lookup(vegvesen_sandbox.plates("OK")[0])
    err = info.value
    assert err.screenshot.exists() and err.screenshot.read_bytes()[:4] == b"\x89PNG"
    assert zipfile.is_zipfile(err.trace)
    assert {name for name, _type, _bytes in attachments(err)} == {err.screenshot.name, err.trace.name}
    assert "Statens vegvesen" in str(err)
