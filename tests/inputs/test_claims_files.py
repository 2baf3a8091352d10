"""Bad-input corpus, HR's refund claims (refusjonskrav), each run through `rpa run nav-refund-offsetting`.

A claims file that cannot be used as a whole (empty, headers only, wrong delimiter, binary,
password-protected, a folder) is refused: exit code 2, a Norwegian message naming the file; no
case is opened, nothing offset, the input left as it was. A bad ROW (issue #21: decided per row)
is set aside: one CLAIM_ROW_INVALID case naming the row and the column, the rest offset, and the
bad value never reaches the ledger import. Identifiers that feed the ledger import (claim id, org
unit) are checked against the definition's patterns: `=1+1` is refused, never rewritten."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest

from tests.fixtures.nav_flow import CLAIM_HEADER, claim, fnr, line, write_claims_csv, write_claims_xlsx
from tests.inputs.corpus import assert_no_clear_fnr, invoke, sha

PROCESS = "nav-refund-offsetting"
PEOPLE = [fnr(p) for p in range(500, 520)]


def _good(n: int = 3) -> list[dict]:
    return [claim(f"KR{i}", 500 + i, 1_000 + i) for i in range(n)]


def _with(row: int, **changes) -> list[dict]:
    rows = _good()
    rows[row] = {**rows[row], **changes}
    return rows


def _xlsx(rows, header=None):
    return lambda p: write_claims_xlsx(p.with_suffix(".xlsx"), rows, header)


def _csv(rows, header=None, encoding="utf-8"):
    return lambda p: write_claims_csv(p.with_suffix(".csv"), rows, header, encoding=encoding)


def _raw(data: bytes, suffix: str = ".csv"):
    def build(p: Path) -> Path:
        path = p.with_suffix(suffix)
        path.write_bytes(data)
        return path
    return build


def _comma(p: Path) -> Path:
    path = p.with_suffix(".csv")
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, delimiter=",")
        w.writerow(CLAIM_HEADER)
        w.writerow(["KR1", fnr(501), "973100009", "4", "01.04.2026", "30.04.2026", "1000,00", "Helse og velferd"])
    return path


def _folder(p: Path) -> Path:
    path = p.with_suffix(".xlsx")
    path.mkdir()
    return path


OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504  # an encrypted (password-protected) xlsx is an OLE file

# A file unusable as a whole: (name, builder, what the message says; the file is always named)
CASES = [
    ("bare-overskrifter-xlsx", _xlsx([]), "har overskrifter, men ingen rader"),
    ("bare-overskrifter-csv", _csv([]), "har overskrifter, men ingen rader"),
    ("null-byte-csv", _raw(b""), "er tom"),
    ("feil-antall-felt", _comma, "rad 2: 8 felt, men overskriften har 12 kolonner"),
    ("semikolon-i-verdi", _raw(b"krav_id;fnr;bedriftsnummer;ytelse;fra_dato;til_dato;krav_belop;org_enhet\r\n"
                               b"KR1;x;973100009;4;01.04.2026;30.04.2026;1000;Helse; og velferd\r\n"),
     "rad 2: 9 felt, men overskriften har 8 kolonner"),
    ("feil-skilletegn", _raw(b"krav_id|fnr|bedriftsnummer\r\nKR1|x|973100009\r\n"), "mangler kolonne(r)"),
    ("binaert-soppel", _raw(bytes(range(256)) * 8, ".xlsx"), "kan ikke leses som Excel-fil"),
    ("passordbeskyttet", _raw(OLE, ".xlsx"), "kan ikke leses som Excel-fil"),
    ("mappe", _folder, "er en mappe"),
]

# One bad row (or one krav_id twice): the row is set aside with a case naming row and column
ROW_CASES = [
    ("krav-id-formel", _xlsx(_with(1, krav_id="=1+1")), "rad 3, kolonne krav_id: ugyldig verdi"),
    ("krav-id-at-sum", _xlsx(_with(0, krav_id="@SUM(A1:A9)")), "rad 2, kolonne krav_id: ugyldig verdi"),
    ("krav-id-pluss", _csv(_with(2, krav_id="+1-1")), "rad 4, kolonne krav_id: ugyldig verdi"),
    ("krav-id-hyperlink", _xlsx(_with(1, krav_id='=HYPERLINK("http://x","klikk")')), "kolonne krav_id: ugyldig"),
    ("krav-id-anforsel", _csv(_with(1, krav_id='K"1')), "rad 3, kolonne krav_id: ugyldig verdi"),
    ("krav-id-minus", _xlsx(_with(1, krav_id="-K1")), "rad 3, kolonne krav_id: ugyldig verdi"),
    ("org-enhet-formel", _xlsx(_with(0, org_enhet='=HYPERLINK("http://x")')), "rad 2, kolonne org_enhet: ugyldig"),
    ("org-enhet-minus", _csv(_with(1, org_enhet="-2+3")), "rad 3, kolonne org_enhet: ugyldig verdi"),
    ("negativt-belop", _xlsx(_with(1, krav_belop=-500.0)), "rad 3, kolonne krav_belop: et refusjonskrav kan ikke"),
    ("ugyldig-dato", _csv(_with(1, fra_dato="31.02.2026")), "rad 3, kolonne fra_dato: ugyldig dato"),
    ("feil-kontrollsiffer", _csv(_with(0, fnr=PEOPLE[0][:10] + str((int(PEOPLE[0][10]) + 1) % 10))),
     "rad 2, kolonne fnr: ugyldig fødselsnummer"),
    ("dobbel-krav-id", _csv([*_good(), claim("KR1", 509, 10.0)]), "finnes på 2 rader"),
]


@pytest.fixture(scope="module")
def report(module_data_dir, tmp_path_factory) -> Path:
    """One good report, pending while the bad claims files are refused (each run releases it)."""
    from connectors.nav.k27 import to_bytes

    path = tmp_path_factory.mktemp("rapport") / "9001.csv"
    path.write_bytes(to_bytes([line(500 + i, 1_000 + i) for i in range(3)]))
    return path


@pytest.mark.parametrize(("name", "build", "expected"), CASES, ids=[c[0] for c in CASES])
def test_a_bad_claims_file_is_refused_whole_naming_file_row_and_column(name, build, expected, report, tmp_path,
                                                                      module_data_dir):
    from workqueue.store import WorkQueueStore

    claims = build(tmp_path / f"krav-{name}")
    before = sha(claims)
    out = tmp_path / "ut"
    seen = invoke(["run", PROCESS, "--report", str(report), "--claims", str(claims), "--out", str(out),
                   "--as-of", "2026-12-01"], out)
    assert seen.exit_code == 2, seen.output
    assert claims.name in seen.output and expected in seen.output, seen.output
    assert "Traceback" not in seen.output, seen.output
    assert sha(claims) == before
    assert_no_clear_fnr(seen.everything(), PEOPLE, f"for {name}")
    store = WorkQueueStore(f"sqlite:///{module_data_dir / 'workqueue.db'}")
    try:
        assert store.cases(PROCESS) == [], "a refused claims file opens no case"
    finally:
        store.close()


def test_the_good_claims_file_then_offsets_with_safe_ledger_cells(report, tmp_path, module_data_dir):
    """After the bad ones: the same report with a good file offsets (nothing was half-imported)."""
    claims = write_claims_xlsx(tmp_path / "krav.xlsx", _good())
    out = tmp_path / "ut"
    seen = invoke(["run", PROCESS, "--report", str(report), "--claims", str(claims), "--out", str(out), "--json"],
                  out)
    assert seen.exit_code == 0, seen.output
    assert '"offset": 3' in seen.output
    assert "KR0" in seen.files["utligningsbilag.csv"]
    assert_no_clear_fnr(seen.everything(), PEOPLE, "in a good run")
    assert date(2026, 4, 30).strftime("%d.%m.%Y") in seen.files["utligningsbilag.csv"]


@pytest.mark.parametrize(("name", "build", "expected"), ROW_CASES, ids=[c[0] for c in ROW_CASES])
def test_a_bad_claim_row_is_set_aside_with_a_case_naming_row_and_column(name, build, expected, tmp_path,
                                                                       monkeypatch):
    """Each in a data folder (and store) of its own, with its own report: the good rows offset."""
    from config.settings import get_settings
    from connectors.nav.k27 import to_bytes
    from workqueue.store import WorkQueueStore

    data = tmp_path / "data"
    monkeypatch.setenv("RPA_PATHS__DATA_DIR", str(data))
    get_settings.cache_clear()
    report = tmp_path / "9101.csv"
    report.write_bytes(to_bytes([line(500 + i, 1_000 + i) for i in range(3)]))
    claims = build(tmp_path / f"krav-{name}")
    before = sha(claims)
    out = tmp_path / "ut"
    seen = invoke(["run", PROCESS, "--report", str(report), "--claims", str(claims), "--out", str(out),
                   "--as-of", "2026-12-01", "--json"], out)
    get_settings.cache_clear()
    assert seen.exit_code == 0, seen.output
    assert "Traceback" not in seen.output, seen.output
    assert sha(claims) == before
    assert_no_clear_fnr(seen.everything(), PEOPLE, f"for {name}")
    store = WorkQueueStore(f"sqlite:///{data / 'workqueue.db'}")
    try:
        cases = [c for c in store.cases(PROCESS) if c.category == "CLAIM_ROW_INVALID"]
        assert len(cases) == 1, [(c.category, c.message) for c in store.cases(PROCESS)]
        assert claims.name in cases[0].message and expected in cases[0].message, cases[0].message
    finally:
        store.close()
    journal = seen.files.get("utligningsbilag.csv", "")
    for bad in ("=1+1", "@SUM", "+1-1", "HYPERLINK", 'K"1', "-K1", "-2+3"):
        assert bad not in journal, (bad, journal)
