"""`rpa run invoice-attachment-upload` as operators call it: options, --json summary, exit codes."""

from __future__ import annotations

import json
import shutil

import pytest
from typer.testing import CliRunner

from flows.invoice_attachment_upload.cli import app


@pytest.fixture
def cli_env(invoice_env, monkeypatch):
    from config.settings import get_settings

    for key, value in invoice_env.cli_env().items():
        if key.startswith("RPA_"):
            monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    yield invoice_env
    get_settings.cache_clear()


def test_json_summary_has_the_counts_per_outcome_and_category(cli_env):
    result = CliRunner().invoke(app, ["--json", "--via", "api"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    truth = cli_env.ground_truth()
    assert data["files"] == len(truth)
    for outcome in ("uploaded", "already_attached", "quarantined"):
        assert data[outcome] == sum(r["expected_outcome"] == outcome for r in truth)
    expected = {}
    for r in truth:
        if r["category"]:
            expected[r["category"]] = expected.get(r["category"], 0) + 1
    assert data["exceptions"] == expected
    assert data["door"] == "api" and data["process_id"] == "invoice-attachment-upload"


def test_other_inbox_and_human_output(cli_env, tmp_path):
    inbox = tmp_path / "annen-innboks"
    inbox.mkdir()
    source = next(p for p in cli_env.inbox.iterdir() if p.name[:8].isdigit() and "_" in p.name
                  and p.suffix == ".pdf" and "parkering" not in p.name and "reiseregning" not in p.name)
    shutil.copy(source, inbox / source.name)
    result = CliRunner().invoke(app, ["--inbox", str(inbox)])
    assert result.exit_code == 0, result.output
    assert "1 dokumenter, 1 lastet opp" in result.output
    assert list(inbox.iterdir()) == []
    assert source.exists()  # the default drop folder was not touched


def test_unknown_door_is_refused(cli_env):
    result = CliRunner().invoke(app, ["--via", "ftp"])
    assert result.exit_code == 2 and "--via må være api eller web" in result.output
