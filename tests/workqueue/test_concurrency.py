"""Four OS processes claim 10 000 items at once: none processed twice, none lost.
SQLite serializes writers (BEGIN IMMEDIATE); PostgreSQL uses FOR UPDATE SKIP LOCKED."""

from __future__ import annotations

import multiprocessing
import threading
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from workqueue.models import AuditEvent, ItemStatus, WorkItem
from workqueue.store import NewItem, WorkQueueStore

P = "concurrency"
ITEMS = 10_000
WORKERS = 4
BATCH = 50


def test_four_processes_claim_every_item_exactly_once(store, store_url, tmp_path: Path):
    assert store.add_many(P, [NewItem(f"ITEM-{n:05d}", {"n": n}) for n in range(ITEMS)]) == ITEMS
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(WORKERS)
    from tests.workqueue._claim_worker import work

    procs = [ctx.Process(target=work, args=(store_url, P, f"worker-{n}", BATCH, str(tmp_path / f"worker-{n}.txt"),
                                            barrier)) for n in range(WORKERS)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=300)
    assert [p.exitcode for p in procs] == [0] * WORKERS, "a worker process failed (see its stderr)"

    # What each worker says it processed: every id exactly once across all workers.
    seen: dict[int, str] = {}
    duplicates = []
    for n in range(WORKERS):
        for line in (tmp_path / f"worker-{n}.txt").read_text().split():
            item_id = int(line)
            if item_id in seen:
                duplicates.append((item_id, seen[item_id], f"worker-{n}"))
            seen[item_id] = f"worker-{n}"
    assert duplicates == []
    per_worker = Counter(seen.values())
    assert sum(per_worker.values()) == ITEMS
    assert len(per_worker) >= 2, f"the workers did not overlap: {per_worker}"

    # What the store says: all done, each once, by the worker that logged it.
    with store.session() as s:
        rows = s.execute(select(WorkItem.id, WorkItem.status, WorkItem.attempts, WorkItem.claimed_by,
                                WorkItem.result).where(WorkItem.process_id == P)).all()
        claims = Counter(s.scalars(select(AuditEvent.item_id).where(AuditEvent.action == "item.claimed")))
        completions = s.execute(select(AuditEvent.item_id, AuditEvent.actor)
                                .where(AuditEvent.action == "item.completed")).all()
        events = s.scalar(select(func.count()).select_from(AuditEvent))
    assert len(rows) == ITEMS and set(seen) == {r.id for r in rows}  # none lost
    assert {r.status for r in rows} == {ItemStatus.done}
    assert {r.attempts for r in rows} == {1}  # nobody claimed an item twice
    assert all(r.result == {"worker": seen[r.id]} and r.claimed_by == seen[r.id] for r in rows)
    assert set(claims.values()) == {1} and len(claims) == ITEMS
    assert len(completions) == ITEMS and all(actor == seen[item_id] for item_id, actor in completions)
    assert events == 2 * ITEMS


@pytest.mark.postgres
def test_postgres_claim_skips_rows_another_transaction_holds(postgres_url):
    """SKIP LOCKED: while one worker's claim transaction is open, another worker neither waits
    for nor takes those rows."""
    import psycopg

    store = WorkQueueStore(postgres_url)
    try:
        store.add_many(P, [NewItem(f"L-{n}") for n in range(20)])
        first_ten = [i.id for i in store.items(P)][:10]
        plain = postgres_url.replace("postgresql+psycopg", "postgresql")
        with psycopg.connect(plain) as holder:  # an open transaction holding row locks
            holder.execute("SELECT id FROM work_items WHERE id = ANY(%s) FOR UPDATE", (first_ten,))
            result: dict[str, list] = {}
            t = threading.Thread(target=lambda: result.setdefault("ids", [i.id for i in store.claim(P, limit=15)]))
            t.start()
            t.join(timeout=30)
            assert not t.is_alive(), "claim waited for locked rows instead of skipping them"
            holder.rollback()
        assert sorted(result["ids"]) == [i.id for i in store.items(P)][10:]
        assert len(store.claim(P, limit=15)) == 10  # the released rows are claimable again
    finally:
        store.close()
