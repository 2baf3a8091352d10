"""What a run does with the items its handler gave back (`GiveBack`: a quota spent, a refused key,
a system down): release them to the queue for the next run; or, when the system named a time (a
daily quota's reset), defer them and every item of the process still waiting to that time, so that
no run before it spends a request on them. No attempt is counted either way.
"""

from __future__ import annotations

from datetime import datetime

from flows.kit.context import RunContext
from workqueue.models import WorkItem

__all__ = ["give_back"]


def give_back(ctx: RunContext, items: list[WorkItem], worker: str, reason: str,
              until: datetime | None = None) -> int:
    """The items released (or, with `until`, deferred: these and the process's waiting ones)."""
    ids = [i.id for i in items]
    if until is None:
        return ctx.store.release(ids, reason=reason, worker=worker) if ids else 0
    # A claim is the only way to hold items: claim what still waits, and defer it with the rest.
    rest = ctx.store.claim(ctx.process_id, worker, limit=1_000_000, lease_seconds=600, run_id=ctx.run_id)
    return ctx.store.defer(ids + [i.id for i in rest], until, reason=reason, worker=worker)
