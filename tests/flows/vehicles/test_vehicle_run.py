"""The vehicle data collection run against the stand-in over real HTTP, checked against the ground truth."""

from __future__ import annotations

from datetime import datetime

import pytest

from connectors.periods import Tertial
from tests.fixtures.vegvesen import collect, read_sheet

T1 = Tertial(2026, 1)
MEANINGS = {
    "Kjøretøyet finnes ikke i registeret": "NOT_FOUND",
    "Kjøretøyet er avregistrert, vraket eller eksportert": "DEREGISTERED",
    "Fristen for EU-kontroll er passert (bruksforbud)": "EU_CONTROL_OVERDUE",
    "Kjennemerket har ugyldig format": "PLATE_MALFORMED",
    "Samme kjennemerke står flere ganger i listen": "DUPLICATE_PLATE",
}


def category_of(remark: str | None) -> str:
    if not remark:
        return "OK"
    return next(code for meaning, code in MEANINGS.items() if remark.startswith(meaning))


def test_run_matches_the_ground_truth(vegvesen_sandbox, vehicle_run, tmp_path):
    sb = vegvesen_sandbox
    ctx = vehicle_run(tmp_path / "ut")
    result = collect(ctx, period=T1)
    assert result.status == "completed"
    assert result.report == tmp_path / "ut" / "kjoretoy.xlsx"

    rows = read_sheet(result.report, "Kjøretøy")
    truth = {int(t["rad"]): t for t in sb.truth}
    assert [r["Rad i listen"] for r in rows] == sorted(truth)  # every row of the list, none lost
    for r in rows:
        t = truth[r["Rad i listen"]]
        assert category_of(r["Avvik"]) == t["utfall"], (r, t)
        if t["utfall"] in ("OK", "EU_CONTROL_OVERDUE", "DEREGISTERED"):
            assert r["Energiklasse"] == t["energiklasse"], (r, t)
            assert r["Nullutslipp"] == t["nullutslipp"].capitalize()
            assert r["Vektklasse"] == t["vektklasse"].capitalize()
            assert r["Kjennemerke"][2] == " " or len(r["Kjennemerke"]) == 17  # the registry's spaced form or a VIN
    # Norwegian formats: real dates shown dd.mm.yyyy, weights with a thousands separator.
    from openpyxl import load_workbook

    wb = load_workbook(result.report)
    ws = wb["Kjøretøy"]
    headers = [c.value for c in ws[1]]
    first_reg = ws.cell(row=2, column=headers.index("Første registrering") + 1)
    assert isinstance(first_reg.value, datetime) and first_reg.number_format == "dd.mm.yyyy"
    assert ws.cell(row=2, column=headers.index("Tillatt totalvekt (kg)") + 1).number_format == "#,##0"

    # Klimarapport: the share per unit and per light/heavy, and the chart embedded.
    cs = wb["Klimarapport"]
    assert "tertial" in cs["A1"].value and len(cs._images) == 1
    counted = [t for t in sb.truth if t["utfall"] in ("OK", "EU_CONTROL_OVERDUE")]
    expected_share = sum(t["nullutslipp"] == "ja" for t in counted) / len(counted)
    totals = [row for row in cs.iter_rows(values_only=True) if row[0] == "Totalt"]
    assert totals and totals[0][1] == len(counted) and totals[0][3] == pytest.approx(expected_share)
    units = {row[0]: row for row in cs.iter_rows(values_only=True) if row[0] in {t["virksomhet"] for t in counted}}
    for unit, row in units.items():
        in_unit = [t for t in counted if t["virksomhet"] == unit]
        assert row[1] == len(in_unit)
    assert any(str(row[0]).startswith("Lette kjøretøy") for row in cs.iter_rows(values_only=True))
    assert (tmp_path / "ut" / "klimarapport.png").read_bytes()[:4] == b"\x89PNG"

    # The summary (--json) and the queue.
    s = result.summary.to_dict()
    assert s["vehicles"] == len(sb.truth) and s["zero_emission_share"] == pytest.approx(expected_share, abs=1e-4)
    expected_exceptions = {}
    for t in sb.truth:
        if t["utfall"] != "OK":
            expected_exceptions[t["utfall"]] = expected_exceptions.get(t["utfall"], 0) + 1
    assert s["exceptions"] == expected_exceptions
    assert s["found"] == sum(t["utfall"] in ("OK", "EU_CONTROL_OVERDUE", "DEREGISTERED", "DUPLICATE_PLATE")
                             for t in sb.truth) - sum(t["utfall"] == "DUPLICATE_PLATE" for t in sb.truth)
    cases = ctx.store.cases(ctx.process_id)
    assert sorted(c.category for c in cases) == sorted(c for c, n in expected_exceptions.items() for _ in range(n))
    not_found = next(c for c in cases if c.category == "NOT_FOUND")
    assert not_found.org_unit and [s["title"] for s in not_found.evidence["sections"]] == [
        "Fra kjøretøylisten", "Forklaring"]
    dereg = next(c for c in cases if c.category == "DEREGISTERED")
    assert dereg.evidence["sections"][1]["title"] == "Fra kjøretøyregisteret"
    assert dereg.evidence["data"]["vehicle"]["registration_status"] in ("AVREGISTRERT", "VRAKET", "UTFORT")
    counts = ctx.store.counts(ctx.process_id)
    assert set(counts) <= {"done", "business_exception"}


