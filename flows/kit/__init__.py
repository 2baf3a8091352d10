"""The process kit: what every process shares, so that a process is its definition, its rules
model and a handler (see docs/adding-a-process.md).

    context   RunContext, open_run, get_logger, definition hash
    scope     run_scope, finish / stop / fail: one meaning of each run status
    items     the item loop: add, recover this process's abandoned items, claim, handle, record
    summary   RunSummary computed once; the state name and message; the Markdown artifact
    prefect   task retries for system errors only, final state, artifacts without names, progress
    declare   one declaration per process -> the Prefect flow and the `rpa run <process>` CLI
"""

from flows.kit.context import (
    RunContext,
    definition_hash,
    get_logger,
    in_prefect_run,
    open_run,
    scrub_prefect_logs,
)
from flows.kit.items import (
    BusinessCase,
    Done,
    LoopCounts,
    SystemFailure,
    add_items,
    recover_abandoned,
    run_items,
)
from flows.kit.prefect import (
    BusinessError,
    Progress,
    final_state,
    is_business_error,
    publish_artifacts,
    task_options,
)
from flows.kit.scope import COMPLETED, FAILED, STOPPED, fail, finish, run_scope, stop
from flows.kit.summary import RunSummary, state_message, state_name, summary_markdown

__all__ = ["RunContext", "open_run", "get_logger", "in_prefect_run", "scrub_prefect_logs", "definition_hash",
           "Done", "BusinessCase", "SystemFailure", "LoopCounts", "add_items", "recover_abandoned", "run_items",
           "BusinessError", "Progress", "final_state", "is_business_error", "publish_artifacts", "task_options",
           "COMPLETED", "FAILED", "STOPPED", "fail", "finish", "run_scope", "stop",
           "RunSummary", "state_message", "state_name", "summary_markdown"]
