"""Shadow mode on tjenestebevis (issue #17), on the seeded HR exports. The process's writes are
the letters (PDF, one per request it answers) and tjenestebevis.xlsx:

- a shadow run issues no letter and writes no tjenestebevis.xlsx, and records per request the
  letter it would issue (valued by the total service in months) or the hand-over to HR; the live
  run on the same inputs then issues exactly those letters, with those lengths;
- the agreement report on HR's seeded list of letters issued by hand lists every seeded human
  mistake, and its figure equals the one computed here by hand.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from pypdf import PdfReader

from config.settings import PathSettings, get_settings
from connectors.periods import years_and_months_no
from flows.kit.declare import _direct_step
from flows.kit.scope import finish, run_scope
from flows.kit.shadow_report import agreement_report
from flows.tjenestebevis.run import run
from sandbox.hr.human import ISSUED_ON, NOT_ISSUED
from sandbox.hr.seed import seed
from tests.flows.shadow.by_hand import by_hand
from tests.flows.shadow.catalogue import CATALOGUE, in_shadow
from workqueue.shadow import HUMAN, MANUAL, SHADOW, outcome_rows
from workqueue.store import WorkQueueStore

PROCESS_ID = "tjenestebevis"


@pytest.fixture
def hr(tmp_path):
    data = tmp_path / "data"
    return SimpleNamespace(data_dir=data, files=seed(data, seed=7), shadow=in_shadow(tmp_path / "processes", PROCESS_ID))


def _settings(data_dir: Path, processes_dir: Path):
    return get_settings().model_copy(update={"paths": PathSettings(data_dir=data_dir, processes_dir=processes_dir)})


def _run(hr, processes_dir: Path, store: WorkQueueStore, out: Path):
    params = SimpleNamespace(requests=hr.files["requests"], employment=hr.files["employment"], as_of=ISSUED_ON)
    with run_scope(PROCESS_ID, _settings(hr.data_dir, processes_dir), store, out) as ctx:
        summary = run(ctx, params, _direct_step)
        finish(ctx, summary)
    return summary


def test_shadow_issues_no_letter_and_would_do_what_live_then_does(hr, tmp_path):
    shadow_store = WorkQueueStore(f"sqlite:///{tmp_path / 'shadow.db'}")
    live_store = WorkQueueStore(f"sqlite:///{tmp_path / 'live.db'}")
    try:
        summary = _run(hr, hr.shadow, shadow_store, tmp_path / "shadow-out")
        assert not (tmp_path / "shadow-out" / "brev").exists()
        assert not (tmp_path / "shadow-out" / "tjenestebevis.xlsx").exists()
        assert "tjenestebevis" not in summary.outputs
        assert summary.figures["mode"] == "shadow" and summary.figures["withheld"]
        would = outcome_rows(shadow_store, PROCESS_ID, SHADOW)
        letters = {r.key: int(r.value) for r in would if r.action == "issue"}
        handed = {r.key: r.category for r in would if r.action == MANUAL}
        assert letters and handed

        live = _run(hr, CATALOGUE, live_store, tmp_path / "live-out")
        assert live.figures["issued"] == len(letters)
        assert (tmp_path / "live-out" / "tjenestebevis.xlsx").exists()
        pdfs = {p.stem.removeprefix("tjenestebevis-"): p for p in (tmp_path / "live-out" / "brev").glob("*.pdf")}
        assert set(pdfs) == set(letters)
        for ref, months in letters.items():
            text = " ".join(page.extract_text() for page in PdfReader(pdfs[ref]).pages)
            length = re.search(r"Samlet tjenestetid: ([^.]+)\.", text).group(1)
            assert length == years_and_months_no(*divmod(months, 12)), ref
        with hr.files["ground_truth"].open(encoding="utf-8") as f:
            truth = {r["bestilling_id"]: r["utfall"] for r in csv.DictReader(f, delimiter=";")}
        assert {k for k, v in truth.items() if v == "ISSUED"} == set(letters)
        assert handed == {k: v for k, v in truth.items() if v not in ("ISSUED", "DUPLICATE_SAME")}
        assert outcome_rows(live_store, PROCESS_ID, SHADOW) == []
    finally:
        shadow_store.close()
        live_store.close()


def test_agreement_report_lists_every_human_mistake(hr, tmp_path):
    store = WorkQueueStore(f"sqlite:///{tmp_path / 'shadow.db'}")
    try:
        _run(hr, hr.shadow, store, tmp_path / "out")
        result, _ = agreement_report(PROCESS_ID, _settings(hr.data_dir, hr.shadow), store)
        assert len(outcome_rows(store, PROCESS_ID, HUMAN)) > 10

        # By hand: the robot's letters (months) against HR's list, a key counted where either issued.
        robot = {r.key: r.value for r in outcome_rows(store, PROCESS_ID, SHADOW) if r.action == "issue"}
        with hr.files["issued_by_hand"].open(encoding="utf-8") as f:
            human = {r["bestilling_id"]: r["ansettelsestid_mnd"] for r in csv.DictReader(f, delimiter=";")
                     if r["ansettelsestid_mnd"] != NOT_ISSUED}
        agreement, disagreeing = by_hand(robot, human)
        assert result.total.agreement == pytest.approx(agreement, abs=1e-12)
        assert {r.key for r in result.disagreements} == disagreeing

        with hr.files["human_mistakes"].open(encoding="utf-8") as f:
            mistakes = list(csv.DictReader(f))
        expected = {"feil_lengde": "differ", "mangler": "robot_only", "utstedt_to_ganger": "human_only"}
        assert sorted(m["feil"] for m in mistakes) == sorted(expected)
        listed = {r.key: r for r in result.disagreements}
        for m in mistakes:
            assert listed[m["bestilling_id"]].verdict == expected[m["feil"]], m
        assert set(listed) == {m["bestilling_id"] for m in mistakes}  # and nothing else disagrees
    finally:
        store.close()
