"""What every flow shares: open a run on a valid definition, open cases with SLA from the
definition, publish the operator's artifacts, finish the run for the benefits report.

Flows keep their domain logic in plain functions that take a RunContext, so tests and
benchmarks call them without Prefect; the Prefect flow is a thin wrapper around them.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from config.process_definition import ProcessDefinition
from config.settings import Settings, get_settings
from connectors.identifiers import mask_fnrs_in_text
from flows.registry import load_definition
from workqueue.store import Backoff, NewCase, WorkQueueStore


class FnrScrubFilter(logging.Filter):
    """Masks anything shaped like an fnr in log messages and tracebacks."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = mask_fnrs_in_text(record.getMessage())
        record.args = ()
        if record.exc_info and record.exc_info[1] is not None:
            import traceback

            record.exc_text = mask_fnrs_in_text("".join(traceback.format_exception(*record.exc_info)))
            record.exc_info = None
        return True


_SCRUB = FnrScrubFilter()


def get_logger(name: str = "rpa") -> logging.Logger | logging.LoggerAdapter:
    """The Prefect run logger inside a run, else a standard logger; both scrub fnr."""
    try:
        from prefect.exceptions import MissingContextError
        from prefect.logging import get_run_logger

        logger = get_run_logger()
    except (MissingContextError, ImportError, RuntimeError):
        logger = logging.getLogger(name)
    base = logger.logger if isinstance(logger, logging.LoggerAdapter) else logger
    if _SCRUB not in base.filters:
        base.addFilter(_SCRUB)
    return logger


def in_prefect_run() -> bool:
    try:
        from prefect.context import FlowRunContext

        return FlowRunContext.get() is not None
    except ImportError:  # pragma: no cover
        return False


@dataclass
class RunContext:
    process_id: str
    run_id: str
    definition: ProcessDefinition
    rules: BaseModel | None
    settings: Settings
    store: WorkQueueStore
    out_dir: Path
    started_at: datetime = field(default_factory=datetime.now)

    @property
    def backoff(self) -> Backoff:
        r = self.definition.retry
        return Backoff(max_attempts=r.max_attempts, backoff_seconds=r.backoff_seconds,
                       backoff_factor=r.backoff_factor, max_backoff_seconds=r.max_backoff_seconds)

    def new_case(self, category: str, message: str, **kwargs: Any) -> NewCase:
        """A case for `category`, its SLA taken from the definition (unknown codes are a bug)."""
        sla = self.definition.category(category).sla_hours
        return NewCase(category=category, message=message, sla_hours=sla, **kwargs)

    def data_path(self, relative: str | Path) -> Path:
        return self.settings.paths.resolve(relative)


def task_options(source: RunContext | ProcessDefinition) -> dict[str, Any]:
    """Prefect task options from the definition's `retry` block (deployments and flows share it):
    `my_task.with_options(**task_options(ctx))`. Attempts = 1 + retries; the delays follow the
    definition's exponential backoff, capped, with 10 % jitter so tasks that failed together
    do not retry together."""
    definition = source.definition if isinstance(source, RunContext) else source
    r = definition.retry
    retries = r.max_attempts - 1
    delays = [min(r.backoff_seconds * r.backoff_factor ** n, r.max_backoff_seconds) for n in range(retries)]
    return {"retries": retries, "retry_delay_seconds": delays or 0, "retry_jitter_factor": 0.1}


PREFECT_RUN_LOGGERS = ("prefect.flow_runs", "prefect.task_runs", "prefect.flow_runs.worker", "prefect.runner")


def scrub_prefect_logs() -> None:
    """Mask fnr in what Prefect's own run loggers send to the API (state messages with exception
    text, tracebacks), not only in what our code logs through get_logger."""
    for name in PREFECT_RUN_LOGGERS:
        logger = logging.getLogger(name)
        if _SCRUB not in logger.filters:
            logger.addFilter(_SCRUB)


