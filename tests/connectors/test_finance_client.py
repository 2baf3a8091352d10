"""The finance REST connector against the finance stand-in over real HTTP.

Asserts what the finance system's own record shows (GET /_admin/attachments), not that a method
was called: one attachment per idempotent upload, none after a refusal.
"""

from __future__ import annotations

import hashlib

import pytest
import requests
from pydantic import SecretStr

from connectors.finance import (
    FileTooLarge,
    FileTypeNotAllowed,
    FinanceAuthError,
    FinanceClient,
    FinanceUnavailable,
    RetryPolicy,
    Upload,
    VoucherLocked,
    VoucherNotFound,
)
from sandbox.finance import documents as docs

PDF = docs.pdf(["Kvittering", "Tilkoblingstest æøå ÆØÅ"])
FAST = RetryPolicy(max_attempts=5, backoff_seconds=0.0, max_backoff_seconds=0.0)


def _voucher(sandbox, status: str = "open", closed: bool = False) -> dict:
    closed_periods = sandbox.closed_periods()
    keys = [(v["supplierOrgNo"], v["invoiceNumber"]) for v in sandbox.vouchers()]
    for v in sandbox.vouchers():
        if v["status"] == status and (v["period"] in closed_periods) == closed and \
                keys.count((v["supplierOrgNo"], v["invoiceNumber"])) == 1:
            return v
    raise AssertionError(f"no {status} voucher in the seed")


@pytest.fixture
def client(finance_sandbox):
    sleeps: list[float] = []
    c = FinanceClient(finance_sandbox.finance, retry=FAST, sleep=sleeps.append)
    c.sleeps = sleeps  # type: ignore[attr-defined]
    yield c
    c.close()


def test_find_voucher_by_number_and_by_supplier_invoice(finance_sandbox, client):
    v = _voucher(finance_sandbox)
    by_number = client.find_vouchers(voucher_number=v["voucherNumber"])
    assert [x.voucher_number for x in by_number] == [v["voucherNumber"]]
    found = by_number[0]
    assert (found.supplier_name, found.invoice_number, found.status) == (v["supplierName"], v["invoiceNumber"], "open")
    assert not found.locked
    by_invoice = client.find_vouchers(supplier_org_no=v["supplierOrgNo"], invoice_number=v["invoiceNumber"])
    assert [x.voucher_number for x in by_invoice] == [v["voucherNumber"]]
    assert client.find_vouchers(voucher_number="99999999") == []


def test_several_candidates_are_all_returned(finance_sandbox, client):
    from collections import Counter

    counts = Counter((v["supplierOrgNo"], v["invoiceNumber"]) for v in finance_sandbox.vouchers())
    (org, invoice), n = counts.most_common(1)[0]
    assert n > 1
    assert len(client.find_vouchers(supplier_org_no=org, invoice_number=invoice)) == n


def test_get_unknown_voucher_raises_voucher_not_found(client):
    with pytest.raises(VoucherNotFound) as err:
        client.get_voucher("99999999")
    assert err.value.code == "VOUCHER_NOT_FOUND" and err.value.status == 404


def test_locked_and_closed_period_vouchers_say_so(finance_sandbox, client):
    assert client.get_voucher(_voucher(finance_sandbox, "locked")["voucherNumber"]).locked
    posted_closed = client.get_voucher(_voucher(finance_sandbox, "posted", closed=True)["voucherNumber"])
    assert posted_closed.period_closed and posted_closed.locked


def test_upload_is_listed_with_hash_and_norwegian_name(finance_sandbox, client):
    v = _voucher(finance_sandbox)["voucherNumber"]
    upload = Upload("kvittering-ærfugl-øst-å.pdf", PDF, "application/pdf", "Kvittering", "Mottatt på e-post")
    attachment, created = client.upload_attachment(v, upload, idempotency_key="test-key-1")
    assert created
    listed = client.list_attachments(v)
    mine = [a for a in listed if a.id == attachment.id]
    assert mine and mine[0].sha256 == hashlib.sha256(PDF).hexdigest() and mine[0].size == len(PDF)
    assert mine[0].file_name == "kvittering-ærfugl-øst-å.pdf" and mine[0].document_type == "Kvittering"
    record = finance_sandbox.attachments(v)
    assert [a["fileName"] for a in record].count("kvittering-ærfugl-øst-å.pdf") == 1


