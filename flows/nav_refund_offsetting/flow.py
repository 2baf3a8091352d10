"""NAV refund offsetting as a Prefect flow: a thin wrapper around run.py.

Three tasks per run, never one per line (a task costs ~10 ms; per-report state lives in the
work-item store, per-line exceptions are bulk-inserted cases): apply HR's decisions, fetch and
register the new reports, offset. Parameters are ids and paths only, never personal data.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from flows.nav_refund_offsetting.run import (
    PROCESS_ID,
    Decisions,
    OffsetOutcome,
    Registered,
    RunInputs,
    apply_decisions,
    fetch_and_register,
    masked_exception_rows,
    offset,
)
from flows.nav_refund_offsetting.state import State
from flows.runtime import RunContext, finish_run, open_run, publish_artifacts


@task(name="beslutninger", cache_policy=NO_CACHE)
def decisions_task(ctx: RunContext, inputs: RunInputs) -> Decisions:
    return apply_decisions(ctx, inputs.as_of)


@task(name="henting", cache_policy=NO_CACHE)
def fetch_task(ctx: RunContext, inputs: RunInputs) -> tuple[State, Registered]:
    return fetch_and_register(ctx, inputs)


@task(name="utligning", cache_policy=NO_CACHE)
def offset_task(ctx: RunContext, inputs: RunInputs, state: State, decisions: Decisions,
                registered: Registered) -> OffsetOutcome:
    return offset(ctx, inputs, state, decisions, registered)


@flow(name="nav-refund-offsetting",
      description="Automatisk utligning av sykepengerefusjon: NAVs oppgjørsrapport (K27) mot HRs refusjonskrav.")
def nav_refund_offsetting(source: str | None = None, report_files: list[str] | None = None,
                          claims_file: str | None = None, employees_file: str | None = None,
                          bank_file: str | None = None, out_dir: str | None = None,
                          as_of: str | None = None) -> dict[str, Any]:
    """`source`: api | portal | folder (default: the definition's); `report_files`: K27 files
    instead of the source; the other files default to the definition's inputs; `as_of`: the
    date claims are aged against (default: the latest report's value date)."""
    inputs = RunInputs(source=source, report_files=[Path(p) for p in report_files] if report_files else None,
                       claims_file=Path(claims_file) if claims_file else None,
                       employees_file=Path(employees_file) if employees_file else None,
                       bank_file=Path(bank_file) if bank_file else None,
                       as_of=date.fromisoformat(as_of) if as_of else None)
    ctx = open_run(PROCESS_ID, out_dir=Path(out_dir) if out_dir else None)
    try:
        decisions = decisions_task(ctx, inputs)
        state, registered = fetch_task(ctx, inputs)
        outcome = offset_task(ctx, inputs, state, decisions, registered)
    except Exception:
        ctx.store.finish_run(ctx.run_id, "failed", 0, 0, {})
        raise
    publish_artifacts(ctx, outcome.summary, masked_exception_rows(outcome.exception_rows))
    finish_run(ctx, outcome.summary)
    return outcome.summary.to_dict()
