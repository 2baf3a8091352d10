"""The SLA monitor as a Prefect flow (every quarter of an hour): a thin wrapper around steps."""

from __future__ import annotations

from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from flows.kit.declare import flow_options
from flows.runtime import RunContext, finish_run, open_run, publish_artifacts, task_options
from flows.sla_monitor.steps import PROCESS_ID, SlaResult, run_sla_monitor


@task(name="finn-og-varsle", cache_policy=NO_CACHE)
def check_and_alert(ctx: RunContext, dry_run: bool) -> SlaResult:
    return run_sla_monitor(ctx, dry_run=dry_run)


@flow(name="sla-monitor", description="Varsler eieren om avvikssaker over fristen og feilede, forsinkede "
      "eller manglende kjøringer.", **flow_options(PROCESS_ID))
def sla_monitor(dry_run: bool = False) -> dict[str, Any]:
    """`dry_run`: find and compose the alerts without sending them."""
    ctx = open_run(PROCESS_ID)
    try:
        result = check_and_alert.with_options(**task_options(ctx))(ctx, dry_run)
    except Exception:
        ctx.store.finish_run(ctx.run_id, "failed", 0, 0, {})
        raise
    publish_artifacts(ctx, result.summary, result.rows)
    finish_run(ctx, result.summary)
    return result.summary.to_dict()
