"""The review app's benefits page and the benefits report count runs the same way (one function,
workqueue.benefits.aggregate): running runs not yet, failed/stopped/abandoned as not completed."""

from __future__ import annotations

from workqueue.store import WorkQueueStore

NAV = "nav-refund-offsetting"


def test_benefits_page_and_report_agree(tmp_path):
    from flows.benefits_report.report import compute, window
    from flows.registry import catalogue
    from review import queries

    store = WorkQueueStore(f"sqlite:///{tmp_path / 'wq.db'}")
    for run_id, status, total, automated in [("a", "completed", 100, 80), ("b", "failed", 0, 0),
                                             ("c", "stopped", 10, 5), ("d", "abandoned", 0, 0),
                                             ("e", "running", 50, 50)]:
        store.start_run(NAV, run_id)
        if status != "running":
            store.finish_run(run_id, status, total, automated, {"GRADE": total - automated} if total else {})
    defs = catalogue()
    runs = store.runs(NAV)
    report = compute(runs, defs.values(), months=window(None, 1, runs[-1].started_at))
    figures = report.figures(NAV, report.months[-1])
    reader = queries.Reader(store)
    try:
        [page] = queries.benefits(reader, [NAV], defs)
    finally:
        reader.close()
        store.close()
    assert (figures.runs, figures.failed_runs, figures.cases, figures.automated) == (4, 3, 110, 85)
    assert (page.runs, page.failed_runs, page.cases_total, page.automated) == (4, 3, 110, 85)
    assert page.exceptions == figures.exceptions_total == 25
    assert page.hours_saved == figures.hours_saved
