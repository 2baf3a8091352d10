"""Shadow mode on NAV refund offsetting (issue #17), against the NAV stand-in over real HTTP:

- a shadow run writes nothing (the stand-in's own write log stays empty, no journal file) and
  records what it would do; the live run on the same inputs then does exactly that;
- the agreement report on HR's seeded postings lists every seeded human mistake, and its figure
  equals the one computed here by hand;
- the promotion gate refuses naming the threshold, grants when met, and the switch is in the history.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from openpyxl import load_workbook

from config.settings import PathSettings
from flows.kit import open_run
from flows.kit.shadow_report import agreement_report, promote, report_path, write_report
from flows.nav_refund_offsetting.run import PROCESS_ID, RunInputs, run_offsetting
from flows.nav_refund_offsetting.shadow import nok
from tests.flows.shadow.by_hand import by_hand as hand_count
from workqueue.shadow import HUMAN, SHADOW, gate, outcome_rows, promotions, sign_off
from workqueue.store import WorkQueueStore

CATALOGUE = Path(__file__).resolve().parents[3] / "config" / "processes"


def _catalogue(folder: Path, **changes: str) -> Path:
    """A copy of the catalogue with NAV's `mode:` line (and thresholds) changed."""
    shutil.copytree(CATALOGUE, folder)
    path = folder / f"{PROCESS_ID}.yaml"
    text = path.read_text(encoding="utf-8")
    for old, new in changes.items():
        assert old in text, old
        text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")
    return folder


def _settings(seeded_nav, processes_dir: Path):
    s = seeded_nav.settings()
    return s.model_copy(update={"paths": PathSettings(data_dir=seeded_nav.data_dir, processes_dir=processes_dir)})


def _writes(seeded_nav) -> list[dict]:
    log = seeded_nav.data_dir / "sandbox" / "nav" / "reports" / "writes.jsonl"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def _journal(path: Path) -> dict[str, float]:
    """The live journal's amount per claim, read from the file the ledger imports."""
    per_claim: dict[str, float] = {}
    with path.open(encoding="utf-8-sig") as f:
        for row in csv.DictReader(f, delimiter=";"):
            per_claim[row["krav_id"]] = round(per_claim.get(row["krav_id"], 0) + nok(row["utbetalt_belop"]), 2)
    return per_claim


def shadow_run_and_report(settings, store: WorkQueueStore, out_dir: Path):
    """One shadow run from the NAV stand-in, then the agreement report with HR's seeded postings."""
    run_offsetting(open_run(PROCESS_ID, settings=settings, store=store, out_dir=out_dir), RunInputs(source="api"))
    return agreement_report(PROCESS_ID, settings, store)


@pytest.fixture
def shadow_catalogue(tmp_path):
    return _catalogue(tmp_path / "processes", **{"mode: live": "mode: shadow"})


@pytest.mark.slow
def test_shadow_writes_nothing_and_would_do_what_live_then_does(seeded_nav, tmp_path, shadow_catalogue):
    shadow_store = WorkQueueStore(f"sqlite:///{tmp_path / 'shadow.db'}")
    live_store = WorkQueueStore(f"sqlite:///{tmp_path / 'live.db'}")
    try:
        ctx = open_run(PROCESS_ID, settings=_settings(seeded_nav, shadow_catalogue), store=shadow_store,
                       out_dir=tmp_path / "shadow-out")
        summary = run_offsetting(ctx, RunInputs(source="api")).summary

        # Nothing written: the stand-in's write log is empty, no import file for the ledger.
        assert _writes(seeded_nav) == []
        assert not (tmp_path / "shadow-out" / "utligningsbilag.csv").exists()
        assert "utligningsbilag" not in summary.outputs
        assert summary.figures["mode"] == "shadow" and summary.figures["withheld"]
        would = outcome_rows(shadow_store, PROCESS_ID, SHADOW)
        would_offsets: dict[str, float] = {}
        for r in would:
            if r.system == "ledger" and r.action == "offset":
                would_offsets[r.key] = round(would_offsets.get(r.key, 0) + r.amount, 2)
        would_archive = sorted(r.key for r in would if r.system == "nav" and r.action == "archive")
        assert len(would_offsets) > 100 and would_archive

        # The live run on the same inputs (its own store: the same situation, before anything was done).
        ctx = open_run(PROCESS_ID, settings=_settings(seeded_nav, CATALOGUE), store=live_store,
                       out_dir=tmp_path / "live-out")
        live = run_offsetting(ctx, RunInputs(source="api")).summary
        assert _journal(Path(live.outputs["utligningsbilag"])) == would_offsets
        assert sorted(w["report_id"] for w in _writes(seeded_nav) if w["action"] == "arkiver") == would_archive
        assert live.figures["journal_rows"] == summary.figures["journal_rows"]
        assert outcome_rows(live_store, PROCESS_ID, SHADOW) == []  # live records no would-do
    finally:
        shadow_store.close()
        live_store.close()


