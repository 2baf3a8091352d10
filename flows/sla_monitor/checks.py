"""What the SLA monitor looks for, each as a Problem with a stable key (alerted once).

- case_sla:    an exception case still open (or in review) past its due time; the due time is
               set when the case opens, from the category's `sla_hours` in the definition.
- run_failed:  a run of a catalogue deployment that Prefect has as Failed or Crashed.
- run_late:    a scheduled run Prefect marks Late (no worker or serve process picked it up).
- run_missing: the process's cron said it should have run, and no run was recorded at all
               (the server or the serve process was down, the schedule was paused...).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from config.process_definition import ProcessDefinition
from config.schedule_times import last_run
from flows.kit.dates import aware
from workqueue.models import OPEN_CASE_STATUSES, AuditEvent, ExceptionCase, ProcessRun
from workqueue.store import WorkQueueStore

ALERT_ACTION = "alert.sent"
ACTOR = "sla-monitor"
RUN_START_TOLERANCE = timedelta(minutes=5)  # a run may start a little before its scheduled minute


@dataclass
class Problem:
    kind: str  # case_sla | run_failed | run_late | run_missing
    process_id: str
    key: str
    at: datetime  # due time (cases) or expected start (runs)
    details: dict[str, Any] = field(default_factory=dict)
    cases: list[dict[str, Any]] = field(default_factory=list)  # case_sla: id, category, org_unit, due_at


# ------------------------------------------------------------------------- exception cases

def overdue_cases(store: WorkQueueStore, now: datetime, process_ids: Iterable[str]) -> dict[str, list[ExceptionCase]]:
    """Open/in-review cases past their due time, per process, oldest due first."""
    ids = list(process_ids)
    with store.session() as s:
        rows = list(s.scalars(select(ExceptionCase).where(
            ExceptionCase.process_id.in_(ids), ExceptionCase.status.in_(OPEN_CASE_STATUSES),
            ExceptionCase.due_at.is_not(None), ExceptionCase.due_at < now)
            .order_by(ExceptionCase.due_at, ExceptionCase.id)))
    found: dict[str, list[ExceptionCase]] = {}
    for case in rows:
        found.setdefault(case.process_id, []).append(case)
    return found


def alerted_case_ids(store: WorkQueueStore, case_ids: Iterable[int]) -> set[int]:
    ids = list(case_ids)
    if not ids:
        return set()
    with store.session() as s:
        return {cid for (cid,) in s.execute(select(AuditEvent.case_id).where(
            AuditEvent.action == ALERT_ACTION, AuditEvent.case_id.in_(ids)))}


def case_problems(store: WorkQueueStore, now: datetime, process_ids: Iterable[str]) -> tuple[list[Problem], int]:
    """One problem per process covering its overdue cases not alerted before; -> (problems, overdue total)."""
    overdue = overdue_cases(store, now, process_ids)
    total = sum(len(v) for v in overdue.values())
    done = alerted_case_ids(store, [c.id for cases in overdue.values() for c in cases])
    problems = []
    for pid, cases in overdue.items():
        new = [c for c in cases if c.id not in done]
        if not new:
            continue
        problems.append(Problem(
            kind="case_sla", process_id=pid, key=f"cases:{pid}:{new[0].id}-{new[-1].id}:{len(new)}",
            at=aware(new[0].due_at),
            details={"overdue_total": len(cases), "new": len(new)},
            cases=[{"id": c.id, "category": c.category, "org_unit": c.org_unit or "", "status": c.status,
                    "due_at": aware(c.due_at), "created_at": aware(c.created_at)} for c in new]))
    return problems, total


# --------------------------------------------------------------------------- Prefect runs

def sent_keys(store: WorkQueueStore, since: datetime) -> set[str]:
    """Keys of alerts already delivered (recorded as audit events by the monitor)."""
    with store.session() as s:
        details = s.scalars(select(AuditEvent.details).where(AuditEvent.action == ALERT_ACTION,
                                                             AuditEvent.case_id.is_(None), AuditEvent.at >= since))
        return {d.get("key") for d in details if isinstance(d, dict) and d.get("key")}


def prefect_run_problems(process_ids: Iterable[str], since: datetime, now: datetime,
                         late_grace: timedelta) -> list[Problem]:
    """Failed, crashed and late runs of the catalogue's deployments (tag `rpa`), from the Prefect
    API the current settings point at."""
    from prefect import get_client
    from prefect.client.schemas.filters import (
        DeploymentFilter,
        DeploymentFilterTags,
        FlowRunFilter,
        FlowRunFilterDeploymentId,
        FlowRunFilterExpectedStartTime,
        FlowRunFilterState,
        FlowRunFilterStateName,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType

    from flows.kit.prefect_api import BASE_TAG

    wanted = set(process_ids)
    problems = []
    with get_client(sync_client=True) as client:
        deployments = client.read_deployments(
            deployment_filter=DeploymentFilter(tags=DeploymentFilterTags(all_=[BASE_TAG])))
        by_id = {d.id: d.name for d in deployments if d.name in wanted}
        if not by_id:
            return []
        runs = client.read_flow_runs(flow_run_filter=FlowRunFilter(
            deployment_id=FlowRunFilterDeploymentId(any_=list(by_id)),
            expected_start_time=FlowRunFilterExpectedStartTime(after_=since),
            state=FlowRunFilterState(operator="or_",
                                     type=FlowRunFilterStateType(any_=[StateType.FAILED, StateType.CRASHED]),
                                     name=FlowRunFilterStateName(any_=["Late"]))), limit=200)
    for run in runs:
        state_type = run.state_type.value if run.state_type else "UNKNOWN"
        expected = aware(run.expected_start_time) or now
        late = run.state_name == "Late"
        if late and expected > now - late_grace:
            continue  # just late; a worker usually picks it up within seconds
        message = (run.state.message or "") if run.state else ""
        problems.append(Problem(
            kind="run_late" if late else "run_failed", process_id=by_id[run.deployment_id],
            key=f"run:{run.id}:{'LATE' if late else state_type}", at=expected,
            details={"flow_run_id": str(run.id), "flow_run_name": run.name, "state": run.state_name,
                     "state_type": state_type, "message": message[:500],
                     "start_time": aware(run.start_time), "work_pool": run.work_pool_name}))
    return problems


# ---------------------------------------------------------------------------- missed runs

def last_scheduled_start(definition: ProcessDefinition, before: datetime) -> datetime | None:
    """The latest start the definition's cron gives at or before `before` (None if inactive)."""
    if not definition.schedule.active:
        return None
    return last_run(definition.schedule.cron, definition.schedule.timezone, before)


