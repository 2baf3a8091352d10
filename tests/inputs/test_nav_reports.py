"""Bad-input corpus, NAV settlement reports (K27), each run through `rpa run nav-refund-offsetting`.

A report that cannot prove it is whole (empty, UTF-16/32, CR-only, truncated, binary, not K27,
mostly invalid) is refused as a whole: exit code 2, the reason on the console naming the file,
exactly one REPORT_REFUSED case, and no claim aged (no CLAIM_UNPAID_* case) although `--as-of`
is months after the claims' periods. Reports with a few bad lines go on: one INVALID_LINE case
per bad line naming file, line and field, the raw line in the evidence masked."""

from __future__ import annotations

import io
import zipfile
from datetime import date
from pathlib import Path

import pytest

from connectors.nav.k27 import format_line, to_bytes
from tests.fixtures.nav_flow import claim, fnr, line, write_claims_xlsx
from tests.inputs.corpus import assert_no_clear_fnr, invoke, sha

PROCESS = "nav-refund-offsetting"
AS_OF = "2026-12-01"  # long after every claim's period: a report taken as 'nothing paid' would age them all


def _report(first: int, n: int = 6) -> bytes:
    return to_bytes([line(first + i, 1_000 + i) for i in range(n)])


def _text(first: int, n: int = 6) -> list[str]:
    return [format_line(line(first + i, 1_000 + i)) for i in range(n)]


def _xlsx_bytes() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
    return buf.getvalue()


def _glued(first: int) -> bytes:
    """The separator after the fnr is missing: the fnr is glued to the from-date."""
    text = _text(first, 3)
    text[1] = text[1].replace(fnr(first + 1) + ";", fnr(first + 1), 1)
    return to_bytes(text)


def _twelve(first: int) -> bytes:
    text = _text(first, 3)
    text[1] = text[1].replace(fnr(first + 1), fnr(first + 1) + "7", 1)
    return to_bytes(text)


def _spaced(first: int) -> bytes:
    text = _text(first, 3)
    f = fnr(first + 1)
    text[1] = text[1].replace(f, f[:6] + " " + f[6:], 1)
    return to_bytes(text)


def _bad_date(first: int) -> bytes:
    text = _text(first, 3)
    text[1] = text[1].replace("20260430", "20260431", 1)
    return to_bytes(text)


def _bad_check_digit(first: int) -> bytes:
    text = _text(first, 3)
    f = fnr(first + 1)
    text[1] = text[1].replace(f, f[:10] + str((int(f[10]) + 1) % 10), 1)
    return to_bytes(text)


def _mostly_invalid(first: int) -> bytes:
    text = _text(first, 12)
    return to_bytes([t.replace("20260430", "20260431") if i % 3 else t for i, t in enumerate(text)])


def _html(first: int) -> bytes:
    return b"<!doctype html>\n<html>\n<head><title>Innlogging</title></head>\n<body>\n<p>Sesjonen er utl\xf8pt</p>\n" \
           b"</body>\n</html>\n"


def _claims_csv(first: int) -> bytes:
    rows = [f"K{i};{fnr(first + i)};973100009;4;01.04.2026;30.04.2026;1000,00;Helse og velferd" for i in range(8)]
    return ("krav_id;fnr;bedriftsnummer;ytelse;fra_dato;til_dato;krav_belop;org_enhet\r\n" +
            "\r\n".join(rows) + "\r\n").encode()


