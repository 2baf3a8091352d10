"""`rpa processes list | show | catalogue`, the catalogue page a process owner reads, and a flow
refusing to start on an invalid definition."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from config.catalogue import DefinitionError, load_catalogue
from config.catalogue_page import render_catalogue
from config.settings import DEFAULT_PROCESSES_DIR, get_settings
from rpa.cli import app

SHIPPED = sorted(load_catalogue(DEFAULT_PROCESSES_DIR))  # found, not listed: a new process is tested too
NAV = "nav-refund-offsetting"


@pytest.fixture
def processes_dir(tmp_path, monkeypatch):
    """A private copy of the catalogue that RPA_PATHS__PROCESSES_DIR points at."""
    folder = tmp_path / "processes"
    shutil.copytree(DEFAULT_PROCESSES_DIR, folder)
    monkeypatch.setenv("RPA_PATHS__PROCESSES_DIR", str(folder))
    get_settings.cache_clear()
    yield folder
    get_settings.cache_clear()


def break_definition(folder: Path, process_id: str, **changes) -> Path:
    path = folder / f"{process_id}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for dotted, value in changes.items():
        *parents, last = dotted.split("__")
        target = data
        for key in parents:
            target = target[key]
        target[last] = value
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


# ---------------------------------------------------------------- list / show

def test_processes_list_shows_every_process():
    result = invoke("processes", "list")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    for process_id in SHIPPED:
        [line] = [ln for ln in lines if ln.startswith(process_id + " ")]
        definition = load_catalogue(DEFAULT_PROCESSES_DIR)[process_id]
        assert definition.schedule.cron in line and definition.name in line and definition.owner.org_unit in line


def test_processes_show_prints_the_whole_definition():
    result = invoke("processes", "show", NAV)
    assert result.exit_code == 0, result.output
    shown = yaml.safe_load(result.output)
    assert shown["id"] == NAV and shown["rules"]["tolerance_nok"] == 50
    assert shown["name"] == "Automatisk utligning av sykepengerefusjon fra NAV"  # æøå intact
    assert [c["code"] for c in shown["exception_categories"]][:2] == ["GRADE", "PARTIAL_REFUND"]


def test_processes_show_unknown_process():
    result = invoke("processes", "show", "finnes-ikke")
    assert result.exit_code == 2
    assert "unknown process 'finnes-ikke'" in result.output and NAV in result.output


def test_list_and_catalogue_name_the_broken_file_instead_of_crashing(processes_dir):
    path = break_definition(processes_dir, "vehicle-data-collection", schedule__timezone="Europe/Bergen")
    for command in (["processes", "list"], ["processes", "catalogue"], ["processes", "show", NAV]):
        result = invoke(*command)
        assert result.exit_code == 2, command
        assert f"{path}: invalid process definition" in result.output
        assert "schedule.timezone: unknown time zone 'Europe/Bergen'" in result.output
        assert "Traceback" not in result.output


def test_validate_without_arguments_checks_the_whole_catalogue(processes_dir):
    path = break_definition(processes_dir, "invoice-attachment-upload", baseline__manual_minutes_per_case=0)
    result = invoke("processes", "validate")
    assert result.exit_code == 1
    assert f"FAIL  {path}: invalid process definition" in result.output
    assert "baseline.manual_minutes_per_case: Input should be greater than 0" in result.output
    assert f"OK    {processes_dir / NAV}.yaml" in result.output


# ---------------------------------------------------------------- the catalogue page

def test_catalogue_command_writes_the_page(tmp_path):
    out = tmp_path / "katalog.md"
    result = invoke("processes", "catalogue", "--out", str(out))
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert page == render_catalogue(list(load_catalogue(DEFAULT_PROCESSES_DIR).values()))
    for process_id in SHIPPED:
        assert f'<a id="{process_id}"></a>' in page and f"(#{process_id})" in page


@pytest.fixture(scope="module")
def page() -> str:
    return render_catalogue(list(load_catalogue(DEFAULT_PROCESSES_DIR).values()))


def section(page: str, process_id: str) -> str:
    start = page.index(f'<a id="{process_id}"></a>')
    end = page.find('<a id="', start + 1)
    return page[start:end if end > 0 else None]


def test_page_has_an_overview_row_per_process(page):
    assert page.startswith("# Process catalogue\n")
    assert ("| [Automatisk utligning av sykepengerefusjon fra NAV](#nav-refund-offsetting) | "
            "`nav-refund-offsetting` | Leder lønn og refusjon (Lønnsseksjonen) | "
            "kl. 07:00 den 3. hver måned (Europe/Oslo) | 6 |") in page


def test_page_describes_a_process_for_its_owner(page):
    nav = section(page, NAV)
    expected = [
        "## Automatisk utligning av sykepengerefusjon fra NAV",
        "**Id** `nav-refund-offsetting` · **Version** 1 · **Tags** nav, refusjon, hr",
        "Finn refusjonskravet fra HR til hver linje i NAVs oppgjørsrapport (K27)",  # purpose
        "- Leder lønn og refusjon, Lønnsseksjonen (refusjon@kommune.example)",
        "- kl. 07:00 den 3. hver måned (Europe/Oslo)",
        "- Cron `0 7 3 * *` in time zone Europe/Oslo",
        "| `nav` | NAV oppgjørsrapport-API og Altinn-innboks | api, portal |",
        "Main input fetched from **api** (supported: api, portal, folder).",
        "#### NAV oppgjørsrapport (K27), CSV uten overskrift (`settlement-report`)",
        "- From system `nav`, format: NAV settlement report K27 (CSV lines without a header)",
        "- Text encoding: iso-8859-1",
        "| `krav_belop` | krav_belop | yes |",
        "| `grad` | grad | no |",
        "| `tolerance_nok` | 50 | Kroner an amount may differ and still match (rounding). |",
        "| Code | Meaning | Who resolves | SLA | Kind | Reviewer actions |",
        "| `GRADE` | Gradert sykmelding eller søknad: NAV har betalt en annen grad enn kravet | "
        "HR (lønn og personal) | 120 h (5 days) | business: a person decides; never retried | "
        "Godkjenn NAVs beløp og utlign, Avskriv differansen, Behandlet manuelt, Avvis (ingen handling) |",
        "| `SYSTEM_ERROR` | Teknisk feil etter alle forsøk: driftsansvarlig følger opp | Operators (drift) | 24 h | "
        "system: retried, then escalated to operators |",
        "- Up to 4 attempts per item; the first retry after 30 s, each further wait ×2, at most 30 min.",
        "- The run stops after 5 system errors in a row",
        "- Manual work: 6 minutes per case; left for a person per automated case: 0 minutes; saved: 6 minutes",
        "- Source of the baseline: Estimat fra lønnsseksjonen",
        "- Classification: sensitive: special categories of personal data (særlige kategorier, e.g. health)",
        "- Personal data handled: fnr, navn, sykefravær",
        "- Kept for 395 days (about 13 months), then deleted",
        "- Legal basis: Folketrygdloven § 22-3 og arbeidsgivers regnskapsplikt",
        "| `nav` | 5 | 2 | none |",
    ]
    for text in expected:
        assert text in nav, text
    vehicles = section(page, "vehicle-data-collection")
    assert "| `vegvesen` | 20 | 8 | 50 000 |" in vehicles
    assert "- kl. 06:00 den 1. i januar, mai og september (Europe/Oslo)" in vehicles
    assert "- Classification: internal: no personal data, internal use only" in vehicles
    assert "Personal data handled" not in vehicles


@pytest.mark.parametrize(("cron", "words"), [
    ("0 7 3 * *", "kl. 07:00 den 3. hver måned"),
    ("*/30 7-17 * * 1-5", "hver halvtime kl. 07–17 mandag–fredag"),
    ("0 6 1 1,5,9 *", "kl. 06:00 den 1. i januar, mai og september"),
    ("*/15 * * * *", "hvert kvarter hele døgnet"),
    ("30 22 * * 0", "kl. 22:30 hver søndag"),
    ("0 8,14 * * mon,thu", "kl. 08:00 og 14:00 hver mandag og torsdag"),
    ("0 5 * jan-mar,oct 1-5", "kl. 05:00 mandag–fredag i januar–mars og oktober"),
    ("0 7-17 * * *", "hver hele time kl. 07–17"),
    ("0 6 1,15 * *", "kl. 06:00 den 1. og 15. hver måned"),
    ("5 4 3 2 1", "cron 5 4 3 2 1"),  # day of month OR weekday: no sentence rather than a wrong one
])
def test_schedule_in_words_one_wording_for_the_page_and_the_prefect_label(cron, words):
    from config.schedule_text import schedule_words

    assert schedule_words(cron) == words
    definition = load_catalogue(DEFAULT_PROCESSES_DIR)[NAV]
    page = render_catalogue([definition.model_copy(update={"schedule": definition.schedule.model_copy(
        update={"cron": cron}), "id": NAV})])
    assert f"- {words} ({definition.schedule.timezone})" in page


def test_reviewer_actions_on_the_page_are_the_declared_labels():
    """The page names each category's actions as the review app does: from the declarations."""
    from flows.nav_refund_offsetting.actions import ACTIONS
    from workqueue.actions import KIT_ACTIONS

    page = render_catalogue([load_catalogue(DEFAULT_PROCESSES_DIR)[NAV]])
    for spec in (ACTIONS["approve_nav_amount"], ACTIONS["write_off"], KIT_ACTIONS["retry"]):
        assert spec.label in page


