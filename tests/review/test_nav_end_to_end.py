"""End to end for a NAV case: the flow opens it, HR decides it in the review app in Chromium,
and the next run of the flow applies the decision (an offset posting in the journal)."""

from __future__ import annotations

import re

import pytest

from tests.fixtures.nav_flow import claim, fnr, line

pytestmark = pytest.mark.browser

PASSWORD = "et-langt-passord-for-hr"


def _tables(page) -> dict[str, list[list[str]]]:
    """The case page's evidence tables as staff read them: section heading -> rows of cell texts
    (no-break spaces as spaces)."""
    return page.evaluate("""() => Object.fromEntries(Array.from(document.querySelectorAll('section.evidence'))
        .filter(s => s.querySelector('table')).map(s => [s.querySelector('h2').innerText,
            Array.from(s.querySelectorAll('tr')).map(tr => Array.from(tr.children)
                .map(c => c.innerText.replace(/\\u00a0/g, ' ').trim()))]))""")


def test_a_nav_decision_taken_in_the_browser_is_applied_by_the_next_run(nav_run, fast_password_hashing):
    from datetime import date

    from playwright.sync_api import expect, sync_playwright

    from review.app import create_app
    from review.auth import add_user
    from sandbox.server import start_in_thread

    # Run 1: a report whose line 2 is paid at 50 % (graded sick leave): a GRADE case for HR.
    report = nav_run.report("1001", [line(1, 50_776), line(2, 25_388), line(3, 50_776)], value_date=date(2026, 5, 4))
    claims = nav_run.claims([claim("K1", 1, 50_776.0), claim("K2", 2, 50_776.0, income=50_000.0),
                             claim("K3", 3, 50_000.0, income=50_000.0)])
    first = nav_run.run(report_files=[report], claims_file=claims)
    grade = nav_run.cases("GRADE")[0]
    assert grade.status == "open" and grade.org_unit
    journal_before = nav_run.journal(first)
    assert "K2" not in set(journal_before.krav_id)

    add_user(nav_run.store, "hr.kari", "reviewer", PASSWORD, org_units=[grade.org_unit],
             processes=["nav-refund-offsetting"], full_name="Kari i HR")
    server = start_in_thread(create_app(nav_run.settings, nav_run.store), name="review")
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(**nav_run.settings.browser.launch_options())
            page = browser.new_page(viewport={"width": 1366, "height": 768})
            # The link the flow publishes in its run summary: {public_url}/saker?prosess=<id>.
            page.goto(f"{server.url}/saker?prosess=nav-refund-offsetting")
            page.get_by_label("Brukernavn").fill("hr.kari")
            page.get_by_label("Passord").fill(PASSWORD)
            page.get_by_role("button", name="Logg inn").click()
            page.get_by_label("Kategori").select_option("GRADE")
            page.get_by_role("button", name="Filtrer").click()
            page.get_by_role("link", name=f"Sak {grade.id}").click()
            # The flow's evidence, side by side, with the fnr masked.
            page.get_by_role("heading", name="Sammenligning").wait_for()
            assert fnr(2) not in page.content()
            assert page.locator("#fnr").inner_text() == fnr(2)[:6] + "*****"
            # What NAV paid beside what the robot computed, labelled as the robot's; the robot's
            # column computes at one grade (the claim's 100 %) beside its 100 % amount; one
            # difference per row; the computation per grade; money as «1 234,50 kr».
            tables = _tables(page)
            comparison = tables["Sammenligning"]
            assert comparison[0] == ["Felt", "NAV-rapport", "Refusjonskrav", "Robotens beregning"]
            rows = {r[0]: r[1:] for r in comparison[1:]}
            assert rows["Beløp"] == ["25 388,00 kr", "50 776,00 kr", "50 776,00 kr"]
            assert rows["Grad"] == ["50 % (utledet av beløpet)", "", "100 %"]
            assert rows["Differanse: utbetalt mot kravet"] == ["\u221225 388,00 kr", "", ""]
            assert rows["Differanse: utbetalt mot robotens beregning"] == ["", "", "\u221225 388,00 kr"]
            assert "Differanse" not in rows
            assert tables["Robotens beregning per grad"] == [
                ["Grad", "Virkedager", "Dagsats", "Beløp"],
                ["100 % (kravets grad)", "22", "2 308,00 kr", "50 776,00 kr"],
                ["50 % (graden NAV har betalt etter)", "22", "1 154,00 kr", "25 388,00 kr"]]
            text = page.locator("main").inner_text()
            assert "NAVs beregning" not in text and "Beregnet" not in text and " NOK" not in text
            page.get_by_role("button", name="Jeg tar denne").click()
            page.get_by_label("Godkjenn NAVs beløp og utlign").check()
            expect(page.get_by_label("Beløp som utlignes (kr)")).to_have_value("25 388,00")  # from the flow's data
            page.get_by_label("Kommentar til beslutningen (må fylles ut)").fill("Gradert 50 %, kontrollert mot sykmeldingen")
            page.get_by_role("button", name="Lagre beslutning").click()
            # The preview names the claim, the amount and the account lines before anything is stored.
            expect(page.locator("table.preview")).to_contain_text("K2")
            expect(page.locator("table.preview")).to_contain_text("Kredit 1573 25 388,00 kr")
            page.get_by_role("button", name="Bekreft og lagre").click()
            page.get_by_text(f"Sak {grade.id} er lagret").wait_for()

            # Run 2: the flow applies the decision.
            second = nav_run.run(report_files=[report], claims_file=claims)
            journal = nav_run.journal(second)
            assert list(journal.bilagstype) == ["GODKJENT"]
            row = journal.iloc[0]
            assert (row.krav_id, row.utbetalt_belop, row.krav_belop) == ("K2", "25388,00", "50776,00")
            assert second.summary.figures["decisions_applied"] == 1

            # The reviewer sees that the robot carried it out.
            page.goto(f"{server.url}/saker/{grade.id}")
            page.locator(".decided").get_by_text("Utført av roboten").wait_for()
            assert re.search(r"Godkjenn NAVs beløp og utlign\s*·\s25\s388,00\skr", page.locator(".decided").inner_text())
            browser.close()
    finally:
        server.stop()
    case = nav_run.store.get_case(grade.id)
    assert case.decided_by == "hr.kari" and case.decision_applied_at is not None
    actions = [e.action for e in nav_run.store.audit_trail(case_id=grade.id)]
    assert actions.index("case.decided") < actions.index("case.decision_applied")
