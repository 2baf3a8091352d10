"""The Altinn inbox stand-in: log-in with a one-time code, paging, messages, download, log-out.

HTTP-level checks use requests; the user journey runs in real Chromium (marker `browser`).
"""

from __future__ import annotations

import re
import time

import pytest
import requests

from bots.altinn_inbox import one_time_code
from sandbox.nav import totp

TITLE = "Oppgjørsrapport arbeidsgiver – refusjoner fra Nav"
RFC_SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"  # base32 of the RFC 6238 SHA-1 test key "12345678901234567890"


# -- the one-time code -----------------------------------------------------------------------------
@pytest.mark.parametrize(("at", "code"), [(59, "94287082"), (1111111109, "07081804"), (1111111111, "14050471"),
                                          (1234567890, "89005924"), (2000000000, "69279037")])
def test_totp_matches_rfc_6238_vectors_in_server_and_bot(at, code):
    assert totp.totp(RFC_SECRET, at=at, digits=8) == code
    assert one_time_code(RFC_SECRET, at=at, digits=8) == code


def test_code_of_the_previous_step_is_accepted_older_ones_not():
    secret, now = "JBSWY3DPEHPK3PXP", 1_700_000_015.0
    assert totp.verify(secret, totp.totp(secret, at=now), at=now)
    assert totp.verify(secret, totp.totp(secret, at=now - 30), at=now)
    assert not totp.verify(secret, totp.totp(secret, at=now - 60), at=now)
    assert not totp.verify(secret, totp.totp(secret, at=now + 30), at=now)
    assert not totp.verify(secret, "12345", at=now) and not totp.verify(secret, "abcdef", at=now)


def test_a_secret_is_read_as_an_authenticator_app_reads_it():
    """Grouped in fours, lower case, and shorter than pyotp's 112-bit minimum: Altinn issued it."""
    now = 1_700_000_015.0
    assert totp.totp("jbsw y3dp ehpk 3pxp", at=now) == totp.totp("JBSWY3DPEHPK3PXP", at=now)
    assert one_time_code("jbsw y3dp ehpk 3pxp", at=now) == totp.totp("JBSWY3DPEHPK3PXP", at=now)


# -- HTTP level ------------------------------------------------------------------------------------
def test_pages_without_a_session_redirect_to_log_in(nav_sandbox):
    for path in ("/", "/innboks", "/innboks?side=2", "/melding/1001", "/melding/1001/vedlegg/csv", "/engangskode"):
        reply = requests.get(nav_sandbox.altinn_url + path, allow_redirects=False, timeout=10)
        assert reply.status_code == 303, path
        assert reply.headers["Location"] == "/altinn/logg-inn", path
    # password alone is not enough: the inbox still redirects until the code is given
    session = requests.Session()
    session.post(f"{nav_sandbox.altinn_url}/logg-inn", timeout=10, data={
        "brukernavn": nav_sandbox.nav.altinn_username,
        "passord": nav_sandbox.nav.altinn_password.get_secret_value()})
    reply = session.get(f"{nav_sandbox.altinn_url}/innboks", allow_redirects=False, timeout=10)
    assert reply.status_code == 303 and reply.headers["Location"] == "/altinn/logg-inn"


def test_attachment_download_headers_and_bytes(nav_sandbox):
    session = nav_sandbox.login_http()
    reply = session.get(f"{nav_sandbox.altinn_url}/melding/1002/vedlegg/csv", timeout=10)
    assert reply.status_code == 200
    assert reply.headers["Content-Type"] == "text/csv; charset=ISO-8859-1"
    assert reply.headers["Content-Disposition"] == 'attachment; filename="987654325_ref-arbg_2025-02-03.csv"'
    assert reply.content == nav_sandbox.csv_bytes("1002")
    assert session.get(f"{nav_sandbox.altinn_url}/melding/9999", timeout=10).status_code == 404


def test_idle_session_expires(nav_sandbox):
    session = nav_sandbox.login_http()
    assert session.get(f"{nav_sandbox.altinn_url}/innboks", timeout=10).url.endswith("/innboks")
    nav_sandbox.set_faults(session_idle_seconds=0.001)  # any next request comes later than this
    reply = session.get(f"{nav_sandbox.altinn_url}/innboks", timeout=10)
    assert reply.url.endswith("/altinn/logg-inn?melding=utlopt")
    assert "Økten din er utløpt" in reply.text


def test_three_wrong_codes_end_the_attempt(nav_sandbox):
    session = requests.Session()
    session.post(f"{nav_sandbox.altinn_url}/logg-inn", timeout=10, data={
        "brukernavn": nav_sandbox.nav.altinn_username,
        "passord": nav_sandbox.nav.altinn_password.get_secret_value()})
    first = session.post(f"{nav_sandbox.altinn_url}/engangskode", data={"engangskode": "000000"}, timeout=10)
    assert first.status_code == 401 and "Du har 2 forsøk igjen" in first.text
    session.post(f"{nav_sandbox.altinn_url}/engangskode", data={"engangskode": "000001"}, timeout=10)
    third = session.post(f"{nav_sandbox.altinn_url}/engangskode", data={"engangskode": "000002"}, timeout=10)
    assert third.url.endswith("/logg-inn?melding=forsok")
    assert "For mange feil engangskoder" in third.text


def test_slow_page_knob_delays_pages(nav_sandbox):
    nav_sandbox.set_faults(slow_page_ms=400)
    started = time.monotonic()
    assert requests.get(f"{nav_sandbox.altinn_url}/logg-inn", timeout=10).status_code == 200
    assert time.monotonic() - started >= 0.4


