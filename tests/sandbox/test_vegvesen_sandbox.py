"""The Statens vegvesen stand-in over real HTTP: every status path of the API, and the web page."""

from __future__ import annotations

import json
import time

import pytest
import requests

KEY = {"SVV-Authorization": "Apikey sandbox-svv-key", "Accept": "application/json"}


def lookup(sb, headers=KEY, **params):
    return requests.get(f"{sb.url}/enkeltoppslag/kjoretoydata", params=params, headers=headers, timeout=10)


def test_found_vehicle_is_shaped_like_the_real_answer(vegvesen_sandbox):
    sb = vegvesen_sandbox
    plate = sb.plates("OK")[0]
    r = lookup(sb, kjennemerke=plate)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    v = r.json()["kjoretoydataListe"][0]
    assert v["kjoretoyId"]["kjennemerke"] == f"{plate[:2]} {plate[2:]}"  # the registry's spaced form
    tg = v["godkjenning"]["tekniskGodkjenning"]
    assert set(tg["kjoretoyklassifisering"]["tekniskKode"]) >= {"kodeVerdi", "kodeNavn"}
    groups = tg["tekniskeData"]["miljodata"]["miljoOgdrivstoffGruppe"]
    assert all("kodeVerdi" in g["drivstoffKodeMiljodata"] for g in groups)
    assert v["registrering"]["registreringsstatus"]["kodeVerdi"] == "REGISTRERT"


def test_plug_in_hybrids_have_two_fuel_groups_and_new_vehicles_no_pkk(vegvesen_sandbox):
    sb = vegvesen_sandbox
    register = json.loads(sb.files["register"].read_text(encoding="utf-8"))["kjoretoy"]
    phev = next(s for s in register if s["hybrid"] == "LADBAR")
    new = next(s for s in register if s["pkk_deadline"] is None and s["status"] == "REGISTRERT")
    v = lookup(sb, kjennemerke=phev["plate"]).json()["kjoretoydataListe"][0]
    td = v["godkjenning"]["tekniskGodkjenning"]["tekniskeData"]
    fuels = [g["drivstoffKodeMiljodata"]["kodeVerdi"] for g in td["miljodata"]["miljoOgdrivstoffGruppe"]]
    assert fuels == ["1", "5"]
    assert td["motorOgDrivverk"]["hybridKategori"]["kodeVerdi"] == "LADBAR"
    v_new = lookup(sb, kjennemerke=new["plate"]).json()["kjoretoydataListe"][0]
    assert "periodiskKjoretoyKontroll" not in v_new


def test_lookup_by_vin_and_with_spaces_in_the_plate(vegvesen_sandbox):
    sb = vegvesen_sandbox
    register = json.loads(sb.files["register"].read_text(encoding="utf-8"))["kjoretoy"]
    spec = register[0]
    by_vin = lookup(sb, understellsnummer=spec["vin"]).json()["kjoretoydataListe"][0]
    assert by_vin["kjoretoyId"]["understellsnummer"] == spec["vin"]
    spaced = lookup(sb, kjennemerke=f"{spec['plate'][:2]} {spec['plate'][2:]}")
    assert spaced.status_code == 200


@pytest.mark.parametrize("headers, status", [
    ({"Accept": "application/json"}, 401),
    ({"SVV-Authorization": "Apikey wrong-key"}, 403),
    ({"SVV-Authorization": "Bearer sandbox-svv-key"}, 403),
])
def test_missing_or_wrong_key(vegvesen_sandbox, headers, status):
    r = lookup(vegvesen_sandbox, headers=headers, kjennemerke="EK39085")
    assert r.status_code == status
    assert r.json()["feilmelding"]


def test_malformed_plate_is_400(vegvesen_sandbox):
    r = lookup(vegvesen_sandbox, kjennemerke="EK-39085-XYZ!")
    assert r.status_code == 400
    assert "Ugyldig kjennemerke" in r.json()["feilmelding"]


@pytest.mark.parametrize("form", ["204", "404", "empty", "feilmelding"])
def test_unknown_plate_in_each_configured_form(vegvesen_sandbox, form):
    sb = vegvesen_sandbox
    sb.knobs(not_found=form)
    r = lookup(sb, kjennemerke=sb.plates("NOT_FOUND")[0])
    if form == "204":
        assert r.status_code == 204 and r.content == b""
    elif form == "404":
        assert r.status_code == 404
    elif form == "empty":
        assert r.status_code == 200 and r.json() == {"kjoretoydataListe": []}
    else:
        assert r.status_code == 200 and r.json()["feilmelding"] and r.json()["kjoretoydataListe"] == []