def test_same_idempotency_key_twice_gives_one_attachment(finance_sandbox, client):
    v = _voucher(finance_sandbox)["voucherNumber"]
    upload = Upload("a.pdf", PDF, "application/pdf", "Kvittering")
    first, created1 = client.upload_attachment(v, upload, idempotency_key="sha:V1")
    second, created2 = client.upload_attachment(v, upload, idempotency_key="sha:V1")
    assert created1 and not created2 and first.id == second.id
    assert len([a for a in finance_sandbox.attachments(v) if a["fileName"] == "a.pdf"]) == 1


def test_attachments_by_sha256_finds_every_voucher(finance_sandbox, client):
    a = _voucher(finance_sandbox)["voucherNumber"]
    found = client.attachments_by_sha256(hashlib.sha256(PDF).hexdigest())
    assert found == []
    client.upload_attachment(a, Upload("x.pdf", PDF, "application/pdf", "Kvittering"), idempotency_key="k")
    found = client.attachments_by_sha256(hashlib.sha256(PDF).hexdigest())
    assert [x.voucher_number for x in found] == [a]


def test_refusals_map_to_business_errors_and_leave_no_attachment(finance_sandbox, client):
    locked = _voucher(finance_sandbox, "locked")["voucherNumber"]
    with pytest.raises(VoucherLocked):
        client.upload_attachment(locked, Upload("k.pdf", PDF, "application/pdf", "Kvittering"), "k1")
    v = _voucher(finance_sandbox)["voucherNumber"]
    before = len(finance_sandbox.attachments(v))
    with pytest.raises(FileTypeNotAllowed):
        client.upload_attachment(v, Upload("program.pdf", docs.windows_exe(1), "application/pdf", "Kvittering"), "k2")
    finance_sandbox.set_config(max_upload_bytes=1000)
    with pytest.raises(FileTooLarge):
        client.upload_attachment(v, Upload("stor.pdf", PDF + b"\0" * 2000, "application/pdf", "Kvittering"), "k3")
    with pytest.raises(VoucherNotFound):
        client.upload_attachment("99999999", Upload("k.pdf", PDF, "application/pdf", "Kvittering"), "k4")
    assert len(finance_sandbox.attachments(v)) == before


def test_token_is_reused_and_fetched_again_after_revocation(finance_sandbox, client):
    v = _voucher(finance_sandbox)["voucherNumber"]
    client.list_attachments(v)
    client.list_attachments(v)
    assert client.tokens.fetched == 1
    finance_sandbox.revoke_tokens()
    client.list_attachments(v)  # 401 -> new token -> same request again
    assert client.tokens.fetched == 2


def test_wrong_client_secret_is_an_auth_error(finance_sandbox):
    settings = finance_sandbox.finance.model_copy(update={"client_secret": SecretStr("feil")})
    with FinanceClient(settings, retry=FAST, sleep=lambda s: None) as c, pytest.raises(FinanceAuthError) as err:
        c.find_vouchers(voucher_number="1")
    assert "feil" not in str(err.value)  # the secret is never part of a message


def test_5xx_is_retried_until_it_succeeds(finance_sandbox, client):
    v = _voucher(finance_sandbox)["voucherNumber"]
    finance_sandbox.set_faults(error_rate=0.5)
    for _ in range(10):
        assert client.find_vouchers(voucher_number=v)
    assert client.retries > 0
    injected = requests.get(f"{finance_sandbox.url}/_admin/faults", timeout=5).json()["injected_errors"]
    assert injected == client.retries


def test_system_down_raises_unavailable_after_the_policy(finance_sandbox, client):
    client.tokens.get()
    finance_sandbox.set_faults(error_rate=1.0)
    with pytest.raises(FinanceUnavailable):
        client.find_vouchers(voucher_number="1")
    assert len(client.sleeps) == FAST.max_attempts - 1


def test_upload_without_key_is_not_retried_blindly(finance_sandbox, client):
    v = _voucher(finance_sandbox)["voucherNumber"]
    client.tokens.get()  # the token endpoint is not what this test is about
    finance_sandbox.set_faults(error_rate=1.0)
    sent = client.requests_sent
    with pytest.raises(FinanceUnavailable):
        client.upload_attachment(v, Upload("k.pdf", PDF, "application/pdf", "Kvittering"))
    assert client.requests_sent - sent == 1


