"""The review app in real Chromium: what a reviewer does in a day, by mouse and by keyboard."""

from __future__ import annotations

import re

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from tests.fixtures.review import FNR_A, NAV, PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def page(chromium):
    """A fresh context of the module's Chromium (tests/fixtures/browser.py), closed after the test."""
    context = chromium.new_context(viewport={"width": 1366, "height": 768}, accept_downloads=True,
                                   locale="nb-NO", timezone_id="Europe/Oslo")
    context.set_default_timeout(15_000)
    return context.new_page()


def _unlabelled_controls(page) -> list[str]:
    return page.evaluate("""() => Array.from(document.querySelectorAll('input, select, textarea'))
        .filter(e => e.type !== 'hidden' && !e.hidden)
        .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label'))
        .map(e => e.outerHTML)""")


def test_a_reviewers_day_in_chromium(served, page, tmp_path):
    env, url = served
    grade = [env.nav_case(category="GRADE", reference=f"K27-G-{i}", nav_amount=1000.0 + i) for i in range(3)]
    diff = env.nav_case(category="AMOUNT_DIFFERENCE", reference="K27-D-1", nav_amount=512.25)
    env.nav_case(org_unit="Bydel Frogner", reference="K27-FROGNER")  # not Kari's

    # Log in by keyboard only: the user name field has focus, Tab to the password, Enter submits.
    page.goto(f"{url}/saker")
    assert page.url.startswith(f"{url}/login")
    # The browser applies autofocus after the page has loaded: wait for it, as a person would.
    expect(page.get_by_label("Brukernavn")).to_be_focused()
    page.keyboard.type("kari")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Saker").wait_for()
    assert page.url == f"{url}/saker"  # back where she was going
    assert _unlabelled_controls(page) == []
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Hopp til innholdet"
    assert page.get_by_text("K27-FROGNER").count() == 0

    # Filter by category, then search by amount typed the Norwegian way.
    page.get_by_label("Kategori").select_option("GRADE")
    page.get_by_role("button", name="Filtrer").click()
    expect_count(page, 3)
    page.get_by_label("Søk (navn, referanse, beløp eller saksnr.)").fill("1 001,00")
    page.get_by_label("Søk (navn, referanse, beløp eller saksnr.)").press("Enter")
    expect_count(page, 1)
    assert "sok=1+001%2C00" in page.url or "sok=1%20001%2C00" in page.url

    # Open the case, take it, resolve it with a comment.
    page.get_by_role("link", name=f"Sak {grade[1].id}").click()
    page.get_by_role("heading", name="Hva roboten fant").wait_for()
    assert page.get_by_role("cell", name="1 001,00").count() >= 1
    assert FNR_A not in page.content()
    page.get_by_role("button", name="Jeg tar denne").click()
    page.get_by_text("Du har tatt saken").wait_for()
    page.get_by_label("Godkjenn NAVs beløp og utlign").check()
    assert page.get_by_label("Beløp som utlignes (kr)").input_value() == "1 001,00"
    page.get_by_role("button", name="Lagre beslutning").click()  # no comment: refused, told why
    page.locator("#feil").get_by_role("link", name="Skriv en kommentar").wait_for()  # the error summary on top
    page.locator("#err-comment").get_by_text("Skriv en kommentar").wait_for()  # and by the field
    page.get_by_label("Kommentar til beslutningen (må fylles ut)").fill("Kontrollert mot sykmeldingen: 50 %")
    page.get_by_role("button", name="Lagre beslutning").click()
    page.get_by_role("button", name="Bekreft og lagre").click()  # after the preview of the posting
    page.get_by_text(f"Sak {grade[1].id} er lagret").wait_for()
    assert "kategori=GRADE" in page.url  # back to the filtered list
    decided = env.store.get_case(grade[1].id)
    assert decided.decision == {"action": "approve_nav_amount", "comment": "Kontrollert mot sykmeldingen: 50 %",
                                "amount": 1001.0}

    # Bulk-resolve the two other GRADE cases.
    page.get_by_role("link", name="Nullstill").click()
    page.get_by_label("Kategori").select_option("GRADE")
    page.get_by_role("button", name="Filtrer").click()
    expect_count(page, 2)
    page.get_by_label(f"Velg sak {grade[0].id}").check()
    page.get_by_label(f"Velg sak {grade[2].id}").check()
    page.get_by_text("(2 valgt)").wait_for()
    page.get_by_role("button", name="Fortsett med valgte").click()  # step 2: the decisions that fit both
    page.get_by_label("Behandlet manuelt").check()
    page.get_by_label("Kommentar til beslutningen (må fylles ut)").fill("Rettet i lønnssystemet")
    page.get_by_role("button", name="Lagre beslutning for 2 saker").click()
    page.get_by_text("2 saker er lagret med beslutningen «Behandlet manuelt»").wait_for()
    assert "kategori=GRADE" in page.url  # back to the filtered list
    expect_count(page, 0)
    for c in (grade[0], grade[2]):
        assert env.store.get_case(c.id).decision["comment"] == "Rettet i lønnssystemet"
    assert {c.id for c in env.store.pending_decisions(NAV)} == {grade[0].id, grade[1].id, grade[2].id}

    # Export the (filtered) list to Excel.
    page.get_by_label("Status").select_option("alle")
    page.get_by_role("button", name="Filtrer").click()
    expect_count(page, 3)
    with page.expect_download() as info:
        page.get_by_role("link", name="Last ned til Excel").click()
    download = info.value
    assert re.fullmatch(r"avvik-\d{4}-\d{2}-\d{2}\.xlsx", download.suggested_filename)
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    ws = load_workbook(path)["Avvik"]
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    status = [c.value for c in ws[1]].index("Status")
    assert ws["A1"].value == "Saksnr." and sorted(r[0] for r in rows) == sorted(c.id for c in grade)
    assert all(r[status] == "Løst" for r in rows)
    assert diff.id not in [r[0] for r in rows]

    # Log out: the queue is closed to this browser.
    page.get_by_role("button", name="Logg ut").click()
    page.get_by_text("Du er logget ut.").wait_for()
    page.goto(f"{url}/saker")
    assert page.url.startswith(f"{url}/login")
    page.get_by_role("heading", name="Logg inn").wait_for()


def expect_count(page, n: int) -> None:
    from playwright.sync_api import expect

    expect(page.locator("#treff")).to_contain_text(f"{n} {'sak' if n == 1 else 'saker'}")


def test_reveal_fnr_in_the_browser(served, page):
    env, url = served
    case = env.nav_case()
    page.goto(f"{url}/login")
    page.get_by_label("Brukernavn").fill("kari")
    page.get_by_label("Passord").fill(PASSWORD)
    page.get_by_role("button", name="Logg inn").click()
    page.goto(f"{url}/saker/{case.id}")
    assert page.locator("#fnr").inner_text() == FNR_A[:6] + "*****"
    page.get_by_role("button", name="Vis fødselsnummer").click()
    page.get_by_text("Visningen er logget").wait_for()
    assert page.locator("#fnr").inner_text() == FNR_A
    page.goto(f"{url}/saker/{case.id}")
    assert page.locator("#fnr").inner_text() == FNR_A[:6] + "*****"
