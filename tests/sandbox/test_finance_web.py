"""The finance stand-in's web door (sandbox.finance.web): HTTP-level checks with requests, and the
user journey in real Chromium (marker `browser`): log in, search, open, upload through the file
input, see it listed, download, session expiry, the alternate layout.
"""

from __future__ import annotations

import hashlib
import re

import pytest
import requests

from sandbox.finance import documents as docs

PDF = docs.pdf(["Kvittering", "Nettlesertest æøå"])


def _voucher(sandbox, status: str = "open", closed: bool = False) -> dict:
    closed_periods = sandbox.closed_periods()
    vouchers = sandbox.vouchers()
    keys = [(v["supplierOrgNo"], v["invoiceNumber"]) for v in vouchers]
    return next(v for v in vouchers if v["status"] == status and (v["period"] in closed_periods) == closed
                and keys.count((v["supplierOrgNo"], v["invoiceNumber"])) == 1)


def _login_http(sandbox) -> requests.Session:
    session = requests.Session()
    reply = session.post(f"{sandbox.url}/login", timeout=10, data={
        "brukernavn": sandbox.finance.web_username, "passord": sandbox.finance.web_password.get_secret_value()})
    assert reply.url.endswith("/bilag"), reply.url
    return session


# -- HTTP level --------------------------------------------------------------------------------------
def test_pages_without_a_session_redirect_to_login(finance_sandbox):
    for path in ("/", "/bilag", "/bilag/26000101", "/bilag/26000101/vedlegg/x"):
        reply = requests.get(finance_sandbox.url + path, allow_redirects=False, timeout=10)
        assert reply.status_code == 303, path
        assert reply.headers["Location"] in ("/login", "/bilag"), path
    upload = requests.post(f"{finance_sandbox.url}/bilag/26000101/vedlegg", files={"fil": ("a.pdf", PDF)},
                           allow_redirects=False, timeout=10)
    assert upload.status_code == 303 and upload.headers["Location"] == "/login"


def test_wrong_password_is_refused(finance_sandbox):
    reply = requests.post(f"{finance_sandbox.url}/login", data={"brukernavn": "robot", "passord": "feil"}, timeout=10)
    assert reply.url.endswith("/login") and "Feil brukernavn eller passord." in reply.text
    assert "okonomi_sesjon" not in reply.cookies


def test_session_cookie_and_idle_expiry(finance_sandbox):
    session = _login_http(finance_sandbox)
    cookie = next(c for c in session.cookies if c.name == "okonomi_sesjon")
    assert cookie.has_nonstandard_attr("HttpOnly")
    assert session.get(f"{finance_sandbox.url}/bilag", timeout=10).status_code == 200
    finance_sandbox.set_faults(session_idle_seconds=0.001)  # any pause is now too long
    reply = session.get(f"{finance_sandbox.url}/bilag", allow_redirects=False, timeout=10)
    assert reply.status_code == 303 and reply.headers["Location"] == "/login?utlopt=1"
    page = session.get(f"{finance_sandbox.url}/login?utlopt=1", timeout=10)
    assert "Økten er utløpt" in page.text


def test_upload_form_refuses_a_missing_csrf_token_and_keeps_nothing(finance_sandbox):
    session = _login_http(finance_sandbox)
    nr = _voucher(finance_sandbox)["voucherNumber"]
    reply = session.post(f"{finance_sandbox.url}/bilag/{nr}/vedlegg", files={"fil": ("a.pdf", PDF)}, timeout=10)
    assert reply.status_code == 400 and "Skjemaet er utløpt" in reply.text
    assert finance_sandbox.attachments(nr) == []


def test_slow_page_knob_delays_pages(finance_sandbox):
    session = _login_http(finance_sandbox)
    finance_sandbox.set_faults(slow_page_ms=400)
    reply = session.get(f"{finance_sandbox.url}/bilag", timeout=10)
    assert reply.status_code == 200 and reply.elapsed.total_seconds() >= 0.4


# -- the browser journey --------------------------------------------------------------------------------
def _login(page, sandbox, button: str = "Logg inn") -> None:
    page.goto(f"{sandbox.url}/login")
    page.get_by_label("Brukernavn").fill(sandbox.finance.web_username)
    page.get_by_label("Passord").fill(sandbox.finance.web_password.get_secret_value())
    page.get_by_role("button", name=button, exact=True).click()
    page.get_by_role("heading", name="Søk etter bilag").wait_for()


def _attachment_rows(page):
    return page.get_by_role("table", name="Vedlegg").get_by_role("row")