def test_retry_after_is_honoured(finance_sandbox):
    import time

    v = _voucher(finance_sandbox)["voucherNumber"]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        time.sleep(seconds)

    with FinanceClient(finance_sandbox.finance, retry=FAST, sleep=sleep) as c:
        c.tokens.get()
        finance_sandbox.set_faults(rate_limit_per_second=1)
        c.find_vouchers(voucher_number=v)
        c.find_vouchers(voucher_number=v)  # within the same second: 429 + Retry-After: 1, then fine
    assert slept == [1.0]


class _Proxy:
    """A forwarding HTTP proxy on a free port that notes what it was asked (method, absolute URL,
    Proxy-Authorization) and passes each request on."""

    def __init__(self):
        import http.client
        import http.server
        import threading
        from urllib.parse import urlsplit

        seen = self.seen = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def _forward(self):
                seen.append((self.command, self.path, self.headers.get("Proxy-Authorization")))
                target = urlsplit(self.path)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k: v for k, v in self.headers.items() if k.lower() != "proxy-authorization"}
                conn = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
                conn.request(self.command, target.path + (f"?{target.query}" if target.query else ""), body, headers)
                reply = conn.getresponse()
                data = reply.read()
                self.send_response(reply.status)
                for k, v in reply.getheaders():
                    if k.lower() not in ("content-length", "connection", "transfer-encoding", "date", "server"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                conn.close()

            do_GET = do_POST = _forward

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def test_the_proxy_from_the_environment_is_used_with_its_credentials(finance_sandbox, monkeypatch):
    import base64

    proxy = _Proxy()
    try:
        for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy", "HTTPS_PROXY", "https_proxy", "http_proxy"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("HTTP_PROXY", proxy.url.replace("http://", "http://robot:hemmelig%21@"))
        v = _voucher(finance_sandbox)["voucherNumber"]
        with FinanceClient(finance_sandbox.finance, retry=FAST, sleep=lambda s: None) as c:
            assert [x.voucher_number for x in c.find_vouchers(voucher_number=v)] == [v]
            c.upload_attachment(v, Upload("via-proxy.pdf", PDF, "application/pdf", "Kvittering"), "proxy-1")
        auth = "Basic " + base64.b64encode(b"robot:hemmelig!").decode()
        assert [(m, url.split("?")[0]) for m, url, _ in proxy.seen[:3]] == [
            ("POST", finance_sandbox.finance.token_url), ("GET", f"{finance_sandbox.api_url}/vouchers"),
            ("POST", f"{finance_sandbox.api_url}/vouchers/{v}/attachments")]
        assert {a for _, _, a in proxy.seen[:3]} == {auth}
        assert [a["fileName"] for a in finance_sandbox.attachments(v)].count("via-proxy.pdf") == 1
        # NO_PROXY naming the system's host: straight there.
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        asked = len(proxy.seen)
        with FinanceClient(finance_sandbox.finance, retry=FAST, sleep=lambda s: None) as c:
            c.find_vouchers(voucher_number=v)
        assert len(proxy.seen) == asked
    finally:
        proxy.stop()


def test_the_ca_bundle_from_the_environment_is_the_one_trusted(monkeypatch, tmp_path):
    from connectors.finance.client import Http

    bundle = tmp_path / "kommune-ca.pem"
    bundle.write_text("")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    assert Http("https://okonomi.kommune.no/api", 5).pool.connection_pool_kw["ca_certs"] == str(bundle)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path))  # a directory of certificates
    assert Http("https://okonomi.kommune.no/api", 5).pool.connection_pool_kw["ca_cert_dir"] == str(tmp_path)


def test_a_system_that_does_not_answer_is_unavailable_and_an_upload_is_sent_once(finance_sandbox):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = finance_sandbox.finance.model_copy(update={"api_base_url": f"http://127.0.0.1:{port}/api"})
    sleeps: list[float] = []
    with FinanceClient(settings, retry=FAST, sleep=sleeps.append) as c:
        with pytest.raises(FinanceUnavailable) as err:
            c.find_vouchers(voucher_number="1")
        assert "NewConnectionError" in str(err.value) and len(sleeps) == FAST.max_attempts - 1
        sent = c.requests_sent
        with pytest.raises(FinanceUnavailable) as err:
            c.upload_attachment("1", Upload("k.pdf", PDF, "application/pdf", "Kvittering"))
        assert c.requests_sent - sent == 1 and "not retried" in str(err.value)
