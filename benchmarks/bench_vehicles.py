"""Vehicle data collection at the registry's limit: 3 000 plates, 150 ms per request, 20 requests/s.

    .venv/bin/python -m benchmarks.bench_vehicles [--plates 3000] [--latency-ms 150] [--limit 20]

Seeds a register of 3 000 vehicles in a temporary folder and writes a fleet list of N of its plates;
starts the Statens vegvesen stand-in in a server process of its own with `latency_ms` per request
and its own rate limit at `--limit` requests/s (it answers 429 above it, as the registry does); and
runs the whole process (the declared run, flows.kit.declare.run_declared: fleet list, work
items in a fresh SQLite store, the concurrent lookup loop under the definition's rate limit, the
Excel report) in this process, with the definition's rate limit set to the same `--limit`.

Prints the achieved lookup rate (registry requests / seconds of the lookup loop) against the limit
(goal: >= 90 %), how often the registry said 429, and this process's peak memory (goal: <= 500 MB).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

GOAL_SHARE_OF_LIMIT = 0.90
GOAL_PEAK_MB = 500


def _definitions_with_limit(target: Path, limit: float) -> Path:
    """A copy of the process catalogue with the vegvesen rate limit set to `limit` requests/s."""
    import yaml

    from config.settings import DEFAULT_PROCESSES_DIR

    target.mkdir(parents=True, exist_ok=True)
    for path in DEFAULT_PROCESSES_DIR.glob("*.yaml"):
        shutil.copy(path, target / path.name)
    path = target / "vehicle-data-collection.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for rate in data.get("rate_limits", []):
        if rate["system"] == "vegvesen":
            rate["requests_per_second"] = limit
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_vehicles", description=__doc__.splitlines()[0])
    parser.add_argument("--plates", type=int, default=3000)
    parser.add_argument("--latency-ms", type=float, default=150)
    parser.add_argument("--limit", type=float, default=20, help="requests/s: the registry's and the definition's")
    parser.add_argument("--no-priority", action="store_true",
                        help="run the stand-in at normal CPU priority (default: nice -10 when permitted)")
    parser.add_argument("--no-registry-limit", action="store_true",
                        help="diagnosis: the stand-in never answers 429 (only the definition's limit paces)")
    args = parser.parse_args(argv)

    from benchmarks.bench_vegvesen_sandbox import SandboxProcess
    from sandbox.vegvesen.seed import seed

    with tempfile.TemporaryDirectory(prefix="bench-vehicles-") as tmp:
        data_dir = Path(tmp) / "data"
        files = seed(data_dir, seed=42, scale=max(args.plates / 300, 0.1))
        register = json.loads(files["register"].read_text(encoding="utf-8"))["kjoretoy"]
        plates = [s["plate"] for s in register][: args.plates]
        if len(plates) < args.plates:
            print(f"the register holds only {len(plates)} vehicles")
            return 1
        from openpyxl import Workbook

        fleet = data_dir / "bench-kjoretoyliste.xlsx"
        wb = Workbook()
        ws = wb.active
        ws.append(["kjennemerke", "virksomhet", "kilometerstand"])
        for n, plate in enumerate(plates):
            ws.append([f"{plate[:2]} {plate[2:]}", f"Virksomhet {n % 12 + 1}", None])
        wb.save(fleet)

        server = SandboxProcess(data_dir, priority=not args.no_priority)
        try:
            server.faults(latency_ms=args.latency_ms,
                          rate_limit_per_second=None if args.no_registry_limit else args.limit)
            os.environ.update({
                "RPA_PATHS__DATA_DIR": str(data_dir),
                "RPA_PATHS__PROCESSES_DIR": str(_definitions_with_limit(Path(tmp) / "processes", args.limit)),
                "RPA_VEGVESEN__API_BASE_URL": server.url,
                "RPA_VEGVESEN__API_KEY": "sandbox-svv-key",
            })
            os.environ.pop("RPA_DATABASE__URL", None)
            from config.settings import get_settings

            get_settings.cache_clear()
            from flows.kit.declare import run_declared
            from flows.runtime import open_run
            from flows.vehicle_data_collection.declaration import PROCESS

            ctx = open_run("vehicle-data-collection")
            started = time.perf_counter()
            try:
                summary = run_declared(PROCESS, {"fleet": fleet, "period": "2026-T1"}, ctx=ctx)
            finally:
                ctx.store.close()
            total_seconds = time.perf_counter() - started
            server_mb = server.peak_rss_mb()
        finally:
            server.stop()

    f = summary.figures
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    achieved = f["lookup_rate_per_second"]
    share = achieved / args.limit
    rate_ok, memory_ok = share >= GOAL_SHARE_OF_LIMIT, peak_mb <= GOAL_PEAK_MB
    print(f"{len(plates)} plates, {args.latency_ms:g} ms latency, limit {args.limit:g} requests/s "
          f"(rules: {ctx.definition.rate_limit('vegvesen').concurrency} concurrent, safety margin "
          f"{ctx.rules.rate_safety_margin:g}): status {f['status']}, {f['found']} found, "
          f"{f['lookups']} registry requests")
    print(f"lookup loop {f['lookups'] / achieved if achieved else 0:.1f} s, whole run (list, store, Excel) "
          f"{total_seconds:.1f} s; registry 429 answers: {f['rate_limited']}")
    print(f"achieved/limit: {achieved:.2f} / {args.limit:g} requests/s = {share:.1%} "
          f"({'meets' if rate_ok else 'MISSES'} >= {GOAL_SHARE_OF_LIMIT:.0%})")
    print(f"stand-in CPU priority: {'raised (nice -10)' if server.prioritized else 'normal'}")
    print(f"load average during the run (1/5 min, 2 shared cores): {os.getloadavg()[0]:.1f} / {os.getloadavg()[1]:.1f}")
    print(f"peak memory: {peak_mb:.0f} MB in the run's process ({'meets' if memory_ok else 'MISSES'} <= "
          f"{GOAL_PEAK_MB} MB); the stand-in's own process peaked at {server_mb or 0:.0f} MB")
    return 0 if rate_ok and memory_ok and f["status"] == "completed" else 1


if __name__ == "__main__":
    sys.exit(main())
