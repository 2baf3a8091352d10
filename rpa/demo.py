"""`rpa demo`: everything up on one machine, each process run once through Prefect, then wait.

Steps (each printed with its elapsed time):
 1. the work-item store (SQLite under the data folder) and a local Prefect server (SQLite under
    <data>/prefect), started as a child process with this project's server settings;
 2. the sandbox systems (NAV/Altinn, Statens vegvesen, finance) seeded from a fixed seed;
 3. the deployments from the process catalogue, a process worker on the work pool;
 4. one run of every process through that server (run_deployment): the three processes first,
    then the benefits report over their history, then the SLA monitor;
 5. the review app with a demo reviewer whose password is printed once;
 6. a table of results and the URLs; then it waits (scheduled runs keep running) until Ctrl-C,
    and stops everything it started. `--no-wait` stops right after the table (tests, CI).
"""

from __future__ import annotations

import contextlib
import secrets
import shutil
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from config.settings import Settings, get_settings
from rpa.deployments import PROJECT_ROOT, register, specs_from_catalogue
from rpa.prefect_server import PrefectServer, api_healthy, client_settings, prefect_env, start_worker

# Housekeeping flows run after the processes they report on.
RUN_LAST = ("benefits-report", "sla-monitor", "retention")
FINAL_STATES = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}
DEMO_USER = "hr"


@dataclass
class RunOutcome:
    process_id: str
    flow_run_id: str
    state: str = "SCHEDULED"
    state_name: str = ""
    message: str = ""
    seconds: float = 0.0
    cases: int | None = None
    automated: int | None = None
    straight_through: float | None = None
    outputs: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.state == "COMPLETED"


@dataclass
class DemoResult:
    outcomes: list[RunOutcome]
    urls: dict[str, str]
    review_user: str | None
    review_password: str | None
    skipped: list[str]

    @property
    def ok(self) -> bool:
        return bool(self.outcomes) and all(o.ok for o in self.outcomes)


