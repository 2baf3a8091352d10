"""What the kit tells Prefect: task retries for system errors only (from the definition's retry
block), the final state of a run in words ("Fullført", "Fullført med avvik", "Stoppet: …") with
counts, artifacts with case numbers, categories and amounts only, progress, a paused run's
continuation, and how to reach the Prefect API. Nothing here runs per item: per-item state lives in the work-item store.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from config.catalogue import DefinitionError
from config.process_definition import ProcessDefinition
from connectors.identifiers import mask_fnrs_in_text
from connectors.norwegian import fmt_kr
from flows.kit.context import RunContext, get_logger, in_prefect_run
from flows.kit.prefect_api import BASE_TAG, api_healthy, client_settings  # noqa: F401  (re-exported)
from flows.kit.summary import RunSummary, state_message, state_name, summary_markdown
from workqueue.models import ExceptionCase, ProcessRun

__all__ = ["BASE_TAG", "BusinessError", "is_business_error", "retry_on_system_error", "task_options",
           "final_state", "publish_artifacts", "publish_markdown", "Progress", "api_healthy", "client_settings"]



class BusinessError(Exception):
    """The run cannot go on because of its input or configuration (a missing input file, a refused
    file): a person must fix it. Prefect never retries it: waiting does not make a file appear."""


# Input-format errors (K27, EHF, tables, plates, manifests) all derive from ValueError; a missing
# file is FileNotFoundError; an invalid definition is DefinitionError.
_BUSINESS = (BusinessError, ValueError, KeyError, FileNotFoundError, IsADirectoryError, NotADirectoryError,
             DefinitionError)


def is_business_error(exc: BaseException | None) -> bool:
    if exc is None:
        return False
    return isinstance(exc, _BUSINESS) or "Business" in type(exc).__name__


def retry_on_system_error(task: Any, task_run: Any, state: Any) -> bool:
    """Prefect's retry_condition_fn: retry a failed task only when its error is a system error."""
    try:
        exc = state.result(raise_on_failure=False)
    except Exception as error:  # the result itself could not be read: treat that error
        exc = error
    return not is_business_error(exc if isinstance(exc, BaseException) else None)


def task_options(source: RunContext | ProcessDefinition) -> dict[str, Any]:
    """Prefect task options from the definition's `retry` block (deployments and flows share it):
    `my_task.with_options(**task_options(ctx))`. Attempts = 1 + retries; the delays follow the
    definition's exponential backoff, capped, with 10 % jitter so tasks that failed together do not
    retry together; business errors are never retried (`retry_condition_fn`)."""
    definition = source.definition if isinstance(source, RunContext) else source
    r = definition.retry
    retries = r.max_attempts - 1
    delays = [min(r.backoff_seconds * r.backoff_factor ** n, r.max_backoff_seconds) for n in range(retries)]
    return {"retries": retries, "retry_delay_seconds": delays or 0, "retry_jitter_factor": 0.1,
            "retry_condition_fn": retry_on_system_error}


def final_state(summary: RunSummary) -> Any:
    """The flow's return value: a Completed state named for how the run went, with the counts."""
    from prefect.states import Completed

    return Completed(name=state_name(summary), message=state_message(summary), data=summary.to_dict())


def case_rows(ctx: RunContext, limit: int = 5000) -> list[dict[str, Any]]:
    """The cases this run opened: case number, category and amount only. Names, fnr and health
    categories stay in the review app behind its log-in."""
    from sqlalchemy import select

    with ctx.store.session() as s:
        started = s.scalar(select(ProcessRun.started_at).where(ProcessRun.run_id == ctx.run_id))
        rows = s.execute(select(ExceptionCase.id, ExceptionCase.category, ExceptionCase.amount)
                         .where(ExceptionCase.process_id == ctx.process_id, ExceptionCase.created_at >= started)
                         .order_by(ExceptionCase.id).limit(limit)).all()
    return [{"Sak": f"Sak {r.id}", "Kategori": r.category, "Beløp": fmt_kr(r.amount)} for r in rows]


def publish_artifacts(ctx: RunContext, summary: RunSummary, rows: list[dict[str, Any]] | None = None) -> None:
    """Markdown summary and a table for the Prefect UI (no-op outside a run). The table is the cases
    this run opened, from the store, without names; a process whose rows are not cases (the SLA
    monitor's alerts, the benefits report's figures) passes its own `rows`, which must hold no
    names either (fnr are masked here once more)."""
    if not in_prefect_run():
        return
    from prefect.artifacts import create_markdown_artifact, create_table_artifact

    key = ctx.process_id
    create_markdown_artifact(markdown=mask_fnrs_in_text(summary_markdown(ctx, summary)),
                             key=f"{key}-summary", description="Oppsummering av kjøringen")
    table = case_rows(ctx) if rows is None else [
        {k: mask_fnrs_in_text(str(v)) if v is not None else "" for k, v in row.items()} for row in rows[:5000]]
    if table:
        create_table_artifact(table=table, key=f"{key}-exceptions",
                              description="Saker åpnet av kjøringen (saksnummer, kategori, beløp)")


def publish_markdown(key: str, markdown: str, description: str) -> None:
    """One more Markdown artifact beside the summary (no-op outside a run; fnr masked)."""
    if in_prefect_run():
        from prefect.artifacts import create_markdown_artifact

        create_markdown_artifact(markdown=mask_fnrs_in_text(markdown), key=key, description=description)


class Progress:
    """A progress artifact updated in place during a long phase (no-op outside a run)."""

    def __init__(self, description: str):
        self.artifact_id = None
        if in_prefect_run():
            from prefect.artifacts import create_progress_artifact

            self.artifact_id = create_progress_artifact(progress=0.0, description=description)

    def update(self, fraction: float) -> None:
        if self.artifact_id is not None:
            from prefect.artifacts import update_progress_artifact

            update_progress_artifact(artifact_id=self.artifact_id, progress=round(100 * min(fraction, 1.0), 1))


def schedule_continuation(resume_at: datetime, parameters: dict[str, Any]) -> str | None:
    """A run paused by a quota: a follow-up run of the same deployment at `resume_at`, with
    `parameters` (the flow run id; None outside a deployment or when Prefect refuses: the next
    scheduled run picks the rest up anyway)."""
    if not in_prefect_run():
        return None
    log = get_logger("rpa.kit")
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
    except Exception as exc:  # noqa: BLE001 - the next scheduled run picks the rest up anyway
        log.warning("kunne ikke planlegge fortsettelsen: %s", exc)
        return None
