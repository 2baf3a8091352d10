"""The issue's acceptance test: on the sandbox's seeded data, at least 80 % of lines offset
automatically, zero wrong offsets, and at least 95 % of exception lines in the ground-truth
category. Reports come over real HTTP from the NAV stand-in (source=api) or from the folder."""

from __future__ import annotations

import pandas as pd
import pytest

from flows.nav_refund_offsetting.outcomes import OFFSET_REASONS
from flows.nav_refund_offsetting.run import PROCESS_ID, RunInputs, run_offsetting
from flows.runtime import open_run
from workqueue.store import WorkQueueStore


def score(lines: pd.DataFrame, truth: pd.DataFrame) -> dict:
    gt = truth[truth.kind == "line"]
    merged = gt.merge(lines, left_on=["report_id", "line_no"], right_on=["rapport_id", "linje"], how="left")
    assert merged["utfall"].notna().all(), "a ground-truth line has no outcome"
    assert len(lines) == len(gt), "every line of every report has exactly one outcome"
    got_offset = merged["utfall"].isin(OFFSET_REASONS)
    truth_offset = merged["outcome"].isin(OFFSET_REASONS)
    wrong = got_offset & (~truth_offset | (merged["krav_id"] != merged["claim_id"]))
    exceptions = merged[~truth_offset]
    return {
        "lines": len(merged),
        "offset_rate": got_offset.mean(),
        "wrong_offsets": merged[wrong][["report_id", "line_no", "outcome", "utfall", "scenario"]],
        "exception_accuracy": (exceptions["utfall"] == exceptions["outcome"]).mean(),
        "misclassified": exceptions[exceptions["utfall"] != exceptions["outcome"]][
            ["report_id", "line_no", "outcome", "utfall", "scenario"]],
        "reason_accuracy": (merged[truth_offset]["utfall"] == merged[truth_offset]["outcome"]).mean(),
    }


@pytest.mark.slow
@pytest.mark.parametrize("source", ["api", "folder"])
def test_seeded_month_meets_the_acceptance_figures(seeded_nav, sqlite_url, tmp_path, source):
    store = WorkQueueStore(sqlite_url)
    ctx = open_run(PROCESS_ID, settings=seeded_nav.settings(), store=store, out_dir=tmp_path / "out")
    outcome = run_offsetting(ctx, RunInputs(source=source))
    lines = pd.read_csv(outcome.summary.outputs["linjeutfall"], sep=";", dtype=str, keep_default_na=False)
    truth = seeded_nav.ground_truth()
    s = score(lines, truth)
    assert s["offset_rate"] >= 0.80, s
    assert s["wrong_offsets"].empty, s["wrong_offsets"].to_string()
    assert s["exception_accuracy"] >= 0.95, s["misclassified"].to_string()
    assert s["reason_accuracy"] >= 0.95

    # Claims nobody paid: a case each, in the ground-truth category.
    expected = {(r.claim_id, r.outcome) for r in truth[truth.kind == "claim"].itertuples()}
    got = {(c.evidence["data"]["claim_ids"][0], c.category) for c in store.cases(PROCESS_ID)
           if c.category.startswith("CLAIM_UNPAID")}
    assert len(expected & got) >= 0.95 * len(expected) and not got - expected, (expected ^ got)

    figures = outcome.summary.to_dict()
    assert figures["lines"] == len(truth[truth.kind == "line"])
    assert figures["straight_through_rate"] == round(figures["offset"] / figures["lines"], 4)
    # The duplicate report (1004, the second Altinn channel) offset nothing.
    assert set(lines[lines.rapport_id == "1004"].utfall) == {"DUPLICATE"}

    # The same source again: nothing new, nothing offset twice.
    again = run_offsetting(open_run(PROCESS_ID, settings=seeded_nav.settings(), store=store,
                                    out_dir=tmp_path / "again"), RunInputs(source=source))
    assert again.summary.figures["lines"] == 0 and again.summary.figures["journal_rows"] == 0
    if source == "api":
        assert again.summary.figures["already_offset"] == []  # polled from the last id: NAV sent nothing
        from connectors.nav.api import NavReportClient

        client = NavReportClient.from_settings(seeded_nav.settings())
        assert client.search("974600013", etter_id=0) == []  # every report marked archived at NAV
    else:
        assert sorted(again.summary.figures["already_offset"]) == ["1001", "1002", "1003", "1004", "1005"]
    store.close()
