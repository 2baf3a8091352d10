"""Beyond one machine: Prefect's server and the work-item store on PostgreSQL, a process work
pool and two workers (`--limit 1`) that run the same deployment concurrently, claiming items
from the store (SELECT ... FOR UPDATE SKIP LOCKED) without overlap."""

from __future__ import annotations

import time
import uuid

import pytest
from sqlalchemy import text

from rpa.deployments import DeploymentSpec, register
from rpa.prefect_server import PrefectServer, client_settings, start_worker
from tests.conftest import PG_URL

PROCESS = "pg-claim-demo"
ITEMS = 120
RUNS = 4


@pytest.fixture
def prefect_database():
    """A fresh database for Prefect's server on the local PostgreSQL; dropped afterwards."""
    import psycopg

    from tests.conftest import _postgres_reachable

    reason = _postgres_reachable()
    if reason:
        pytest.skip(reason)
    name = f"rpa_prefect_test_{uuid.uuid4().hex[:10]}"
    plain = PG_URL.replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_URL.split("://", 1)[1].rsplit("/", 1)[0]  # user@host:port
    yield f"postgresql+asyncpg://{base}/{name}"
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.prefect
def test_two_workers_share_runs_and_never_process_an_item_twice(tmp_path, postgres_url, prefect_database,
                                                                 monkeypatch):
    from prefect import get_client

    from config.settings import get_settings
    from sandbox.server import free_port
    from workqueue.models import ItemStatus
    from workqueue.store import NewItem, WorkQueueStore

    # The work-item store on PostgreSQL (its own schema), one data set of items.
    monkeypatch.setenv("RPA_DATABASE__URL", postgres_url)
    monkeypatch.setenv("RPA_PATHS__DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    settings = get_settings()
    store = WorkQueueStore(postgres_url)
    assert store.add_many(PROCESS, [NewItem(f"item-{n:03d}") for n in range(ITEMS)]) == ITEMS
    with store.engine.begin() as conn:
        conn.execute(text("CREATE TABLE processed_log (reference text, worker text, flow_run_id text)"))
        conn.execute(text("CREATE TABLE flow_run_log (flow_run_id text, worker text)"))

    port = free_port()
    server = PrefectServer.from_settings(settings, api_url=f"http://127.0.0.1:{port}/api",
                                         home=tmp_path / "prefect", database_url=prefect_database)
    workers = []
    try:
        server.start(timeout=150)
        pool = f"rpa-pg-{uuid.uuid4().hex[:6]}"
        spec = DeploymentSpec(process_id=PROCESS, name=PROCESS, entrypoint="tests/ops/claim_flow.py:claim_items",
                              description="multi-worker test", version="v1", cron="0 3 1 1 *",
                              timezone="Europe/Oslo", active=False, parameters={}, tags=["rpa-test", PROCESS],
                              concurrency_limit=2, work_pool=pool)
        with client_settings(server.api_url, auth_string=server.auth_string):
            [deployment] = register([spec])
        for name in ("worker-a", "worker-b"):
            workers.append(start_worker(server.env, pool, name, tmp_path / f"{name}.log", limit=1, poll_seconds=1,
                                        extra_env={"RPA_TEST_WORKER_NAME": name, "RPA_DATABASE__URL": postgres_url}))

        from prefect.deployments import run_deployment

        with client_settings(server.api_url, auth_string=server.auth_string):
            run_ids = [run_deployment(name=deployment.full_name, timeout=0).id for _ in range(RUNS)]
            deadline = time.monotonic() + 600  # hang guard only: 4 runs take 1-2 min, more under load
            with get_client(sync_client=True) as client:
                while True:
                    runs = [client.read_flow_run(r) for r in run_ids]
                    if all(r.state and r.state.is_final() for r in runs) or time.monotonic() > deadline:
                        break
                    time.sleep(1)
        logs = "\n".join(w.log_file.read_text(errors="replace")[-3000:] for w in workers)
        assert [r.state_name for r in runs] == ["Completed"] * RUNS, logs
    finally:
        for w in workers:
            w.stop()
        server.stop()

    with store.engine.connect() as conn:
        processed = conn.execute(text("SELECT reference, worker FROM processed_log")).all()
        flow_runs = conn.execute(text("SELECT flow_run_id, worker FROM flow_run_log")).all()
    # Both workers ran flow runs of the same deployment ...
    assert len(flow_runs) == RUNS
    assert {w.split(":")[0] for _, w in flow_runs} == {"worker-a", "worker-b"}
    # ... concurrently, both claiming items from the one data set ...
    assert {w.split(":")[0] for _, w in processed} == {"worker-a", "worker-b"}
    # ... and no item was processed twice; every item is done after one attempt.
    refs = [ref for ref, _ in processed]
    assert len(refs) == ITEMS and len(set(refs)) == ITEMS
    items = store.items(PROCESS)
    assert {i.status for i in items} == {ItemStatus.done.value}
    assert {i.attempts for i in items} == {1}
    store.close()
    get_settings.cache_clear()
