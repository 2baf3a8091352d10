"""Retention as a Prefect flow (every night): a thin wrapper around steps."""

from __future__ import annotations

from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from flows.kit.declare import flow_options
from flows.retention.steps import PROCESS_ID, RetentionResult, parse_as_of, refuse_future, run_retention
from flows.retention.steps import dry_run as plan_only
from flows.runtime import RunContext, finish_run, open_run, publish_artifacts, task_options


@task(name="slett-etter-oppbevaringstid", cache_policy=NO_CACHE)
def purge(ctx: RunContext, as_of: str | None) -> RetentionResult:
    return run_retention(ctx, parse_as_of(as_of))


@flow(name="retention", description="Sletter utdata, arkiverte inndata og vedlegg, og fjerner personopplysninger "
      "fra lukkede saker, når oppbevaringstiden i prosessdefinisjonen er ute.", **flow_options(PROCESS_ID))
def retention(dry_run: bool = False, as_of: str | None = None) -> dict[str, Any]:
    """`dry_run`: list what would be removed (counts and paths) and change nothing; `as_of`: the
    date to judge by (YYYY-MM-DD; default now; a future date only with dry_run)."""
    if dry_run:
        return plan_only(as_of=parse_as_of(as_of)).to_dict()
    refuse_future(parse_as_of(as_of))  # a business error: refused before the task, never retried
    ctx = open_run(PROCESS_ID)
    try:
        result = purge.with_options(**task_options(ctx))(ctx, as_of)
    except Exception:
        ctx.store.finish_run(ctx.run_id, "failed", 0, 0, {})
        raise
    publish_artifacts(ctx, result.summary, [])
    from prefect.artifacts import create_table_artifact

    create_table_artifact(table=result.rows, key="retention-sletting",
                          description="Slettet per prosess etter oppbevaringstid (bare antall)")
    finish_run(ctx, result.summary)
    return result.summary.to_dict()
