"""Invoice attachment upload through the REST API: 1 000 attachments of ~200 KB.

    .venv/bin/python -m benchmarks.bench_invoice_api [--files 1000] [--size 200000] [--concurrency N]

The whole flow (intake with validation, voucher lookup, content check, upload with an
Idempotency-Key, verification against the voucher's list, archive with receipts) against the
finance stand-in in a server process of its own. Goal: >= 50 files/s. Prints the peak memory.
"""

from __future__ import annotations

import argparse
import sys

from benchmarks.bench_invoice_common import report, run_benchmark

GOAL_FILES_PER_SECOND = 50


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--size", type=int, default=200_000)
    parser.add_argument("--concurrency", type=int, default=None, help="uploads in flight (default: the rules)")
    args = parser.parse_args(argv)
    figures = run_benchmark("api", args.files, args.size, api_concurrency=args.concurrency)
    return report(figures, GOAL_FILES_PER_SECOND)


if __name__ == "__main__":
    sys.exit(main())