def test_page_escapes_table_cells_and_handles_an_empty_catalogue():
    definition = load_catalogue(DEFAULT_PROCESSES_DIR)[NAV]
    first = definition.exception_categories[0].model_copy(update={"meaning": "Beløp | grad\nulik"})
    odd = definition.model_copy(update={"exception_categories": [first]})
    assert "| `GRADE` | Beløp \\| grad ulik |" in render_catalogue([odd])
    assert "No process definitions yet" in render_catalogue([])


# ---------------------------------------------------------------- a flow refuses an invalid definition

def test_open_run_refuses_an_invalid_definition(processes_dir):
    from flows.runtime import open_run
    from workqueue.store import WorkQueueStore

    break_definition(processes_dir, NAV, schedule__cron="0 7 31 2 *x")
    store = WorkQueueStore(f"sqlite:///{processes_dir.parent / 'wq.db'}")
    try:
        with pytest.raises(DefinitionError) as refused:
            open_run(NAV, store=store)
        assert refused.value.path == processes_dir / f"{NAV}.yaml"
        assert [p.field for p in refused.value.problems] == ["schedule.cron"]
        assert store.runs(NAV) == []  # no run was started
    finally:
        store.close()


def test_open_run_refuses_rules_the_flow_does_not_accept(processes_dir):
    from flows.runtime import open_run

    break_definition(processes_dir, NAV, rules__tolerance_nok=-5)
    with pytest.raises(DefinitionError) as refused:
        open_run(NAV)
    assert "rules.tolerance_nok" in str(refused.value)


def test_open_run_refuses_a_process_without_a_definition(processes_dir):
    from flows.runtime import open_run

    (processes_dir / f"{NAV}.yaml").unlink()
    with pytest.raises(DefinitionError, match="no process definition for 'nav-refund-offsetting'"):
        open_run(NAV)
