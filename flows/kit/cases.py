"""Cases a run opens outside the item loop (a source that could not be read, an alert not
delivered), once: a reference whose case is still open or in review gets no second case.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flows.kit.context import RunContext
from workqueue.models import OPEN_CASE_STATUSES, CaseKind, ExceptionCase

__all__ = ["OPEN", "cases_of_items", "open_once", "open_references"]

OPEN = OPEN_CASE_STATUSES


def open_references(ctx: RunContext, category: str) -> set[str]:
    """The references of this process's `category` cases still open or in review."""
    return {c.reference for c in ctx.store.cases(ctx.process_id, status=OPEN, category=category)}


def open_once(ctx: RunContext, reference: str, category: str, message: str, *, item_id: int | None = None,
              **case: Any) -> ExceptionCase | None:
    """A `category` case (system or business, as the definition declares it; `case`: the rest of
    `ctx.new_case`; `item_id`: the work item it is about), unless the reference has one still
    open; None then."""
    if reference in open_references(ctx, category):
        return None
    kind = CaseKind.system if ctx.definition.category(category).kind == "system" else CaseKind.business
    return ctx.store.open_case(ctx.process_id, reference, ctx.new_case(category, message, **case), kind=kind,
                               item_id=item_id)


def cases_of_items(ctx: RunContext, item_ids: Iterable[int], chunk: int = 500) -> dict[int, list[ExceptionCase]]:
    """This process's cases of these items, per item, oldest first: a few queries, not the
    process's every case."""
    from sqlalchemy import select

    found: dict[int, list[ExceptionCase]] = {}
    ids = sorted(set(item_ids))
    for start in range(0, len(ids), chunk):
        with ctx.store.session() as s:
            for case in s.scalars(select(ExceptionCase).where(
                    ExceptionCase.process_id == ctx.process_id, ExceptionCase.item_id.in_(ids[start:start + chunk]))
                    .order_by(ExceptionCase.id)):
                found.setdefault(case.item_id, []).append(case)
    return found
