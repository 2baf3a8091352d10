"""The review app on a municipal laptop (1366 x 800) in real Chromium: no page scrolls sideways
(also at 200 % zoom), axe-core finds no WCAG 2.1 A/AA violation on any page type, refused forms
say what is wrong at the top (error summary) and never leave a resubmission page behind (PRG),
a full fnr finds its cases without the number in the address bar, and the Excel export carries
what follow-up needs.

axe-core (MPL-2.0, Deque Systems) is vendored in tests/review/vendor/axe.min.js with its licence.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from review.screenshots import log_in
from tests.fixtures.review import ATTACHMENTS, FNR_A, NAV, PASSWORD, VEHICLES

pytestmark = pytest.mark.browser

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
LAPTOP = {"width": 1366, "height": 800}
ZOOM_200 = {"width": 683, "height": 400}  # what a 1366 x 800 screen shows at 200 % zoom
LONG_REF = "a3f1" * 16  # invoice references are 64-character hashes


@pytest.fixture
def browser(chromium):
    """The module's Chromium (tests/fixtures/browser.py); the contexts a test opens are closed after it."""
    return chromium


def _page(browser, viewport=LAPTOP):
    # bypass_csp: the app's CSP forbids injected scripts, and axe must be injected.
    context = browser.new_context(viewport=viewport, accept_downloads=True, locale="nb-NO",
                                  timezone_id="Europe/Oslo", bypass_csp=True)
    context.set_default_timeout(15_000)
    return context.new_page()


def _login(page, url: str, username: str) -> None:
    log_in(page, url, username, PASSWORD)


def _overflow(page) -> int:
    """How far the page reaches past the viewport sideways (0: no horizontal scroll bar)."""
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


def _too_wide(page) -> list[str]:
    """The outermost elements that reach past the right edge (for a readable failure)."""
    return page.evaluate("""() => { const w = document.documentElement.clientWidth; const out = [];
        for (const e of document.querySelectorAll('body *')) {
            const r = e.getBoundingClientRect();
            if (r.right > w + 1 && !(e.parentElement && e.parentElement.getBoundingClientRect().right > w + 1))
                out.push(e.tagName + '.' + e.className + ' right=' + Math.round(r.right));
        } return out.slice(0, 8); }""")


