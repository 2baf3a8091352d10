"""The environment the local Prefect server is started with, as Prefect itself reads it."""

from __future__ import annotations

from datetime import timedelta

from config.settings import Settings
from rpa.prefect_server import prefect_env


def _as_prefect_reads_it(env: dict[str, str], monkeypatch):
    from prefect.settings import Settings as PrefectSettings

    for name, value in env.items():
        if name.startswith("PREFECT_"):
            monkeypatch.setenv(name, value)
    return PrefectSettings()


def test_the_server_deletes_flow_runs_after_the_retention_period(monkeypatch, tmp_path):
    settings = Settings(paths={"data_dir": tmp_path}, prefect={"flow_run_retention_days": 30})
    vacuum = _as_prefect_reads_it(prefect_env(settings, base={}), monkeypatch).server.services.db_vacuum
    assert {"events", "flow_runs"} <= set(vacuum.enabled)
    assert vacuum.retention_period == timedelta(days=30)


def test_retention_zero_keeps_every_flow_run(monkeypatch, tmp_path):
    settings = Settings(paths={"data_dir": tmp_path}, prefect={"flow_run_retention_days": 0})
    env = prefect_env(settings, base={})
    assert "PREFECT_SERVER_SERVICES_DB_VACUUM_ENABLED" not in env
    monkeypatch.delenv("PREFECT_SERVER_SERVICES_DB_VACUUM_ENABLED", raising=False)
    vacuum = _as_prefect_reads_it(env, monkeypatch).server.services.db_vacuum
    assert "flow_runs" not in set(vacuum.enabled)
