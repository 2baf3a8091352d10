"""Run every benchmark: `python -m benchmarks` (what `make bench` calls).

Each `benchmarks/bench_*.py` module exposes `main()`; they run one after another, in file-name
order, each with its default arguments. A failing benchmark is reported and the others still
run; the exit code is 1 if any failed. Run one alone with `python -m benchmarks.<name> --help`.
"""

from __future__ import annotations

import importlib
import sys
import time
import traceback
from pathlib import Path


def benchmark_modules() -> list[str]:
    here = Path(__file__).resolve().parent
    return [f"benchmarks.{p.stem}" for p in sorted(here.glob("bench_*.py"))]


def main() -> int:
    failed = []
    for name in benchmark_modules():
        print(f"\n=== {name} ===", flush=True)
        started = time.perf_counter()
        argv, sys.argv = sys.argv, [name]  # each module parses its own (default) arguments
        try:
            code = importlib.import_module(name).main()
        except SystemExit as exc:
            code = exc.code
        except Exception:  # noqa: BLE001 - one broken benchmark must not hide the others
            traceback.print_exc()
            code = 1
        finally:
            sys.argv = argv
        if code not in (0, None):
            failed.append(name)
        print(f"=== {name}: {'FAILED' if code not in (0, None) else 'done'} in "
              f"{time.perf_counter() - started:.1f} s ===", flush=True)
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