def open_run(process_id: str, settings: Settings | None = None, store: WorkQueueStore | None = None,
             out_dir: Path | None = None, run_id: str | None = None) -> RunContext:
    """Validate the definition (refuse to run on an invalid one) and record the run's start."""
    scrub_prefect_logs()
    settings = settings or get_settings()
    definition, rules = load_definition(process_id, settings)
    store = store or WorkQueueStore.from_settings(settings)
    run_id = run_id or f"{datetime.now():%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:6]}"
    flow_run_id = None
    # Inside a flow run Prefect is imported already; a plain CLI run skips the 1-5 s import.
    if __import__("sys").modules.get("prefect") is not None:
        try:
            from prefect.runtime import flow_run

            flow_run_id = flow_run.id
        except ImportError:  # pragma: no cover
            pass
    out_dir = out_dir or settings.paths.data_dir / "output" / process_id / run_id
    out_dir.mkdir(parents=True, exist_ok=True)
    for earlier in store.start_run(process_id, run_id, flow_run_id=flow_run_id):
        get_logger().warning("run %s of %s ended without finishing (its process is gone); marked abandoned",
                             earlier, process_id)
    return RunContext(process_id, run_id, definition, rules, settings, store, out_dir)


@dataclass
class RunSummary:
    """What a run reports: the CLI's --json, the Markdown artifact and the benefits report."""

    process_id: str
    run_id: str
    cases_total: int
    automated: int
    exceptions: dict[str, int]
    outputs: dict[str, str] = field(default_factory=dict)  # name -> path
    figures: dict[str, Any] = field(default_factory=dict)  # process-specific counts for --json

    @property
    def straight_through_rate(self) -> float:
        return round(self.automated / self.cases_total, 4) if self.cases_total else 0.0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["straight_through_rate"] = self.straight_through_rate
        data.update(self.figures)
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2, default=str)


def finish_run(ctx: RunContext, summary: RunSummary, status: str = "completed") -> None:
    ctx.store.finish_run(ctx.run_id, status, summary.cases_total, summary.automated, summary.exceptions,
                         summary.to_dict())


def summary_markdown(ctx: RunContext, summary: RunSummary) -> str:
    d = ctx.definition
    lines = [f"# {d.name}", "", f"Kjøring `{summary.run_id}`", "",
             "| | |", "|---|---|",
             f"| Saker totalt | {summary.cases_total} |",
             f"| Automatisk behandlet | {summary.automated} |",
             f"| Andel automatisk | {summary.straight_through_rate:.1%} |",
             f"| Avvik til manuell behandling | {sum(summary.exceptions.values())} |", ""]
    if summary.exceptions:
        lines += ["## Avvik per kategori", "", "| Kategori | Betydning | Antall |", "|---|---|---|"]
        for code, n in sorted(summary.exceptions.items(), key=lambda kv: -kv[1]):
            try:
                meaning = d.category(code).meaning
            except KeyError:
                meaning = ""
            lines.append(f"| {code} | {meaning} | {n} |")
        lines.append("")
    if summary.outputs:
        lines += ["## Filer", ""] + [f"- {name}: `{path}`" for name, path in summary.outputs.items()] + [""]
    lines.append(f"Avvikskø: {ctx.settings.review.public_url}/saker?prosess={d.id}")
    return "\n".join(lines)


def publish_artifacts(ctx: RunContext, summary: RunSummary, exception_rows: list[dict[str, Any]]) -> None:
    """Markdown summary and a masked exception table for the Prefect UI (no-op outside a run).
    Artifacts bypass log filters: rows must hold masked fnr only; we scrub again to be sure."""
    if not in_prefect_run():
        return
    from prefect.artifacts import create_markdown_artifact, create_table_artifact

    key = ctx.process_id
    create_markdown_artifact(markdown=mask_fnrs_in_text(summary_markdown(ctx, summary)),
                             key=f"{key}-summary", description="Oppsummering av kjøringen")
    if exception_rows:
        safe = [{k: mask_fnrs_in_text(str(v)) if v is not None else "" for k, v in row.items()}
                for row in exception_rows[:5000]]
        create_table_artifact(table=safe, key=f"{key}-exceptions", description="Avvik (fnr maskert)")


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
