"""What an operator sees in Prefect: run logs without personal data, also Prefect's own lines
(a failed task's exception and traceback)."""

from __future__ import annotations

import contextlib

import pytest

FNR = "01018012345"


@pytest.mark.prefect
def test_prefect_run_logs_are_scrubbed(prefect_harness):
    from prefect import flow, get_client, task
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
    from prefect.logging import get_run_logger
    from prefect.logging.handlers import APILogWorker
    from prefect.runtime import flow_run

    from flows.runtime import scrub_prefect_logs

    @task(retries=0)
    def bad_line() -> None:
        raise ValueError(f"kan ikke lese linjen for {FNR}")

    @flow(name="scrub-test")
    def scrub_test() -> str:
        scrub_prefect_logs()
        get_run_logger().info("behandler %s", FNR)
        with contextlib.suppress(ValueError):
            bad_line()
        return str(flow_run.id)

    run_id = scrub_test()
    APILogWorker.drain_all(timeout=10)
    with get_client(sync_client=True) as client:
        logs = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run_id])))
    text = "\n".join(log.message for log in logs)
    assert "behandler 010180*****" in text
    assert "kan ikke lese linjen for 010180*****" in text  # Prefect's own failure line, traceback included
    assert FNR not in text