def _axe(page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    return page.evaluate("""async () => {
        const r = await axe.run(document, {runOnly: {type: 'tag',
            values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}, resultTypes: ['violations']});
        return r.violations.map(v => ({id: v.id, help: v.help,
            nodes: v.nodes.slice(0, 3).map(n => n.target.join(' ') + ' :: ' + n.failureSummary)}));
    }""")


def _seed(env) -> dict[str, int]:
    from review import demo
    from workqueue.store import NewCase

    rng = random.Random(5)
    ids = {"nav": env.nav_case(reference="K27-1001-39", category="AMOUNT_DIFFERENCE").id}
    ref, case = demo.vehicle_case(rng, "DEREGISTERED", 1)
    case.org_unit = "Bydel Alna"
    ids["vehicle"] = env.store.open_case(VEHICLES, ref, case).id
    _ref, case = demo.attachment_case(rng, "SEVERAL_CANDIDATES", 2)
    case.attachments.append(("faktura-" + LONG_REF + ".pdf", "application/pdf", b"%PDF-1.4\n%%EOF\n"))
    ids["invoice"] = env.store.open_case(ATTACHMENTS, LONG_REF, case).id
    system = NewCase(category="SYSTEM_ERROR", message="Teknisk feil etter 4 forsøk: økonomisystemet svarte 503.",
                     evidence={"sections": [{"title": "Hva roboten gjorde", "text": "Roboten fikk en feilside."}],
                               "data": {"url": "http://127.0.0.1:1/bilag/" + LONG_REF, "status": 503}},
                     org_unit="Økonomiseksjonen", sla_hours=24,
                     attachments=[("skjermbilde.png", "image/png", demo.png()),
                                  ("trace.zip", "application/zip", b"PK\x05\x06" + b"\x00" * 18)])
    ids["system"] = env.store.open_case(ATTACHMENTS, "underbilag-" + LONG_REF, system, kind="system").id
    return ids


def test_every_page_fits_the_laptop_and_passes_axe(served, browser):
    env, url = served
    ids = _seed(env)
    page = _page(browser)
    _login(page, url, "admin")
    pages = {"oversikt": "/", "saker": "/saker", "eksport (filtrert kø)": f"/saker?prosess={ATTACHMENTS}",
             "logg": "/logg", "gevinst": "/gevinst", "brukere": "/brukere",
             **{f"sak ({kind})": f"/saker/{case_id}" for kind, case_id in ids.items()}}
    problems = {}
    for name, path in pages.items():
        page.goto(url + path)
        page.locator("h1").first.wait_for()
        if _overflow(page) > 0:
            problems[name] = f"scrolls sideways by {_overflow(page)} px: {_too_wide(page)}"
        violations = _axe(page)
        if violations:
            problems[name] = violations
    assert problems == {}
    # axe itself works here: a control without a label is found.
    page.evaluate("document.querySelector('main').insertAdjacentHTML('beforeend', '<input id=umerket>')")
    assert "label" in {v["id"] for v in _axe(page)}
    # The 64-character reference is shortened on screen, but whole in the page (hover and copy).
    page.goto(f"{url}/saker?prosess={ATTACHMENTS}")
    ref = page.locator(f'.ref[title="{LONG_REF}"]').first
    assert ref.get_attribute("title") == LONG_REF and ref.inner_text() == LONG_REF
    box = ref.bounding_box()
    assert box is not None and box["width"] < 300

    # The log-in page, and the same pages at 200 % zoom: still no sideways scrolling.
    anonymous = _page(browser)
    anonymous.goto(f"{url}/login")
    assert _overflow(anonymous) <= 0 and _axe(anonymous) == []
    zoomed = _page(browser, ZOOM_200)
    _login(zoomed, url, "admin")
    wide = {}
    for name, path in pages.items():
        zoomed.goto(url + path)
        if _overflow(zoomed) > 0:
            wide[name] = f"{_overflow(zoomed)} px: {_too_wide(zoomed)}"
    assert wide == {}


def test_a_refused_decision_is_summarised_on_top_and_back_never_resubmits(served, browser):
    env, url = served
    case = env.nav_case()
    page = _page(browser)
    _login(page, url, "kari")
    page.goto(f"{url}/saker")
    page.get_by_role("link", name=f"Sak {case.id}").click()
    case_url = f"{url}/saker/{case.id}"
    page.get_by_label("Godkjenn NAVs beløp og utlign").check()
    page.get_by_role("button", name="Lagre beslutning").click()  # no comment

    # Back on the case page's own address (a GET), the summary first and focused.
    summary = page.locator("#feil")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    assert page.url.split("#")[0].split("?")[0] == case_url
    expect(summary.get_by_role("heading")).to_have_text("Beslutningen ble ikke lagret")
    link = summary.get_by_role("link", name="Skriv en kommentar")
    assert link.get_attribute("href") == "#comment"
    link.click()
    expect(page.get_by_label("Kommentar til beslutningen (må fylles ut)")).to_be_focused()
    assert _axe(page) == []

    # 9 200 characters: refused with the limit named; nothing cut, the text is still in the field.
    long_comment = "Lang forklaring. " * 541 + "slutt"
    assert len(long_comment) > 9_000
    page.get_by_label("Kommentar til beslutningen (må fylles ut)").fill(long_comment)
    page.get_by_role("button", name="Lagre beslutning").click()
    expect(page.locator("#feil")).to_contain_text(f"Kommentaren er {len(long_comment):,} tegn".replace(",", "\u00a0"))
    expect(page.locator("#feil")).to_contain_text("grensen er 2\u00a0000 tegn")
    assert page.get_by_label("Kommentar til beslutningen (må fylles ut)").input_value() == long_comment
    assert env.store.get_case(case.id).status == "open"

    page.get_by_label("Kommentar til beslutningen (må fylles ut)").fill("Kontrollert mot vedtaket")
    page.get_by_role("button", name="Lagre beslutning").click()
    page.get_by_role("button", name="Bekreft og lagre").click()  # a posting decision is previewed first (#12)
    page.get_by_text(f"Sak {case.id} er lagret").wait_for()
    assert env.store.get_case(case.id).decision["comment"] == "Kontrollert mot vedtaket"

    # Back: the case page again (a GET, now decided), never a "Confirm Form Resubmission" page.
    page.go_back()
    page.get_by_role("heading", name="Hva roboten fant").wait_for()
    assert page.url.split("#")[0].split("?")[0] == case_url
    expect(page.locator("#feil")).to_have_count(0)
    expect(page.locator(".facts")).to_contain_text("Kari Nordmann")  # Saksbehandler: the decider, by name
    page.go_back()
    page.get_by_role("heading", name="Hva roboten fant").wait_for()


def test_a_full_fnr_finds_the_case_and_stays_out_of_the_address_bar(served, browser):
    env, url = served
    mine = env.nav_case()
    env.nav_case(reference="K27-ANNEN")  # the same fnr: found too
    other = env.nav_case(fnr=_other_fnr(), reference="K27-ANDRE-PERSON")
    page = _page(browser)
    _login(page, url, "kari")
    page.goto(f"{url}/saker")
    search = page.get_by_label("Søk (navn, referanse, beløp eller saksnr.)")
    search.fill(FNR_A)
    search.press("Enter")
    expect(page.locator("#treff")).to_contain_text("2 saker")
    assert FNR_A not in page.url and FNR_A not in page.content()
    assert page.get_by_role("link", name=f"Sak {mine.id}", exact=True).count() == 1
    assert page.get_by_role("link", name=f"Sak {other.id}", exact=True).count() == 0
    expect(page.locator("#sok-fnr")).to_contain_text(FNR_A[:6] + "*****")
    # Who and what in the row: the name and the masked fnr.
    row = page.locator("tr", has=page.get_by_role("link", name=f"Sak {mine.id}", exact=True))
    expect(row).to_contain_text("HANSEN KARI")
    expect(row).to_contain_text(FNR_A[:6] + "*****")


def _other_fnr() -> str:
    from tests.fixtures.review import synthetic_fnr

    fnr = synthetic_fnr(3)
    assert fnr != FNR_A
    return fnr


def test_case_number_search_puts_the_case_first(served, browser):
    env, url = served
    cases = [env.nav_case(reference=f"K27-41-{i}") for i in range(3)]
    for _ in range(40):
        env.nav_case()
    target = cases[-1].id + 38  # a case whose number is not in any reference
    page = _page(browser)
    _login(page, url, "kari")
    page.goto(f"{url}/saker?sok={target}")
    first = page.locator("table.queue tbody tr").first
    expect(first.locator(".caselink")).to_have_text(f"Sak {target}")


def test_the_export_has_what_follow_up_needs(served, browser, tmp_path):
    env, url = served
    decided = env.nav_case(reference="K27-EKSPORT-1")
    env.nav_case(reference="K27-EKSPORT-2")
    env.store.decide(decided.id, "kari", "approve_nav_amount", "Kontrollert", {"amount": 25_000.5})
    page = _page(browser)
    _login(page, url, "kari")
    page.goto(f"{url}/saker?status=alle&kategori=GRADE")
    with page.expect_download() as info:
        page.get_by_role("link", name="Last ned til Excel").click()
    path = tmp_path / "eksport.xlsx"
    info.value.save_as(path)
    wb = load_workbook(path)
    ws = wb["Avvik"]
    header = [c.value for c in ws[1]]
    for title in ("Navn", "Fødselsnummer (maskert)", "Beløp", "Beslutning", "Kommentar", "Besluttet beløp",
                  "Besluttet av", "Besluttet", "Attestert av", "Attestert"):
        assert title in header, title
    rows = {r[0]: dict(zip(header, r, strict=False)) for r in ws.iter_rows(min_row=2, values_only=True)}
    row = rows[decided.id]
    assert row["Navn"] == "HANSEN KARI" and row["Fødselsnummer (maskert)"] == FNR_A[:6] + "*****"
    assert row["Beslutning"] == "Godkjenn NAVs beløp og utlign" and row["Kommentar"] == "Kontrollert"
    assert row["Besluttet beløp"] == 25_000.5 and row["Besluttet av"] == "Kari Nordmann"
    assert row["Besluttet"] is not None and row["Attestert av"] in (None, "")
    assert row["Kategori"].startswith("Gradert sykmelding")
    assert FNR_A not in str(list(ws.values))
    selection = dict(wb["Utvalg"].iter_rows(min_row=2, values_only=True))
    assert selection["Kategori"].startswith("Gradert sykmelding") and selection["Status"] == "Alle"
    assert selection["Eksportert av"] == "Kari Nordmann"
    assert all(NAV not in str(v) for v in selection.values())


def _posts_redirect(page) -> list[tuple[str, int]]:
    """Every form post the page navigates with, and its answer (303 = POST-redirect-GET)."""
    seen: list[tuple[str, int]] = []
    page.on("response", lambda r: seen.append((r.url, r.status)) if r.request.method == "POST"
            and r.request.is_navigation_request() else None)
    return seen


def test_log_in_reassign_and_reopen_redirect_after_a_refusal_and_back_never_resubmits(served, browser):
    env, url = served
    case = env.nav_case(reference="K27-PRG-1")
    decided = env.nav_case(reference="K27-PRG-2")
    env.store.decide(decided.id, "kari", "handled_manually", "Ordnet i lønnssystemet")
    page = _page(browser)
    posts = _posts_redirect(page)

    # Log-in: a wrong password, then the right one; Back never shows a resubmission page.
    page.goto(f"{url}/saker/{case.id}")
    page.get_by_label("Brukernavn").fill("kari")
    page.get_by_label("Passord").fill("feil-passord")
    page.get_by_role("button", name="Logg inn").click()
    expect(page.locator("#login-feil")).to_contain_text("Feil brukernavn eller passord")
    expect(page.get_by_label("Brukernavn")).to_have_value("kari")  # what was typed is kept
    assert page.url.startswith(f"{url}/login")  # a GET page
    assert _axe(page) == []
    page.get_by_label("Passord").fill(PASSWORD)
    page.get_by_role("button", name="Logg inn").click()
    page.get_by_role("heading", name="Hva roboten fant").wait_for()
    assert page.url == f"{url}/saker/{case.id}"  # where she was going
    page.go_back()
    page.locator("h1").first.wait_for()  # a page, not "Confirm Form Resubmission"
    page.goto(f"{url}/saker/{case.id}")

    # Reassign: a comment over the limit is refused on top (summary links to the field, the text kept).
    page.get_by_text("Tildel saken til en annen").click()
    too_long = "x" * 2_001
    page.get_by_label("Kommentar til tildelingen (må fylles ut)").fill(too_long)
    page.get_by_role("button", name="Tildel", exact=True).click()
    summary = page.locator("#feil")
    expect(summary.get_by_role("heading")).to_have_text("Saken ble ikke tildelt")
    expect(summary).to_be_focused()
    summary.get_by_role("link").click()
    expect(page.get_by_label("Kommentar til tildelingen (må fylles ut)")).to_be_focused()
    assert page.get_by_label("Kommentar til tildelingen (må fylles ut)").input_value() == too_long
    assert _axe(page) == [] and _overflow(page) <= 0
    page.get_by_label("Kommentar til tildelingen (må fylles ut)").fill("Du kjenner saken")
    page.get_by_label("Saksbehandler", exact=True).select_option(label="Kari Nordmann")
    page.get_by_role("button", name="Tildel", exact=True).click()
    page.get_by_text("Saken er tildelt Kari Nordmann.").wait_for()
    assert env.store.get_case(case.id).assignee == "kari"
    page.go_back()
    page.locator("h1").first.wait_for()
    assert page.url.split("#")[0].startswith(f"{url}/saker/{case.id}")

    # Reopen a decided case: refused, then done; the decided case names who decided.
    page.goto(f"{url}/saker/{decided.id}")
    expect(page.locator(".decided")).to_contain_text("Kari Nordmann")
    expect(page.locator(".facts")).to_contain_text("Kari Nordmann")
    page.get_by_text("Angre beslutningen").click()
    page.get_by_label("Hvorfor åpnes saken igjen? (må fylles ut)").fill(too_long)
    page.get_by_role("button", name="Åpne saken igjen").click()
    expect(page.locator("#feil").get_by_role("heading")).to_have_text("Saken ble ikke åpnet igjen")
    assert page.get_by_label("Hvorfor åpnes saken igjen? (må fylles ut)").input_value() == too_long
    assert env.store.get_case(decided.id).status == "resolved"
    page.get_by_label("Hvorfor åpnes saken igjen? (må fylles ut)").fill("Feil ansatt")
    page.get_by_role("button", name="Åpne saken igjen").click()
    page.get_by_text("Beslutningen er angret; saken er åpen igjen.").wait_for()
    page.go_back()
    page.locator("h1").first.wait_for()
    assert posts and {status for _u, status in posts} == {303}, posts


def test_bulk_pages_fit_the_laptop_and_pass_axe(served, browser):
    env, url = served
    cases = [env.nav_case(reference=f"K27-BULK-{i}", nav_amount=1000.0 + i) for i in range(3)]
    env.nav_case(reference="K27-BULK-X", category="PAYMENT_WITHOUT_CLAIM")
    page = _page(browser)
    _login(page, url, "kari")
    page.goto(f"{url}/saker")
    for c in cases:
        page.get_by_label(f"Velg sak {c.id}").check()
    page.get_by_role("button", name="Fortsett med valgte").click()
    page.get_by_role("heading", name="Beslutning for valgte saker").wait_for()
    assert _overflow(page) <= 0 and _axe(page) == []
    page.get_by_label("Godkjenn NAVs beløp og utlign").check()
    page.get_by_label("Kommentar til beslutningen (må fylles ut)").fill("Kontrollert")
    page.get_by_role("button", name="Lagre beslutning for 3 saker").click()
    expect(page.locator(".preview-total")).to_contain_text("på 3 saker, til sammen 3 003,00 kr")
    assert _overflow(page) <= 0 and _axe(page) == []
