"""Shared fixtures. Area fixtures live in tests/fixtures/<area>.py (loaded when present)."""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
import uuid
from pathlib import Path

import pytest

_FIXTURES = Path(__file__).parent / "fixtures"
pytest_plugins = sorted(f"tests.fixtures.{p.stem}" for p in _FIXTURES.glob("*.py") if p.stem != "__init__")

# Prefect's home (profiles, and its SQLite database if a test ever falls back to an ephemeral
# server) per test run, never ~/.prefect: two xdist workers, or another checkout's run, would share
# one database file. Set before any test module imports prefect; the session harness
# (tests/fixtures/prefect.py) gives its server a home of its own as before.
os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix="rpa-test-prefect-home-")
atexit.register(shutil.rmtree, os.environ["PREFECT_HOME"], True)

PG_URL = os.environ.get("RPA_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _xdist_loadgroup(config) -> bool:
    # xdist's workers see "--dist loadgroup" as option.loadgroup (their option.dist is "no")
    return bool(getattr(config.option, "loadgroup", False) or getattr(config.option, "dist", "no") == "loadgroup")


def pytest_itemcollected(item):
    """`make test` runs the suite on two pytest-xdist workers (`-n 2 --dist loadgroup`). Every
    test that uses the session's Prefect test server goes to one worker (group "prefect"), so the
    server starts once per run, not once per worker (a start is 12-14 s and its background
    services cost CPU for the rest of the session); every other test goes to whichever worker is
    free. Marked as each test is collected, before xdist reads the groups. Without xdist
    (`python -m pytest tests/...`) nothing changes."""
    if _xdist_loadgroup(item.config) and "prefect_harness" in getattr(item, "fixturenames", ()):
        item.add_marker(pytest.mark.xdist_group("prefect"))


def _join_group(item, group: str) -> None:
    """xdist's loadgroup scheduler reads a test's group from its node id ("<nodeid>@<group>").
    pytest-xdist 3.8.0 writes that suffix into `item._nodeid`, which pytest 9.2 no longer reads
    (the node id comes from `item._id`, a NodeId), so the group was silently ignored (checked:
    the harness tests ran on gw0 and gw1). Write it where this pytest reads it."""
    if item.nodeid.endswith(f"@{group}"):  # an xdist/pytest pair that does it itself
        return
    node_id = getattr(item, "_id", None)
    if node_id is not None and hasattr(type(node_id), "parse"):
        item._id = type(node_id).parse(f"{item.nodeid}@{group}")
    else:
        item._nodeid = f"{item.nodeid}@{group}"


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """Under xdist the long tests (marked slow, then browser) are handed out first, so the run
    does not end with one worker busy on a crash loop while the other waits. On a worker, each
    grouped test's node id carries its group for the controller's scheduler (after xdist's own
    hook, hence trylast)."""
    if not _xdist_loadgroup(config):
        return
    items.sort(key=lambda item: 0 if item.get_closest_marker("slow") else 1 if item.get_closest_marker("browser")
               else 2)
    if hasattr(config, "workerinput"):
        for item in items:
            groups = {str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
                      for mark in item.iter_markers("xdist_group")}
            if groups:
                _join_group(item, "_".join(sorted(groups)))  # as xdist names a test with several groups


@pytest.fixture(scope="session", autouse=True)
def _isolated_settings(tmp_path_factory):
    """Every test session writes under its own data folder, never ./data."""
    data_dir = tmp_path_factory.mktemp("rpa-data")
    os.environ["RPA_PATHS__DATA_DIR"] = str(data_dir)
    os.environ.pop("RPA_DATABASE__URL", None)
    from config.settings import get_settings

    get_settings.cache_clear()
    yield data_dir
    get_settings.cache_clear()


@pytest.fixture(autouse=True)
def _prefect_console_on_the_live_stream():
    """Prefect's console log handler keeps the stderr of the moment Prefect configured logging. If
    that was a CliRunner's stream (closed since), a later log line prints "--- Logging error ---"
    into another test's CLI output. Point it at the live stderr before each test."""
    if "prefect" in sys.modules:
        import logging

        from prefect.logging.handlers import PrefectConsoleHandler

        for ref in list(logging._handlerList):  # every handler logging knows of
            handler = ref()
            if isinstance(handler, PrefectConsoleHandler):
                handler.console.file = sys.stderr
    yield


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'workqueue.db'}"


def _postgres_reachable() -> str | None:
    try:
        import psycopg

        with psycopg.connect(PG_URL.replace("postgresql+psycopg", "postgresql"), connect_timeout=30):
            return None
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        return f"PostgreSQL not reachable at {PG_URL.split('@')[-1]}: {exc.__class__.__name__}"


@pytest.fixture
def postgres_url():
    """A fresh schema per test in the `test` database; dropped afterwards."""
    reason = _postgres_reachable()
    if reason:
        pytest.skip(reason)
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    plain = PG_URL.replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in PG_URL else "?"
    yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'workqueue.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def store(store_url):
    from workqueue.store import WorkQueueStore

    s = WorkQueueStore(store_url)
    yield s
    s.close()
