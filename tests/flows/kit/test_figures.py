"""One set of figures: a NAV run on the seeded sandbox data, and every place that shows its
figures agrees (the --json summary, the Prefect artifacts, the Excel summary sheet, the queue, the
benefits report and the review app's benefits page)."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from openpyxl import load_workbook

from flows.kit.prefect import case_rows
from flows.kit.summary import summary_markdown
from flows.nav_refund_offsetting.outcomes import CLAIM_CATEGORIES, OFFSET_LABELS, OFFSET_REASONS
from flows.nav_refund_offsetting.run import PROCESS_ID, RunInputs, run_offsetting
from flows.runtime import open_run
from workqueue.store import WorkQueueStore


def _summary_sheet(path) -> dict[str, int]:
    """Kode -> Linjer from the Sammendrag sheet's outcome table, plus the labelled figures."""
    ws = load_workbook(path, read_only=True)["Sammendrag"]
    found, codes = {}, {}
    for row in ws.iter_rows(values_only=True):
        label, value = row[0], row[1] if len(row) > 1 else None
        if isinstance(label, str) and isinstance(value, int | float) and not isinstance(value, bool):
            found.setdefault(label, int(value))
        if len(row) > 2 and isinstance(row[1], str) and re.fullmatch(r"[A-Z0-9_]+", row[1]) and isinstance(row[2], int):
            codes[row[1]] = row[2]
        elif len(row) > 2 and isinstance(label, str) and label.startswith("Utlignet: ") and isinstance(row[2], int):
            found[label] = row[2]  # offsets carry their reason in words, no rule code
    return {**found, **{f"code:{k}": v for k, v in codes.items()}}


@pytest.mark.slow
def test_a_nav_run_shows_one_set_of_figures_everywhere(seeded_nav, sqlite_url, tmp_path):
    from config.catalogue import load_catalogue
    from flows.benefits_report.report import compute, window
    from review import queries

    store = WorkQueueStore(sqlite_url)
    settings = seeded_nav.settings()
    ctx = open_run(PROCESS_ID, settings=settings, store=store, out_dir=tmp_path / "out")
    outcome = run_offsetting(ctx, RunInputs(source="folder"))
    data = outcome.summary.to_dict()

    # The summary itself: lines = offset + exception lines; the categories add up.
    assert data["lines"] == data["offset"] + data["exception_lines"] > 0
    line_exceptions = {k: v for k, v in data["exceptions"].items() if k not in CLAIM_CATEGORIES}
    assert sum(line_exceptions.values()) == data["exception_lines"]
    assert sum(data["offset_by_reason"].values()) == data["offset"]

    # The queue: the cases this run opened, per category.
    queue = Counter(c.category for c in store.cases(PROCESS_ID))
    assert data["cases_opened"] == sum(queue.values()) > 0
    assert data["cases_by_category"] == dict(sorted(queue.items()))

    # The Prefect artifacts (what publish_artifacts writes): the table holds the queue's cases,
    # the Markdown the summary's figures.
    table = case_rows(ctx)
    assert Counter(r["Kategori"] for r in table) == queue
    markdown = summary_markdown(ctx, outcome.summary)
    assert f"| Saker totalt | {data['lines']:,} |".replace(",", "\u00a0") in markdown
    assert f"| Nye saker i avvikskøen | {data['cases_opened']:,} |".replace(",", "\u00a0") in markdown
    for code in set(data["exceptions"]) | set(queue):
        n, cases = data["exceptions"].get(code, 0), queue.get(code, 0)
        assert re.search(rf"\| {code} \| [^|]* \| {n:,} \| {cases:,} \|".replace(",", "\u00a0"), markdown), code

    # The Excel summary sheet.
    sheet = _summary_sheet(outcome.summary.outputs["utligning"])
    assert sheet["Linjer i alt"] == data["lines"] and sheet["Utlignet automatisk"] == data["offset"]
    assert sheet["Nye saker i avvikskøen"] == data["cases_opened"]
    for code, n in line_exceptions.items():
        assert sheet[f"code:{code}"] == n, code
    for code in OFFSET_REASONS:
        assert sheet.get(f"Utlignet: {OFFSET_LABELS[code]}", 0) == data["offset_by_reason"].get(code, 0), code

    # The benefits report and the review app's benefits page: the same run, the same figures.
    catalogue = load_catalogue(settings.paths.processes_dir)
    runs = store.runs(PROCESS_ID)
    month = runs[-1].started_at
    report = compute(runs, catalogue.values(), months=window(None, 1, month))
    figures = report.figures(PROCESS_ID, report.months[-1])
    assert (figures.cases, figures.automated) == (data["lines"], data["offset"])
    assert dict(figures.exceptions) == data["exceptions"]
    reader = queries.Reader(store)
    try:
        [page] = [r for r in queries.benefits(reader, [PROCESS_ID], catalogue)]
    finally:
        reader.close()
    assert (page.cases_total, page.automated, page.exceptions) == (data["lines"], data["offset"],
                                                                   sum(data["exceptions"].values()))
    assert page.hours_saved == pytest.approx(figures.hours_saved)
    store.close()


def _agree_with_the_queue_and_benefits(ctx, data, store):
    """What every process shares: cases opened = queue rows for the run, per category; the Prefect
    table = the queue; the benefits report counts the run's cases, automated and exceptions."""
    from flows.benefits_report.report import compute, window
    from flows.registry import catalogue

    queue = Counter(c.category for c in store.cases(ctx.process_id))
    assert data["cases_opened"] == sum(queue.values())
    assert data["cases_by_category"] == dict(sorted(queue.items()))
    assert Counter(r["Kategori"] for r in case_rows(ctx)) == queue
    runs = store.runs(ctx.process_id)
    report = compute(runs, catalogue(ctx.settings).values(), months=window(None, 1, runs[-1].started_at))
    figures = report.figures(ctx.process_id, report.months[-1])
    assert (figures.cases, figures.automated, dict(figures.exceptions)) == (
        data["cases_total"], data["automated"], data["exceptions"])


@pytest.mark.slow
def test_an_invoice_run_shows_one_set_of_figures_everywhere(invoice_env):
    result = invoice_env.run(via="api")
    data = result.to_dict()
    assert data["files"] == data["uploaded"] + data["already_attached"] + data["quarantined"] + \
        data["handled_manually"] + data["dismissed"] == data["cases_total"]
    store = invoice_env.store()
    ctx = invoice_env.context()
    ctx.run_id = data["run_id"]
    try:
        _agree_with_the_queue_and_benefits(ctx, data, store)
        assert sum(data["exceptions"].values()) == data["quarantined"]
    finally:
        ctx.store.close()
        store.close()


@pytest.mark.slow
def test_a_vehicle_run_shows_one_set_of_figures_everywhere(vehicle_run, tmp_path):
    from tests.fixtures.vegvesen import collect

    ctx = vehicle_run(tmp_path / "ut")
    result = collect(ctx, period="2026-T1")
    data = result.summary.to_dict()
    assert data["cases_total"] == data["vehicles"]
    _agree_with_the_queue_and_benefits(ctx, data, ctx.store)
    sheet = load_workbook(result.report, read_only=True)["Klimarapport"]
    assert "Regler: versjon 1, " in str(next(sheet.iter_rows(min_row=2, max_row=2, values_only=True))[0])
