"""The tjenestebevis run through `rpa run tjenestebevis`, on the seeded exports, against the ground truth."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from connectors.identifiers import FNR_PATTERN


@pytest.fixture
def hr_exports(tmp_path, monkeypatch):
    """Seeded exports in a data folder of the test's own, with its own store."""
    from config.settings import get_settings
    from sandbox.hr.seed import seed

    monkeypatch.setenv("RPA_PATHS__DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("RPA_DATABASE__URL", f"sqlite:///{tmp_path / 'wq.db'}")
    get_settings.cache_clear()
    written = seed(tmp_path / "data", seed=7)
    yield written
    get_settings.cache_clear()


def run_cli(*args: str) -> tuple[int, dict]:
    from flows.tjenestebevis.cli import app  # what `rpa run tjenestebevis` mounts

    result = CliRunner().invoke(app, [*args, "--json"])
    return result.exit_code, (json.loads(result.stdout) if result.exit_code == 0 else {"output": result.output})


def truth(path: Path) -> dict[str, str]:
    with path.open(encoding="utf-8") as f:
        return {r["bestilling_id"]: r["utfall"] for r in csv.DictReader(f, delimiter=";")}


def test_run_matches_the_ground_truth_and_a_second_run_issues_nothing(hr_exports, tmp_path):
    expected = truth(hr_exports["ground_truth"])
    code, data = run_cli("--requests", str(hr_exports["requests"]), "--employment", str(hr_exports["employment"]),
                         "--out", str(tmp_path / "ut"))
    assert code == 0, data
    assert data["requests"] == len(expected)
    assert data["issued"] == sum(v == "ISSUED" for v in expected.values())
    categories = {k: sum(v == k for v in expected.values()) for k in
                  ("INVALID_FNR", "NO_EMPLOYMENT", "INCONSISTENT_RECORDS", "DUPLICATE_REQUEST")}
    assert data["exceptions"] == {k: v for k, v in categories.items() if v}

    letters = sorted((tmp_path / "ut" / "brev").glob("*.pdf"))
    assert len(letters) == data["issued"]
    text = PdfReader(letters[0]).pages[0].extract_text()
    for line in ("Tjenestebevis", "Navn:", "Fødselsdato:", "Samlet tjenestetid:", "Oslo,", "elektronisk godkjent"):
        assert line in text
    assert not FNR_PATTERN.search(text.replace(" ", ""))  # the date of birth, never the fnr

    code, again = run_cli("--requests", str(hr_exports["requests"]), "--employment", str(hr_exports["employment"]),
                          "--out", str(tmp_path / "ut2"))
    assert code == 0 and again["issued"] == 0
    assert not (tmp_path / "ut2" / "brev").exists()


def test_an_export_without_rows_stops_the_run(hr_exports, tmp_path):
    from openpyxl import Workbook

    empty = tmp_path / "tom.xlsx"
    wb = Workbook()
    wb.active.append(["bestilling_id", "fnr", "bestilt_dato", "formal"])
    wb.save(empty)
    code, data = run_cli("--requests", str(empty), "--employment", str(hr_exports["employment"]))
    assert code == 2 and "ingen rader" in data["output"]


def test_hr_decides_issue_anyway_and_the_next_run_issues_that_letter_once(hr_exports, tmp_path):
    from workqueue.store import WorkQueueStore

    args = ("--requests", str(hr_exports["requests"]), "--employment", str(hr_exports["employment"]))
    code, first = run_cli(*args, "--out", str(tmp_path / "ut"))
    assert code == 0
    store = WorkQueueStore.from_settings()
    case = next(c for c in store.cases("tjenestebevis") if c.category == "INCONSISTENT_RECORDS")
    from config.catalogue import load_catalogue
    from review.decisions import offers

    definition = load_catalogue(Path("config/processes"))["tjenestebevis"]
    assert "issue_anyway" in [o.code for o in offers(store, definition, case)]  # what the case page offers
    store.decide(case.id, "hr.kari", "issue_anyway", "Stillingene er kontrollert, utsted med det som står")
    code, second = run_cli(*args, "--out", str(tmp_path / "ut2"))
    assert code == 0 and second["issued"] == 1 and second["decisions_applied"] == 1
    assert [p.name for p in (tmp_path / "ut2" / "brev").glob("*.pdf")] == [f"tjenestebevis-{case.reference}.pdf"]
    code, third = run_cli(*args, "--out", str(tmp_path / "ut3"))
    assert code == 0 and third["issued"] == 0 and third["decisions_applied"] == 0
