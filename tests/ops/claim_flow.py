"""A small flow for the multi-worker test: claims batches of items from the work-item store
until none are left, logging each item it processes (a second processing would show as a
duplicate row). Runs on a process worker, so it reads its settings from the environment:
RPA_DATABASE__URL (PostgreSQL) and RPA_TEST_WORKER_NAME (set per worker by the test)."""

from __future__ import annotations

import os
import socket
import time

from prefect import flow
from prefect.runtime import flow_run
from sqlalchemy import text

from config.settings import get_settings
from workqueue.store import WorkQueueStore


@flow(name="claim-items")
def claim_items(process_id: str = "pg-claim-demo", batch: int = 4, work_seconds: float = 0.3) -> dict:
    store = WorkQueueStore(get_settings().database_url, migrate=False)
    worker = f"{os.environ.get('RPA_TEST_WORKER_NAME', socket.gethostname())}:{os.getpid()}"
    run_id = str(flow_run.id)
    with store.engine.begin() as conn:
        conn.execute(text("INSERT INTO flow_run_log (flow_run_id, worker) VALUES (:r, :w)"), {"r": run_id, "w": worker})
    processed = 0
    try:
        while True:
            items = store.claim(process_id, worker=worker, limit=batch, lease_seconds=120, run_id=run_id[:64])
            if not items:
                break
            with store.engine.begin() as conn:
                conn.execute(text("INSERT INTO processed_log (reference, worker, flow_run_id) VALUES (:ref, :w, :r)"),
                             [{"ref": i.reference, "w": worker, "r": run_id} for i in items])
            time.sleep(work_seconds)  # stands in for the work on a batch, so the two runs overlap
            store.complete_many([(i.id, {"worker": worker}) for i in items], worker=worker)
            processed += len(items)
    finally:
        store.close()
    return {"worker": worker, "processed": processed}
