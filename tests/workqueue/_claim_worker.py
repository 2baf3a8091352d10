"""A worker process for the concurrent-claim test (run under multiprocessing's spawn: a fresh
interpreter with its own engine and connections, as a real second worker would have)."""

from __future__ import annotations

from pathlib import Path


def work(url: str, process_id: str, worker: str, batch: int, out: str, barrier) -> None:
    """Claim batches until the queue is empty; write every claimed id to `out` (one per line,
    flushed before completing, so an id claimed twice shows up in two files) and complete
    each item with the worker's name in the result."""
    from workqueue.store import WorkQueueStore

    store = WorkQueueStore(url, migrate=False)
    try:
        barrier.wait(timeout=120)  # everyone starts claiming at the same moment
        with Path(out).open("w") as log:
            while items := store.claim(process_id, worker=worker, limit=batch, lease_seconds=600):
                log.write("".join(f"{i.id}\n" for i in items))
                log.flush()
                done = store.complete_many([(i.id, {"worker": worker}) for i in items], worker=worker)
                if done != len(items):
                    raise RuntimeError(f"{worker}: completed {done} of {len(items)} claimed items")
    finally:
        store.close()
