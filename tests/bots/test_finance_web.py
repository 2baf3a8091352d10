"""The finance web UI bot (bots.finance_web.FinanceWeb) in real Chromium against the stand-in.

What is asserted is what the finance system shows afterwards (its own attachment record) and
that the bot returns the same objects as the REST connector.
"""

from __future__ import annotations

import hashlib
from collections import Counter

import pytest
from pydantic import SecretStr

from bots.finance_web import FinanceWeb
from connectors.finance import FinanceAuthError, FinanceClient, FinanceUnavailable, Upload, VoucherLocked
from sandbox.finance import documents as docs

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("bots_share_chromium")]  # one Chromium per module

PDF = docs.pdf(["Kvittering", "Nettlesertest æøå ÆØÅ"])


def _open_voucher(sandbox, status: str = "open") -> dict:
    keys = Counter((v["supplierOrgNo"], v["invoiceNumber"]) for v in sandbox.vouchers())
    closed = sandbox.closed_periods()
    return next(v for v in sandbox.vouchers() if v["status"] == status and v["period"] not in closed
                and keys[(v["supplierOrgNo"], v["invoiceNumber"])] == 1)


@pytest.fixture
def web(finance_sandbox, tmp_path):
    bot = FinanceWeb.start(finance_sandbox.settings(), evidence_dir=tmp_path / "bevis")
    yield bot
    bot.close()


def test_voucher_page_and_search_give_the_same_voucher_as_the_api(finance_sandbox, web):
    with_attachments = {a["voucherNumber"] for a in finance_sandbox.attachments()}
    v = next(x for x in finance_sandbox.vouchers() if x["voucherNumber"] in with_attachments)
    voucher, listed = web.voucher(v["voucherNumber"])
    with FinanceClient(finance_sandbox.finance) as api:
        assert voucher == api.get_voucher(v["voucherNumber"])
        fields = ("id", "file_name", "size", "sha256", "document_type", "comment", "uploaded_by", "voucher_number")
        assert listed and [tuple(getattr(a, f) for f in fields) for a in listed] == [
            tuple(getattr(a, f) for f in fields) for a in api.list_attachments(v["voucherNumber"])]
    found = web.search(supplier_org_no=v["supplierOrgNo"], invoice_number=v["invoiceNumber"])
    assert voucher in found


def test_search_lists_every_candidate(finance_sandbox, web):
    keys = Counter((v["supplierOrgNo"], v["invoiceNumber"]) for v in finance_sandbox.vouchers())
    (org, invoice), n = keys.most_common(1)[0]
    assert n > 1
    assert len(web.search(supplier_org_no=org, invoice_number=invoice)) == n
    assert web.search(voucher_number="99999999") == []


def test_upload_is_confirmed_and_read_back(finance_sandbox, web):
    v = _open_voucher(finance_sandbox)["voucherNumber"]
    listed = web.upload(v, Upload("kvittering-øl-og-brød.pdf", PDF, "application/pdf", "Kvittering",
                                  "Levert av Åse"))
    sha = hashlib.sha256(PDF).hexdigest()
    mine = [a for a in listed if a.sha256 == sha]
    assert len(mine) == 1 and mine[0].file_name == "kvittering-øl-og-brød.pdf" and mine[0].size == len(PDF)
    record = [a for a in finance_sandbox.attachments(v) if a["sha256"] == sha]
    assert len(record) == 1 and record[0]["channel"] == "web" and record[0]["comment"] == "Levert av Åse"
    assert record[0]["documentType"] == "Kvittering"


def test_expired_session_is_met_by_logging_in_again(finance_sandbox, web):
    v = _open_voucher(finance_sandbox)["voucherNumber"]
    # The server forgets every session (as after an idle timeout or a restart): the bot's next page
    # says "Økten er utløpt". Not an idle limit in seconds, which a slow page step under load
    # would also exceed after the new log-in ("expired 4 times in a row").
    from sandbox.finance.web import Sessions

    finance_sandbox.app.state.sessions = Sessions()
    voucher, _ = web.voucher(v)
    assert voucher.voucher_number == v and web.relogins == 1


def test_alternate_layout_renamed_buttons_and_moved_form(finance_sandbox, web):
    finance_sandbox.set_faults(alternate_layout=True)
    v = _open_voucher(finance_sandbox)
    web.logout()
    web.login()  # "Logg på"
    assert web.search(supplier_org_no=v["supplierOrgNo"], invoice_number=v["invoiceNumber"])  # "Finn bilag"
    listed = web.upload(v["voucherNumber"], Upload("alt.pdf", PDF, "application/pdf", "Dokumentasjon"))  # "Send inn"
    assert hashlib.sha256(PDF).hexdigest() in {a.sha256 for a in listed}


def test_locked_voucher_refuses_before_sending(finance_sandbox, web):
    locked = next(v for v in finance_sandbox.vouchers() if v["status"] == "locked")["voucherNumber"]
    voucher, _ = web.voucher(locked)
    assert voucher.locked
    before = len(finance_sandbox.attachments(locked))
    with pytest.raises(VoucherLocked):
        web.upload(locked, Upload("k.pdf", PDF, "application/pdf", "Kvittering"))
    assert len(finance_sandbox.attachments(locked)) == before


def test_wrong_password_is_an_auth_error(finance_sandbox):
    settings = finance_sandbox.settings()
    settings.finance = settings.finance.model_copy(update={"web_password": SecretStr("feil-passord")})
    with pytest.raises(FinanceAuthError):
        FinanceWeb.start(settings)


def test_a_failed_step_leaves_a_screenshot_and_a_trace(finance_sandbox, web, tmp_path):
    v = _open_voucher(finance_sandbox)["voucherNumber"]
    web.max_attempts = 2
    web.begin_item()
    finance_sandbox.set_faults(error_rate=1.0)
    with pytest.raises(FinanceUnavailable):
        web.voucher(v)
    files = web.failure_evidence()
    kinds = sorted(media for _, media, _ in files)
    assert kinds == ["application/zip", "image/png"]
    assert all(data for _, _, data in files)
    assert list((tmp_path / "bevis").glob("sporing-*.zip")) and list((tmp_path / "bevis").glob("skjermbilde-*.png"))
    finance_sandbox.set_faults(error_rate=0.0)


def test_a_fresh_tab_every_few_items_keeps_the_login(finance_sandbox, web):
    v = _open_voucher(finance_sandbox)["voucherNumber"]
    web.recycle_page_every = 1
    first = web.page
    web.begin_item()
    web.upload(v, Upload("a.pdf", PDF, "application/pdf", "Kvittering"))
    web.end_item()
    assert web.page is not first and first.is_closed()
    voucher, listed = web.voucher(v)
    assert voucher.voucher_number == v and hashlib.sha256(PDF).hexdigest() in {a.sha256 for a in listed}
    assert (web.logins, web.relogins) == (1, 0)
