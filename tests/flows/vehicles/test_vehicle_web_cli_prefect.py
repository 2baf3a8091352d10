"""The bot paths of the run (source: web, odometer history) in Chromium, the CLI, and the Prefect flow."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from connectors.periods import Tertial
from tests.fixtures.vegvesen import collect, read_sheet, write_fleet

T1 = Tertial(2026, 1)
RPA = Path(sys.executable).with_name("rpa")


def _register(sb) -> dict[str, dict]:
    return {s["plate"]: s for s in json.loads(sb.files["register"].read_text(encoding="utf-8"))["kjoretoy"]}


def _small_fleet(sb, path: Path, with_km: bool = True) -> tuple[Path, list[dict]]:
    """Three registered vehicles with EU-control history, one the registry does not know."""
    reg = _register(sb)
    ok = [reg[p] for p in sb.plates("OK") if reg[p]["odometer"]][:3]
    rows = [(f"{s['plate'][:2]} {s['plate'][2:]}", "Bymiljøetaten", None) for s in ok]
    if with_km:
        rows[0] = (rows[0][0], rows[0][1], 12345)
    rows.append((sb.plates("NOT_FOUND")[0], "Bydel Frogner", None))
    return write_fleet(path, rows), ok


@pytest.mark.browser
def test_source_web_reads_the_page_instead_of_the_api(vegvesen_sandbox, vehicle_run, tmp_path):
    sb = vegvesen_sandbox
    fleet, ok = _small_fleet(sb, tmp_path / "liste.xlsx", with_km=False)
    ctx = vehicle_run(tmp_path / "ut", web_min_interval_seconds=0)
    result = collect(ctx, fleet, T1, source="web")
    assert result.status == "completed", result.message
    assert sb.status()["lookups"] == 0  # not one API request
    rows = read_sheet(result.report, "Kjøretøy")
    truth = {t["referanse"]: t for t in sb.truth}
    for row, spec in zip(rows, ok, strict=False):
        assert row["Datakilde"] == "Nettside"
        assert row["Energiklasse"] == truth[spec["plate"]]["energiklasse"]
        latest = max(spec["odometer"])
        assert row["Kilometerstand"] == latest[1] and row["Kilometerstand kilde"].startswith("Statens vegvesen nettside")
    assert rows[-1]["Avvik"].startswith("Kjøretøyet finnes ikke i registeret")
    assert result.summary.exceptions == {"NOT_FOUND": 1}


@pytest.mark.browser
def test_odometer_history_from_the_web_page_where_the_list_has_none(vegvesen_sandbox, vehicle_run, tmp_path):
    sb = vegvesen_sandbox
    fleet, ok = _small_fleet(sb, tmp_path / "liste.xlsx")
    ctx = vehicle_run(tmp_path / "ut", odometer_from_web=True, web_min_interval_seconds=0)
    result = collect(ctx, fleet, T1)
    assert result.status == "completed"
    assert result.summary.figures["odometer_from_web"]["read"] == 2  # the first row has its own figure
    rows = read_sheet(result.report, "Kjøretøy")
    assert (rows[0]["Kilometerstand"], rows[0]["Kilometerstand kilde"]) == (12345, "Egne data (kjøretøylisten)")
    for row, spec in zip(rows[1:3], ok[1:3], strict=True):
        day, km = max(spec["odometer"])
        assert row["Kilometerstand"] == km
        assert row["Kilometerstand kilde"] == f"Statens vegvesen nettside (EU-kontroll {day[8:10]}.{day[5:7]}.{day[:4]})"
        assert row["Datakilde"] == "API"


@pytest.mark.browser
def test_web_page_failure_becomes_an_operator_case_with_screenshot_and_trace(vegvesen_sandbox, vehicle_run,
                                                                           tmp_path, monkeypatch):
    from config.settings import get_settings

    sb = vegvesen_sandbox
    fleet, _ok = _small_fleet(sb, tmp_path / "liste.xlsx", with_km=False)
    monkeypatch.setenv("RPA_BROWSER__TIMEOUT_MS", "700")
    get_settings.cache_clear()
    sb.faults(slow_page_ms=2500)  # the page (not the API) is too slow
    ctx = vehicle_run(tmp_path / "ut", odometer_from_web=True, web_min_interval_seconds=0)
    result = collect(ctx, fleet, T1)
    assert result.status == "completed"  # the registry data is complete; only the odometer is missing
    cases = [c for c in ctx.store.cases(ctx.process_id) if c.category == "SYSTEM_ERROR"]
    assert cases and cases[0].kind == "system" and "kilometerstand" in cases[0].message
    names = {a.filename for a in ctx.store.case_attachments(cases[0].id)}
    assert any(n.endswith(".png") for n in names) and any(n.endswith("-trace.zip") for n in names)


def _cli(*args: str, env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, **(env_extra or {})}
    return subprocess.run([str(RPA), "run", "vehicle-data-collection", *args], capture_output=True, text=True,
                          env=env, timeout=300, cwd=Path(__file__).resolve().parents[3])


def test_cli_with_fleet_and_out_then_the_scheduled_form(vegvesen_sandbox, tmp_path):
    sb = vegvesen_sandbox
    out = tmp_path / "rapport"
    done = _cli("--fleet", str(sb.files["fleet_list"]), "--out", str(out), "--period", "2026-T1", "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["vehicles"] == len(sb.truth) and data["status"] == "completed"
    assert 0 < data["zero_emission_share"] < 1 and data["found"] > 0
    assert data["exceptions"]["NOT_FOUND"] == len(sb.rows("NOT_FOUND"))
    assert (out / "kjoretoy.xlsx").exists()

    scheduled = _cli("--period", "2026-T1")  # the list path from the definition; human-readable output
    assert scheduled.returncode == 0, scheduled.stderr
    assert "andel nullutslipp" in scheduled.stdout and "NOT_FOUND" in scheduled.stdout


def test_cli_bad_key_exits_1_with_the_reason(vegvesen_sandbox, tmp_path):
    done = _cli("--period", "2026-T1", env_extra={"RPA_VEGVESEN__API_KEY": "wrong"})
    assert done.returncode == 1
    assert "API-nøkkelen" in done.stderr and "RPA_VEGVESEN__API_KEY" in done.stderr


def test_cli_bad_fleet_list_exits_2(vegvesen_sandbox, tmp_path):
    bad = write_fleet(tmp_path / "liste.xlsx", [("EK 39085",)], header=("regnr",))
    done = _cli("--fleet", str(bad), "--period", "2026-T1")
    assert done.returncode == 2 and "mangler kolonne(r): kjennemerke" in done.stderr


@pytest.mark.prefect
def test_prefect_flow(vegvesen_sandbox, prefect_harness, tmp_path):
    from flows.vehicle_data_collection.flow import vehicle_data_collection

    sb = vegvesen_sandbox
    data = vehicle_data_collection(fleet=str(sb.files["fleet_list"]), out=str(tmp_path / "ut"), period="2026-T1")
    assert data["status"] == "completed" and data["vehicles"] == len(sb.truth)
    assert Path(data["outputs"]["kjoretoy"]).exists()
