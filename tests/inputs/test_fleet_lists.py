"""Bad-input corpus, the fleet list (kjøretøyliste), each run through `rpa run vehicle-data-collection`.

A list that cannot be used (no rows, no header, not Excel, a column missing) stops the run with
exit code 2 and a Norwegian message naming the file; it never 'completes' with 0 vehicles.
Many rows of one plate are one DUPLICATE_PLATE case listing the rows; a formula-looking cell
is written to kjoretoy.xlsx as text."""

from __future__ import annotations

import csv
import json
import zipfile
from pathlib import Path

import pytest

from tests.fixtures.vegvesen import SEED_TODAY, write_fleet
from tests.inputs.corpus import assert_no_clear_fnr, invoke, sha

PROCESS = "vehicle-data-collection"


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    """The Statens vegvesen stand-in (about 30 vehicles), settings pointing at it, one data folder."""
    from config.settings import get_settings
    from sandbox.server import start_in_thread
    from sandbox.vegvesen.app import create_app
    from sandbox.vegvesen.seed import seed

    data_dir = tmp_path_factory.mktemp("vegvesen") / "data"
    files = seed(data_dir, seed=7, scale=0.1, today=SEED_TODAY)
    with files["ground_truth"].open(encoding="utf-8") as fh:
        truth = list(csv.DictReader(fh))
    server = start_in_thread(create_app(data_dir), name="vegvesen")
    mp = pytest.MonkeyPatch()
    mp.setenv("RPA_PATHS__DATA_DIR", str(data_dir))
    mp.setenv("RPA_VEGVESEN__API_BASE_URL", server.url)
    mp.setenv("RPA_VEGVESEN__WEB_BASE_URL", f"{server.url}/kjoretoy")
    mp.delenv("RPA_DATABASE__URL", raising=False)
    get_settings.cache_clear()
    plates = [r["referanse"] for r in truth if r["utfall"] == "OK" and r["referanse"] and len(r["referanse"]) < 10]
    yield {"data_dir": data_dir, "plates": plates}
    server.stop()
    mp.undo()
    get_settings.cache_clear()


def _junk(path: Path) -> Path:
    path.write_bytes(bytes(range(256)) * 16)
    return path


def _csv(path: Path) -> Path:
    path = path.with_suffix(".csv")
    path.write_text("kjennemerke;virksomhet\nEK39085;Bydel Alna\n", encoding="utf-8")
    return path


def _no_header(path: Path) -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    wb.save(path)
    return path


BROKEN = [
    ("bare-overskrifter", lambda p: write_fleet(p, []), "har overskrifter, men ingen rader"),
    ("bare-tomme-rader", lambda p: write_fleet(p, [(None, None, None)] * 5), "har overskrifter, men ingen rader"),
    ("uten-overskrift", _no_header, "kjøretøylisten er tom"),
    ("mangler-kolonne", lambda p: write_fleet(p, [("EK39085",)], header=("regnr",)), "mangler kolonne(r): kjennemerke, virksomhet"),
    ("csv-ikke-excel", _csv, "må være en Excel-fil"),
    ("binaert-soppel", _junk, "kan ikke leses som Excel"),
]


@pytest.mark.parametrize(("name", "build", "expected"), BROKEN, ids=[b[0] for b in BROKEN])
def test_a_fleet_list_that_cannot_be_used_stops_the_run(registry, tmp_path, name, build, expected):
    path = build(tmp_path / f"{name}.xlsx")
    before = sha(path)
    seen = invoke(["run", PROCESS, "--fleet", str(path), "--source", "api", "--out", str(tmp_path / "ut")],
                  tmp_path / "ut")
    assert seen.exit_code == 2, seen.output
    assert path.name in seen.output and expected in seen.output and "Traceback" not in seen.output
    assert "kjoretoy.xlsx" not in seen.files
    assert sha(path) == before


def test_a_missing_list_under_an_fnr_shaped_path_is_named_masked(registry, tmp_path):
    fnr = "01417012345"
    seen = invoke(["run", PROCESS, "--fleet", str(tmp_path / f"{fnr}.xlsx"), "--source", "api"])
    assert seen.exit_code == 2 and "kjøretøylisten finnes ikke" in seen.output
    assert_no_clear_fnr(seen.output, [fnr], "in a path on the console")


def test_many_rows_of_one_plate_are_one_case_listing_the_rows(registry, tmp_path):
    from workqueue.models import CaseStatus
    from workqueue.store import WorkQueueStore

    plate, other = registry["plates"][:2]
    rows = [(plate, "Bydel Alna", None)] * 200 + [(other, '@HYPERLINK("http://x";"klikk")', None)]
    path = write_fleet(tmp_path / "mange-like.xlsx", rows)
    before = sha(path)
    out = tmp_path / "ut"
    seen = invoke(["run", PROCESS, "--fleet", str(path), "--source", "api", "--period", "2026-T1", "--out", str(out),
                   "--json"], out)
    assert seen.exit_code == 0, seen.output
    data = json.loads(seen.output)
    assert data["exceptions"].get("DUPLICATE_PLATE") == 1
    store = WorkQueueStore(f"sqlite:///{registry['data_dir'] / 'workqueue.db'}")
    try:
        cases = store.cases(PROCESS, category="DUPLICATE_PLATE", status=[CaseStatus.open])
    finally:
        store.close()
    assert len(cases) == 1
    assert "står 200 ganger" in cases[0].message and "rad 2 og rad 3, 4, 5" in cases[0].message
    assert "og 179 rader til" in cases[0].message
    assert sha(path) == before
    with zipfile.ZipFile(out / "kjoretoy.xlsx") as z:
        sheets = "".join(z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets/"))
        strings = z.read("xl/sharedStrings.xml").decode() if "xl/sharedStrings.xml" in z.namelist() else ""
    assert "<f>" not in sheets, "a cell from the fleet list became a live formula"
    assert "HYPERLINK" in strings
