"""The demo: `rpa demo` on free ports in a fresh data folder brings everything up, runs every
process once through a Prefect server and a process worker, prints the results, reports and URLs,
waits, and on Ctrl-C stops everything it started."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from rpa.demo import isolated_env
from rpa.deployments import PROJECT_ROOT

MAIN_PROCESSES = ["nav-refund-offsetting", "vehicle-data-collection", "invoice-attachment-upload"]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purpose.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


@pytest.mark.slow
@pytest.mark.prefect
def test_demo_runs_every_process_waits_and_ctrl_c_stops_everything(tmp_path):
    """`rpa demo` as a person runs it: every process once, the table, then the wait; Ctrl-C
    (SIGINT) stops the worker, the review app, the sandbox and the Prefect server, and the command
    exits 0. (One demo for both ends: each start is a Prefect server, a worker and flow-run
    processes, ~35 CPU s even for one process; `--no-wait` differs only in skipping the wait,
    test_no_wait_skips_only_the_wait below.)"""
    import signal
    import time

    data = tmp_path / "data"
    env = {**os.environ, **isolated_env(data)}
    env.pop("PREFECT_API_URL", None)
    env.pop("PREFECT_HOME", None)
    log = tmp_path / "demo.log"
    # The demo must get Ctrl-C as a person's terminal gives it, even when this test run was started
    # with SIGINT ignored (a background job of a non-interactive shell: the child would inherit the
    # ignore, never stop, and leave its Prefect server and worker running). A handler, unlike an
    # ignore, is not inherited: the demo starts with Python's own.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with open(log, "wb") as sink:
            proc = subprocess.Popen([sys.executable, "-m", "rpa", "demo"], cwd=tmp_path, env=env, stdout=sink,
                                    stderr=subprocess.STDOUT)
    finally:
        signal.signal(signal.SIGINT, previous)
    try:
        deadline = time.monotonic() + 900  # hang guard only
        while "Press Ctrl-C" not in log.read_text(errors="replace"):
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=300) == 0, log.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    out = log.read_text(errors="replace")

    # Every process of the catalogue ran once through Prefect and completed.
    from workqueue.store import WorkQueueStore

    catalogue_ids = sorted(p.stem for p in (PROJECT_ROOT / "config" / "processes").glob("*.yaml"))
    table = dict(re.findall(r"^(\S+)\s+(Completed|Failed|Crashed|Cancelled|Running|Scheduled)\b", out, re.M))
    assert set(MAIN_PROCESSES) <= set(table), out
    assert table == {pid: "Completed" for pid in catalogue_ids}, out

    store = WorkQueueStore(f"sqlite:///{data / 'workqueue.db'}")
    runs: dict[str, list] = {}
    for r in store.runs():
        runs.setdefault(r.process_id, []).append(r)
    for pid in catalogue_ids:
        # The demo's own run: completed, through Prefect, its reports on disk and named in the output.
        # (A schedule may tick during the demo, e.g. invoices every half hour: a run of its own.)
        shown = [r for r in runs[pid] if r.status == "completed" and r.flow_run_id
                 and all(Path(p).exists() and f"{p}" in out for p in (r.summary or {}).get("outputs", {}).values())]
        assert shown, (pid, [(r.run_id, r.status, r.flow_run_id) for r in runs[pid]])
    assert runs["benefits-report"][0].summary["outputs"]
    store.close()

    # The URLs printed are the ones the demo was given; the reviewer's password is shown once.
    assert f"Prefect UI               {env['RPA_PREFECT__UI_URL']}" in out
    assert f"Review app (avvikskø)    {env['RPA_REVIEW__PUBLIC_URL']}" in out
    assert re.search(r"Review log-in\s+user 'hr', password \S{12,}", out)
    # The Prefect server wants a log-in: generated, shown once, kept for later commands.
    login = (data / "prefect" / "auth_string").read_text().strip()
    assert out.count(login) == 1 and f"Prefect UI log-in        {login}  (shown once" in out

    # The shadow pilot: NAV in shadow, its agreement report, a refused and a granted promotion.
    report = re.search(r"^  agreement report\s+(\S+)$", out, re.M)
    assert report and Path(report.group(1)).is_file(), out
    assert re.search(r"^  promotion refused\s+.*shadow\.max_unsigned_money_disagreements", out, re.M), out
    assert re.search(r"^  promotion granted\s+.*satt i drift", out, re.M), out

    # Ctrl-C stopped everything it started, and nothing is left running.
    for what in ("worker", "review app", "Prefect server"):
        assert f"stopped {what}" in out
    assert "everything stopped" in out
    pids = [int(p) for p in re.findall(r"\(pid (\d+)", out)]
    assert len(pids) == 2, out  # the Prefect server and the worker
    assert not [p for p in pids if _alive(p)]


@pytest.mark.parametrize("wait", [True, False])
def test_no_wait_skips_only_the_wait(wait, monkeypatch):
    """`rpa demo --no-wait` (CI, benchmarks/bench_ops_demo.py) does every step of the demo above
    and stops right after the table instead of waiting for Ctrl-C."""
    from rpa.demo import Demo

    steps: list[str] = []
    demo = Demo(echo=lambda text="": None)
    for name in ("start_store", "launch_prefect", "start_sandbox", "wait_prefect", "start_worker", "collect",
                 "shadow_pilot", "print_result", "wait_for_interrupt"):
        monkeypatch.setattr(demo, name, lambda *a, _name=name, **k: steps.append(_name))
    monkeypatch.setattr(demo, "deploy", lambda: steps.append("deploy") or ([], []))
    monkeypatch.setattr(demo, "run_all", lambda registered: steps.append("run_all") or [])
    monkeypatch.setattr(demo, "start_review", lambda store: steps.append("start_review") or ("hr", "x"))
    monkeypatch.setattr(demo, "step", steps.append)
    demo.run(wait=wait)
    everything = ["start_store", "launch_prefect", "start_sandbox", "wait_prefect", "deploy", "start_worker",
                  "run_all", "collect", "shadow_pilot", "start_review", "print_result"]
    assert steps == everything + (["wait_for_interrupt"] if wait else []) + ["everything stopped"]
