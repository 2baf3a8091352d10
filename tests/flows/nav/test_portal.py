"""source=portal: the Altinn-inbox bot in real Chromium fetches the reports (password, one-time
code, every inbox page), the flow offsets them; a failing bot leaves screenshot and trace on the case."""

from __future__ import annotations

import pandas as pd
import pytest
from pydantic import SecretStr

from flows.nav_refund_offsetting.run import PROCESS_ID, FetchFailed, RunInputs, run_offsetting
from flows.runtime import open_run
from tests.flows.nav.test_ground_truth import score
from workqueue.store import WorkQueueStore

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_portal_source_offsets_the_seeded_reports(seeded_nav, sqlite_url, tmp_path):
    store = WorkQueueStore(sqlite_url)
    ctx = open_run(PROCESS_ID, settings=seeded_nav.settings(), store=store, out_dir=tmp_path / "out")
    outcome = run_offsetting(ctx, RunInputs(source="portal"))
    lines = pd.read_csv(outcome.summary.outputs["linjeutfall"], sep=";", dtype=str, keep_default_na=False)
    s = score(lines, seeded_nav.ground_truth())
    assert s["offset_rate"] >= 0.80 and s["wrong_offsets"].empty and s["exception_accuracy"] >= 0.95
    assert [i.payload["source"] for i in store.items(PROCESS_ID)] == ["portal"] * 5
    # Fetched again: the bot skips what the store already has.
    again = run_offsetting(open_run(PROCESS_ID, settings=seeded_nav.settings(), store=store,
                                    out_dir=tmp_path / "again"), RunInputs(source="portal"))
    assert again.summary.figures["lines"] == 0 and again.summary.figures["reports"] == []
    store.close()


def test_portal_source_walks_every_inbox_page(nav_sandbox, nav_run):
    """23 reports over three inbox pages, all fetched, registered and read."""
    settings = nav_sandbox.settings(paths=nav_run.settings.paths)
    ctx = open_run(PROCESS_ID, settings=settings, store=nav_run.store, out_dir=nav_run.tmp / "out")
    from tests.fixtures.nav_flow import claim

    outcome = run_offsetting(ctx, RunInputs(source="portal", claims_file=nav_run.claims([claim("K1", 1, 1.0)])))
    assert len(outcome.summary.figures["reports"]) == 23
    assert sorted(i.payload["report_id"] for i in nav_run.store.items(PROCESS_ID)) == \
        [str(n) for n in range(1001, 1024)]
    assert outcome.summary.figures["lines"] > 23


def test_a_failing_bot_leaves_screenshot_and_trace_on_a_system_case(seeded_nav, sqlite_url, tmp_path):
    settings = seeded_nav.settings()
    settings.nav = settings.nav.model_copy(update={"altinn_password": SecretStr("feil-passord")})
    settings.browser = settings.browser.model_copy(update={"timeout_ms": 8_000})
    store = WorkQueueStore(sqlite_url)
    ctx = open_run(PROCESS_ID, settings=settings, store=store, out_dir=tmp_path / "out")
    with pytest.raises(FetchFailed) as err:
        run_offsetting(ctx, RunInputs(source="portal"))
    assert "Henting fra portal feilet" in str(err.value)
    case = store.cases(PROCESS_ID, category="SYSTEM_ERROR")[0]
    assert case.kind == "system"
    names = sorted(a.filename for a in store.case_attachments(case.id))
    assert any(n.endswith(".png") for n in names) and any(n.endswith(".zip") for n in names)
    assert store.runs(PROCESS_ID)[-1].status == "stopped"  # the source was down: stopped, not failed
    assert store.items(PROCESS_ID) == []  # nothing half-fetched
    store.close()