@pytest.mark.browser
def test_login_search_open_upload_and_see_it_listed(finance_sandbox, finance_browser_page, tmp_path):
    page = finance_browser_page
    voucher = _voucher(finance_sandbox)
    nr = voucher["voucherNumber"]
    _login(page, finance_sandbox)

    page.get_by_label("Bilagsnummer").fill(nr)
    page.get_by_role("button", name="Søk", exact=True).click()
    results = page.get_by_role("table", name=re.compile("Søkeresultat"))
    assert results.get_by_role("row").count() == 2  # header + one voucher
    assert voucher["supplierName"] in results.inner_text()
    results.get_by_role("link", name=nr).click()

    page.get_by_role("heading", name=f"Bilag {nr}").wait_for()
    assert "Åpen" in page.get_by_label("Bilagsopplysninger").inner_text()
    assert page.get_by_text("Bilaget har ingen vedlegg.").is_visible()
    upload = tmp_path / "kvittering æøå.pdf"
    upload.write_bytes(PDF)
    page.get_by_label("Velg fil").set_input_files(upload)
    page.get_by_label("Dokumenttype").select_option("Kvittering")
    page.get_by_label("Kommentar").fill("Levert i resepsjonen på Tøyen")
    page.get_by_role("button", name="Last opp", exact=True).click()

    status = page.get_by_role("status")
    status.wait_for()
    assert status.inner_text() == "Vedlegget er lastet opp: kvittering æøå.pdf"
    rows = _attachment_rows(page)
    assert rows.count() == 2
    cells = rows.nth(1).get_by_role("cell").all_inner_texts()
    header = rows.nth(0).get_by_role("columnheader").all_inner_texts()
    assert header[:5] == ["Filnavn", "Størrelse", "SHA-256", "Dokumenttype", "Lastet opp"]
    row = dict(zip(header, cells, strict=True))
    assert row["Filnavn"] == "kvittering æøå.pdf"
    assert row["SHA-256"] == hashlib.sha256(PDF).hexdigest()
    assert row["Størrelse"] == f"{len(PDF):,}".replace(",", " ") + " byte"
    assert row["Dokumenttype"] == "Kvittering" and row["Kommentar"] == "Levert i resepsjonen på Tøyen"
    assert re.fullmatch(r"\d{2}\.\d{2}\.\d{4} kl\. \d{2}:\d{2}", row["Lastet opp"])

    (record,) = finance_sandbox.attachments(nr)  # the finance system's own record
    assert record["sha256"] == hashlib.sha256(PDF).hexdigest() and record["channel"] == "web"
    assert record["uploadedBy"] == finance_sandbox.finance.web_username


@pytest.mark.browser
def test_search_by_supplier_and_invoice_shows_every_candidate(finance_sandbox, finance_browser_page):
    page = finance_browser_page
    vouchers = finance_sandbox.vouchers()
    keys = [(v["supplierOrgNo"], v["invoiceNumber"]) for v in vouchers]
    org, invoice = next(k for k in keys if keys.count(k) > 1)
    _login(page, finance_sandbox)
    page.get_by_label("Leverandør orgnr").fill(org)
    page.get_by_label("Fakturanummer").fill(invoice)
    page.get_by_role("button", name="Søk", exact=True).click()
    results = page.get_by_role("table", name=re.compile("Søkeresultat"))
    assert results.get_by_role("row").count() == 3
    page.get_by_label("Bilagsnummer").fill("99999999")
    page.get_by_label("Leverandør orgnr").fill("")
    page.get_by_label("Fakturanummer").fill("")
    page.get_by_role("button", name="Søk", exact=True).click()
    page.get_by_text("Ingen bilag funnet.").wait_for()


@pytest.mark.browser
def test_search_by_checksum_finds_a_document_on_any_voucher(finance_sandbox, finance_browser_page):
    page = finance_browser_page
    truth = {r["source_file"]: r for r in finance_sandbox.ground_truth()}
    elsewhere = truth["rammeavtale-2026.pdf"]  # pre-seeded on another voucher than the manifest names
    (record,) = [a for a in finance_sandbox.attachments() if a["sha256"] == elsewhere["sha256"]]
    _login(page, finance_sandbox)

    page.get_by_label("Sjekksum (SHA-256)").fill(elsewhere["sha256"].upper())  # as a person pastes it
    page.get_by_role("button", name="Søk", exact=True).click()
    results = page.get_by_role("table", name=re.compile("Søkeresultat"))
    rows = results.get_by_role("row")
    assert rows.count() == 2  # header + the one attachment
    header = rows.nth(0).get_by_role("columnheader").all_inner_texts()
    row = dict(zip(header, rows.nth(1).get_by_role("cell").all_inner_texts(), strict=True))
    assert row["Bilagsnr"] == record["voucherNumber"] and row["SHA-256"] == elsewhere["sha256"]
    assert row["Filnavn"] == record["fileName"]
    results.get_by_role("link", name=record["voucherNumber"]).click()
    page.get_by_role("heading", name=f"Bilag {record['voucherNumber']}").wait_for()

    page.goto(f"{finance_sandbox.url}/bilag")
    page.get_by_label("Sjekksum (SHA-256)").fill("a" * 64)
    page.get_by_role("button", name="Søk", exact=True).click()
    page.get_by_text("Ingen vedlegg med denne sjekksummen.").wait_for()
    page.get_by_label("Sjekksum (SHA-256)").fill("ikke-en-sjekksum")
    page.get_by_role("button", name="Søk", exact=True).click()
    assert "64 tegn" in page.get_by_role("alert").inner_text()


