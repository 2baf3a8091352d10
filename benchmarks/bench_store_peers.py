"""The work-item store against the queues a user would pick instead: same workload, one run.

    .venv/bin/python -m benchmarks.bench_store_peers [--items 5000] [--batch 500] [--rounds 1]
        [--prefect-items 200] [--postgres-url URL] [--skip-postgres] [--skip-prefect] [--only QUEUES]

Workload, the same for everyone: add N items, then claim them and complete them in batches, each
completion leaving a durable record (checked at the end: N records of completion in the backend).

- SQLite: this store (`WorkQueueStore`, audit trail on: one audit row per claim and completion),
  persist-queue (`SQLiteAckQueue`: get + ack, the acked row is the record), huey (`SqliteHuey`:
  dequeue + execute, the stored result is the record). Neither peer has a batch claim.
- PostgreSQL (127.0.0.1:5432/test by default, a fresh schema per peer): this store, pgqueuer
  (batch `dequeue` + `log_jobs`: the log row is the record), procrastinate (its worker with
  `wait=False`: the succeeded job row and its events are the record).
- "One Prefect task per item", what a Prefect-only user would write: a flow calling a task per
  item on its own Prefect test server (never 127.0.0.1:4200), with a smaller N, timed until the
  server holds N completed task runs.

Prints items/s (claim+complete, and add+claim+complete) and, per backend, the ratio of this store
to the fastest peer measured in this run, and to Prefect-task-per-item. On PostgreSQL (a server on
this machine) also the CPU per item of the server's backend process beside this process's: their
sum per item is steadier than the rates (though CPU time too stretches when the machine is busy).
`--rounds 3` runs the queues three times, interleaved, and takes each queue's median round.
Ratios are the verdict:
every peer shares the machine's load with this store at that moment. Peers come from the `bench`
extra (`make bench` installs it).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from benchmarks.bench_store import DEFAULT_PG_URL, backend_cpu_seconds, postgres_schema, sqlite_url
from benchmarks.bench_store import run as run_store

GOAL_VS_PEER = 1.0
GOAL_VS_PREFECT = 100.0
OURS = "this store"

# What each peer does not give that this store does (printed beside the figures).
LACKS = {
    OURS: "-",
    "persist-queue": "no unique reference per item, no lease (an unacked item waits for a restart), "
                     "no audit trail, no batch claim",
    "huey": "no unique reference, no lease, no audit trail (one result per task), no batch claim",
    "pgqueuer": "no lease expiry by time (stale heartbeat only), no audit trail (one log row per "
                "completion), unique reference only through an optional dedupe key",
    "procrastinate": "no lease (a stalled job needs an explicit retry), no audit trail (job events "
                     "only), unique reference only through an optional queueing lock",
    "prefect task/item": "no queue (items live in the flow's code), no unique reference, no lease, "
                         "no exception cases",
}


@dataclass
class Rate:
    peer: str
    backend: str
    items: int
    add_seconds: float
    process_seconds: float
    cpu_seconds: float  # this process's CPU during claim+complete (a server's is not included)
    server_cpu_seconds: float | None = None  # PostgreSQL's backend processes' CPU (server on this machine)

    @property
    def process_rate(self) -> float:
        return self.items / self.process_seconds if self.process_seconds else 0.0

    @property
    def total_rate(self) -> float:
        total = self.add_seconds + self.process_seconds
        return self.items / total if total else 0.0


def _check(peer: str, done: int, items: int) -> None:
    if done != items:
        raise RuntimeError(f"{peer}: {done} durable completions recorded, expected {items}")


# ----------------------------------------------------------------------------------- ours

def ours(url: str, backend: str, items: int, batch: int) -> Rate:
    f = run_store(url, backend, items, batch)  # checks counts == {"done": items} itself
    return Rate(OURS, backend, items, f.add_seconds, f.process_seconds, f.process_cpu_seconds, f.server_cpu_seconds)


# ----------------------------------------------------------------------------------- SQLite peers

def persist_queue(items: int, batch: int) -> Rate:
    from persistqueue import Empty, SQLiteAckQueue

    with tempfile.TemporaryDirectory(prefix="bench-pq-") as tmp:
        q = SQLiteAckQueue(tmp, multithreading=False, auto_commit=True)
        t0 = time.perf_counter()
        for n in range(items):
            q.put({"reference": f"REF-{n:07d}", "line": n})
        add = time.perf_counter() - t0
        t0, c0 = time.perf_counter(), time.process_time()
        while True:
            got = []
            try:
                for _ in range(batch):
                    got.append(q.get(block=False, raw=True))
            except Empty:
                pass
            if not got:
                break
            for item in got:
                q.ack(id=item["pqid"])
        process, cpu = time.perf_counter() - t0, time.process_time() - c0
        _check("persist-queue", q.acked_count(), items)
        return Rate("persist-queue", "sqlite", items, add, process, cpu)


def huey(items: int, batch: int) -> Rate:
    from huey import SqliteHuey

    with tempfile.TemporaryDirectory(prefix="bench-huey-") as tmp:
        h = SqliteHuey("bench", filename=str(Path(tmp) / "huey.db"), results=True)

        @h.task()
        def handle(reference: str, line: int) -> dict:
            return {"ok": True}

        t0 = time.perf_counter()
        for n in range(items):
            handle(f"REF-{n:07d}", n)
        add = time.perf_counter() - t0
        t0, c0 = time.perf_counter(), time.process_time()
        while (task := h.dequeue()) is not None:  # what its consumer does, minus the polling
            h.execute(task)
        process, cpu = time.perf_counter() - t0, time.process_time() - c0
        _check("huey", h.storage.result_store_size(), items)
        return Rate("huey", "sqlite", items, add, process, cpu)


# ----------------------------------------------------------------------------------- PostgreSQL peers

def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def pgqueuer(url: str, items: int, batch: int) -> Rate:
    return asyncio.run(_pgqueuer(_libpq(url), items, batch))


async def _pgqueuer(url: str, items: int, batch: int) -> Rate:
    import psycopg
    from pgqueuer.adapters.persistence.queries import Queries
    from pgqueuer.ports.repository import EntrypointExecutionParameter

    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        q = Queries.from_psycopg_connection(conn)
        await q.install(create_schema=False)
        t0 = time.perf_counter()
        for start in range(0, items, 5000):
            n = min(5000, items - start)
            await q.enqueue(["bench"] * n, [f"REF-{start + i:07d}".encode() for i in range(n)], [0] * n)
        add = time.perf_counter() - t0
        entry = {"bench": EntrypointExecutionParameter(concurrency_limit=0)}
        manager = uuid.uuid4()
        backend = {conn.info.backend_pid}
        s0 = backend_cpu_seconds(backend)
        t0, c0 = time.perf_counter(), time.process_time()
        while jobs := await q.dequeue(batch_size=batch, entrypoints=entry, queue_manager_id=manager,
                                      global_concurrency_limit=None, heartbeat_timeout=timedelta(seconds=600)):
            await q.log_jobs([(job, "successful", None) for job in jobs])
        process, cpu = time.perf_counter() - t0, time.process_time() - c0
        server = backend_cpu_seconds(backend) - s0
        cur = await conn.execute("SELECT count(*) FROM pgqueuer_log WHERE status = 'successful'")
        _check("pgqueuer", (await cur.fetchone())[0], items)
        return Rate("pgqueuer", "postgresql", items, add, process, cpu, server if server >= 0 else None)


def procrastinate(url: str, items: int, batch: int, concurrency: int) -> Rate:
    return asyncio.run(_procrastinate(_libpq(url), items, batch, concurrency))


async def _procrastinate(url: str, items: int, batch: int, concurrency: int) -> Rate:
    import logging

    import procrastinate as pc

    logging.getLogger("procrastinate").setLevel(logging.WARNING)
    app = pc.App(connector=pc.PsycopgConnector(conninfo=url))

    @app.task(name="bench")
    async def handle(reference: str) -> None:
        return None

    async with app.open_async():
        await app.schema_manager.apply_schema_async()
        t0 = time.perf_counter()
        for start in range(0, items, 5000):
            n = min(5000, items - start)
            await handle.batch_defer_async(*[{"reference": f"REF-{start + i:07d}"} for i in range(n)])
        add = time.perf_counter() - t0
        t0, c0 = time.perf_counter(), time.process_time()
        await app.run_worker_async(wait=False, concurrency=concurrency, listen_notify=False,
                                   install_signal_handlers=False)
        process, cpu = time.perf_counter() - t0, time.process_time() - c0
        async with app.connector.pool.connection() as conn, conn.cursor() as cur:
            await cur.execute("SELECT count(*) FROM procrastinate_jobs WHERE status = 'succeeded'")
            _check("procrastinate", (await cur.fetchone())[0], items)
    return Rate("procrastinate", "postgresql", items, add, process, cpu)


# ----------------------------------------------------------------------------------- Prefect

def prefect_task_per_item(items: int) -> Rate:
    """One task run per item in one flow, on a Prefect test server of its own (temporary home)."""
    with tempfile.TemporaryDirectory(prefix="bench-prefect-") as home:
        os.environ["PREFECT_HOME"] = home
        os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
        import logging

        from prefect import flow, get_client, task
        from prefect.client.schemas.filters import TaskRunFilter, TaskRunFilterState, TaskRunFilterStateType
        from prefect.testing.utilities import prefect_test_harness

        @task
        def handle(reference: str) -> dict:
            return {"ok": True}

        @flow(log_prints=False)
        def run_items(n: int) -> int:
            for i in range(n):
                handle(f"REF-{i:07d}")
            return n

        async def completed() -> int:
            async with get_client() as client:
                done, page = 0, 200  # the API's largest page
                while True:
                    runs = await client.read_task_runs(limit=page, offset=done, task_run_filter=TaskRunFilter(
                        state=TaskRunFilterState(type=TaskRunFilterStateType(any_=["COMPLETED"]))))
                    done += len(runs)
                    if len(runs) < page:
                        return done

        with prefect_test_harness(server_startup_timeout=180):
            for name in ("prefect", "prefect.flow_runs", "prefect.task_runs"):
                logging.getLogger(name).setLevel(logging.WARNING)
            t0, c0 = time.perf_counter(), time.process_time()
            run_items(items)
            # The task runs' states reach the server as events; done when it holds all N.
            # Hang guard only: the loop ends on the count, not on the clock.
            for _ in range(6000):
                if asyncio.run(completed()) >= items:
                    break
                time.sleep(0.05)
            process, cpu = time.perf_counter() - t0, time.process_time() - c0
            _check("prefect task/item", asyncio.run(completed()), items)
    return Rate("prefect task/item", "prefect", items, 0.0, process, cpu)


# ----------------------------------------------------------------------------------- report

def _attempt(results: list[Rate], label: str, fn: Callable[[], Rate], only: set[str] | None = None) -> None:
    if only and label not in only:
        return
    # Every queue starts with the heap this process built so far frozen out of the collector's
    # reach: a full collection over it (40-50 ms) otherwise lands inside one queue's timed loop and
    # not another's, by chance (session 6: 8-10 us per item at 5 000 items).
    gc.collect()
    gc.freeze()
    try:
        results.append(fn())
        r = results[-1]
        server = f", server {r.server_cpu_seconds / r.items * 1e6:.0f} us" if r.server_cpu_seconds is not None else ""
        print(f"  {label:18} {r.process_rate:>9,.0f} items/s claim+complete  CPU/item {r.cpu_seconds / r.items * 1e6:.0f} us"
              f"{server} (load {os.getloadavg()[0]:.1f})", flush=True)
    except ModuleNotFoundError as exc:
        print(f"  {label}: skipped, {exc.name} not installed (pip install -e '.[bench]')", flush=True)
    except Exception as exc:  # noqa: BLE001 - one failing peer must not hide the others' figures
        print(f"  {label}: FAILED ({exc.__class__.__name__}: {str(exc)[:200]})", flush=True)
    finally:
        gc.unfreeze()


def median_rounds(rates: list[Rate]) -> list[Rate]:
    """Per queue, the round with the median claim+complete rate (its CPU figures with it), in
    the order the queues first ran. One round: the rates as they are."""
    groups: dict[tuple[str, str], list[Rate]] = {}
    for r in rates:
        groups.setdefault((r.backend, r.peer), []).append(r)
    return [sorted(g, key=lambda r: r.process_rate)[(len(g) - 1) // 2] for g in groups.values()]


def _per_item_us(seconds: float | None, items: int) -> str:
    return f"{seconds / items * 1e6:.0f} us" if seconds is not None and items else "-"


def report(rates: list[Rate], batch: int, rounds: int = 1) -> tuple[str, dict[str, float]]:
    rates = median_rounds(rates)
    lines = [f"{'backend':11} {'queue':18} {'items':>7} {'add/s':>9} {'claim+complete/s':>17} "
             f"{'end-to-end/s':>13} {'CPU/item':>9} {'server CPU/item':>16}  does not give"]
    for r in rates:
        add = f"{r.items / r.add_seconds:,.0f}" if r.add_seconds else "-"
        lines.append(f"{r.backend:11} {r.peer:18} {r.items:>7} {add:>9} {r.process_rate:>17,.0f} "
                     f"{r.total_rate:>13,.0f} {_per_item_us(r.cpu_seconds, r.items):>9} "
                     f"{_per_item_us(r.server_cpu_seconds, r.items):>16}  {LACKS.get(r.peer, '')}")
    ratios: dict[str, float] = {}
    lines.append("")
    for backend in ("sqlite", "postgresql"):
        mine = next((r for r in rates if r.backend == backend and r.peer == OURS), None)
        peers = [r for r in rates if r.backend == backend and r.peer != OURS]
        if not mine or not peers:
            continue
        best = max(peers, key=lambda r: r.process_rate)
        ratio = mine.process_rate / best.process_rate
        ratios[backend] = ratio
        best_total = max(peers, key=lambda r: r.total_rate)
        lines.append(f"{backend}: this store / fastest peer ({best.peer}) = {ratio:.2f}x claim+complete "
                     f"[goal >= {GOAL_VS_PEER:.1f}x: {'met' if ratio >= GOAL_VS_PEER else 'MISSED'}]; "
                     f"end-to-end {mine.total_rate / best_total.total_rate:.2f}x ({best_total.peer})")
        if mine.server_cpu_seconds is not None and best.server_cpu_seconds is not None:
            ours_cpu = (mine.cpu_seconds + mine.server_cpu_seconds) / mine.items * 1e6
            theirs = (best.cpu_seconds + best.server_cpu_seconds) / best.items * 1e6
            lines.append(f"{backend}: CPU per item, this process + the server's backend: this store {ours_cpu:.0f} us, "
                         f"{best.peer} {theirs:.0f} us ({theirs / ours_cpu:.2f}x)")
    prefect = next((r for r in rates if r.peer == "prefect task/item"), None)
    if prefect:
        for backend in ("sqlite", "postgresql"):
            mine = next((r for r in rates if r.backend == backend and r.peer == OURS), None)
            if mine:
                ratio = mine.process_rate / prefect.process_rate
                ratios[f"prefect-{backend}"] = ratio
                lines.append(f"{backend}: this store / Prefect task per item = {ratio:,.0f}x "
                             f"[goal >= {GOAL_VS_PREFECT:.0f}x: {'met' if ratio >= GOAL_VS_PREFECT else 'MISSED'}]")
    median = f"median of {rounds} interleaved rounds per queue; " if rounds > 1 else ""
    lines.append(f"({median}batch {batch}; this store audits every claim and completion; load average "
                 f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores, shared by every queue above)")
    return "\n".join(lines), ratios


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_store_peers",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=5_000, help="items per queue, the same for every queue (default 5000)")
    parser.add_argument("--batch", type=int, default=500, help="items per claim (default 500)")
    parser.add_argument("--prefect-items", type=int, default=200,
                        help="items for Prefect-task-per-item (default 200; its rate does not depend on N)")
    parser.add_argument("--procrastinate-concurrency", type=int, default=8,
                        help="procrastinate worker concurrency (default 8; async task)")
    parser.add_argument("--postgres-url", default=DEFAULT_PG_URL, help="PostgreSQL SQLAlchemy URL")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--skip-prefect", action="store_true")
    parser.add_argument("--rounds", type=int, default=1,
                        help="run every queue but Prefect this many times, interleaved, and report each queue's "
                             "median round (default 1; 3 steadies the ratios on a busy machine)")
    parser.add_argument("--only", default="", help="comma-separated queues to run (e.g. 'this store,prefect task/item')")
    args = parser.parse_args(argv)
    only = {x.strip() for x in args.only.split(",") if x.strip()}
    n, b = args.items, args.batch

    print(f"load average at start {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", flush=True)
    rates: list[Rate] = []
    for round_no in range(1, max(args.rounds, 1) + 1):
        if args.rounds > 1:
            print(f"round {round_no} of {args.rounds}", flush=True)
        print("SQLite:", flush=True)
        with sqlite_url() as url:
            _attempt(rates, OURS, lambda url=url: ours(url, "sqlite", n, b), only)
        _attempt(rates, "persist-queue", lambda: persist_queue(n, b), only)
        _attempt(rates, "huey", lambda: huey(n, b), only)
        if not args.skip_postgres:
            print("PostgreSQL:", flush=True)
            for label, fn in ((OURS, lambda u: ours(u, "postgresql", n, b)),
                              ("pgqueuer", lambda u: pgqueuer(u, n, b)),
                              ("procrastinate", lambda u: procrastinate(u, n, b, args.procrastinate_concurrency))):
                with postgres_schema(args.postgres_url) as url:
                    if url is None:
                        break
                    _attempt(rates, label, lambda fn=fn, url=url: fn(url), only)
    if not args.skip_prefect:
        print("Prefect:", flush=True)
        _attempt(rates, "prefect task/item", lambda: prefect_task_per_item(args.prefect_items), only)
    text, ratios = report(rates, b, max(args.rounds, 1))
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
