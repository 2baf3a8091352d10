"""Shadow mode on vehicle data collection (issue #17), against the Statens vegvesen stand-in over
real HTTP. The process writes nothing to the registry (it only reads); what it produces for
another system is kjoretoy.xlsx, the file the climate report imports:

- a shadow run makes no kjoretoy.xlsx and records, per vehicle, the record it would hand over;
  the live run on the same inputs then writes exactly those records;
- the agreement report on the fleet office's seeded register lists every seeded human mistake,
  and its figure equals the one computed here by hand.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from config.settings import PathSettings, get_settings
from connectors.periods import Tertial
from connectors.vegvesen.plates import compact
from flows.kit import open_run
from flows.kit.shadow_report import agreement_report
from flows.vehicle_data_collection.shadow import record_value
from tests.fixtures.vegvesen import collect, read_sheet
from tests.flows.shadow.by_hand import by_hand
from tests.flows.shadow.catalogue import CATALOGUE, in_shadow
from workqueue.shadow import HUMAN, MANUAL, SHADOW, outcome_rows
from workqueue.store import WorkQueueStore

PROCESS_ID = "vehicle-data-collection"
T1 = Tertial(2026, 1)


@pytest.fixture
def shadow_catalogue(tmp_path):
    return in_shadow(tmp_path / "processes", PROCESS_ID)


def _settings(sb, processes_dir: Path):
    s = get_settings()
    return s.model_copy(update={"paths": PathSettings(data_dir=sb.data_dir, processes_dir=processes_dir)})


def _run(sb, processes_dir: Path, store: WorkQueueStore, out: Path):
    ctx = open_run(PROCESS_ID, settings=_settings(sb, processes_dir), store=store, out_dir=out)
    return collect(ctx, period=T1)


@pytest.mark.slow
def test_shadow_makes_no_report_and_would_do_what_live_then_does(vegvesen_sandbox, tmp_path, shadow_catalogue):
    sb = vegvesen_sandbox
    shadow_store = WorkQueueStore(f"sqlite:///{tmp_path / 'shadow.db'}")
    live_store = WorkQueueStore(f"sqlite:///{tmp_path / 'live.db'}")
    try:
        result = _run(sb, shadow_catalogue, shadow_store, tmp_path / "shadow-out")
        assert result.status == "completed" and result.report is None
        assert not (tmp_path / "shadow-out" / "kjoretoy.xlsx").exists()
        assert "kjoretoy" not in result.summary.outputs
        assert result.summary.figures["mode"] == "shadow" and result.summary.figures["withheld"]
        would = outcome_rows(shadow_store, PROCESS_ID, SHADOW)
        records = {r.details["row"]: (r.key, r.value) for r in would if r.action == "register"}
        handed = {r.details["row"]: r.category for r in would if r.action == MANUAL}
        assert records and handed

        live = _run(sb, CATALOGUE, live_store, tmp_path / "live-out")
        assert live.status == "completed" and live.report is not None
        rows = read_sheet(live.report, "Kjøretøy")
        counted = {r["Rad i listen"]: r for r in rows if r["Energiklasse"] and (
            not r["Avvik"] or r["Avvik"].startswith("Fristen for EU-kontroll"))}
        assert set(records) == set(counted)
        for n, (_plate, value) in records.items():
            sheet = counted[n]
            assert value == record_value(sheet["Energiklasse"], (sheet["Vektklasse"] or "").lower()), sheet
        truth = {int(t["rad"]): t for t in sb.truth}
        for n, category in handed.items():
            assert truth[n]["utfall"] == category
        assert outcome_rows(live_store, PROCESS_ID, SHADOW) == []
    finally:
        shadow_store.close()
        live_store.close()


@pytest.mark.slow
def test_agreement_report_lists_every_human_mistake(vegvesen_sandbox, tmp_path, shadow_catalogue):
    sb = vegvesen_sandbox
    settings = _settings(sb, shadow_catalogue)
    store = WorkQueueStore(f"sqlite:///{tmp_path / 'shadow.db'}")
    try:
        _run(sb, shadow_catalogue, store, tmp_path / "out")
        result, _ = agreement_report(PROCESS_ID, settings, store)
        assert len(outcome_rows(store, PROCESS_ID, HUMAN)) > 10

        # By hand: the robot's record per vehicle against the register's.
        robot = {r.key: r.value for r in outcome_rows(store, PROCESS_ID, SHADOW) if r.action == "register"}
        with sb.files["fleet_register"].open(encoding="utf-8") as f:
            human = {compact(r["kjennemerke"]): record_value(r["energiklasse"], r["vektklasse"])
                     for r in csv.DictReader(f, delimiter=";")}
        agreement, disagreeing = by_hand(robot, human)
        assert result.total.agreement == pytest.approx(agreement, abs=1e-12)
        assert {r.key for r in result.disagreements} == disagreeing

        with sb.files["human_mistakes"].open(encoding="utf-8") as f:
            mistakes = list(csv.DictReader(f))
        expected = {"feil_energiklasse": "differ", "feil_vektklasse": "differ", "mangler": "robot_only",
                    "avregistrert_beholdt": "human_only"}
        assert {m["feil"] for m in mistakes} == set(expected)
        listed = {r.key: r for r in result.disagreements}
        for m in mistakes:
            assert listed[m["kjennemerke"]].verdict == expected[m["feil"]], m
        assert set(listed) == {m["kjennemerke"] for m in mistakes}  # and nothing else disagrees
        gone = next(m for m in mistakes if m["feil"] == "avregistrert_beholdt")
        assert listed[gone["kjennemerke"]].category == "DEREGISTERED"
    finally:
        store.close()