class Demo:
    def __init__(self, settings: Settings | None = None, echo: Callable[[str], None] = print,
                 processes: list[str] | None = None, run_timeout: float = 900.0):
        self.settings = settings or get_settings()
        self.echo = echo
        self.processes = processes
        self.run_timeout = run_timeout
        self.started = time.monotonic()
        self.stack = contextlib.ExitStack()
        self.urls: dict[str, str] = {}

    def step(self, text: str) -> None:
        self.echo(f"[{time.monotonic() - self.started:6.1f} s] {text}")

    # ------------------------------------------------------------------ phases

    def reset(self) -> None:
        """Remove what earlier demos left in the data folder (store, Prefect home, data sets, outputs)."""
        data = self.settings.paths.data_dir
        for name in ("workqueue.db", "workqueue.db-wal", "workqueue.db-shm"):
            (data / name).unlink(missing_ok=True)
        for name in ("prefect", "sandbox", "input", "output", "ground_truth", "archive", "quarantine"):
            shutil.rmtree(data / name, ignore_errors=True)
        self.step(f"reset {data.resolve()}")

    def start_store(self):
        from workqueue.store import WorkQueueStore

        self.settings.paths.data_dir.mkdir(parents=True, exist_ok=True)
        store = WorkQueueStore.from_settings(self.settings)
        self.stack.callback(store.close)
        earlier = len(store.runs())
        self.step(f"work-item store ready: {self.settings.database_url.split('@')[-1]}"
                  + (f" ({earlier} earlier runs; `rpa demo --reset` starts afresh)" if earlier else ""))
        return store

    def launch_prefect(self) -> PrefectServer | None:
        """Start the server in the background (it migrates its database meanwhile); None if one
        already answers at the configured URL."""
        api = self.settings.prefect.api_url
        if api_healthy(api):
            self.step(f"a Prefect server already answers at {api}: using it")
            return None
        self.step(f"starting the Prefect server (home {self.settings.prefect_home}) …")
        server = PrefectServer.from_settings(self.settings).launch()
        self.stack.callback(self._stop, "Prefect server", server.stop)
        return server

    def wait_prefect(self, server: PrefectServer | None) -> str:
        api = self.settings.prefect.api_url
        if server is not None:
            server.wait(timeout=300)
            self.step(f"Prefect server up: {self.settings.prefect.ui_url} (pid {server.child.pid}, "
                      f"log {server.log_file})")
        self.stack.enter_context(client_settings(api, self.settings.prefect.ui_url))
        self.urls["Prefect UI"] = self.settings.prefect.ui_url
        return api

    def start_sandbox(self) -> None:
        from sandbox.cli import seed_all, start_sandbox

        self.step(f"seeding the sandbox data sets (seed {self.settings.sandbox.seed}, "
                  f"scale {self.settings.sandbox.scale}) …")
        written = seed_all(self.settings)
        self.step(f"seeded {len(written)} files")
        servers = start_sandbox(self.settings)
        for server in servers:
            self.stack.callback(self._stop, f"sandbox {server.name}", server.stop)
            self.urls[f"Sandbox {server.name}"] = server.url
        self.step("sandbox up: " + ", ".join(f"{s.name} {s.url}" for s in servers))

    def deploy(self):
        specs, skipped = specs_from_catalogue(self.settings, self.processes)
        for pid in skipped:
            self.step(f"skipping {pid}: no flow package yet (flows/{pid.replace('-', '_')}/flow.py)")
        registered = register(specs)
        self.step(f"deployed {len(registered)} processes to work pool {self.settings.prefect.work_pool!r}")
        return registered, skipped

    def start_worker(self) -> None:
        env = prefect_env(self.settings)
        log = self.settings.prefect_home / "worker-demo.log"
        worker = start_worker(env, self.settings.prefect.work_pool, "demo-worker", log, limit=4,
                              poll_seconds=2, cwd=PROJECT_ROOT)
        self.stack.callback(self._stop, "worker", worker.stop)
        self.step(f"process worker started (pid {worker.pid}, log {log})")

    def run_all(self, registered) -> list[RunOutcome]:
        """The processes together, then the housekeeping flows together (the benefits report
        reads the processes' runs; the SLA monitor looks at their cases and states)."""
        first = [r for r in registered if r.spec.process_id not in RUN_LAST]
        last = sorted((r for r in registered if r.spec.process_id in RUN_LAST),
                      key=lambda r: RUN_LAST.index(r.spec.process_id))
        return self._run_batch(first) + self._run_batch(last)

    def _run_batch(self, registered) -> list[RunOutcome]:
        from prefect.deployments import run_deployment

        outcomes = []
        for r in registered:
            run = run_deployment(name=r.full_name, timeout=0, tags=["demo"])
            outcomes.append(RunOutcome(r.spec.process_id, str(run.id)))
            self.step(f"started {r.spec.process_id} (flow run {run.name})")
        self._wait(outcomes)
        return outcomes

    def _wait(self, outcomes: list[RunOutcome]) -> None:
        from prefect import get_client

        t0 = time.monotonic()
        pending = {o.flow_run_id: o for o in outcomes}
        with get_client(sync_client=True) as client:
            while pending:
                for run_id, o in list(pending.items()):
                    run = client.read_flow_run(run_id)
                    o.state = run.state_type.value if run.state_type else "UNKNOWN"
                    o.state_name = run.state_name or o.state
                    if o.state in FINAL_STATES:
                        o.message = (run.state.message or "") if run.state else ""
                        o.seconds = time.monotonic() - t0
                        del pending[run_id]
                        self.step(f"{o.process_id}: {o.state_name} after {o.seconds:.0f} s")
                if pending and time.monotonic() - t0 > self.run_timeout:
                    for o in pending.values():
                        o.message = f"not finished after {self.run_timeout:.0f} s (state {o.state_name})"
                    break
                if pending:
                    time.sleep(1.0)

    def collect(self, store, outcomes: list[RunOutcome]) -> None:
        """Counts and report paths from the store's run records (written by the flows)."""
        by_flow_run = {r.flow_run_id: r for r in store.runs() if r.flow_run_id}
        for o in outcomes:
            run = by_flow_run.get(o.flow_run_id)
            if run is None:
                continue
            o.cases, o.automated = run.cases_total, run.cases_automated
            o.straight_through = (run.summary or {}).get("straight_through_rate") if run.cases_total else None
            o.outputs = dict((run.summary or {}).get("outputs") or {})

    def start_review(self, store) -> tuple[str | None, str | None]:
        try:
            from review import auth
            from review.app import create_app
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.startswith("review"):
                self.step("review app not installed: skipped")
                return None, None
            raise
        from sqlalchemy import select

        from sandbox.server import start_in_thread
        from workqueue.models import ExceptionCase

        with store.session() as s:
            units = {u for u in s.scalars(select(ExceptionCase.org_unit).distinct()) if u}
        from flows.registry import catalogue

        units |= {d.owner.org_unit for d in catalogue(self.settings).values()}
        password = secrets.token_urlsafe(12)
        existing = {u.username for u in auth.list_users(store)}
        if DEMO_USER in existing:
            auth.update_user(store, DEMO_USER, role="reviewer", org_units=sorted(units), processes=[],
                             actor="demo")
            auth.set_password(store, DEMO_USER, password, actor="demo")
        else:
            auth.add_user(store, DEMO_USER, "reviewer", password, org_units=sorted(units),
                          full_name="Demo saksbehandler", actor="demo")
        review = self.settings.review
        try:
            server = start_in_thread(create_app(self.settings, store), review.host, review.port, name="review")
        except RuntimeError as exc:  # port taken: the runs and reports are still worth showing
            self.step(f"review app not started: {exc}")
            return None, None
        self.stack.callback(self._stop, "review app", server.stop)
        self.urls["Review app (avvikskø)"] = server.url
        self.step(f"review app up: {server.url} (user {DEMO_USER!r}, {len(units)} org units)")
        return DEMO_USER, password

    def _stop(self, what: str, stop: Callable[[], Any]) -> None:
        try:
            stop()
            self.echo(f"stopped {what}")
        except Exception as exc:  # noqa: BLE001 - keep stopping the rest
            self.echo(f"could not stop {what} cleanly: {exc}")

    # ------------------------------------------------------------------ all of it

    def run(self, wait: bool = True, reset: bool = False) -> DemoResult:
        with self.stack:
            if reset:
                self.reset()
            store = self.start_store()
            server = self.launch_prefect()
            self.start_sandbox()  # seeding overlaps with the server's start-up
            self.wait_prefect(server)
            registered, skipped = self.deploy()
            self.start_worker()
            outcomes = self.run_all(registered)
            self.collect(store, outcomes)
            user, password = self.start_review(store)
            result = DemoResult(outcomes, dict(self.urls), user, password, skipped)
            self.print_result(result)
            if wait:
                self.wait_for_interrupt()
            self.echo("stopping …")
        self.step("everything stopped")
        return result

    def print_result(self, result: DemoResult) -> None:
        e = self.echo
        e("")
        e(f"{'process':28} {'state':11} {'cases':>7} {'auto':>7} {'straight-through':>16}")
        for o in result.outcomes:
            stp = f"{o.straight_through:.1%}" if o.straight_through is not None else "-"
            e(f"{o.process_id:28} {o.state_name:11} {_n(o.cases):>7} {_n(o.automated):>7} {stp:>16}")
            if o.message and not o.ok:
                e(f"    {o.message[:300]}")
        e("")
        e("Reports:")
        for o in result.outcomes:
            for name, path in o.outputs.items():
                e(f"  {o.process_id:26} {name}: {path}")
        e("")
        for name, url in result.urls.items():
            e(f"{name:24} {url}")
        if result.review_user:
            e(f"{'Review log-in':24} user {result.review_user!r}, password {result.review_password}  (shown once)")
        e(f"{'Data folder':24} {self.settings.paths.data_dir.resolve()}")
        e("")

    def wait_for_interrupt(self) -> None:
        self.echo("Scheduled runs keep running. Press Ctrl-C to stop everything.")
        previous = signal.signal(signal.SIGTERM, _raise_interrupt)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            self.echo("")
        finally:
            signal.signal(signal.SIGTERM, previous)