def _hand_agreement(store: WorkQueueStore, postings: Path) -> tuple[float, set[str]]:
    """By hand: robot's would-do per claim vs HR's postings per claim; agreement = same amount on
    both sides / claims either side acted on."""
    robot: dict[str, float] = {}
    for r in outcome_rows(store, PROCESS_ID, SHADOW, system="ledger"):
        if r.action == "offset":
            robot[r.key] = round(robot.get(r.key, 0) + r.amount, 2)
    human: dict[str, float] = {}
    with postings.open(encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter=";"):
            human[row["krav_id"]] = round(human.get(row["krav_id"], 0) + float(row["belop"].replace(",", ".")), 2)
    return hand_count(robot, human)


@pytest.mark.slow
def test_agreement_report_lists_every_human_mistake_and_promotion_gate(seeded_nav, tmp_path, shadow_catalogue):
    settings = _settings(seeded_nav, shadow_catalogue)
    store = WorkQueueStore(f"sqlite:///{tmp_path / 'shadow.db'}")
    try:
        result, definition = shadow_run_and_report(settings, store, tmp_path / "out")
        postings = seeded_nav.written["human_postings"]
        by_hand, differing = _hand_agreement(store, postings)
        assert result.total.agreement == pytest.approx(by_hand, abs=1e-12)
        assert {r.key for r in result.disagreements} == differing
        assert len(outcome_rows(store, PROCESS_ID, HUMAN)) > 100

        with seeded_nav.written["human_mistakes"].open(encoding="utf-8") as f:
            mistakes = list(csv.DictReader(f))
        assert {m["feil"] for m in mistakes} == {"feil_belop", "glemt", "dobbeltfort", "utlignet_ubetalt"}
        listed = {r.key: r for r in result.disagreements}
        for m in mistakes:
            assert m["krav_id"] in listed, m
        expected_verdict = {"feil_belop": "differ", "glemt": "robot_only", "dobbeltfort": "differ",
                            "utlignet_ubetalt": "human_only"}
        for m in mistakes:
            assert listed[m["krav_id"]].verdict == expected_verdict[m["feil"]], m

        # The Excel report: the same figures, every disagreement with both sides.
        path = write_report(result, definition, report_path(settings, PROCESS_ID, None))
        wb = load_workbook(path)
        figures = {row[0]: row[1] for row in wb["Samsvar"].iter_rows(min_row=2, values_only=True)}
        assert figures["Samsvar totalt"] == pytest.approx(by_hand)
        assert figures["Sammenlignede saker"] == result.total.cases
        sheet = [row for row in wb["Uenigheter"].iter_rows(min_row=2, values_only=True)]
        assert {row[0] for row in sheet} == differing
        wrong = next(row for row in sheet if row[0] == next(m["krav_id"] for m in mistakes if m["feil"] == "feil_belop"))
        assert wrong[3] != wrong[5] and wrong[3] is not None and wrong[5] is not None  # both sides shown
        assert wb["Per kategori"]["H1"].value == "Samsvar"

        # Promotion: one run is below min_runs (and the unsigned money disagreements) -> refused, named.
        refused = promote(PROCESS_ID, "eier.refusjon", settings, store)
        assert not refused.granted
        assert "shadow.min_runs" in refused.message and "shadow.max_unsigned_money_disagreements" in refused.message
        assert "mode: shadow" in (shadow_catalogue / f"{PROCESS_ID}.yaml").read_text()
        assert promotions(store, PROCESS_ID) == []
    finally:
        store.close()


@pytest.mark.slow
def test_promotion_granted_when_thresholds_met_and_recorded_in_history(seeded_nav, tmp_path):
    catalogue = _catalogue(tmp_path / "processes", **{"mode: live": "mode: shadow", "min_runs: 2": "min_runs: 1",
                                                      "min_agreement: 0.98": "min_agreement: 0.90"})
    settings = _settings(seeded_nav, catalogue)
    store = WorkQueueStore(f"sqlite:///{tmp_path / 'shadow.db'}")
    try:
        result, definition = shadow_run_and_report(settings, store, tmp_path / "out")
        assert result.total.automatic_agreement >= 0.90, result.total
        still = gate(result, definition.shadow)
        assert [f.split(":")[0] for f in still.failures] == ["shadow.max_unsigned_money_disagreements"]
        for r in result.unsigned_money_disagreements:  # the owner judges each one
            sign_off(store, PROCESS_ID, r.key, "human" if r.verdict == "robot_only" else "robot", "eier.refusjon",
                     "Kontrollert mot bilaget")
        granted = promote(PROCESS_ID, "eier.refusjon", settings, store)
        assert granted.granted, granted.message
        text = (catalogue / f"{PROCESS_ID}.yaml").read_text()
        assert "mode: live" in text and "mode: shadow" not in text
        assert granted.hash_before != granted.hash_after
        [event] = promotions(store, PROCESS_ID)
        assert event.actor == "eier.refusjon" and event.details["from"] == "shadow" and event.details["to"] == "live"
        assert event.details["hash_after"] == granted.hash_after and event.at is not None
        # The next run runs live under a new definition version.
        ctx = open_run(PROCESS_ID, settings=settings, store=store, out_dir=tmp_path / "out2")
        assert not ctx.shadow and ctx.definition_version.version == 2
        assert ctx.definition_version.hash == granted.hash_after
        ctx.store.finish_run(ctx.run_id, "completed", 0, 0, {}, {})
        again = promote(PROCESS_ID, "eier.refusjon", settings, store)
        assert not again.granted and "allerede i drift" in again.message
    finally:
        store.close()
