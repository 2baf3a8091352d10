"""Internal control in real Chromium: bounds refused with the message at the top of the form, a
preview before confirming, a bulk preview with count and total, four-eyes with two attestants
(and only then does the next run post it), actions offered only where their precondition holds."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from review.screenshots import log_in
from tests.fixtures.review import PASSWORD, add_attestants
from tests.review.test_browser import page  # noqa: F401 - the browser fixture (served is shared)

pytestmark = pytest.mark.browser


def _login(pg, url: str, username: str) -> None:
    log_in(pg, url, username, PASSWORD)


def _logout(pg) -> None:
    pg.get_by_role("button", name="Logg ut").click()
    pg.get_by_text("Du er logget ut.").wait_for()


def test_bounds_preview_and_precondition_in_the_browser(served, page):  # noqa: F811
    env, url = served
    case = env.nav_case(category="GRADE", reference="K27-B-1", nav_amount=26_114.0, claim_amount=52_228.0)
    no_claim = env.nav_case(category="PAYMENT_WITHOUT_CLAIM", reference="K27-B-2")
    _login(page, url, "kari")

    # Precondition: no claim, no "approve NAV's amount".
    page.goto(f"{url}/saker/{no_claim.id}")
    page.get_by_label("Behandlet manuelt").wait_for()
    expect(page.get_by_label("Godkjenn NAVs beløp og utlign")).to_have_count(0)

    page.goto(f"{url}/saker/{case.id}")
    page.get_by_label("Godkjenn NAVs beløp og utlign").check()
    amount = page.get_by_label("Beløp som utlignes (kr)")
    expect(amount).to_have_value("26 114,00")
    expect(page.locator("#b-f-approve_nav_amount-amount")).to_contain_text("høyst 26 114,00 kr (det NAV har betalt)")
    # Out of bounds: the message at the top of the form, linking to the field, and next to it.
    amount.fill("99 999 999")
    page.get_by_label("Kommentar til beslutningen (må fylles ut)").fill("Sjekket mot NAV")
    page.get_by_role("button", name="Lagre beslutning").click()
    summary = page.locator(".error-summary")
    expect(summary).to_contain_text("Beslutningen ble ikke lagret")
    expect(summary).to_contain_text("over grensen")
    summary.get_by_role("link").click()
    expect(page.get_by_label("Beløp som utlignes (kr)")).to_be_focused()
    expect(page.locator("#err-f-approve_nav_amount-amount")).to_contain_text("høyst 26 114,00 kr")
    assert env.store.get_case(case.id).status == "open"

    # Within bounds: a preview in plain Norwegian first, then confirm.
    page.get_by_label("Beløp som utlignes (kr)").fill("26 114,00")
    page.get_by_role("button", name="Lagre beslutning").click()
    page.get_by_role("heading", name="Kontroller før du lagrer").wait_for()
    expect(page.locator("table.preview")).to_contain_text("Restbeløp på kravet etterpå")
    expect(page.locator("table.preview")).to_contain_text("Debet 1920 26 114,00 kr · Kredit 1573 26 114,00 kr")
    assert env.store.get_case(case.id).status == "open"
    page.get_by_role("button", name="Bekreft og lagre").click()
    page.get_by_text(f"Sak {case.id} er lagret").wait_for()
    assert env.store.get_case(case.id).decision["amount"] == 26114.0


def test_bulk_preview_shows_count_and_total(served, page):  # noqa: F811
    env, url = served
    a = env.nav_case(category="GRADE", reference="K27-M-1", nav_amount=1000.0, claim_amount=2000.0)
    b = env.nav_case(category="GRADE", reference="K27-M-2", nav_amount=2500.5, claim_amount=5001.0)
    no_claim = env.nav_case(category="PAYMENT_WITHOUT_CLAIM", reference="K27-M-3")
    _login(page, url, "kari")
    posts = []
    page.on("response", lambda r: posts.append(r.status) if r.request.method == "POST"
            and r.request.is_navigation_request() else None)

    # With a case that has no claim among them, «Godkjenn NAVs beløp» is not offered at all.
    page.goto(f"{url}/saker")
    for c in (a, b, no_claim):
        page.get_by_label(f"Velg sak {c.id}").check()
    page.get_by_label("Handling").select_option(label="Ta en beslutning …")
    page.get_by_role("button", name="Fortsett med valgte").click()
    page.get_by_role("heading", name="Beslutning for valgte saker").wait_for()
    page.get_by_label("Behandlet manuelt").wait_for()
    expect(page.get_by_label("Godkjenn NAVs beløp og utlign")).to_have_count(0)

    # The two cases with a claim: offered; a preview with count and total before anything is stored.
    page.goto(f"{url}/saker")
    page.get_by_label(f"Velg sak {a.id}").check()
    page.get_by_label(f"Velg sak {b.id}").check()
    page.get_by_role("button", name="Fortsett med valgte").click()
    page.get_by_label("Godkjenn NAVs beløp og utlign").check()
    page.get_by_role("button", name="Lagre beslutning for 2 saker").click()  # no comment: refused on top
    summary = page.locator("#feil")
    expect(summary).to_contain_text("Skriv en kommentar")
    expect(summary).to_be_focused()
    page.get_by_label("Godkjenn NAVs beløp og utlign").check()
    page.get_by_label("Kommentar til beslutningen (må fylles ut)").fill("Kontrollert mot NAV")
    page.get_by_role("button", name="Lagre beslutning for 2 saker").click()
    expect(page.locator(".preview-total")).to_contain_text("på 2 saker, til sammen 3 500,50 kr")
    assert page.url == f"{url}/saker/valgte/forhandsvisning"  # a GET page (PRG)
    page.reload()  # reload: the same preview, nothing posted or stored
    expect(page.locator(".preview-total")).to_contain_text("på 2 saker, til sammen 3 500,50 kr")
    assert env.store.get_case(a.id).status == "open"
    page.get_by_role("button", name="Bekreft og lagre 2 saker").click()
    page.get_by_text("2 saker er lagret med beslutningen «Godkjenn NAVs beløp og utlign»").wait_for()
    assert {env.store.get_case(c.id).status for c in (a, b)} == {"resolved"}
    # Back: the preview's address again, a GET that posts nothing (the cases are decided now).
    page.go_back()
    page.locator("h1").first.wait_for()
    expect(page.get_by_role("button", name="Bekreft og lagre 2 saker")).to_have_count(0)
    assert posts and set(posts) == {303}  # every form post answered with a redirect


def test_four_eyes_in_the_browser_and_only_then_the_run_posts(served, page, tmp_path):  # noqa: F811
    env, url = served
    add_attestants(env, "atle", "anne")
    case = env.nav_case(category="GRADE", reference="K27-A-1", nav_amount=25_388.0, claim_amount=50_776.0)

    from flows.nav_refund_offsetting.run import PROCESS_ID, apply_decisions
    from flows.runtime import open_run

    def next_run():
        ctx = open_run(PROCESS_ID, settings=env.settings, store=env.store, out_dir=tmp_path / "ut")
        return apply_decisions(ctx)

    _login(page, url, "atle")
    page.goto(f"{url}/saker/{case.id}")
    page.get_by_label("Godkjenn NAVs beløp og utlign").check()
    page.get_by_label("Beløp som utlignes (kr)").fill("20 000")
    page.get_by_label("Kommentar til beslutningen (må fylles ut)").fill("Bare 20 000 er dokumentert")
    page.get_by_role("button", name="Lagre beslutning").click()
    page.get_by_text("Beslutningen må godkjennes av en attestant").wait_for()
    page.get_by_role("button", name="Bekreft og lagre").click()
    page.get_by_text(f"Sak {case.id} venter på godkjenning").wait_for()
    assert len(next_run().journal) == 0  # waiting: nothing posted

    # The one who decided cannot approve it.
    page.goto(f"{url}/saker/{case.id}")
    page.get_by_text("Du tok beslutningen selv").wait_for()
    expect(page.get_by_role("button", name="Godkjenn beslutningen")).to_have_count(0)
    _logout(page)

    _login(page, url, "anne")
    page.goto(f"{url}/saker/{case.id}")
    page.get_by_text("Utlignet beløp avviker fra beløpet NAV har betalt").wait_for()
    page.get_by_label("Kommentar til godkjenningen (må fylles ut)").fill("Kontrollert mot vedtaket")
    page.get_by_role("button", name="Godkjenn beslutningen").click()
    page.get_by_text(f"Beslutningen på sak {case.id} er godkjent").wait_for()
    page.get_by_text("godkjent av anne").wait_for()

    applied = next_run()
    assert applied.applied == 1 and applied.refused == []
    assert list(applied.journal.utbetalt_belop) == [20000.0]
