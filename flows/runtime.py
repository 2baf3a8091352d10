"""Kept for imports from before the kit: everything here now lives in flows.kit."""

from connectors.identifiers import FnrScrubFilter
from flows.kit.context import (
    PREFECT_RUN_LOGGERS,
    RunContext,
    get_logger,
    in_prefect_run,
    open_run,
    scrub_prefect_logs,
)
from flows.kit.prefect import Progress, publish_artifacts, task_options
from flows.kit.scope import finish as _finish
from flows.kit.summary import RunSummary, summary_markdown


def finish_run(ctx: RunContext, summary: RunSummary, status: str = "completed"):
    return _finish(ctx, summary, status)


__all__ = ["FnrScrubFilter", "PREFECT_RUN_LOGGERS", "RunContext", "get_logger", "in_prefect_run", "open_run",
           "scrub_prefect_logs", "Progress", "publish_artifacts", "task_options", "finish_run", "RunSummary",
           "summary_markdown"]
