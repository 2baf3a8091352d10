"""Finance stand-in upload throughput: N files of ~200 KB POSTed from T client threads over real HTTP.

    .venv/bin/python -m benchmarks.bench_finance_sandbox [--files 1000] [--size 200000] [--threads 4]
                                                         [--in-process]

Seeds a bulk data set (sandbox.finance.seed.seed_bulk) in a temporary folder, starts the finance
stand-in with uvicorn on a free port (in a server process of its own, as `rpa sandbox up` runs it;
or, with --in-process, in a thread of the benchmark's process, as the tests run it, where client and
server share one interpreter lock), and uploads every file of the drop folder to its voucher
(multipart, bearer token, one requests.Session per thread, as a connector would). Prints uploads
per second and the ratio to the goal of 100 uploads/s, and checks the finance system's own record
(/_admin/attachments) holds exactly one attachment per file with the right SHA-256.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

from benchmarks._serving import FinanceServer

GOAL_UPLOADS_PER_SECOND = 100


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--size", type=int, default=200_000)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--in-process", action="store_true", help="serve from a thread of this process")
    args = parser.parse_args(argv)

    from config.settings import get_settings
    from sandbox.finance.app import create_app
    from sandbox.finance.seed import seed_bulk
    from sandbox.server import start_in_thread

    settings = get_settings().finance
    with tempfile.TemporaryDirectory(prefix="bench-finance-") as tmp:
        data_dir = Path(tmp)
        started = time.perf_counter()
        written = seed_bulk(data_dir, n=args.files, size=args.size)
        print(f"seeded {args.files} files of {args.size} bytes in {time.perf_counter() - started:.1f} s")
        with written["manifest"].open(encoding="utf-8", newline="") as f:
            jobs = [(row["bilagsnummer"], written["inbox"] / row["filnavn"]) for row in csv.DictReader(f, delimiter=";")]
        server = start_in_thread(create_app(data_dir), name="finance-bench") if args.in_process \
            else FinanceServer(data_dir)
        try:
            token = requests.post(f"{server.url}/oauth/token", data={
                "grant_type": "client_credentials", "client_id": settings.client_id,
                "client_secret": settings.client_secret.get_secret_value()}, timeout=10).json()["access_token"]
            payloads = [(nr, path.name, path.read_bytes()) for nr, path in jobs]  # disk reads not timed
            lock = threading.Lock()
            failures: list[str] = []
            next_index = iter(range(len(payloads)))

            def worker() -> None:
                session = requests.Session()
                session.headers["Authorization"] = f"Bearer {token}"
                while True:
                    with lock:
                        i = next(next_index, None)
                    if i is None:
                        return
                    nr, name, body = payloads[i]
                    r = session.post(f"{server.url}/api/vouchers/{nr}/attachments", timeout=60,
                                     files={"file": (name, body, "application/pdf")},
                                     data={"documentType": "Underbilag", "comment": ""})
                    if r.status_code != 201:
                        with lock:
                            failures.append(f"{name}: {r.status_code} {r.text[:100]}")

            threads = [threading.Thread(target=worker) for _ in range(args.threads)]
            cpu_before = None if args.in_process else server.cpu_seconds()
            started = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            elapsed = time.perf_counter() - started
            cpu_after = None if args.in_process else server.cpu_seconds()
            record = requests.get(f"{server.url}/_admin/attachments", timeout=30).json()["items"]
        finally:
            server.stop()

    expected = {(nr, hashlib.sha256(body).hexdigest()) for nr, _, body in payloads}
    recorded = [(a["voucherNumber"], a["sha256"]) for a in record]
    rate = len(payloads) / elapsed
    where = "in-process server" if args.in_process else "server in its own process"
    print(f"uploaded {len(payloads)} files with {args.threads} threads ({where}) in {elapsed:.2f} s: {rate:.0f} uploads/s "
          f"({rate * args.size / 1e6:.1f} MB/s)")
    if cpu_before is not None and cpu_after is not None:
        per_upload = (cpu_after - cpu_before) / len(payloads)
        print(f"server CPU per upload: {per_upload * 1000:.2f} ms (one free core: ~{1 / per_upload:.0f} uploads/s)")
    print(f"ratio to goal ({GOAL_UPLOADS_PER_SECOND}/s): {rate / GOAL_UPLOADS_PER_SECOND:.2f}")
    consistent = not failures and len(recorded) == len(expected) and set(recorded) == expected
    print(f"finance record: {len(recorded)} attachments, {'consistent' if consistent else 'INCONSISTENT'}"
          + (f"; {len(failures)} failures, first: {failures[0]}" if failures else ""))
    return 0 if consistent else 1


if __name__ == "__main__":
    sys.exit(main())
