"""Vehicle data collection as a Prefect flow: a thin wrapper around process.py.

Four tasks per run, not one per vehicle (a task costs ~10 ms; per-vehicle state lives in the
work-item store): prepare, look up (the concurrent loop), odometer from the web page, report.
A run paused by a spent quota schedules its own continuation at the Retry-After time when it
runs from a deployment (otherwise the next scheduled or manual run picks the vehicles up).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from flows.kit.declare import flow_options
from flows.runtime import Progress, RunContext, get_logger, open_run, publish_artifacts
from flows.vehicle_data_collection import PROCESS_ID
from flows.vehicle_data_collection.lookup import LoopStats
from flows.vehicle_data_collection.periods import Tertial
from flows.vehicle_data_collection.process import (
    CollectionResult,
    OdometerStats,
    Prepared,
    conclude,
    exception_rows,
    look_up,
    prepare,
    read_odometers,
)


@task(name="forberedelse", cache_policy=NO_CACHE)
def prepare_task(ctx: RunContext, fleet: str | None, period: str | None, source: str | None) -> Prepared:
    return prepare(ctx, Path(fleet) if fleet else None, Tertial.parse(period) if period else None, source)


@task(name="oppslag", cache_policy=NO_CACHE)
def lookup_task(ctx: RunContext, prepared: Prepared) -> LoopStats:
    return look_up(ctx, prepared, progress=Progress("Oppslag i kjøretøyregisteret"))


@task(name="kilometerstand", cache_policy=NO_CACHE)
def odometer_task(ctx: RunContext, prepared: Prepared) -> OdometerStats:
    return read_odometers(ctx, prepared)


@task(name="rapport", cache_policy=NO_CACHE)
def report_task(ctx: RunContext, prepared: Prepared, stats: LoopStats, odometer: OdometerStats | None) -> CollectionResult:
    return conclude(ctx, prepared, stats, odometer)


def _schedule_continuation(resume_at: datetime, parameters: dict[str, Any]) -> str | None:
    """A follow-up run of this deployment at `resume_at` (None outside a deployment)."""
    log = get_logger("rpa.vehicles")
    try:
        from prefect.client.orchestration import get_client
        from prefect.runtime import deployment
        from prefect.states import Scheduled

        if not deployment.id:
            return None
        with get_client(sync_client=True) as client:
            run = client.create_flow_run_from_deployment(deployment.id, parameters=parameters,
                                                         state=Scheduled(scheduled_time=resume_at))
        log.info("fortsettelse planlagt %s (flow run %s)", resume_at.isoformat(), run.id)
        return str(run.id)
    except Exception as exc:  # noqa: BLE001 - the next scheduled run picks the vehicles up anyway
        log.warning("kunne ikke planlegge fortsettelsen: %s", exc)
        return None


@flow(name="vehicle-data-collection", **flow_options(PROCESS_ID),
      description="Innhenting av kjøretøydata fra Statens vegvesen og andel nullutslipp per virksomhet og tertial.")
def vehicle_data_collection(fleet: str | None = None, out: str | None = None, period: str | None = None,
                            source: str | None = None) -> dict[str, Any]:
    """`fleet`: the fleet list (default: the definition's input); `out`: output folder; `period`:
    tertial such as 2026-T1 (default: the one containing yesterday); `source`: api | web."""
    ctx = open_run(PROCESS_ID, out_dir=Path(out) if out else None)
    try:
        prepared = prepare_task(ctx, fleet, period, source)
        stats = lookup_task(ctx, prepared)
        odometer = odometer_task(ctx, prepared) if stats.stopped is None else None
        result = report_task(ctx, prepared, stats, odometer)
    except Exception:
        ctx.store.finish_run(ctx.run_id, "failed", 0, 0, {})
        raise
    publish_artifacts(ctx, result.summary, exception_rows(ctx, result))
    data = result.summary.to_dict()
    if result.status == "paused" and result.resume_at:
        data["continuation_flow_run"] = _schedule_continuation(
            result.resume_at, {"fleet": fleet, "out": None, "period": prepared.period.code, "source": source})
    if result.status == "stopped":
        raise RuntimeError(result.message or "kjøringen stoppet")
    return data
