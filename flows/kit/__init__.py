"""The process kit: what every process shares, so that a process is its definition, its rules
model and a handler (see docs/adding-a-process.md).

    context   RunContext, open_run, get_logger, definition hash
    scope     run_scope, finish / stop / fail: one meaning of each run status
    items     the item loop: add, recover this process's abandoned items, claim, handle, record
    summary   RunSummary computed once; the state name and message; the Markdown artifact
    prefect   task retries for system errors only, final state, artifacts without names, progress
    shadow    the side-effect boundary: live writes, shadow records what it would have written
    declare   one declaration per process -> the Prefect flow and the `rpa run <process>` CLI
"""

import importlib
from typing import Any

_WHERE = {
    "context": ["RunContext", "open_run", "get_logger", "in_prefect_run", "scrub_prefect_logs", "definition_hash"],
    "items": ["Done", "BusinessCase", "SystemFailure", "GiveBack", "LoopCounts", "add_items",
              "items_by_reference", "recover_abandoned", "run_items"],
    "prefect": ["BusinessError", "Progress", "final_state", "is_business_error", "publish_artifacts", "publish_markdown",
                "task_options"],
    "scope": ["COMPLETED", "FAILED", "STOPPED", "PAUSED", "fail", "finish", "run_scope", "stop"],
    "shadow": ["SideEffects", "Outcome", "MANUAL"],
    "summary": ["RunSummary", "state_message", "state_name", "summary_markdown"],
}
_MODULE_OF = {name: module for module, names in _WHERE.items() for name in names}
__all__ = sorted(_MODULE_OF)


def __getattr__(name: str) -> Any:
    """Loaded on first use: `rpa --help` and the CLIs import the kit without the store or Prefect."""
    if name not in _MODULE_OF:
        raise AttributeError(f"module 'flows.kit' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"flows.kit.{_MODULE_OF[name]}"), name)
    globals()[name] = value
    return value
