"""The Oslo-scale monthly run of NAV refund offsetting, end to end, without Prefect start-up.

    .venv/bin/python -m benchmarks.bench_nav_monthly [--lines 10000] [--workdir DIR]

Seeds the sandbox data set at the scale that gives about `--lines` report lines (the realistic
mix of every discrepancy category, with its ground truth), then times one run exactly as
`rpa run nav-refund-offsetting --source folder` does it: read the reports, HR's claims (Excel),
the employee register and the bank credits, check bank totals, match and classify, open every
exception case in the work-item store (SQLite), apply nothing (first run), and write
utligning.xlsx, utligningsbilag.csv and linjeutfall.csv. Target (issue 4): <= 10 s.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

LINES_PER_SCALE = 745  # the seed writes about this many lines per unit of scale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=10_000, help="Approximate number of report lines.")
    parser.add_argument("--workdir", type=Path, default=None, help="Data folder (default: a new temporary one).")
    args = parser.parse_args(argv)

    import pandas as pd

    from config.settings import PathSettings, Settings
    from flows.nav_refund_offsetting.run import PROCESS_ID, RunInputs, run_offsetting
    from flows.runtime import open_run
    from sandbox.nav.seed import seed
    from workqueue.store import WorkQueueStore

    data_dir = args.workdir or Path(tempfile.mkdtemp(prefix="rpa-bench-nav-monthly-"))
    t = time.perf_counter()
    written = seed(data_dir, scale=args.lines / LINES_PER_SCALE)
    truth = pd.read_csv(written["ground_truth"], dtype=str, keep_default_na=False)
    print(f"seeded {int((truth.kind == 'line').sum()):,} lines, {int((truth.kind == 'claim').sum())} unpaid claims "
          f"in {time.perf_counter() - t:.1f} s ({data_dir})", flush=True)

    settings = Settings(paths=PathSettings(data_dir=data_dir))
    store = WorkQueueStore(f"sqlite:///{data_dir / 'workqueue.db'}")
    ctx = open_run(PROCESS_ID, settings=settings, store=store, out_dir=data_dir / "output")  # imports Prefect
    t, cpu = time.perf_counter(), time.process_time()
    outcome = run_offsetting(ctx, RunInputs(source="folder"))
    elapsed, cpu = time.perf_counter() - t, time.process_time() - cpu
    f = outcome.summary.to_dict()
    print(f"lines {f['lines']:,}  offset {f['offset']:,} ({f['straight_through_rate']:.1%})  exception lines "
          f"{f['exception_lines']:,}  unpaid claims {f['unpaid_claims']}  cases opened {f['cases_opened']:,}  "
          f"journal rows {f['journal_rows']:,}")
    for name, path in f["outputs"].items():
        print(f"  {name}: {Path(path).stat().st_size / 1024:,.0f} KB")
    print(f"monthly run end to end: {elapsed:.2f} s wall, {cpu:.2f} s CPU (target <= 10 s, Prefect start-up "
          f"excluded; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    store.close()
    return 0 if elapsed <= 10 else 1


if __name__ == "__main__":
    sys.exit(main())
