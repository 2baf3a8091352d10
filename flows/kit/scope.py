"""The run scope: open, finish, stop, fail. One meaning of each status for every process
(`process_runs.status`, read by the benefits report and the SLA monitor):

    running    the run is under way
    completed  the run did all its work (it may have opened cases: "Fullført med avvik")
    stopped    a system the run needs was unavailable; what is left waits in the queue for the next run
    failed     an error ended the run (an input refused as a whole, a bug); items stay in the store
    abandoned  the run's process died without finishing (found and closed by the next run)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from config.settings import Settings
from connectors.identifiers import mask_fnrs_in_text
from flows.kit.context import RunContext, get_logger, open_run
from flows.kit.summary import RunSummary, complete_from_store, state_message, state_name
from workqueue.store import WorkQueueStore

__all__ = ["RUNNING", "COMPLETED", "STOPPED", "FAILED", "ABANDONED", "finish", "stop", "fail", "run_scope"]

RUNNING, COMPLETED, STOPPED, FAILED, ABANDONED = "running", "completed", "stopped", "failed", "abandoned"


def finish(ctx: RunContext, summary: RunSummary, status: str | None = None) -> RunSummary:
    """Close the run: the store's counts go into the summary (computed once), the run record gets it."""
    status = status or (STOPPED if summary.stopped_reason else COMPLETED)
    complete_from_store(ctx, summary)
    ctx.store.finish_run(ctx.run_id, status, summary.cases_total, summary.automated, summary.exceptions,
                         summary.to_dict())
    get_logger(f"rpa.{ctx.process_id}").info("Kjøring %s: %s. %s", ctx.run_id, state_name(summary),
                                             state_message(summary))
    return summary


def stop(ctx: RunContext, summary: RunSummary, reason: str) -> RunSummary:
    """The run stopped early because a system was down: `reason` in Norwegian, for the operator."""
    summary.stopped_reason = reason
    return finish(ctx, summary, STOPPED)


def fail(ctx: RunContext, error: BaseException) -> None:
    """An error ended the run: record it (fnr masked) and let the caller re-raise."""
    ctx.store.finish_run(ctx.run_id, FAILED, 0, 0, {},
                         {"error": mask_fnrs_in_text(f"{type(error).__name__}: {error}")[:2000]})
    get_logger(f"rpa.{ctx.process_id}").error("Kjøring %s feilet: %s", ctx.run_id,
                                              mask_fnrs_in_text(str(error))[:500])


@contextmanager
def run_scope(process_id: str, settings: Settings | None = None, store: WorkQueueStore | None = None,
              out_dir: Path | None = None, run_id: str | None = None) -> Iterator[RunContext]:
    """`with run_scope(pid) as ctx:` opens the run; an exception fails it (and propagates). The body
    closes it with finish() or stop(); a body that returns without doing so finishes it empty."""
    ctx = open_run(process_id, settings, store, out_dir, run_id)
    try:
        yield ctx
    except BaseException as exc:
        fail(ctx, exc)
        raise
    if _still_running(ctx):
        finish(ctx, RunSummary(ctx.process_id, ctx.run_id, 0, 0, {}))


def _still_running(ctx: RunContext) -> bool:
    from sqlalchemy import select

    from workqueue.models import ProcessRun

    with ctx.store.session() as s:
        return s.scalar(select(ProcessRun.status).where(ProcessRun.run_id == ctx.run_id)) == RUNNING
