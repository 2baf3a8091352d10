"""`rpa run nav-refund-offsetting` on files (--json), clear errors with exit code 2, and the
Prefect flow with its artifacts (summary and the masked exception table)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from connectors.identifiers import FNR_PATTERN
from tests.fixtures.nav_flow import claim, fnr, line, write_claims_xlsx

RPA = Path(sys.executable).with_name("rpa")
PAID = date(2026, 5, 4)


def _files(nav_run, prefix: str):
    report = nav_run.report(f"{prefix}1001", [line(1, 50_776), line(2, 25_388), line(3, 50_776)], value_date=PAID)
    claims = nav_run.claims([claim(f"{prefix}K1", 1, 50_776.0), claim(f"{prefix}K2", 2, 50_776.0, income=50_000.0),
                             claim(f"{prefix}K3", 3, 50_000.0, income=50_000.0)])
    return report, claims


def test_cli_on_files_prints_a_machine_readable_summary(nav_run, tmp_path):
    report, claims = _files(nav_run, "C")
    out = tmp_path / "ut"
    env = {**os.environ, "RPA_PATHS__DATA_DIR": str(tmp_path / "data")}
    proc = subprocess.run([str(RPA), "run", "nav-refund-offsetting", "--report", str(report), "--claims", str(claims),
                           "--out", str(out), "--json"], capture_output=True, text=True, env=env, timeout=180)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["lines"] == 3 and data["offset"] == 2
    assert data["exceptions"] == {"GRADE": 1}
    assert data["straight_through_rate"] == 0.6667
    assert data["offset_by_reason"] == {"EXACT": 1, "WEEKDAYS": 1}
    assert sorted(p.name for p in out.iterdir()) == ["linjeutfall.csv", "utligning.xlsx", "utligningsbilag.csv"]
    assert fnr(1) not in proc.stdout + proc.stderr

    again = subprocess.run([str(RPA), "run", "nav-refund-offsetting", "--report", str(report), "--claims",
                            str(claims), "--out", str(tmp_path / "ut2")], capture_output=True, text=True, env=env,
                           timeout=180)
    assert again.returncode == 0, again.stderr
    assert "Rapport C1001 er allerede utlignet" in again.stdout


@pytest.fixture
def own_data_dir(tmp_path, monkeypatch):
    """In-process runs use the global settings: give them a data folder (and store) of their own."""
    from config.settings import get_settings

    monkeypatch.setenv("RPA_PATHS__DATA_DIR", str(tmp_path / "own-data"))
    get_settings.cache_clear()
    yield tmp_path / "own-data"
    get_settings.cache_clear()


def test_cli_names_a_missing_column_and_exits_2(nav_run, tmp_path, own_data_dir):
    from flows.nav_refund_offsetting.cli import app

    report, _ = _files(nav_run, "M")
    bad = write_claims_xlsx(tmp_path / "krav.xlsx", [claim("MK1", 1, 1.0)],
                            header=["krav_id", "fnr", "bedriftsnummer", "ytelse", "fra_dato", "til_dato", "org_enhet"])
    result = CliRunner().invoke(app, ["--report", str(report), "--claims", str(bad), "--out", str(tmp_path / "ut")])
    assert result.exit_code == 2
    assert "krav.xlsx: refusjonskravfilen mangler kolonne(r): krav_belop" in result.output
    result = CliRunner().invoke(app, ["--report", str(tmp_path / "finnes-ikke.csv"), "--claims", str(bad)])
    assert result.exit_code == 2 and "Rapportfilen finnes ikke" in result.output


@pytest.mark.prefect
def test_prefect_flow_runs_and_publishes_masked_artifacts(nav_run, prefect_harness, tmp_path, own_data_dir):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId, ArtifactFilterKey

    from flows.nav_refund_offsetting.flow import nav_refund_offsetting

    report, claims = _files(nav_run, "P")
    state = nav_refund_offsetting(report_files=[str(report)], claims_file=str(claims), out_dir=str(tmp_path / "ut"),
                                  return_state=True)
    data = state.result()
    own = ArtifactFilterFlowRunId(any_=[state.state_details.flow_run_id])  # the harness is shared by the session
    assert data["lines"] == 3 and data["offset"] == 2 and data["exceptions"] == {"GRADE": 1}
    assert Path(data["outputs"]["utligning"]).exists()
    with get_client(sync_client=True) as client:
        table = client.read_artifacts(artifact_filter=ArtifactFilter(
            key=ArtifactFilterKey(any_=["nav-refund-offsetting-exceptions"]), flow_run_id=own))
        summary = client.read_artifacts(artifact_filter=ArtifactFilter(
            key=ArtifactFilterKey(any_=["nav-refund-offsetting-summary"]), flow_run_id=own))
        flow_run = client.read_flow_run(state.state_details.flow_run_id)
    assert summary and "Andel automatisk | 66,7 %" in summary[-1].data
    rows = json.loads(table[-1].data) if isinstance(table[-1].data, str) else table[-1].data
    # Case numbers, categories and amounts only: no name, no fnr (not even masked) in Prefect.
    assert [set(r) for r in rows] == [{"Sak", "Kategori", "Beløp"}] and rows[0]["Kategori"] == "GRADE"
    assert not FNR_PATTERN.search(json.dumps(rows)) and "*****" not in json.dumps(rows)
    assert flow_run.state.name == "Fullført med avvik"  # how the run went, in the run list
    assert flow_run.state.message.startswith("3 saker, 2 automatisk (66,7 %); 1 avvik; ")
    assert not FNR_PATTERN.search(json.dumps(flow_run.parameters))
