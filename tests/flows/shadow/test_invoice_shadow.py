"""Shadow mode on invoice attachment upload (issue #17), against the finance stand-in over real HTTP:

- a shadow run writes nothing: the stand-in's own write log (sandbox/finance/writes.jsonl) stays
  empty, its attachment record is the seed's, no file leaves the drop folder; it records what it
  would do, and the live run on the same inputs then uploads exactly that;
- the agreement report on the people's seeded attachment list lists every seeded human mistake,
  and its figure equals the one computed here by hand. The people do their work in the stand-in
  (sandbox.finance.human.attach_by_hand) and the report reads it through the finance API, as
  `rpa shadow report` does by default; an export (`--file`) gives the same figures.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from config.settings import PathSettings
from flows.invoice_attachment_upload.declaration import PROCESS
from flows.invoice_attachment_upload.shadow import HUMAN_SOURCE
from flows.kit.declare import run_declared
from flows.kit.shadow_report import agreement_report, report_path, write_report
from sandbox.finance.human import attach_by_hand
from tests.flows.shadow.by_hand import by_hand as hand_count
from tests.flows.shadow.catalogue import CATALOGUE, in_shadow
from workqueue.shadow import HUMAN, MANUAL, SHADOW, outcome_rows, replace_human_outcomes
from workqueue.store import WorkQueueStore

PROCESS_ID = "invoice-attachment-upload"


@pytest.fixture
def shadow_catalogue(tmp_path):
    return in_shadow(tmp_path / "processes", PROCESS_ID)


def _settings(invoice_env, processes_dir: Path):
    s = invoice_env.settings()
    return s.model_copy(update={"paths": PathSettings(data_dir=invoice_env.data_dir, processes_dir=processes_dir)})


def _writes(invoice_env) -> list[dict]:
    log = invoice_env.data_dir / "sandbox" / "finance" / "writes.jsonl"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def _run(invoice_env, processes_dir: Path, store: WorkQueueStore, out: Path | None = None, via: str = "api"):
    return run_declared(PROCESS, {"via": via}, out, settings=_settings(invoice_env, processes_dir), store=store)


@pytest.mark.slow
def test_shadow_uploads_nothing_and_would_do_what_live_then_does(invoice_env, tmp_path, shadow_catalogue):
    shadow_store = WorkQueueStore(f"sqlite:///{tmp_path / 'shadow.db'}")
    live_store = WorkQueueStore(f"sqlite:///{tmp_path / 'live.db'}")
    try:
        seeded = invoice_env.sandbox.attachments()
        inbox = invoice_env.inbox_files()
        summary = _run(invoice_env, shadow_catalogue, shadow_store, tmp_path / "shadow-out")

        # Nothing written: the stand-in's write log is empty, its attachments are the seed's, and
        # every input is still in the drop folder (no archive, no quarantine).
        assert _writes(invoice_env) == []
        assert invoice_env.sandbox.attachments() == seeded
        assert invoice_env.inbox_files() == inbox
        assert invoice_env.stored(invoice_env.archive) == invoice_env.stored(invoice_env.quarantine) == []
        assert summary.figures["mode"] == "shadow" and summary.figures["withheld"]
        assert summary.figures["uploaded"] == 0 and summary.figures["would_upload"] > 10
        would = outcome_rows(shadow_store, PROCESS_ID, SHADOW)
        would_upload = sorted((r.value, r.key) for r in would if r.system == "finance" and r.action == "upload")
        handed = {r.key: r.category for r in would if r.system == "finance" and r.action == MANUAL}
        moves = [(r.action, r.details["file"]) for r in would if r.system == "dropfolder"]
        assert len(would_upload) == summary.figures["would_upload"] and handed
        assert ("archive", "manifest.csv") in moves

        # The live run on the same inputs (its own store): it uploads exactly what shadow would have.
        live = _run(invoice_env, CATALOGUE, live_store)  # utfall.csv where invoice_env reads it
        assert invoice_env.mismatches() == []
        created = sorted((w["voucher_number"], w["sha256"]) for w in _writes(invoice_env)
                         if w["action"] == "attached" and w["created"])
        assert created == would_upload
        assert live.figures["uploaded"] == summary.figures["would_upload"]
        truth = invoice_env.ground_truth()
        quarantined = {r["sha256"]: r["category"] for r in truth if r["expected_outcome"] == "quarantined" and r["sha256"]}
        assert set(handed) <= set(quarantined) and set(handed.values()) <= set(quarantined.values())
        # The files shadow would have archived and quarantined are the ones live then moved.
        assert sum(a == "archive" for a, _ in moves) == len(invoice_env.stored(invoice_env.archive))
        assert sum(a == "quarantine" for a, _ in moves) == len(invoice_env.stored(invoice_env.quarantine))
        assert outcome_rows(live_store, PROCESS_ID, SHADOW) == []  # live records no would-do
    finally:
        shadow_store.close()
        live_store.close()


def _hand_agreement(store: WorkQueueStore, export: Path) -> tuple[float, set[str]]:
    """By hand: per document (SHA-256), the vouchers the robot would attach it to against the
    vouchers the people attached it to; agreement = same vouchers / documents either side attached."""
    robot: dict[str, set[str]] = {}
    for r in outcome_rows(store, PROCESS_ID, SHADOW, system="finance"):
        if r.action == "upload":
            robot.setdefault(r.key, set()).add(r.value)
    human: dict[str, set[str]] = {}
    with export.open(encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter=";"):
            human.setdefault(row["sha256"], set()).add(row["bilagsnummer"])
    return hand_count(robot, human)


@pytest.mark.slow
def test_agreement_report_lists_every_human_mistake(invoice_env, tmp_path, shadow_catalogue):
    settings = _settings(invoice_env, shadow_catalogue)
    store = WorkQueueStore(f"sqlite:///{tmp_path / 'shadow.db'}")
    try:
        _run(invoice_env, shadow_catalogue, store, tmp_path / "out")
        export = invoice_env.sandbox.files["human_attachments"]
        seeded = len(invoice_env.sandbox.attachments())
        made = attach_by_hand(invoice_env.data_dir)  # the people do the work, in the finance system itself
        assert len(invoice_env.sandbox.attachments()) == seeded + made > 10
        result, definition = agreement_report(PROCESS_ID, settings, store)  # read through the finance API
        assert result.human_sources == [HUMAN_SOURCE]
        by_hand, differing = _hand_agreement(store, export)
        assert result.total.agreement == pytest.approx(by_hand, abs=1e-12)
        assert {r.key for r in result.disagreements} == differing
        assert len(outcome_rows(store, PROCESS_ID, HUMAN)) == made

        with invoice_env.sandbox.files["human_mistakes"].open(encoding="utf-8") as f:
            mistakes = list(csv.DictReader(f))
        expected = {"feil_bilag": "differ", "glemt": "robot_only", "to_bilag": "differ", "lagt_ved_avvik": "human_only"}
        assert {m["feil"] for m in mistakes} == set(expected)
        listed = {r.key: r for r in result.disagreements}
        for m in mistakes:
            assert m["sha256"] in listed, m
            assert listed[m["sha256"]].verdict == expected[m["feil"]], m
        # Only the seeded mistakes disagree: the robot and the people agree on everything else.
        assert set(listed) == {m["sha256"] for m in mistakes}
        anyway = next(m for m in mistakes if m["feil"] == "lagt_ved_avvik")
        assert listed[anyway["sha256"]].category in ("SEVERAL_CANDIDATES", "VOUCHER_NOT_FOUND")
        wrong = next(m for m in mistakes if m["feil"] == "feil_bilag")
        assert (listed[wrong["sha256"]].robot_value, listed[wrong["sha256"]].human_value) == (
            wrong["riktig_bilag"], wrong["menneskets_bilag"])

        path = write_report(result, definition, report_path(settings, PROCESS_ID, None))
        from openpyxl import load_workbook

        wb = load_workbook(path)
        figures = {row[0]: row[1] for row in wb["Samsvar"].iter_rows(min_row=2, values_only=True)}
        assert figures["Samsvar totalt"] == pytest.approx(by_hand)
        assert {row[0] for row in wb["Uenigheter"].iter_rows(min_row=2, values_only=True)} == differing

        # `--file`: the export of the same list (in place of the API's read) gives the same figures.
        replace_human_outcomes(store, PROCESS_ID, HUMAN_SOURCE, [])
        from_file, _ = agreement_report(PROCESS_ID, settings, store, human_file=export)
        assert from_file.human_sources == [export.name]
        assert from_file.total.agreement == pytest.approx(by_hand, abs=1e-12)
        assert {r.key for r in from_file.disagreements} == differing
    finally:
        store.close()


def test_finance_api_lists_the_attachments_people_uploaded_in_a_period(invoice_env):
    """The connector's period list (GET /api/attachments?uploadedFrom=…&uploadedTo=…), over real HTTP."""
    from datetime import date, timedelta

    from connectors.finance import FinanceBusinessError, FinanceClient

    today = date.today()
    days = ((today - timedelta(days=1)).isoformat(), (today + timedelta(days=1)).isoformat())
    with FinanceClient(invoice_env.sandbox.finance) as client:
        assert client.attachments_uploaded(*days) == []  # the seed's own attachments are dated long before
        made = attach_by_hand(invoice_env.data_dir)
        listed = client.attachments_uploaded(*days)
        with invoice_env.sandbox.files["human_attachments"].open(encoding="utf-8") as f:
            rows = list(csv.DictReader(f, delimiter=";"))
        assert len(listed) == made == len(rows)
        assert sorted((a.voucher_number, a.file_name, a.sha256, a.uploaded_by) for a in listed) == sorted(
            (r["bilagsnummer"], r["filnavn"], r["sha256"], r["lagt_ved_av"]) for r in rows)
        assert all(a.uploaded_at.startswith(days[0][:4]) for a in listed)
        assert client.attachments_uploaded("2000-01-01", "2000-12-31") == []
        one = listed[0]
        assert one in client.attachments_by_sha256(one.sha256)  # the search by content still works
        with pytest.raises(FinanceBusinessError):
            client.attachments_uploaded("1. mai", days[1])


@pytest.mark.slow
def test_live_after_a_pilot_on_the_same_store_uploads_what_the_pilot_only_recorded(invoice_env, tmp_path,
                                                                                    shadow_catalogue):
    store = WorkQueueStore(f"sqlite:///{tmp_path / 'same.db'}")
    try:
        pilot = _run(invoice_env, shadow_catalogue, store, tmp_path / "shadow-out")
        assert _writes(invoice_env) == []
        live = _run(invoice_env, CATALOGUE, store)
        assert live.figures["requeued_after_shadow"] == pilot.figures["would_upload"]
        assert live.figures["uploaded"] == pilot.figures["would_upload"]
        assert invoice_env.mismatches() == [] and invoice_env.inbox_files() == []
        assert invoice_env.duplicates() == []
    finally:
        store.close()