def test_daily_quota_gives_422_with_retry_after_then_resets(vegvesen_sandbox):
    sb = vegvesen_sandbox
    sb.knobs(quota_retry_after_seconds=1)
    sb.faults(daily_quota=2)
    plate = sb.plates("OK")[0]
    assert [lookup(sb, kjennemerke=plate).status_code for _ in range(2)] == [200, 200]
    over = lookup(sb, kjennemerke=plate)
    assert over.status_code == 422
    assert over.json()["feilmelding"] == "Antall kjoretoy i respons overstiger kvote"
    assert int(over.headers["Retry-After"]) == 1
    deadline = time.monotonic() + 30  # hang guard only (loaded machine)
    while lookup(sb, kjennemerke=plate).status_code == 422:  # the quota resets after Retry-After
        assert time.monotonic() < deadline, "quota never reset"
        time.sleep(0.2)


def test_quota_retry_after_defaults_to_midnight_norwegian_time(vegvesen_sandbox):
    sb = vegvesen_sandbox
    sb.faults(daily_quota=0)
    r = lookup(sb, kjennemerke=sb.plates("OK")[0])
    assert r.status_code == 422
    assert 0 < int(r.headers["Retry-After"]) <= 25 * 3600


def test_rate_limit_answers_429(vegvesen_sandbox):
    sb = vegvesen_sandbox
    sb.faults(rate_limit_per_second=2)
    statuses = [lookup(sb, kjennemerke=sb.plates("OK")[0]).status_code for _ in range(6)]
    assert 429 in statuses and statuses[0] == 200
    assert lookup(sb, kjennemerke="EK39085").headers.get("Retry-After") in ("1", None)


def test_server_errors_on_demand(vegvesen_sandbox):
    sb = vegvesen_sandbox
    plate = sb.plates("OK")[0]
    sb.knobs(fail_next=2, fail_status=502)
    assert [lookup(sb, kjennemerke=plate).status_code for _ in range(3)] == [502, 502, 200]
    sb.faults(error_rate=1.0)
    assert lookup(sb, kjennemerke=plate).status_code == 503


def test_unknown_admin_knob_is_refused(vegvesen_sandbox):
    r = requests.put(f"{vegvesen_sandbox.url}/_admin/vegvesen", json={"no_such": 1}, timeout=10)
    assert r.status_code == 400


def test_web_page_shows_the_sections(vegvesen_sandbox):
    sb = vegvesen_sandbox
    plate = sb.plates("OK")[0]
    html = requests.get(sb.web_url, params={"registreringsnummer": plate}, timeout=10).text
    for title in ("Registreringsdata", "Motor/kraftoverføring", "EU-kontroll", "Mål og vekt", "Kilometerstand"):
        assert f">{title}</h3>" in html
    assert f"{plate[:2]} {plate[2:]}" in html
    missing = requests.get(sb.web_url, params={"registreringsnummer": sb.plates("NOT_FOUND")[0]}, timeout=10)
    assert missing.status_code == 404 and "Vi fant ikke noe kjøretøy" in missing.text
    sb.faults(alternate_layout=True)
    alt = requests.get(sb.web_url, params={"registreringsnummer": plate}, timeout=10).text
    assert "Vis kjøretøy" in alt and "Motor og kraftoverføring" in alt


def test_seed_is_deterministic_and_covers_every_outcome(tmp_path):
    from sandbox.vegvesen.seed import seed
    from tests.fixtures.vegvesen import SEED_TODAY

    a = seed(tmp_path / "a", seed=3, scale=0.2, today=SEED_TODAY)
    b = seed(tmp_path / "b", seed=3, scale=0.2, today=SEED_TODAY)
    assert a["register"].read_bytes() == b["register"].read_bytes()
    assert a["ground_truth"].read_bytes() == b["ground_truth"].read_bytes()
    truth = a["ground_truth"].read_text(encoding="utf-8")
    for outcome in ("OK", "NOT_FOUND", "DEREGISTERED", "EU_CONTROL_OVERDUE", "PLATE_MALFORMED", "DUPLICATE_PLATE"):
        assert f",{outcome}," in truth
    for energy in ("elektrisk", "hydrogen", "ladbar hybrid", "hybrid", "diesel", "gass", "bio"):
        assert f",{energy}," in truth
    assert a["fleet_list"].name == "kjoretoyliste.xlsx"