def test_rerun_in_the_same_tertial_looks_nothing_up_again(vegvesen_sandbox, vehicle_run, tmp_path):
    first = collect(vehicle_run(tmp_path / "1"), period=T1)
    cases_before = len(vehicle_run().store.cases("vehicle-data-collection"))
    second = collect(vehicle_run(tmp_path / "2"), period=T1)
    assert second.status == "completed" and second.summary.figures["lookups"] == 0
    assert len(vehicle_run().store.cases("vehicle-data-collection")) == cases_before  # no duplicate cases
    assert read_sheet(first.report, "Kjøretøy") == read_sheet(second.report, "Kjøretøy")


def test_next_tertial_uses_the_cache_and_shows_the_change(vegvesen_sandbox, vehicle_run, tmp_path):
    sb = vegvesen_sandbox
    collect(vehicle_run(tmp_path / "1"), period=T1)
    lookups_before = sb.status()["lookups"]
    result = collect(vehicle_run(tmp_path / "2"), period=Tertial(2026, 2))
    f = result.summary.figures
    found = sum(t["utfall"] in ("OK", "EU_CONTROL_OVERDUE", "DEREGISTERED") for t in sb.truth)
    assert f["cache_hits"] == found  # a vehicle looked up yesterday costs no quota
    assert sb.status()["lookups"] - lookups_before == f["lookups"] == len(sb.rows("NOT_FOUND"))
    assert f["zero_emission_share_previous"] == f["zero_emission_share"] and f["zero_emission_change_pp"] == 0.0
    cs = read_sheet(result.report, "Klimarapport")
    assert any("Forrige: 2026-T1" in str(v) for row in cs for v in row.values() if v)


def test_quota_spent_mid_run_defers_and_the_next_run_finishes(vegvesen_sandbox, vehicle_run, tmp_path):
    sb = vegvesen_sandbox
    sb.knobs(quota_retry_after_seconds=2)
    sb.faults(daily_quota=10)
    ctx = vehicle_run(tmp_path / "1", quota_max_wait_seconds=0)  # any wait is "long": defer
    first = collect(ctx, period=T1)
    f = first.summary.figures
    assert first.status == "paused" and first.report is None
    assert f["deferred"] > 0 and f["pending"] == f["deferred"] and f["resume_at"]
    assert "venter på oppslag" in f["message"] and "quota" in f["message"]
    counts = ctx.store.counts(ctx.process_id)
    assert "failed" not in counts and "in_progress" not in counts  # nothing failed, nothing held
    assert counts["new"] == f["deferred"]
    assert all(i.not_before is not None for i in ctx.store.items(ctx.process_id, status="new"))
    assert not [c for c in ctx.store.cases(ctx.process_id) if c.kind == "system"]

    # Before the reset nothing is claimable; after it the next run picks every deferred vehicle up.
    resume_at = datetime.fromisoformat(f["resume_at"])
    import time

    while datetime.now(resume_at.tzinfo) < resume_at:
        time.sleep(0.1)
    sb.faults(daily_quota=None)
    second = collect(vehicle_run(tmp_path / "2"), period=T1)
    assert second.status == "completed"
    rows = read_sheet(second.report, "Kjøretøy")
    truth = {int(t["rad"]): t for t in sb.truth}
    assert len(rows) == len(truth)
    assert all(category_of(r["Avvik"]) == truth[r["Rad i listen"]]["utfall"] for r in rows)
    assert set(ctx.store.counts(ctx.process_id)) <= {"done", "business_exception"}


