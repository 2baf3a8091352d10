"""Invoice attachment upload through the web UI bot with parallel browser contexts.

    .venv/bin/python -m benchmarks.bench_invoice_web [--files 1000] [--size 200000] [--contexts N]

The same flow as bench_invoice_api, through Playwright and Chromium: each worker thread has its
own browser context and login, opens the voucher page, reads the attachment list, uploads through
the form, waits for the confirmation and reads the list back. Goal: >= 2 files/s. Prints the peak
memory (the robot plus its Chromium processes).
"""

from __future__ import annotations

import argparse
import sys

from benchmarks.bench_invoice_common import report, run_benchmark

GOAL_FILES_PER_SECOND = 2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--size", type=int, default=200_000)
    parser.add_argument("--contexts", type=int, default=None, help="browser contexts (default: the rules)")
    args = parser.parse_args(argv)
    figures = run_benchmark("web", args.files, args.size, web_contexts=args.contexts)
    return report(figures, GOAL_FILES_PER_SECOND)


if __name__ == "__main__":
    sys.exit(main())
