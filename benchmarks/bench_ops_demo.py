"""The demo from a fresh copy of the project: installation + `rpa demo --no-wait`, timed.

    .venv/bin/python -m benchmarks.bench_ops_demo [--no-install] [--keep]

Copies the working tree (tracked and untracked files, no .venv, no data) to a temporary
folder, runs `make setup` there (a new virtual environment from constraints.txt; the local
wheel mirror answers pip), then `.venv/bin/rpa demo --no-wait` on free ports in a fresh data
folder, and prints the time of each phase, the demo's own step times, and the ratio of the
total to the 10-minute goal. `--no-install` runs the demo with this checkout's environment.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOAL_SECONDS = 600


def copy_tree(dest: Path) -> int:
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, check=True,
                           capture_output=True, text=True).stdout.splitlines()
    n = 0
    for rel in files:
        if rel.startswith((".venv/", "data/")):
            continue
        src = ROOT / rel
        if not src.is_file():
            continue
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, target)
        n += 1
    return n


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-install", action="store_true", help="Use this checkout's .venv; skip `make setup`.")
    parser.add_argument("--keep", action="store_true", help="Keep the temporary copy (prints where).")
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    from rpa.demo import isolated_env

    tmp = Path(tempfile.mkdtemp(prefix="rpa-demo-bench-"))
    timings: dict[str, float] = {}
    try:
        if args.no_install:
            project, python = ROOT, ROOT / ".venv" / "bin" / "python"
        else:
            project = tmp / "project"
            t = time.perf_counter()
            n = copy_tree(project)
            timings["copy"] = time.perf_counter() - t
            print(f"copied {n} files to {project}", flush=True)
            t = time.perf_counter()
            setup = subprocess.run(["make", "setup"], cwd=project, capture_output=True, text=True)
            timings["install (make setup)"] = time.perf_counter() - t
            if setup.returncode != 0:
                print(setup.stdout[-3000:], setup.stderr[-3000:], sep="\n", file=sys.stderr)
                return 1
            python = project / ".venv" / "bin" / "python"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "RPA_"))}
        env.update(isolated_env(tmp / "data"))
        t = time.perf_counter()
        demo = subprocess.run([str(python), "-m", "rpa", "demo", "--no-wait"], cwd=tmp, env=env,
                              capture_output=True, text=True, timeout=1800)
        timings["demo (rpa demo --no-wait)"] = time.perf_counter() - t
        print(demo.stdout, flush=True)
        if demo.returncode != 0:
            print(demo.stderr[-3000:], file=sys.stderr)
        total = sum(timings.values())
        print("phase                              seconds")
        for name, seconds in timings.items():
            print(f"{name:34} {seconds:7.1f}")
        print(f"{'total':34} {total:7.1f}")
        key = re.compile(r"Prefect server up|seeded|deployed|: (Completed|Failed|Crashed)|everything stopped")
        steps = [(at, text) for at, text in re.findall(r"\[\s*([\d.]+) s\] (.*)", demo.stdout) if key.search(text)]
        for at, text in steps:
            print(f"  demo step at {float(at):6.1f} s: {text[:70]}")
        print(f"ratio total / 10-minute goal: {total / GOAL_SECONDS:.2f} "
              f"({'within' if total <= GOAL_SECONDS else 'OVER'} the goal)")
        return demo.returncode
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