def test_short_retry_after_is_waited_out_in_the_same_run(vegvesen_sandbox, vehicle_run, tmp_path):
    sb = vegvesen_sandbox
    sb.knobs(quota_retry_after_seconds=1)
    sb.faults(daily_quota=8)
    result = collect(vehicle_run(tmp_path), period=T1)
    assert result.status == "completed"
    assert result.summary.figures["short_waits"] >= 1 and result.summary.figures["deferred"] == 0


def test_registry_rate_limit_429_pauses_and_loses_nothing(vegvesen_sandbox, vehicle_run, tmp_path):
    sb = vegvesen_sandbox
    sb.faults(rate_limit_per_second=8)  # below the definition's 20/s: the registry answers 429
    result = collect(vehicle_run(tmp_path), period=T1)
    assert result.status == "completed"
    assert result.summary.figures["rate_limited"] >= 1
    assert result.summary.cases_total == len(sb.truth)


def test_server_errors_are_retried_with_backoff(vegvesen_sandbox, vehicle_run, tmp_path):
    sb = vegvesen_sandbox
    sb.knobs(fail_next=24, fail_status=503)  # beyond the client's own 3 attempts for several vehicles
    ctx = vehicle_run(tmp_path)
    result = collect(ctx, period=T1)
    assert result.status == "completed"
    assert "SYSTEM_ERROR" not in result.summary.exceptions
    retried = [i for i in ctx.store.items(ctx.process_id) if i.attempts >= 2]
    assert retried and all(i.status != "failed" for i in retried)  # retried as items, with backoff, then done
    assert set(ctx.store.counts(ctx.process_id)) <= {"done", "business_exception"}


def test_registry_down_stops_the_run_and_releases_the_rest(vegvesen_sandbox, vehicle_run, tmp_path, monkeypatch):
    from connectors.vegvesen.client import RetryPolicy, VegvesenClient

    sb = vegvesen_sandbox
    sb.faults(error_rate=1.0)
    ctx = vehicle_run(tmp_path)
    client = VegvesenClient(sb.url, "sandbox-svv-key", retry=RetryPolicy(max_attempts=1, backoff_seconds=0.01))
    monkeypatch.setattr(VegvesenClient, "from_settings", classmethod(lambda cls, *a, **k: client))
    result = collect(ctx, period=T1)
    assert result.status == "stopped" and result.report is None
    assert "svarer ikke" in result.message
    counts = ctx.store.counts(ctx.process_id)
    assert "in_progress" not in counts and "failed" not in counts
    assert ctx.store.runs(ctx.process_id)[-1].status == "stopped"  # the kit's one meaning: a system was down


def test_bad_api_key_stops_with_a_clear_message_and_fails_no_vehicle(vegvesen_sandbox, vehicle_run, tmp_path,
                                                                     monkeypatch):
    from config.settings import get_settings

    monkeypatch.setenv("RPA_VEGVESEN__API_KEY", "expired-key")
    get_settings.cache_clear()
    ctx = vehicle_run(tmp_path)
    result = collect(ctx, period=T1)
    assert result.status == "stopped"
    assert "API-nøkkelen" in result.message and "rejected the API key" in result.message
    assert "expired-key" not in result.message
    counts = ctx.store.counts(ctx.process_id)
    assert "in_progress" not in counts and "failed" not in counts and counts.get("done", 0) == 0
    lookups = [c for c in ctx.store.cases(ctx.process_id) if c.category not in ("PLATE_MALFORMED", "DUPLICATE_PLATE")]
    assert lookups == []  # not one case per vehicle