@pytest.mark.browser
def test_download_an_attachment(finance_sandbox, finance_browser_page, tmp_path):
    page = finance_browser_page
    truth = {r["source_file"]: r for r in finance_sandbox.ground_truth()}
    here = truth["kvittering-kantine.jpg"]  # attached to this voucher before the run (IMG_2211.jpg)
    _login(page, finance_sandbox)
    page.goto(f"{finance_sandbox.url}/bilag/{here['voucher_number']}")
    with page.expect_download() as info:
        page.get_by_role("link", name="Last ned IMG_2211.jpg").click()
    download = info.value
    assert download.suggested_filename == "IMG_2211.jpg"
    saved = tmp_path / "nedlastet.jpg"
    download.save_as(saved)
    assert hashlib.sha256(saved.read_bytes()).hexdigest() == here["sha256"]


@pytest.mark.browser
def test_locked_voucher_and_refused_file(finance_sandbox, finance_browser_page, tmp_path):
    page = finance_browser_page
    _login(page, finance_sandbox)
    locked = _voucher(finance_sandbox, "posted", closed=True)
    page.goto(f"{finance_sandbox.url}/bilag/{locked['voucherNumber']}")
    note = page.get_by_role("note")
    assert "Opplasting er ikke mulig" in note.inner_text() and locked["period"] in note.inner_text()
    assert page.get_by_label("Velg fil").count() == 0
    assert page.get_by_role("button", name="Last opp").count() == 0

    nr = _voucher(finance_sandbox)["voucherNumber"]
    page.goto(f"{finance_sandbox.url}/bilag/{nr}")
    program = tmp_path / "faktura.pdf"
    program.write_bytes(docs.windows_exe())
    page.get_by_label("Velg fil").set_input_files(program)
    page.get_by_role("button", name="Last opp", exact=True).click()
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "Opplastingen ble avvist" in alert.inner_text() and "Filtypen er ikke tillatt" in alert.inner_text()
    assert finance_sandbox.attachments(nr) == []


@pytest.mark.browser
def test_idle_session_expires_to_login_with_a_message(finance_sandbox, finance_browser_page, tmp_path):
    page = finance_browser_page
    nr = _voucher(finance_sandbox)["voucherNumber"]
    _login(page, finance_sandbox)
    page.goto(f"{finance_sandbox.url}/bilag/{nr}")
    finance_sandbox.set_faults(session_idle_seconds=0.001)
    upload = tmp_path / "kvittering.pdf"
    upload.write_bytes(PDF)
    page.get_by_label("Velg fil").set_input_files(upload)
    page.get_by_role("button", name="Last opp", exact=True).click()
    page.wait_for_url(re.compile(r"/login\?utlopt=1$"))
    assert "Økten er utløpt" in page.get_by_role("alert").inner_text()
    assert finance_sandbox.attachments(nr) == []  # the upload in the expired session was not kept
    finance_sandbox.set_faults(session_idle_seconds=None)
    _login(page, finance_sandbox)
    page.get_by_role("button", name="Logg ut").click()
    page.wait_for_url(re.compile(r"/login\?logget_ut=1$"))
    page.goto(f"{finance_sandbox.url}/bilag")
    assert page.url.endswith("/login")


@pytest.mark.browser
def test_alternate_layout_renames_buttons(finance_sandbox, finance_browser_page, tmp_path):
    page = finance_browser_page
    finance_sandbox.set_faults(alternate_layout=True)
    nr = _voucher(finance_sandbox)["voucherNumber"]
    _login(page, finance_sandbox, button="Logg på")
    assert page.get_by_role("button", name="Søk", exact=True).count() == 0
    page.get_by_label("Bilagsnummer").fill(nr)
    page.get_by_role("button", name="Finn bilag").click()
    page.get_by_role("link", name=nr).click()
    upload = tmp_path / "timeliste.csv"
    upload.write_bytes(docs.csv_text([["Dato", "Timer"], ["02.11.2026", "7,5"]]))
    page.get_by_label("Velg fil").set_input_files(upload)
    assert page.get_by_role("button", name="Last opp").count() == 0
    page.get_by_role("button", name="Send inn").click()
    page.get_by_role("status").wait_for()
    assert "Vedlegget er lastet opp" in page.get_by_role("status").inner_text()
    assert _attachment_rows(page).count() == 2
    page.get_by_role("button", name="Logg av").click()
    page.wait_for_url(re.compile(r"/login\?logget_ut=1$"))
    assert [a["fileName"] for a in finance_sandbox.attachments(nr)] == ["timeliste.csv"]
