"""`rpa shadow report`, `rpa shadow sign-off`, `rpa processes promote` and `rpa processes history`
as an owner runs them (the installed command, in a process of its own), on a NAV shadow run
against the stand-in."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from flows.nav_refund_offsetting.run import PROCESS_ID
from tests.flows.shadow.test_nav_shadow import _catalogue, _settings, shadow_run_and_report
from workqueue.shadow import sign_off
from workqueue.store import WorkQueueStore


def _rpa(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rpa", *args], env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_owner_reports_signs_off_and_promotes_from_the_command_line(seeded_nav, tmp_path):
    catalogue = _catalogue(tmp_path / "processes", **{"mode: live": "mode: shadow", "min_runs: 2": "min_runs: 1",
                                                      "min_agreement: 0.98": "min_agreement: 0.90"})
    db = f"sqlite:///{tmp_path / 'store.db'}"
    settings = _settings(seeded_nav, catalogue)
    store = WorkQueueStore(db)
    try:
        result, _ = shadow_run_and_report(settings, store, tmp_path / "out")
    finally:
        store.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RPA_")}
    env.update({"RPA_PATHS__DATA_DIR": str(seeded_nav.data_dir), "RPA_PATHS__PROCESSES_DIR": str(catalogue),
                "RPA_DATABASE__URL": db, "PYTHONUNBUFFERED": "1"})

    done = _rpa(env, "shadow", "report", PROCESS_ID, "--period", "2026-06")
    assert done.returncode == 0, done.stderr
    assert "Samsvar" in done.stdout and "totalt" in done.stdout
    path = Path(done.stdout.split("Samsvarsrapport: ")[1].strip())
    assert path.name == "samsvar-2026-06.xlsx" and path.is_file()

    refused = _rpa(env, "processes", "promote", PROCESS_ID, "--by", "eier.refusjon")
    assert refused.returncode == 1
    assert "shadow.max_unsigned_money_disagreements" in refused.stderr and "skyggemodus" in refused.stderr

    first, *rest = result.unsigned_money_disagreements
    signed = _rpa(env, "shadow", "sign-off", PROCESS_ID, first.key, "--verdict", "human", "--by", "eier.refusjon")
    assert signed.returncode == 0 and "Menneskene hadde rett" in signed.stdout, signed.stderr
    store = WorkQueueStore(db)
    try:
        for r in rest:
            sign_off(store, PROCESS_ID, r.key, "robot", "eier.refusjon")
    finally:
        store.close()

    granted = _rpa(env, "processes", "promote", PROCESS_ID, "--by", "eier.refusjon")
    assert granted.returncode == 0, granted.stderr
    assert "satt i drift" in granted.stdout
    assert "mode: live" in (catalogue / f"{PROCESS_ID}.yaml").read_text()
    history = _rpa(env, "processes", "history", PROCESS_ID)
    assert history.returncode == 0, history.stderr
    assert "av eier.refusjon: mode shadow -> live" in history.stdout


@pytest.mark.slow
def test_rpa_run_says_it_ran_in_shadow(seeded_nav, tmp_path):
    import json

    catalogue = _catalogue(tmp_path / "processes", **{"mode: live": "mode: shadow"})
    env = {k: v for k, v in os.environ.items() if not k.startswith("RPA_")}
    env.update({"RPA_PATHS__DATA_DIR": str(seeded_nav.data_dir), "RPA_PATHS__PROCESSES_DIR": str(catalogue),
                "RPA_DATABASE__URL": f"sqlite:///{tmp_path / 'store.db'}", "PYTHONUNBUFFERED": "1"})
    inputs = seeded_nav.data_dir / "input" / PROCESS_ID
    [report, *_] = sorted((inputs / "rapporter").glob("*.csv"))
    done = _rpa(env, "run", PROCESS_ID, "--report", str(report), "--claims", str(inputs / "refusjonskrav.xlsx"),
                "--out", str(tmp_path / "out"), "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["mode"] == "shadow" and data["would_do_recorded"] > 0
    assert "utligningsbilag" not in data["outputs"] and not (tmp_path / "out" / "utligningsbilag.csv").exists()
    assert any("Utligningsbilag til regnskapet ble ikke laget (skyggemodus)" in w for w in data["withheld"])
