"""Invoice attachment upload through the REST API: 1 000 attachments of ~200 KB.

    .venv/bin/python -m benchmarks.bench_invoice_api [--files 1000] [--size 200000] [--concurrency N]

The whole flow (intake with validation, voucher lookup, content check, upload with an
Idempotency-Key, verification against the voucher's list, archive with receipts) against the
finance stand-in in a server process of its own. Prints the peak memory.

In the same run, the floor: a naive uploader (read the file, POST it; the same threads; no check,
no journal, no verification, no archive) against a fresh stand-in with the same seed. The verdict
is the ratio robot files/s / naive files/s (goal >= 0.5: exactly-once costs at most 2x), measured
back to back on the same machine, besides the absolute goal of 50 files/s.
"""

from __future__ import annotations

import argparse
import os
import sys

from benchmarks.bench_invoice_common import report, run_benchmark, run_naive

GOAL_FILES_PER_SECOND = 50
GOAL_VS_NAIVE = 0.5


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--size", type=int, default=200_000)
    parser.add_argument("--concurrency", type=int, default=None, help="uploads in flight (default: the rules)")
    args = parser.parse_args(argv)
    figures = run_benchmark("api", args.files, args.size, api_concurrency=args.concurrency)
    code = report(figures, GOAL_FILES_PER_SECOND)
    print(f"naive uploader ({figures.concurrency} threads, same files, a fresh stand-in) ...", flush=True)
    naive = run_naive(args.files, args.size, figures.concurrency)
    ratio = figures.rate / naive.rate
    print(f"{'':8} {'files/s':>8} {'CPU/file robot':>15} {'CPU/file stand-in':>18} {'load':>5}")
    for f in (figures, naive):
        print(f"{f.door:8} {f.rate:>8.1f} {f.client_cpu_ms:>12.1f} ms {f.server_cpu_ms:>15.1f} ms {f.load:>5.1f}")
    print(f"robot / naive = {ratio:.2f} [goal >= {GOAL_VS_NAIVE}: {'met' if ratio >= GOAL_VS_NAIVE else 'MISSED'}]; "
          f"CPU per file robot / naive = {figures.client_cpu_ms / max(naive.client_cpu_ms, 1e-9):.1f}x "
          f"(load {os.getloadavg()[0]:.1f})")
    if not naive.consistent:
        print("naive uploader: INCONSISTENT finance record")
    return code


if __name__ == "__main__":
    sys.exit(main())
