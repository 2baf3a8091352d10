"""Review app under a realistic load: 50 000 open cases; server time of the queue and case pages.

    .venv/bin/python -m benchmarks.bench_review [--cases 50000] [--requests 300] [--postgres-url URL]

Generates the cases with bulk inserts (shaped like the flows' cases: NAV, vehicles, attachments,
with side-by-side evidence), serves the app with uvicorn on a free port, logs in over HTTP as
(a) a reviewer who sees five NAV units (about 70 % of the cases) and (b) an admin who sees all,
and requests queue pages (default, sorted, filtered, searched by name and by amount, deep pages)
and case pages (random cases). The figure is the server's own time per request, read from the
`Server-Timing` header the app sets (so client and socket time on this shared machine do not
count), reported as p50/p95/max with the ratio p95/goal. Goals: queue p95 <= 300 ms, case
p95 <= 150 ms. Runs on SQLite (a fresh WAL file) and, when reachable, PostgreSQL.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

GOALS_MS = {"queue": 300.0, "case": 150.0}
DEFAULT_PG_URL = os.environ.get("RPA_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PASSWORD = "benchmark-passord-2026"
TIMING = re.compile(r"app;dur=([\d.]+)")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def queue_queries(rng: random.Random, n: int) -> list[dict[str, str]]:
    shapes = [
        {},  # the default: open and in review, most urgent first
        {"sorter": "belop", "retning": "desc"},
        {"sorter": "opprettet"},
        {"kategori": "GRADE"},
        {"prosess": "nav-refund-offsetting", "frist": "brudd"},
        {"enhet": "Bydel Alna", "alder": "7"},
        {"sok": "Ødegård"},
        {"sok": "hansen kari"},
        {"sok": "1 234,50"},
        {"saksbehandler": "ingen", "sorter": "sak", "retning": "desc"},
        {"status": "alle", "per_side": "100"},
        {"side": "40"},
        {"side": "300", "sorter": "referanse"},
    ]
    return [dict(shapes[i % len(shapes)]) for i in range(n)]


def login(client, username: str) -> None:
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token})
    if r.status_code != 303:
        raise RuntimeError(f"login failed for {username}: {r.status_code}")


def timed(client, path: str, params: dict | None = None) -> float:
    r = client.get(path, params=params)
    if r.status_code != 200:
        raise RuntimeError(f"{path} {params}: HTTP {r.status_code}")
    return float(TIMING.search(r.headers["server-timing"]).group(1))


def run(url: str, backend: str, cases: int, requests: int, seed: int = 7) -> dict[str, dict[str, list[float]]]:
    import httpx
    from sqlalchemy import func, select

    from config.settings import DatabaseSettings, PathSettings, Settings
    from review import demo
    from review.app import create_app
    from review.auth import add_user
    from sandbox.server import start_in_thread
    from workqueue.models import ExceptionCase
    from workqueue.store import WorkQueueStore

    store = WorkQueueStore(url)
    t0 = time.perf_counter()
    demo.bulk_insert(store, cases, seed=seed)
    print(f"[{backend}] generated {cases:,} open cases in {time.perf_counter() - t0:.1f} s", flush=True)
    if not store.is_sqlite:
        # What autovacuum does within a minute of a bulk load: planner statistics and the
        # visibility map (which index-only scans need). SQLite runs as configured, no ANALYZE.
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE exception_cases")
    add_user(store, "kari", "reviewer", PASSWORD, org_units=demo.NAV_UNITS, processes=[demo.NAV])
    add_user(store, "admin", "admin", PASSWORD)
    with store.session() as s:
        ids = list(s.scalars(select(ExceptionCase.id).where(ExceptionCase.process_id == demo.NAV)))
        total = s.scalar(select(func.count()).select_from(ExceptionCase))
    data_dir = Path(tempfile.mkdtemp(prefix="bench-review-"))
    settings = Settings(database=DatabaseSettings(url=url), paths=PathSettings(data_dir=data_dir))
    server = start_in_thread(create_app(settings, store), name="review")
    rng = random.Random(seed)
    results: dict[str, dict[str, list[float]]] = {}
    try:
        for user in ("kari", "admin"):
            with httpx.Client(base_url=server.url, timeout=60) as client:
                login(client, user)
                for _ in range(5):  # warm caches and the connection pool
                    timed(client, "/saker")
                    timed(client, f"/saker/{rng.choice(ids)}")
                queue = [timed(client, "/saker", q) for q in queue_queries(rng, requests)]
                case = [timed(client, f"/saker/{rng.choice(ids)}") for _ in range(requests)]
                overview = [timed(client, "/") for _ in range(max(requests // 10, 10))]
                results[user] = {"queue": queue, "case": case, "overview": overview}
        print(f"[{backend}] {total:,} cases in the store; reviewer sees the {len(ids):,} NAV cases "
              f"(5 units), admin all", flush=True)
    finally:
        server.stop()
        store.close()
    return results


def report(backend: str, results: dict[str, dict[str, list[float]]]) -> list[str]:
    lines = []
    for user, pages in results.items():
        for page, times in pages.items():
            goal = GOALS_MS.get(page)
            p95 = percentile(times, 95)
            verdict = f"goal {goal:.0f} ms, ratio {p95 / goal:.2f} {'OK' if p95 <= goal else 'MISSED'}" if goal else "no goal"
            line = (f"{backend:10} {user:6} {page:8} n={len(times):4}  p50 {statistics.median(times):6.1f} ms  "
                    f"p95 {p95:6.1f} ms  max {max(times):6.1f} ms  ({verdict})")
            lines.append(line)
            print(line, flush=True)
    return lines


@contextmanager
def postgres_schema(base_url: str):
    import psycopg

    plain = base_url.replace("postgresql+psycopg", "postgresql")
    schema = f"bench_review_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(plain, autocommit=True, connect_timeout=3) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in base_url else "?"
    try:
        yield f"{base_url}{sep}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=50_000)
    parser.add_argument("--requests", type=int, default=300, help="Requests per page kind and user.")
    parser.add_argument("--postgres-url", default=DEFAULT_PG_URL)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("RPA_PATHS__DATA_DIR", tempfile.mkdtemp(prefix="bench-review-data-"))
    missed = False
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory(prefix="bench-review-") as tmp:
            results = run(f"sqlite:///{Path(tmp) / 'workqueue.db'}", "sqlite", args.cases, args.requests)
            for line in report("sqlite", results):
                missed |= "MISSED" in line
    if not args.no_postgres:
        try:
            with postgres_schema(args.postgres_url) as url:
                results = run(url, "postgresql", args.cases, args.requests)
                for line in report("postgresql", results):
                    missed |= "MISSED" in line
        except Exception as exc:  # noqa: BLE001 - PostgreSQL is optional here
            if "connect" in str(exc).lower() or exc.__class__.__name__ == "OperationalError":
                print(f"[postgresql] skipped: not reachable ({exc.__class__.__name__})")
            else:
                raise
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