# -- in the browser --------------------------------------------------------------------------------
@pytest.fixture
def browser_page(chromium):
    """A fresh context of the module's Chromium (tests/fixtures/browser.py)."""
    context = chromium.new_context(accept_downloads=True, locale="nb-NO")
    context.set_default_timeout(10_000)
    return context.new_page()


def log_in(page, sb, *, login_button="Logg inn", code_label="Engangskode", code_button="Bekreft"):
    page.goto(sb.altinn_url)
    page.get_by_label("Brukernavn").fill(sb.nav.altinn_username)
    page.get_by_label("Passord").fill(sb.nav.altinn_password.get_secret_value())
    page.get_by_role("button", name=login_button, exact=True).click()
    page.get_by_role("heading", level=1).filter(has_text=re.compile("engangskode|det er deg")).wait_for()
    page.get_by_label(code_label).fill(totp.totp(sb.nav.altinn_otp_secret.get_secret_value()))
    page.get_by_role("button", name=code_button, exact=True).click()
    page.get_by_role("heading", name="Innboks", level=1).wait_for()


@pytest.mark.browser
def test_log_in_page_through_open_download_and_log_out(nav_sandbox, browser_page, tmp_path):
    from playwright.sync_api import expect

    page = browser_page
    page.goto(nav_sandbox.altinn_url)
    expect(page).to_have_title("Logg inn – Altinn")
    expect(page.get_by_role("main")).to_be_visible()
    expect(page.get_by_role("banner")).to_be_visible()
    expect(page.get_by_role("contentinfo")).to_be_visible()

    # wrong password first: an alert, still on the log-in page
    page.get_by_label("Brukernavn").fill(nav_sandbox.nav.altinn_username)
    page.get_by_label("Passord").fill("feil-passord")
    page.get_by_role("button", name="Logg inn", exact=True).click()
    expect(page.get_by_role("alert")).to_have_text("Feil brukernavn eller passord. Prøv igjen.")

    log_in(page, nav_sandbox)
    expect(page.get_by_text("23 meldinger, 23 uleste.")).to_be_visible()
    table = page.get_by_role("table", name="Meldinger, side 1 av 3")
    expect(table.get_by_role("row")).to_have_count(11)  # header + 10
    first_row = table.get_by_role("row").nth(1)
    expect(first_row).to_contain_text("Ulest")
    expect(first_row).to_contain_text("02.01.2026")  # newest first
    expect(first_row).to_contain_text("974600013")
    expect(page.get_by_role("link", name="Forrige side")).to_have_count(0)

    page.get_by_role("link", name="Neste side").click()
    expect(page.get_by_role("table", name="Meldinger, side 2 av 3").get_by_role("row")).to_have_count(11)
    page.get_by_role("link", name="Neste side").click()
    last_page = page.get_by_role("table", name="Meldinger, side 3 av 3")
    expect(last_page.get_by_role("row")).to_have_count(4)
    expect(page.get_by_role("link", name="Neste side")).to_have_count(0)
    oldest = last_page.get_by_role("row").last
    expect(oldest).to_contain_text("04.02.2025")

    # open the oldest message: details, and the attachment downloads byte for byte
    oldest.get_by_role("link", name=TITLE).click()
    expect(page.get_by_role("heading", name=TITLE, level=1)).to_be_visible()
    expect(page.get_by_text("Sandvik kommune, org.nr. 974600013")).to_be_visible()
    expect(page.get_by_role("region", name="Vedlegg")).to_be_visible()
    with page.expect_download() as info:
        page.get_by_role("link", name="Last ned oppgjørsrapport som CSV").click()
    download = info.value
    assert download.suggested_filename == "974600013_ref-arbg_2025-02-03.csv"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    assert saved.read_bytes() == nav_sandbox.csv_bytes("1001")

    # back in the list the message is read now
    page.get_by_role("link", name="Tilbake til innboksen").click()
    expect(page.get_by_text("23 meldinger, 22 uleste.")).to_be_visible()
    page.get_by_role("link", name="Neste side").click()
    page.get_by_role("link", name="Forrige side").click()
    expect(page.get_by_role("table", name="Meldinger, side 1 av 3")).to_be_visible()

    page.get_by_role("button", name="Logg ut").click()
    expect(page.get_by_role("status")).to_have_text("Du er nå logget ut.")
    page.goto(f"{nav_sandbox.altinn_url}/innboks")
    expect(page.get_by_role("heading", name="Logg inn i Altinn")).to_be_visible()


@pytest.mark.browser
def test_alternate_layout_renames_controls_and_shows_cards(nav_sandbox, browser_page):
    from playwright.sync_api import expect

    nav_sandbox.set_faults(alternate_layout=True)
    page = browser_page
    page.goto(nav_sandbox.altinn_url)
    expect(page.get_by_role("button", name="Logg inn", exact=True)).to_have_count(0)
    expect(page.get_by_role("button", name="Logg inn med ID-porten")).to_be_disabled()  # a decoy
    log_in(page, nav_sandbox, login_button="Fortsett", code_label="Kode fra autentiseringsappen",
           code_button="Fortsett")
    cards = page.get_by_role("list", name="Meldinger, side 1 av 3").get_by_role("listitem")
    expect(cards).to_have_count(10)
    expect(cards.first).to_contain_text("org.nr. 974 600 013")
    expect(page.get_by_role("table")).to_have_count(0)
    page.get_by_role("link", name="Neste ›").click()
    expect(page.get_by_role("list", name="Meldinger, side 2 av 3").get_by_role("listitem")).to_have_count(10)
    page.get_by_role("link", name=TITLE).first.click()
    expect(page.get_by_role("link", name=re.compile(r"_ref-arbg_.*\.csv$"))).to_be_visible()
    page.get_by_role("link", name="Logg ut").click()
    expect(page.get_by_role("status")).to_have_text("Du er nå logget ut.")