# (name, bytes builder taking the first person number, what the refusal says)
REFUSED = [
    ("null-byte", lambda p: b"", "tom (0 byte)"),
    ("bare-blanke", lambda p: b"\r\n \r\n\r\n", "bare blanke tegn"),
    ("utf16-bom", lambda p: _report(p).decode("latin-1").encode("utf-16"), "UTF-16"),
    ("utf16le", lambda p: _report(p).decode("latin-1").encode("utf-16-le"), "UTF-16"),
    ("utf16be", lambda p: _report(p).decode("latin-1").encode("utf-16-be"), "UTF-16"),
    ("utf32", lambda p: _report(p).decode("latin-1").encode("utf-32"), "UTF-32"),
    ("bare-cr", lambda p: _report(p).replace(b"\r\n", b"\r"), "bare CR"),
    ("avkortet-60", lambda p: _report(p)[: int(len(_report(p)) * 0.6)], "avkortet"),
    ("avkortet-i-fnr", lambda p: _report(p)[: 127 + 2 + 30], "avkortet"),
    ("en-halv-linje", lambda p: b"8020;97460", "avkortet"),
    ("mest-ugyldig", _mostly_invalid, "8 av 12 linjer er ugyldige"),
    ("refusjonskrav-som-rapport", _claims_csv, "ikke ut som en oppgjørsrapport"),
    ("html-side", _html, "ikke ut som en oppgjørsrapport"),
    ("komma-skilt", lambda p: _report(p).replace(b";", b","), "ikke ut som en oppgjørsrapport"),
    ("binaert-soppel", lambda p: bytes(range(256)) * 4, "binære data"),
    ("png-bilde", lambda p: b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 40, "binære data"),
    ("xlsx-som-csv", lambda p: _xlsx_bytes(), "binære data"),
]
# (name, builder, INVALID_LINE cases, field named in the message)
PER_LINE = [
    ("ugyldig-dato", _bad_date, 1, "felt 9 (til-dato)"),
    ("feil-kontrollsiffer", _bad_check_digit, 1, "felt 5 (fnr)"),
    ("fnr-limt-til-dato", _glued, 1, "linjeoppsett"),
    ("tolv-sifre-fnr", _twelve, 1, "felt 5 (fnr)"),
    ("fnr-med-mellomrom", _spaced, 1, "felt 5 (fnr)"),
    ("utf8-bom", lambda p: b"\xef\xbb\xbf" + _report(p, 3), 0, ""),
    ("utf8-lagret", lambda p: to_bytes([line(p, 1_000, name="ØDEGÅRD SÆTHER")], encoding="utf-8"), 0, ""),
    ("tomme-linjer-mellom", lambda p: _report(p, 2).replace(b"\r\n", b"\r\n\r\n", 1), 0, ""),
]

_STEP = 20  # person numbers per corpus file (each file its own people and claims)


def _people(index: int) -> int:
    return 1_000 + index * _STEP


def _store(data_dir: Path):
    from workqueue.store import WorkQueueStore

    return WorkQueueStore(f"sqlite:///{data_dir / 'workqueue.db'}")


def _counts(store) -> dict[str, int]:
    out: dict[str, int] = {}
    for c in store.cases(PROCESS):
        out[c.category] = out.get(c.category, 0) + 1
    return out


def _delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {k: after.get(k, 0) - before.get(k, 0) for k in after if after.get(k, 0) != before.get(k, 0)}


def _claims_for(tmp: Path, name: str, people: list[tuple[int, int]]) -> Path:
    """A claims file with one claim per (person, amount in kr) of April 2026."""
    return write_claims_xlsx(tmp / f"krav-{name}.xlsx", [
        claim(f"K{p}", p, kr, fra=date(2026, 4, 1), til=date(2026, 4, 30)) for p, kr in people])


def _batch(tmp: Path, store, entries: list[tuple[str, bytes, int]], claims: Path, as_of: str | None) -> dict:
    """One `rpa run` over several report files; what it showed and the cases it opened."""
    reports = []
    for name, data, _first in entries:
        path = tmp / f"{name}.csv"
        path.write_bytes(data)
        reports.append(path)
    before = {p: sha(p) for p in [*reports, claims]}
    cases_before = {c.id for c in store.cases(PROCESS)}
    out = tmp / "ut"
    args = ["run", PROCESS, *[a for r in reports for a in ("--report", str(r))], "--claims", str(claims),
            "--out", str(out)]
    seen = invoke(args + (["--as-of", as_of] if as_of else []), out)
    assert {p: sha(p) for p in [*reports, claims]} == before, "an input file was changed"
    people = [fnr(first + i) for _n, _d, first in entries for i in range(_STEP)]
    assert_no_clear_fnr(seen.everything(), people, "in the console, the log lines or the output files")
    new = [c for c in store.cases(PROCESS) if c.id not in cases_before]
    return {"seen": seen, "cases": new, "people": people}


def _entries(table: list, offset: int) -> list[tuple[str, bytes, int]]:
    return [(row[0], row[1](_people(offset + i)), _people(offset + i)) for i, row in enumerate(table)]


HEADLINE = {"null-byte", "utf16-bom", "bare-cr", "avkortet-60"}  # each in a run of its own (the 'done when')


@pytest.fixture(scope="module")
def store(module_data_dir):
    s = _store(module_data_dir)
    yield s
    s.close()