def isolated_env(data_dir, extra: dict[str, str] | None = None) -> dict[str, str]:
    """RPA_* variables that put a whole demo (Prefect server, sandbox, review app) on free ports
    and under `data_dir`: a second demo next to a running one, tests and benchmarks."""
    from sandbox.server import free_port

    prefect, nav, vegvesen, finance, review, maskinporten = (free_port() for _ in range(6))
    env = {
        "RPA_PATHS__DATA_DIR": str(data_dir),
        "RPA_PREFECT__API_URL": f"http://127.0.0.1:{prefect}/api",
        "RPA_PREFECT__UI_URL": f"http://127.0.0.1:{prefect}",
        "RPA_SANDBOX__NAV_PORT": str(nav),
        "RPA_SANDBOX__VEGVESEN_PORT": str(vegvesen),
        "RPA_SANDBOX__FINANCE_PORT": str(finance),
        "RPA_SANDBOX__MASKINPORTEN_PORT": str(maskinporten),
        "RPA_MASKINPORTEN__ISSUER": f"http://127.0.0.1:{maskinporten}/",
        "RPA_NAV__API_BASE_URL": f"http://127.0.0.1:{nav}",
        "RPA_NAV__ALTINN_URL": f"http://127.0.0.1:{nav}/altinn",
        "RPA_VEGVESEN__API_BASE_URL": f"http://127.0.0.1:{vegvesen}",
        "RPA_VEGVESEN__WEB_BASE_URL": f"http://127.0.0.1:{vegvesen}/kjoretoy",
        "RPA_FINANCE__API_BASE_URL": f"http://127.0.0.1:{finance}/api",
        "RPA_FINANCE__TOKEN_URL": f"http://127.0.0.1:{finance}/oauth/token",
        "RPA_FINANCE__WEB_BASE_URL": f"http://127.0.0.1:{finance}",
        "RPA_REVIEW__PORT": str(review),
        "RPA_REVIEW__PUBLIC_URL": f"http://127.0.0.1:{review}",
    }
    env.update(extra or {})
    return env


def _raise_interrupt(*_: Any) -> None:
    raise KeyboardInterrupt


def _n(value: int | None) -> str:
    return "-" if value is None else str(value)


def run_demo(settings: Settings | None = None, wait: bool = True, reset: bool = False,
             processes: list[str] | None = None, echo: Callable[[str], None] = print) -> DemoResult:
    return Demo(settings, echo=echo, processes=processes).run(wait=wait, reset=reset)
