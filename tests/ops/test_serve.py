"""`rpa serve`: the catalogue's deployments run from one process on this machine (no worker)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from rpa.deployments import PROJECT_ROOT


@pytest.mark.slow
@pytest.mark.prefect
def test_serve_runs_a_deployment_from_the_catalogue(prefect_harness, tmp_path):
    from prefect import get_client
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL

    api = PREFECT_API_URL.value()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update({"RPA_PREFECT__API_URL": api, "RPA_PATHS__DATA_DIR": str(tmp_path / "data"),
                "PREFECT_HOME": str(tmp_path / "prefect-home"), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"})
    # The session's shared Prefect server may hold a worker-pool deployment of the same name from
    # test_deployments; serving upserts by name, so start from none to see what `serve` registers.
    with get_client(sync_client=True) as client:
        for earlier in client.read_deployments():
            if earlier.name == "benefits-report":
                client.delete_deployment(earlier.id)
    log = open(tmp_path / "serve.log", "wb")  # noqa: SIM115 - handed to the child
    serve = subprocess.Popen([sys.executable, "-m", "rpa", "serve", "--process", "benefits-report"],
                             cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 240  # start-up of a Prefect serve process is slow on a loaded 2-core machine
        deployment = None
        while deployment is None and time.monotonic() < deadline:
            assert serve.poll() is None, (tmp_path / "serve.log").read_text()
            with get_client(sync_client=True) as client:
                found = [d for d in client.read_deployments() if d.name == "benefits-report" and not d.work_pool_name]
            deployment = found[0] if found else None
            time.sleep(0.5)
        assert deployment is not None, (tmp_path / "serve.log").read_text()
        [schedule] = deployment.schedules
        assert (schedule.schedule.cron, schedule.schedule.timezone) == ("0 6 1 * *", "Europe/Oslo")
        assert deployment.global_concurrency_limit.limit == 1
        run = run_deployment(name="benefits-report/benefits-report", parameters={"months": 2}, timeout=120)
        assert run.state.is_completed() and run.state_name == "Fullført", (tmp_path / "serve.log").read_text()[-3000:]
        outputs = list((tmp_path / "data" / "output" / "benefits-report").glob("*/gevinstrapport-*.xlsx"))
        assert len(outputs) == 1
    finally:
        os.killpg(serve.pid, signal.SIGINT)
        try:
            serve.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(serve.pid, signal.SIGKILL)
            serve.wait()
        log.close()
    assert PROJECT_ROOT.exists()