@pytest.fixture(scope="module")
def refused_batch(store, tmp_path_factory):
    """The other refused files, all in one run (a run can refuse several reports at once)."""
    entries = [e for e in _entries(REFUSED, 0) if e[0] not in HEADLINE]
    tmp = tmp_path_factory.mktemp("avvist")
    claims = _claims_for(tmp, "alle", [(first + i, 1_000 + i) for _n, _d, first in entries for i in range(6)])
    return _batch(tmp, store, entries, claims, AS_OF)


@pytest.fixture(scope="module")
def per_line_batch(store, tmp_path_factory):
    entries = _entries(PER_LINE, len(REFUSED))
    tmp = tmp_path_factory.mktemp("linjer")
    people = []
    for _name, data, first in entries:
        lines = [ln for ln in data.splitlines() if ln.strip(b"\xef\xbb\xbf \r")]
        people += [(first + i, 1_000 + i) for i in range(len(lines))]
    return _batch(tmp, store, entries, _claims_for(tmp, "linjer", people), None)


def _check_refused(result: dict, name: str, reason: str) -> None:
    seen = result["seen"]
    assert seen.exit_code == 2, seen.output
    assert f"{name}.csv" in seen.output and reason in seen.output and "avvist som helhet" in seen.output
    mine = [c for c in result["cases"] if name in (c.search_text or "")]
    assert [c.category for c in mine] == ["REPORT_REFUSED"], "exactly one case per refused file"
    assert reason in mine[0].message and f"{name}.csv" in mine[0].message
    assert_no_clear_fnr(str(mine[0].message) + str(mine[0].evidence), result["people"], f"in the case of {name}")


@pytest.mark.parametrize(("name", "build", "reason"), [r for r in REFUSED if r[0] in HEADLINE],
                         ids=[r[0] for r in REFUSED if r[0] in HEADLINE])
def test_a_report_that_cannot_prove_it_is_whole_settles_and_ages_nothing(name, build, reason, store, tmp_path):
    first = _people([r[0] for r in REFUSED].index(name))
    claims = _claims_for(tmp_path, name, [(first + i, 1_000 + i) for i in range(6)])
    result = _batch(tmp_path, store, [(name, build(first), first)], claims, AS_OF)
    _check_refused(result, name, reason)
    assert [c.category for c in result["cases"]] == ["REPORT_REFUSED"], "no claim aged on a refused report"


def test_a_refused_report_sent_again_is_refused_again_and_ages_nothing(store, tmp_path):
    """The same broken bytes a second time were "already handled" and the run went on to age the
    claims the report might pay. Now it is refused again (exit 2), under its first case, no new one."""
    name = "avkortet-60"
    build = REFUSED[[r[0] for r in REFUSED].index(name)][1]
    first = _people(len(REFUSED) + len(PER_LINE) + 7)
    claims = _claims_for(tmp_path, "igjen", [(first + i, 1_000 + i) for i in range(6)])
    once = _batch(tmp_path, store, [(name, build(first), first)], claims, AS_OF)
    _check_refused(once, name, "avkortet")
    again = _batch(tmp_path, store, [(name, build(first), first)], claims, AS_OF)
    assert again["seen"].exit_code == 2, again["seen"].output
    assert "Sendt på nytt med samme innhold" in again["seen"].output
    assert f"sak {once['cases'][0].id}" in again["seen"].output
    assert again["cases"] == [], "no new case, and no claim aged on the refused report"


@pytest.mark.parametrize(("name", "build", "reason"), [r for r in REFUSED if r[0] not in HEADLINE],
                         ids=[r[0] for r in REFUSED if r[0] not in HEADLINE])
def test_each_refused_report_of_a_run_gets_its_own_case_and_reason(name, build, reason, refused_batch):
    _check_refused(refused_batch, name, reason)


def test_a_run_with_refused_reports_ages_no_claim(refused_batch):
    assert {c.category for c in refused_batch["cases"]} == {"REPORT_REFUSED"}
    assert len(refused_batch["cases"]) == len(REFUSED) - len(HEADLINE)


@pytest.mark.parametrize(("name", "build", "invalid", "field"), PER_LINE, ids=[r[0] for r in PER_LINE])
def test_a_report_with_a_few_bad_lines_goes_on_with_one_case_per_bad_line(name, build, invalid, field,
                                                                          per_line_batch):
    assert per_line_batch["seen"].exit_code == 0, per_line_batch["seen"].output
    mine = [c for c in per_line_batch["cases"] if f"{name}.csv" in c.message or name in (c.search_text or "")]
    assert [c.category for c in mine if c.category != "CLAIM_UNPAID_PENDING"] == ["INVALID_LINE"] * invalid
    assert not [c for c in per_line_batch["cases"] if c.category == "REPORT_REFUSED"]
    for case in mine:
        assert f"{name}.csv, linje 2" in case.message and field in case.message
        # the raw line is evidence: masked wherever the fnr stands in it; clear only behind the reveal
        assert_no_clear_fnr(str(case.message) + str(case.evidence.get("sections")), per_line_batch["people"],
                            f"in the case of {name}")