def missed_run_problems(store: WorkQueueStore, definitions: Iterable[ProcessDefinition], now: datetime,
                        grace: timedelta, already: list[Problem]) -> list[Problem]:
    """Processes in operation whose latest scheduled start (at least `grace` ago) has no run.
    A process is in operation from its first recorded run: a new process is not 'missing'."""
    with store.session() as s:
        spans = {pid: (aware(first), aware(last)) for pid, first, last in s.execute(
            select(ProcessRun.process_id, func.min(ProcessRun.started_at), func.max(ProcessRun.started_at))
            .group_by(ProcessRun.process_id))}
    problems = []
    for d in definitions:
        expected = last_scheduled_start(d, now - grace)
        if expected is None or d.id not in spans:
            continue
        first, last = spans[d.id]
        if first >= expected or last >= expected - RUN_START_TOLERANCE:
            continue
        # Prefect already told us about this start (a Late or failed run): one alert is enough.
        if any(p.process_id == d.id and abs(p.at - expected) <= grace for p in already):
            continue
        problems.append(Problem(
            kind="run_missing", process_id=d.id, key=f"missed:{d.id}:{expected.isoformat()}", at=expected,
            details={"cron": d.schedule.cron, "timezone": d.schedule.timezone, "last_run_started": last}))
    return problems
