"""The declared run of vehicle data collection (its own module so that `rpa run` does not import
Prefect): prepare, look up, odometer from the web page, report; a run paused by the registry's
quota schedules its continuation when it runs from a deployment."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flows.kit import Progress, RunContext, RunSummary, get_logger, in_prefect_run
from flows.vehicle_data_collection.periods import Tertial
from flows.vehicle_data_collection.process import conclude, look_up, prepare, read_odometers


def run_summary(ctx: RunContext, p, step) -> RunSummary:
    period = Tertial.parse(p.period) if p.period else None
    prepared = step("forberedelse", prepare, ctx, p.fleet, period, p.source)
    stats = step("oppslag", lambda: look_up(ctx, prepared, progress=Progress("Oppslag i kjøretøyregisteret")),
                 retry=False)  # retries per vehicle itself
    get_logger("rpa.vehicles").info("Oppslag: %d kjøretøy, %d funnet, %d avvik, %d til nytt forsøk, %d oppslag",
                                    stats.claimed, stats.done, stats.business, stats.retries_scheduled,
                                    stats.requests)
    odometer = step("kilometerstand", read_odometers, ctx, prepared) if stats.stopped is None else None
    result = step("rapport", lambda: conclude(ctx, prepared, stats, odometer, close_run=False))
    if result.status == "paused" and result.resume_at and in_prefect_run():
        result.summary.figures["continuation_flow_run"] = _schedule_continuation(
            result.resume_at, {"fleet": str(p.fleet) if p.fleet else None, "out": None,
                               "period": prepared.period.code, "source": p.source})
    return result.summary


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
