"""Cases a run opens outside the item loop (a source that could not be read, an alert not
delivered), once: a reference whose case is still open or in review gets no second case.
"""

from __future__ import annotations

from typing import Any

from flows.kit.context import RunContext
from workqueue.models import CaseKind, CaseStatus, ExceptionCase

__all__ = ["OPEN", "open_once", "open_references"]

OPEN = [CaseStatus.open.value, CaseStatus.in_review.value]


def open_references(ctx: RunContext, category: str) -> set[str]:
    """The references of this process's `category` cases still open or in review."""
    return {c.reference for c in ctx.store.cases(ctx.process_id, status=OPEN, category=category)}


def open_once(ctx: RunContext, reference: str, category: str, message: str, **case: Any) -> ExceptionCase | None:
    """A `category` case (system or business, as the definition declares it; `case`: the rest of
    `ctx.new_case`), unless the reference has one still open; None then."""
    if reference in open_references(ctx, category):
        return None
    kind = CaseKind.system if ctx.definition.category(category).kind == "system" else CaseKind.business
    return ctx.store.open_case(ctx.process_id, reference, ctx.new_case(category, message, **case), kind=kind)
