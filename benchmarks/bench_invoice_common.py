"""Shared by the invoice-attachment-upload benchmarks (bench_invoice_api, bench_invoice_web).

Not a benchmark itself: `main()` only says so (make bench runs every bench_*.py module).

A run: seed `seed_bulk` (n open vouchers, n PDFs of `size` bytes, a manifest) in a temporary data
folder, serve the finance stand-in from a uvicorn process of its own (as `rpa sandbox up` does; the
robot and the finance system do not share one interpreter lock), run the flow's plain logic once
through the chosen door, and measure: wall time of the whole run (intake, uploads, verification,
archive with receipts; the work-queue database is created before, as an installed robot's exists),
files per second, and the peak memory (sum of the resident sizes of this process and everything it
started, e.g. Chromium, as proportional set size so shared pages are not counted once per process;
the stand-in's server process is not counted).
Afterwards the finance system's own record must hold exactly one attachment per file.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks._serving import FinanceServer


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry.name}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def _rss_kib(pid: int) -> int:
    """Proportional set size: a page shared by N processes (Chromium's many processes share its
    binary and libraries) counts 1/N in each, so the sum over a process tree is not inflated.
    Falls back to the resident size where smaps_rollup is not available."""
    for path, key in ((f"/proc/{pid}/smaps_rollup", "Pss:"), (f"/proc/{pid}/status", "VmRSS:")):
        try:
            for line in Path(path).read_text().splitlines():
                if line.startswith(key):
                    return int(line.split()[1])
        except OSError:
            continue
    return 0


class PeakMemory:
    """Samples the resident memory of this process and its descendants (minus `exclude`)."""

    def __init__(self, exclude: set[int], every: float = 0.5):
        self.exclude = exclude
        self.peak_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(every,), daemon=True)

    def _sample(self) -> int:
        tree = _children()
        total, todo = 0, [os.getpid()]
        while todo:
            pid = todo.pop()
            if pid in self.exclude:
                continue
            total += _rss_kib(pid)
            todo.extend(tree.get(pid, []))
        return total

    def _run(self, every: float) -> None:
        while not self._stop.wait(every):
            self.peak_kib = max(self.peak_kib, self._sample())

    def __enter__(self) -> PeakMemory:
        self.peak_kib = self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.peak_kib = max(self.peak_kib, self._sample())


@dataclass
class Figures:
    door: str
    files: int
    seconds: float
    uploaded: int
    peak_mib: float
    consistent: bool
    load: float
    client_cpu_ms: float = 0.0  # per file, this process (and its children)
    server_cpu_ms: float = 0.0  # per file, the finance stand-in
    concurrency: int = 0  # uploads in flight (API door)

    @property
    def rate(self) -> float:
        return self.files / self.seconds if self.seconds else 0.0


def run_benchmark(door: str, files: int, size: int, *, api_concurrency: int | None = None,
                  web_contexts: int | None = None) -> Figures:
    import yaml

    from config.settings import BrowserSettings, DatabaseSettings, FinanceSettings, PathSettings, Settings
    from flows.invoice_attachment_upload.declaration import PROCESS
    from flows.kit.declare import run_declared
    from sandbox.finance.seed import seed_bulk
    from workqueue.store import WorkQueueStore

    with tempfile.TemporaryDirectory(prefix=f"bench-invoice-{door}-") as tmp:
        data_dir = Path(tmp)
        print(f"seeding {files} PDFs of {size} bytes ...", flush=True)
        seed_bulk(data_dir, n=files, size=size)
        processes = data_dir / "processes"  # the definition, with this benchmark's concurrency
        shutil.copytree(PathSettings().processes_dir, processes)
        definition = yaml.safe_load((processes / f"{PROCESS.process_id}.yaml").read_text(encoding="utf-8"))
        definition["rules"].update({k: v for k, v in (("api_concurrency", api_concurrency),
                                                      ("web_contexts", web_contexts)) if v})
        (processes / f"{PROCESS.process_id}.yaml").write_text(yaml.safe_dump(definition, allow_unicode=True),
                                                              encoding="utf-8")
        concurrency = definition["rules"].get("api_concurrency", 8)
        server = FinanceServer(data_dir)
        try:
            finance = FinanceSettings(api_base_url=f"{server.url}/api", token_url=f"{server.url}/oauth/token",
                                      web_base_url=server.url)
            settings = Settings(paths=PathSettings(data_dir=data_dir, processes_dir=processes), finance=finance,
                                database=DatabaseSettings(url=f"sqlite:///{data_dir / 'workqueue.db'}"),
                                browser=BrowserSettings(trace_on_failure=True))
            # An installed robot's work queue exists; creating and migrating a new one (alembic
            # and its imports: ~0.6 s wall) is installation, not part of a run.
            WorkQueueStore.from_settings(settings).close()
            load = os.getloadavg()[0]
            print(f"running through the {door} door (load average {load:.1f}) ...", flush=True)
            with PeakMemory(exclude={server.proc.pid}) as memory:
                server_cpu0, client_cpu0 = server.cpu_seconds(), _cpu()
                t0 = time.perf_counter()
                summary = run_declared(PROCESS, {"via": door}, settings=settings).to_dict()
                seconds = time.perf_counter() - t0
                server_cpu, client_cpu = server.cpu_seconds() - server_cpu0, _cpu() - client_cpu0
            record = server.attachments()
            consistent = (len(record) == files and len({(a["voucherNumber"], a["sha256"]) for a in record}) == files
                          and summary["uploaded"] == files)
            per_file = 1000 / max(summary["files"], 1)
            return Figures(door, summary["files"], seconds, summary["uploaded"], memory.peak_kib / 1024, consistent,
                           load, client_cpu * per_file, server_cpu * per_file, concurrency)
        finally:
            server.stop()


def run_naive(files: int, size: int, threads: int) -> Figures:
    """The floor: what a plain script would do with the same files and the same threads: read
    each file and POST it, nothing else (no intake checks, no work items or journal, no lookup,
    no verification, no archive, no receipts). Same seed, a fresh stand-in of its own."""
    import csv

    import requests

    from config.settings import FinanceSettings
    from sandbox.finance.seed import seed_bulk

    with tempfile.TemporaryDirectory(prefix="bench-invoice-naive-") as tmp:
        data_dir = Path(tmp)
        written = seed_bulk(data_dir, n=files, size=size)
        with written["manifest"].open(encoding="utf-8", newline="") as f:
            jobs = [(row["bilagsnummer"], written["inbox"] / row["filnavn"]) for row in csv.DictReader(f, delimiter=";")]
        server = FinanceServer(data_dir)
        try:
            fin = FinanceSettings()
            token = requests.post(f"{server.url}/oauth/token", data={
                "grant_type": "client_credentials", "client_id": fin.client_id,
                "client_secret": fin.client_secret.get_secret_value()}, timeout=30).json()["access_token"]
            lock = threading.Lock()
            todo = iter(jobs)
            failures: list[str] = []

            def worker() -> None:
                session = requests.Session()
                session.headers["Authorization"] = f"Bearer {token}"
                while True:
                    with lock:
                        job = next(todo, None)
                    if job is None:
                        return
                    nr, path = job
                    r = session.post(f"{server.url}/api/vouchers/{nr}/attachments", timeout=120,
                                     files={"file": (path.name, path.read_bytes(), "application/pdf")},
                                     data={"documentType": "Underbilag", "comment": ""})
                    if r.status_code != 201:
                        with lock:
                            failures.append(f"{path.name}: {r.status_code}")

            load = os.getloadavg()[0]
            pool = [threading.Thread(target=worker) for _ in range(threads)]
            server_cpu0, client_cpu0 = server.cpu_seconds(), _cpu()
            t0 = time.perf_counter()
            for t in pool:
                t.start()
            for t in pool:
                t.join()
            seconds = time.perf_counter() - t0
            server_cpu, client_cpu = server.cpu_seconds() - server_cpu0, _cpu() - client_cpu0
            record = server.attachments()
            consistent = not failures and len(record) == files
            return Figures("naive", files, seconds, files - len(failures), 0.0, consistent, load,
                           client_cpu * 1000 / files, server_cpu * 1000 / files, threads)
        finally:
            server.stop()


def _cpu() -> float:
    """CPU seconds of this process plus its waited-for children (Chromium is counted for the web
    door once it has exited)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def report(figures: Figures, goal: float) -> int:
    print(f"door:            {figures.door}")
    print(f"files:           {figures.files} ({figures.uploaded} uploaded)")
    print(f"wall time:       {figures.seconds:.1f} s (intake, upload, verify, archive with receipts)")
    print(f"throughput:      {figures.rate:.1f} files/s")
    print(f"goal:            {goal:g} files/s  ratio {figures.rate / goal:.2f}")
    print(f"peak memory:     {figures.peak_mib:.0f} MiB (PSS of this process and its children)")
    print(f"CPU per file:    robot {figures.client_cpu_ms:.1f} ms, finance stand-in {figures.server_cpu_ms:.1f} ms")
    print(f"load average:    {figures.load:.1f} at the start (2 shared cores)")
    print(f"finance record:  {'consistent: one attachment per file' if figures.consistent else 'INCONSISTENT'}")
    return 0 if figures.consistent else 1


def main() -> int:
    print("helpers for bench_invoice_api and bench_invoice_web; nothing to measure here")
    return 0


if __name__ == "__main__":
    sys.exit(main())
