"""Where the suite's time goes, per test phase: wall seconds, this process's CPU seconds and the
CPU seconds of reaped child processes (subprocess CLIs, servers). Opt-in, for measuring only:

    .venv/bin/python -m pytest -p tests.timing_plugin ...      # writes $RPA_TEST_TIMINGS (JSON lines)

CPU seconds do not depend on the neighbours' load the way wall seconds do, so on a shared machine
they say more about what a test costs. Not loaded by `make test`.
"""

from __future__ import annotations

import json
import os
import resource
import time

import pytest

_OUT = os.environ.get("RPA_TEST_TIMINGS", "test-timings.jsonl")


def _now() -> tuple[float, float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.perf_counter(), own.ru_utime + own.ru_stime, kids.ru_utime + kids.ru_stime


def _record(item: pytest.Item, phase: str, start: tuple[float, float, float]) -> None:
    end = _now()
    row = {"nodeid": item.nodeid, "phase": phase, "wall": round(end[0] - start[0], 3),
           "cpu": round(end[1] - start[1], 3), "child_cpu": round(end[2] - start[2], 3),
           "worker": os.environ.get("PYTEST_XDIST_WORKER", "main"), "load1": os.getloadavg()[0]}
    with open(_OUT, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(row) + "\n")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item):
    start = _now()
    yield
    _record(item, "setup", start)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    start = _now()
    yield
    _record(item, "call", start)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item):
    start = _now()
    yield
    _record(item, "teardown", start)
