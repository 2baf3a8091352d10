"""The benefits report as a Prefect flow (monthly): a thin wrapper around steps.run_benefits_report."""

from __future__ import annotations

from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from flows.benefits_report.steps import PROCESS_ID, BenefitsResult, run_benefits_report
from flows.kit.declare import flow_options
from flows.runtime import RunContext, finish_run, open_run, publish_artifacts, task_options


@task(name="gevinstrapport", cache_policy=NO_CACHE)
def build_report(ctx: RunContext, months: int | None, until: str | None) -> BenefitsResult:
    return run_benefits_report(ctx, months, until)


@flow(name="benefits-report", description="Gevinstrapport: saker, andel automatisk, avvik og tid spart per "
      "prosess og måned.", **flow_options(PROCESS_ID))
def benefits_report(months: int | None = None, until: str | None = None) -> dict[str, Any]:
    """`months`: how many months back (default from the definition); `until`: newest month, YYYY-MM
    (default: the current month)."""
    ctx = open_run(PROCESS_ID)
    try:
        result = build_report.with_options(**task_options(ctx))(ctx, months, until)
    except Exception:
        ctx.store.finish_run(ctx.run_id, "failed", 0, 0, {})
        raise
    publish_artifacts(ctx, result.summary, result.exception_rows)
    from prefect.artifacts import create_markdown_artifact

    create_markdown_artifact(markdown=result.markdown, key="benefits-report-gevinster",
                             description="Gevinstrapport per prosess og måned")
    finish_run(ctx, result.summary)
    return result.summary.to_dict()