def test_reviewer_retry_is_applied_next_run(vegvesen_sandbox, vehicle_run, tmp_path):
    sb = vegvesen_sandbox
    ctx = vehicle_run(tmp_path / "1")
    collect(ctx, period=T1)
    case = next(c for c in ctx.store.cases(ctx.process_id) if c.category == "NOT_FOUND")
    ctx.store.decide(case.id, "flåteansvarlig", "retry", "Kjennemerket er riktig, prøv igjen")
    before = sb.status()["lookups"]
    again = collect(vehicle_run(tmp_path / "2"), period=T1)
    assert again.summary.figures["decisions_applied"] == {"retry": 1}
    assert sb.status()["lookups"] - before == 1  # only the retried vehicle
    assert ctx.store.get_case(case.id).decision_applied_at is not None
    reopened = [c for c in ctx.store.cases(ctx.process_id, category="NOT_FOUND") if c.reference == case.reference]
    assert len(reopened) == 2  # still unknown to the registry: a fresh case


def test_fleet_list_without_a_required_column_names_file_and_column(vegvesen_sandbox, vehicle_run, tmp_path):
    from connectors.tables import InputFileError
    from tests.fixtures.vegvesen import write_fleet

    bad = write_fleet(tmp_path / "liste.xlsx", [("EK 39085", 12000)], header=("kjennemerke", "kilometerstand"))
    ctx = vehicle_run(tmp_path / "ut")
    with pytest.raises(InputFileError) as info:
        collect(ctx, bad, period=T1)
    assert "liste.xlsx" in str(info.value) and "mangler kolonne(r): virksomhet" in str(info.value)
    assert bad.exists()  # the input is kept
    assert ctx.store.runs(ctx.process_id)[-1].status == "failed"


def test_bad_kilometerstand_is_a_warning_naming_row_and_column(vegvesen_sandbox, vehicle_run, tmp_path):
    from tests.fixtures.vegvesen import write_fleet

    plate = vegvesen_sandbox.plates("OK")[0]
    fleet = write_fleet(tmp_path / "liste.xlsx", [(plate, "Bydel Frogner", "mye"), (plate.lower(), "Bydel Frogner", None)])
    result = collect(vehicle_run(tmp_path / "ut"), fleet, period=T1)
    assert result.summary.figures["warnings"] == [
        "liste.xlsx, rad 2, kolonne kilometerstand: «mye» er ikke en kilometerstand; verdien er ikke brukt"]
    assert result.summary.exceptions == {"DUPLICATE_PLATE": 1}


def test_first_run_compares_with_the_last_report_made_by_hand(vegvesen_sandbox, vehicle_run, tmp_path):
    import json

    from tests.fixtures.vegvesen import SEED_TODAY

    sb = vegvesen_sandbox
    baseline = json.loads(sb.files["previous_report"].read_text(encoding="utf-8"))
    period = Tertial.for_run(SEED_TODAY)
    assert baseline["period"] == period.previous().code
    result = collect(vehicle_run(tmp_path), period=period)
    f = result.summary.figures
    assert f["zero_emission_share_previous"] == baseline["total"]
    assert f["zero_emission_change_pp"] == round((f["zero_emission_share"] - baseline["total"]) * 100, 1)
    from openpyxl import load_workbook

    cs = load_workbook(result.report)["Klimarapport"]
    assert f"Forrige: {baseline['period']} (manuell rapport)" in cs["A2"].value
    rows = {row[0]: row for row in cs.iter_rows(values_only=True) if row[0]}
    unit, share = next(iter(baseline["by_unit"].items()))
    assert rows[unit][4] == pytest.approx(share)
    assert rows[unit][5] == pytest.approx(round((rows[unit][3] - share) * 100, 1))