@pytest.mark.parametrize("name", ["fnr-limt-til-dato", "tolv-sifre-fnr", "fnr-med-mellomrom"])
def test_the_clear_fnr_of_a_broken_line_is_kept_only_behind_the_reveal(name, per_line_batch):
    first = _people(len(REFUSED) + [r[0] for r in PER_LINE].index(name))
    case = next(c for c in per_line_batch["cases"] if c.category == "INVALID_LINE" and f"{name}.csv" in c.message)
    assert case.evidence["fnr"] == fnr(first + 1)  # what "Vis fødselsnummer" shows, audited
    shown = str(case.evidence["sections"])
    assert fnr(first + 1)[:6] in shown and fnr(first + 1) not in shown


def test_a_folder_given_as_report_is_named_not_a_traceback(tmp_path, module_data_dir):
    folder = tmp_path / f"{fnr(3)}-rapporter"
    folder.mkdir()
    seen = invoke(["run", PROCESS, "--report", str(folder)])
    assert seen.exit_code == 2
    assert "Rapportfilen er en mappe, ikke en fil" in seen.output and "Traceback" not in seen.output
    assert_no_clear_fnr(seen.output, [fnr(3)], "in a path on the console")


def test_the_review_pages_show_no_fnr_in_clear(module_data_dir, tmp_path, fast_password_hashing):
    """Every case the corpus opened, rendered as the owner sees it (no reveal)."""
    from tests.fixtures.review import _close, _make_env

    env = _make_env(f"sqlite:///{module_data_dir / 'workqueue.db'}", tmp_path)
    try:
        client = env.client("admin")
        cases = env.store.cases(PROCESS)
        assert cases, "run the corpus module as a whole"
        people = [fnr(p) for p in range(_people(0), _people(len(REFUSED) + len(PER_LINE)))]
        for case in cases:
            page = client.get(f"/saker/{case.id}")
            assert page.status_code == 200
            assert_no_clear_fnr(page.text, people, f"on the page of case {case.id} ({case.category})")
    finally:
        _close(env)


@pytest.mark.prefect
def test_a_refused_report_ends_the_prefect_flow_run_failed_with_a_masked_norwegian_message(
        store, prefect_harness, tmp_path):
    """Issue #13: the CLI exits 2 on a report refused as a whole, but the Prefect flow ended
    Completed ("Fullført med avvik"): an operator reading the run list saw a normal day. Now the
    run is Failed, named «Avbrutt: feil i inndata», its message the refusal (file and reason,
    fnr masked), and it is not retried (waiting does not mend a file)."""
    from prefect import get_client

    from flows.nav_refund_offsetting.flow import nav_refund_offsetting

    # People of their own (not those of the per-file tests above): the same bytes, seen before by
    # the session's store, would be "already handled" (a run of its own, not a refusal to test).
    first = _people(len(REFUSED) + len(PER_LINE) + 5)  # cut inside an fnr: its digits in the reason
    report = tmp_path / "avkortet-i-fnr.csv"
    report.write_bytes(REFUSED[[r[0] for r in REFUSED].index("avkortet-i-fnr")][1](first))
    claims = _claims_for(tmp_path, "prefect", [(first + i, 1_000 + i) for i in range(6)])
    state = nav_refund_offsetting(report_files=[str(report)], claims_file=str(claims), as_of=AS_OF,
                                  out_dir=str(tmp_path / "ut"), return_state=True)
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(state.state_details.flow_run_id)
    assert run.state.is_failed() and run.state.name == "Avbrutt: feil i inndata", run.state
    assert "avkortet-i-fnr.csv" in run.state.message and "avkortet" in run.state.message
    assert "avvist som helhet" in run.state.message, run.state.message
    assert_no_clear_fnr(run.state.message, [fnr(first + i) for i in range(6)], "in the flow run's state message")
    assert run.run_count == 1, "an input refused as a whole is not retried"
    data = state.result(raise_on_failure=False)
    assert data["refused_reports"] and data["exceptions"] == {"REPORT_REFUSED": 1}
