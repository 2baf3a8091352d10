"""The item loop every per-item process shares: add by unique reference, recover this process's
abandoned items, claim, hand each item to the process's handler, turn its outcome into done /
business case / system retry, count.

A handler is `handler(ctx, item) -> Outcome`: one of Done, BusinessCase or SystemFailure (or it
raises: an unexpected exception counts as a system failure, retried per the definition).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from flows.kit.context import RunContext, get_logger
from workqueue.models import WorkItem
from workqueue.store import NewCase, NewItem

__all__ = ["Done", "BusinessCase", "SystemFailure", "Outcome", "Handler", "LoopCounts", "add_items",
           "recover_abandoned", "run_items"]


@dataclass(frozen=True)
class Done:
    """The item is finished; `result` is stored on the item (ids and figures, no personal data)."""

    result: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class BusinessCase:
    """The data is wrong or ambiguous: a human decides; never retried."""

    case: NewCase


@dataclass(frozen=True)
class SystemFailure:
    """A timeout, a 5xx, a changed page: retried with the definition's backoff, then escalated."""

    error: str
    evidence: dict[str, Any] = field(default_factory=dict)


Outcome = Done | BusinessCase | SystemFailure
Handler = Callable[[RunContext, WorkItem], Outcome]


@dataclass
class LoopCounts:
    added: int = 0
    recovered: int = 0
    claimed: int = 0
    done: int = 0
    business: int = 0
    system_retry: int = 0
    escalated: int = 0
    categories: Counter = field(default_factory=Counter)

    def as_dict(self) -> dict[str, int]:
        return {"items_added": self.added, "items_recovered": self.recovered, "items_claimed": self.claimed,
                "items_done": self.done, "items_business": self.business,
                "items_system_retry": self.system_retry, "items_escalated": self.escalated}


def add_items(ctx: RunContext, items: Iterable[NewItem]) -> int:
    """Add items by their unique reference (one per process): a reference already known is skipped."""
    return ctx.store.add_many(ctx.process_id, list(items))


def recover_abandoned(ctx: RunContext) -> int:
    """Items of THIS process whose worker died go back to the queue (or fail after the definition's
    last attempt). Another process's items are left for that process's own run and policy."""
    return ctx.store.requeue_abandoned(ctx.backoff, process_id=ctx.process_id)


def run_items(ctx: RunContext, handler: Handler, *, batch: int = 100, lease_seconds: float = 600,
              worker: str | None = None, max_items: int | None = None,
              stop: Callable[[], bool] | None = None) -> LoopCounts:
    """Claim waiting items in batches and hand each to `handler` until none wait (or `stop()` says so)."""
    log = get_logger(f"rpa.{ctx.process_id}")
    counts = LoopCounts(recovered=recover_abandoned(ctx))
    if counts.recovered:
        log.info("%d avbrutte elementer lagt tilbake i køen", counts.recovered)
    while max_items is None or counts.claimed < max_items:
        if stop and stop():
            break
        limit = batch if max_items is None else min(batch, max_items - counts.claimed)
        items = ctx.store.claim(ctx.process_id, worker=worker, limit=limit, lease_seconds=lease_seconds,
                                run_id=ctx.run_id)
        if not items:
            break
        counts.claimed += len(items)
        for item in items:
            try:
                outcome = handler(ctx, item)
            except Exception as exc:  # an unexpected error is a system error: retried, then escalated
                outcome = SystemFailure(f"{type(exc).__name__}: {exc}")
            _record(ctx, item, outcome, counts, worker)
    log.info("%d elementer behandlet: %d ferdige, %d avvik, %d til nytt forsøk, %d til drift",
             counts.claimed, counts.done, counts.business, counts.system_retry, counts.escalated)
    return counts


def _record(ctx: RunContext, item: WorkItem, outcome: Outcome, counts: LoopCounts, worker: str | None) -> None:
    if isinstance(outcome, Done):
        ctx.store.complete(item.id, outcome.result, worker=worker)
        counts.done += 1
    elif isinstance(outcome, BusinessCase):
        ctx.store.business_exception(item.id, outcome.case, worker=worker)
        counts.business += 1
        counts.categories[outcome.case.category] += 1
    elif isinstance(outcome, SystemFailure):
        case = ctx.store.system_exception(item.id, outcome.error, ctx.backoff, evidence=outcome.evidence,
                                          worker=worker)
        if case is None:
            counts.system_retry += 1
        else:
            counts.escalated += 1
            counts.categories[case.category] += 1
    else:  # pragma: no cover - a handler bug
        raise TypeError(f"handler returned {outcome!r}: use Done, BusinessCase or SystemFailure")
