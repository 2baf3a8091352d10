"""Contract tests of the finance stand-in's REST door, over real HTTP (sandbox.finance.api).

Every documented status code, header and encoding: token endpoint, 401 + WWW-Authenticate,
voucher search, 404, upload 201 / 200 replay (Idempotency-Key), 409, 413, 415, 400, content
download, durability across a restart and a consistent record under concurrent uploads.
"""

from __future__ import annotations

import base64
import hashlib
import socket
import threading
import time
from urllib.parse import urlsplit

import pytest
import requests

from sandbox.finance import documents as docs

PDF = docs.pdf(["Kvittering", "Kontraktstest æøå ÆØÅ"])


def _pick(sandbox, *, status: str, closed: bool | None = False, unique: bool = True) -> dict:
    vouchers = sandbox.vouchers()
    closed_periods = sandbox.closed_periods()
    keys = [(v["supplierOrgNo"], v["invoiceNumber"]) for v in vouchers]
    for v in vouchers:
        if v["status"] != status:
            continue
        if closed is not None and (v["period"] in closed_periods) != closed:
            continue
        if unique and keys.count((v["supplierOrgNo"], v["invoiceNumber"])) != 1:
            continue
        return v
    raise AssertionError(f"no {status} voucher (closed={closed}) in the seed")


def _upload(sandbox, voucher_number: str, content: bytes = PDF, name: str = "kvittering.pdf", *,
            headers: dict | None = None, token: str | None = None, **data) -> requests.Response:
    auth = {"Authorization": f"Bearer {token or sandbox.token()}"}
    return requests.post(f"{sandbox.api_url}/vouchers/{voucher_number}/attachments", timeout=60,
                         headers={**auth, **(headers or {})}, files={"file": (name, content, "application/pdf")},
                         data={"documentType": data.get("documentType", "Kvittering"),
                               "comment": data.get("comment", "")})


# -- OAuth2 token endpoint --------------------------------------------------------------------------
def test_token_with_form_credentials(finance_sandbox):
    reply = requests.post(f"{finance_sandbox.url}/oauth/token", timeout=10, data={
        "grant_type": "client_credentials", "client_id": "rpa-robot", "client_secret": "sandbox-client-secret"})
    assert reply.status_code == 200
    assert reply.headers["Content-Type"] == "application/json"
    assert reply.headers["Cache-Control"] == "no-store" and reply.headers["Pragma"] == "no-cache"
    body = reply.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600 and body["access_token"]


def test_token_with_http_basic(finance_sandbox):
    reply = requests.post(f"{finance_sandbox.url}/oauth/token", data={"grant_type": "client_credentials"},
                          auth=("rpa-robot", "sandbox-client-secret"), timeout=10)
    assert reply.status_code == 200 and reply.json()["token_type"] == "Bearer"
    token = reply.json()["access_token"]
    assert requests.get(f"{finance_sandbox.api_url}/vouchers/{finance_sandbox.vouchers()[0]['voucherNumber']}",
                        headers={"Authorization": f"Bearer {token}"}, timeout=10).status_code == 200


@pytest.mark.parametrize("credentials", [
    {"client_id": "rpa-robot", "client_secret": "wrong"},
    {"client_id": "someone-else", "client_secret": "sandbox-client-secret"},
    {},
])
def test_token_refuses_bad_credentials(finance_sandbox, credentials):
    reply = requests.post(f"{finance_sandbox.url}/oauth/token", timeout=10,
                          data={"grant_type": "client_credentials", **credentials})
    assert reply.status_code == 401
    assert reply.json()["error"] == "invalid_client"
    assert reply.headers["WWW-Authenticate"].startswith("Basic ")
    assert reply.headers["Cache-Control"] == "no-store"


def test_token_request_errors(finance_sandbox):
    url = f"{finance_sandbox.url}/oauth/token"
    creds = {"client_id": "rpa-robot", "client_secret": "sandbox-client-secret"}
    wrong_grant = requests.post(url, data={"grant_type": "password", **creds}, timeout=10)
    assert wrong_grant.status_code == 400 and wrong_grant.json()["error"] == "unsupported_grant_type"
    no_grant = requests.post(url, data=creds, timeout=10)
    assert no_grant.status_code == 400 and no_grant.json()["error"] == "invalid_request"
    as_json = requests.post(url, json={"grant_type": "client_credentials", **creds}, timeout=10)
    assert as_json.status_code == 400 and as_json.json()["error"] == "invalid_request"


# -- bearer tokens ------------------------------------------------------------------------------------
def test_api_without_token_is_401_with_challenge(finance_sandbox):
    for path in ("/vouchers?voucherNumber=1", "/vouchers/1", "/attachments?sha256=" + "0" * 64):
        reply = requests.get(finance_sandbox.api_url + path, timeout=10)
        assert reply.status_code == 401, path
        assert reply.headers["WWW-Authenticate"] == 'Bearer realm="okonomi"'
        assert reply.json()["error"] == "UNAUTHORIZED"


def test_api_with_bad_expired_or_revoked_token_is_401_invalid_token(finance_sandbox):
    url = f"{finance_sandbox.api_url}/vouchers/{finance_sandbox.vouchers()[0]['voucherNumber']}"
    bad = requests.get(url, headers={"Authorization": "Bearer not-a-token"}, timeout=10)
    assert bad.status_code == 401 and bad.json()["error"] == "INVALID_TOKEN"
    assert 'error="invalid_token"' in bad.headers["WWW-Authenticate"]

    finance_sandbox.set_config(token_ttl_seconds=0)  # tokens expire as soon as they are issued
    expired_token = finance_sandbox.token()
    deadline = time.monotonic() + 30  # hang guard only (loaded machine)
    while True:  # the token expires strictly after its issue second; wait on that state
        expired = requests.get(url, headers={"Authorization": f"Bearer {expired_token}"}, timeout=10)
        if expired.status_code == 401 or time.monotonic() > deadline:
            break
    assert expired.status_code == 401
    assert 'error_description="The access token expired"' in expired.headers["WWW-Authenticate"]

    finance_sandbox.set_config(token_ttl_seconds=3600)
    token = finance_sandbox.token()
    assert requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=10).status_code == 200
    finance_sandbox.revoke_tokens()
    revoked = requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert revoked.status_code == 401 and revoked.json()["error"] == "INVALID_TOKEN"
    fresh = finance_sandbox.token()
    assert requests.get(url, headers={"Authorization": f"Bearer {fresh}"}, timeout=10).status_code == 200


def test_refused_upload_body_still_gets_its_answer(finance_sandbox):
    """A 401 on a 3 MB upload arrives as a 401, not as a reset connection (the body is read first)."""
    voucher = _pick(finance_sandbox, status="open")
    reply = _upload(finance_sandbox, voucher["voucherNumber"], b"%PDF-1.4\n" + bytes(3_000_000), token="expired")
    assert reply.status_code == 401


# -- vouchers -------------------------------------------------------------------------------------------
def test_search_by_voucher_number_and_utf8_json(finance_sandbox):
    voucher = next(v for v in finance_sandbox.vouchers() if any(c in v["supplierName"] for c in "æøåÆØÅ"))
    reply = requests.get(f"{finance_sandbox.api_url}/vouchers", params={"voucherNumber": voucher["voucherNumber"]},
                         headers=finance_sandbox.auth(), timeout=10)
    assert reply.status_code == 200
    assert reply.headers["Content-Type"] == "application/json"
    assert voucher["supplierName"].encode("utf-8") in reply.content  # UTF-8 on the wire, not \u escapes
    (item,) = reply.json()["items"]
    assert {k: item[k] for k in voucher} == voucher
    assert set(item) >= {"voucherNumber", "supplierOrgNo", "supplierName", "invoiceNumber", "amount", "currency",
                         "voucherDate", "period", "status"}
    assert item["currency"] == "NOK" and item["status"] in ("open", "posted", "locked")


def test_search_by_supplier_and_invoice_number(finance_sandbox):
    voucher = _pick(finance_sandbox, status="open")
    auth = finance_sandbox.auth()
    org = voucher["supplierOrgNo"]
    for org_as_typed in (org, f"{org[:3]} {org[3:6]} {org[6:]}"):
        reply = requests.get(f"{finance_sandbox.api_url}/vouchers", headers=auth, timeout=10,
                             params={"supplierOrgNo": org_as_typed, "invoiceNumber": voucher["invoiceNumber"]})
        assert [v["voucherNumber"] for v in reply.json()["items"]] == [voucher["voucherNumber"]]


def test_search_ambiguous_none_and_bad_queries(finance_sandbox):
    vouchers = finance_sandbox.vouchers()
    keys = [(v["supplierOrgNo"], v["invoiceNumber"]) for v in vouchers]
    shared = next(k for k in keys if keys.count(k) > 1)
    auth = finance_sandbox.auth()
    url = f"{finance_sandbox.api_url}/vouchers"
    several = requests.get(url, params={"supplierOrgNo": shared[0], "invoiceNumber": shared[1]}, headers=auth,
                           timeout=10).json()["items"]
    assert len(several) == 2 and len({v["voucherNumber"] for v in several}) == 2
    none = requests.get(url, params={"voucherNumber": "99999999"}, headers=auth, timeout=10)
    assert none.status_code == 200 and none.json() == {"items": []}
    for params in ({}, {"supplierOrgNo": shared[0]}, {"invoiceNumber": shared[1]}):
        bad = requests.get(url, params=params, headers=auth, timeout=10)
        assert bad.status_code == 400 and bad.json()["error"] == "INVALID_REQUEST", params


def test_get_voucher_and_404(finance_sandbox):
    voucher = _pick(finance_sandbox, status="posted", closed=True)
    auth = finance_sandbox.auth()
    reply = requests.get(f"{finance_sandbox.api_url}/vouchers/{voucher['voucherNumber']}", headers=auth, timeout=10)
    assert reply.status_code == 200
    assert reply.json()["status"] == "posted" and reply.json()["periodClosed"] is True
    missing = requests.get(f"{finance_sandbox.api_url}/vouchers/99999999", headers=auth, timeout=10)
    assert missing.status_code == 404
    assert missing.json()["error"] == "VOUCHER_NOT_FOUND" and "99999999" in missing.json()["message"]
    listing = requests.get(f"{finance_sandbox.api_url}/vouchers/99999999/attachments", headers=auth, timeout=10)
    assert listing.status_code == 404 and listing.json()["error"] == "VOUCHER_NOT_FOUND"


# -- upload and read back -------------------------------------------------------------------------------
def test_upload_201_list_and_download(finance_sandbox):
    voucher = _pick(finance_sandbox, status="open")
    nr = voucher["voucherNumber"]
    name = "kvittering middag æøå.pdf"
    reply = _upload(finance_sandbox, nr, PDF, name, documentType="Kvittering", comment="Møte på Tøyen")
    assert reply.status_code == 201
    body = reply.json()
    assert reply.headers["Location"] == f"/api/attachments/{body['id']}"
    assert body["fileName"] == name and body["size"] == len(PDF)
    assert body["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert body["mediaType"] == "application/pdf" and body["documentType"] == "Kvittering"
    assert body["comment"] == "Møte på Tøyen" and body["uploadedBy"] == "rpa-robot"
    assert body["uploadedAt"][:4].isdigit() and body["uploadedAt"][-6] in "+-"  # ISO 8601 with offset

    auth = finance_sandbox.auth()
    listed = requests.get(f"{finance_sandbox.api_url}/vouchers/{nr}/attachments", headers=auth, timeout=10).json()
    assert body in listed["items"]

    content = requests.get(f"{finance_sandbox.api_url}/attachments/{body['id']}/content", headers=auth, timeout=10)
    assert content.status_code == 200 and content.content == PDF
    assert content.headers["Content-Type"] == "application/pdf"
    assert content.headers["Content-Length"] == str(len(PDF))
    assert content.headers["Content-Disposition"] == \
        "attachment; filename*=utf-8''kvittering%20middag%20%C3%A6%C3%B8%C3%A5.pdf"
    assert content.headers["ETag"] == f'"{body["sha256"]}"'
    assert content.headers["Repr-Digest"] == "sha-256=:" + base64.b64encode(hashlib.sha256(PDF).digest()).decode() + ":"

    one = requests.get(f"{finance_sandbox.api_url}/attachments/{body['id']}", headers=auth, timeout=10)
    assert one.json() == body
    gone = requests.get(f"{finance_sandbox.api_url}/attachments/nope/content", headers=auth, timeout=10)
    assert gone.status_code == 404 and gone.json()["error"] == "ATTACHMENT_NOT_FOUND"

    record = finance_sandbox.attachments(nr)
    assert [(a["id"], a["channel"]) for a in record][-1] == (body["id"], "api")


def test_posted_voucher_in_open_period_takes_attachments(finance_sandbox):
    voucher = _pick(finance_sandbox, status="posted", closed=False)
    assert _upload(finance_sandbox, voucher["voucherNumber"]).status_code == 201


def test_same_bytes_twice_without_key_are_two_attachments(finance_sandbox):
    nr = _pick(finance_sandbox, status="open")["voucherNumber"]
    first, second = _upload(finance_sandbox, nr), _upload(finance_sandbox, nr)
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] != second.json()["id"]
    assert [a["sha256"] for a in finance_sandbox.attachments(nr)].count(hashlib.sha256(PDF).hexdigest()) == 2


def test_idempotency_key_replays_the_first_attachment(finance_sandbox):
    nr = _pick(finance_sandbox, status="open")["voucherNumber"]
    key = {"Idempotency-Key": "run-1:kvittering.pdf"}
    first = _upload(finance_sandbox, nr, headers=key)
    again = _upload(finance_sandbox, nr, headers=key)
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert len(finance_sandbox.attachments(nr)) == 1
    other = _pick(finance_sandbox, status="posted", closed=False)["voucherNumber"]
    assert _upload(finance_sandbox, other, headers=key).status_code == 201  # keys are per voucher


def test_locked_voucher_and_closed_period_are_409(finance_sandbox):
    for voucher in (_pick(finance_sandbox, status="locked", closed=None),
                    _pick(finance_sandbox, status="posted", closed=True)):
        reply = _upload(finance_sandbox, voucher["voucherNumber"])
        assert reply.status_code == 409, voucher
        assert reply.json()["error"] == "VOUCHER_LOCKED" and voucher["voucherNumber"] in reply.json()["message"]
        assert finance_sandbox.attachments(voucher["voucherNumber"]) == []


def test_upload_to_unknown_voucher_is_404(finance_sandbox):
    reply = _upload(finance_sandbox, "99999999")
    assert reply.status_code == 404 and reply.json()["error"] == "VOUCHER_NOT_FOUND"


def test_file_too_large_is_413(finance_sandbox):
    nr = _pick(finance_sandbox, status="open")["voucherNumber"]
    big = (finance_sandbox.inbox / "skannet-arkiv-2026.pdf").read_bytes()  # the seed's 10.5 MiB PDF
    assert len(big) > 10 * 1024 * 1024
    reply = _upload(finance_sandbox, nr, big, "skannet-arkiv-2026.pdf")
    assert reply.status_code == 413 and reply.json()["error"] == "FILE_TOO_LARGE"
    finance_sandbox.set_config(max_upload_bytes=len(PDF) - 1)  # the limit is a knob
    assert _upload(finance_sandbox, nr).status_code == 413
    finance_sandbox.set_config(max_upload_bytes=len(PDF))
    assert _upload(finance_sandbox, nr).status_code == 201
    assert len(finance_sandbox.attachments(nr)) == 1
    assert not any((finance_sandbox.data_dir / "sandbox" / "finance" / "files" / "tmp").iterdir())


@pytest.mark.parametrize(("name", "content"), [
    ("faktura-vedlegg.exe", docs.windows_exe()),
    ("kontrakt-signert.pdf", docs.zip_archive({"kontrakt.docx": b"PK fake"})),  # a zip renamed .pdf
    ("ehf.xml", b'<?xml version="1.0"?><Invoice/>'),
    ("tom.pdf", b""),
    ("bilde.png", b"\x00\x01\x02binary"),
])
def test_disallowed_types_are_415(finance_sandbox, name, content):
    nr = _pick(finance_sandbox, status="open")["voucherNumber"]
    reply = _upload(finance_sandbox, nr, content, name)
    assert reply.status_code == 415
    assert reply.json()["error"] == "FILE_TYPE_NOT_ALLOWED" and name in reply.json()["message"]
    assert finance_sandbox.attachments(nr) == []


def test_allowed_types_sniffed_by_content(finance_sandbox):
    nr = _pick(finance_sandbox, status="open")["voucherNumber"]
    cases = {
        "bilde.png": (docs.png(["a"]), "image/png"),
        "foto.jpg": (docs.jpeg(["a"]), "image/jpeg"),
        "timer.csv": (docs.csv_text([["Dato", "Timer"], ["01.10.2026", "7,5"]]), "text/csv"),
        "notat.txt": ("Notat om leveransen – ærlig talt ok\n".encode(), "text/plain"),
        "spesifikasjon.xlsx": (docs.xlsx("Ark", ["a"], [[1]]),
                               "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        "kalkyle.ods": (docs.ods([["a", "b"]]), "application/vnd.oasis.opendocument.spreadsheet"),
        "skann-uten-endelse": (PDF, "application/pdf"),
    }
    for name, (content, media_type) in cases.items():
        reply = _upload(finance_sandbox, nr, content, name)
        assert reply.status_code == 201, (name, reply.text)
        assert reply.json()["mediaType"] == media_type, name


def test_bad_requests_are_400(finance_sandbox):
    nr = _pick(finance_sandbox, status="open")["voucherNumber"]
    auth = finance_sandbox.auth()
    url = f"{finance_sandbox.api_url}/vouchers/{nr}/attachments"
    no_file = requests.post(url, headers=auth, files={"documentType": (None, "Kvittering")}, timeout=10)
    assert no_file.status_code == 400 and no_file.json()["error"] == "INVALID_REQUEST"
    not_multipart = requests.post(url, headers=auth, data=PDF, timeout=10)
    assert not_multipart.status_code == 400 and not_multipart.json()["error"] == "INVALID_REQUEST"
    for unsafe in ("../../etc/passwd.pdf", "mappe\\fil.pdf", "kvittering\x07.pdf"):
        reply = _upload(finance_sandbox, nr, PDF, unsafe)
        assert reply.status_code == 400 and reply.json()["error"] == "INVALID_FILE_NAME", unsafe
    empty_key = _upload(finance_sandbox, nr, headers={"Idempotency-Key": "x" * 256})
    assert empty_key.status_code == 400
    assert finance_sandbox.attachments(nr) == []


def test_where_is_a_document_attached(finance_sandbox):
    truth = {r["source_file"]: r for r in finance_sandbox.ground_truth()}
    elsewhere = truth["rammeavtale-2026.pdf"]  # pre-seeded on another voucher
    auth = finance_sandbox.auth()
    found = requests.get(f"{finance_sandbox.api_url}/attachments", params={"sha256": elsewhere["sha256"].upper()},
                         headers=auth, timeout=10).json()["items"]
    assert len(found) == 1 and found[0]["voucherNumber"] in elsewhere["detail"]
    nothing = requests.get(f"{finance_sandbox.api_url}/attachments", params={"sha256": "a" * 64}, headers=auth,
                           timeout=10)
    assert nothing.json() == {"items": []}
    bad = requests.get(f"{finance_sandbox.api_url}/attachments", params={"sha256": "xyz"}, headers=auth, timeout=10)
    assert bad.status_code == 400


# -- durability, concurrency, faults ----------------------------------------------------------------------
def test_record_survives_a_restart(finance_sandbox):
    nr = _pick(finance_sandbox, status="open")["voucherNumber"]
    token = finance_sandbox.token()
    created = _upload(finance_sandbox, nr, token=token, headers={"Idempotency-Key": "k-1"}).json()
    before = finance_sandbox.attachments()
    finance_sandbox.restart()
    assert finance_sandbox.attachments() == before
    auth = {"Authorization": f"Bearer {token}"}  # signed tokens outlive the restart
    content = requests.get(f"{finance_sandbox.api_url}/attachments/{created['id']}/content", headers=auth, timeout=10)
    assert content.content == PDF
    replay = _upload(finance_sandbox, nr, token=token, headers={"Idempotency-Key": "k-1"})
    assert replay.status_code == 200 and replay.json()["id"] == created["id"]


def test_concurrent_uploads_keep_a_consistent_record(finance_sandbox):
    targets = [v["voucherNumber"] for v in finance_sandbox.vouchers()
               if v["status"] == "open" and v["period"] not in finance_sandbox.closed_periods()][:4]
    token = finance_sandbox.token()
    before = len(finance_sandbox.attachments())
    results: list[tuple[int, str, str, str]] = []  # (status, voucher, key, id)
    lock = threading.Lock()

    def worker(t: int) -> None:
        session = requests.Session()
        for i in range(15):
            nr = targets[i % len(targets)]
            content = docs.pdf([f"tråd {t}", f"fil {i}"])
            # every fifth upload races the same key from all threads: exactly one may win
            key = f"shared-{i}" if i % 5 == 0 else f"t{t}-{i}"
            reply = session.post(f"{finance_sandbox.api_url}/vouchers/{nr}/attachments", timeout=60,
                                 headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key},
                                 files={"file": (f"t{t}-{i}.pdf", content)})
            with lock:
                results.append((reply.status_code, nr, key, reply.json()["id"]))

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert {s for s, *_ in results} <= {200, 201}
    created = [r for r in results if r[0] == 201]
    shared = {(nr, key) for s, nr, key, _ in results if key.startswith("shared-")}
    assert len(created) == 6 * 15 - (6 - 1) * len(shared)  # one winner per shared key
    for nr, key in shared:  # every racer got the winner's attachment
        assert len({i for _, n, k, i in results if (n, k) == (nr, key)}) == 1
    record = finance_sandbox.attachments()
    assert len(record) == before + len(created)
    assert len({a["id"] for a in record}) == len(record)
    files = finance_sandbox.data_dir / "sandbox" / "finance" / "files"
    for a in record[before:]:
        assert hashlib.sha256((files / a["id"][:2] / a["id"]).read_bytes()).hexdigest() == a["sha256"]
    assert not any((files / "tmp").iterdir())


def test_client_that_dies_mid_upload_leaves_nothing(finance_sandbox):
    nr = _pick(finance_sandbox, status="open")["voucherNumber"]
    token = finance_sandbox.token()
    host, port = urlsplit(finance_sandbox.url).hostname, urlsplit(finance_sandbox.url).port
    boundary = "grensen"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"halv.pdf\"\r\n"
            f"Content-Type: application/pdf\r\n\r\n").encode() + PDF[:300]
    with socket.create_connection((host, port)) as sock:
        sock.sendall((f"POST /api/vouchers/{nr}/attachments HTTP/1.1\r\nHost: {host}\r\n"
                      f"Authorization: Bearer {token}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\n"
                      f"Content-Length: {len(head) + 5000}\r\n\r\n").encode() + head)
    tmp = finance_sandbox.data_dir / "sandbox" / "finance" / "files" / "tmp"
    deadline = time.monotonic() + 60  # hang guard only (loaded machine)
    while any(tmp.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.05)  # the server notices the disconnect asynchronously
    assert not any(tmp.iterdir())
    assert finance_sandbox.attachments(nr) == []


def test_fault_knobs_503_and_admin_untouched(finance_sandbox):
    token = finance_sandbox.token()
    finance_sandbox.set_faults(error_rate=1.0)
    reply = requests.get(f"{finance_sandbox.api_url}/vouchers/1", headers={"Authorization": f"Bearer {token}"},
                         timeout=10)
    assert reply.status_code == 503
    assert requests.post(f"{finance_sandbox.url}/oauth/token", timeout=10).status_code == 503
    assert isinstance(finance_sandbox.attachments(), list)  # /_admin is never faulted
    finance_sandbox.set_faults(error_rate=0.0, latency_ms=300)
    slow = requests.get(f"{finance_sandbox.api_url}/vouchers/1", headers={"Authorization": f"Bearer {token}"},
                        timeout=10)
    assert slow.status_code == 404 and slow.elapsed.total_seconds() >= 0.3


def test_admin_config_rejects_unknown_knobs(finance_sandbox):
    reply = requests.put(f"{finance_sandbox.url}/_admin/config", json={"nope": 1}, timeout=5)
    assert reply.status_code == 400
    assert requests.get(f"{finance_sandbox.url}/_admin/config", timeout=5).json()["max_upload_bytes"] == 10 * 1024 * 1024


def test_reseed_while_running_serves_the_new_state(finance_sandbox):
    from sandbox.finance.seed import seed

    nr = _pick(finance_sandbox, status="open")["voucherNumber"]
    assert _upload(finance_sandbox, nr).status_code == 201
    seed(finance_sandbox.data_dir, seed=7)  # `rpa sandbox seed` while `rpa sandbox up` runs
    assert finance_sandbox.attachments(nr) == []
    fresh = _pick(finance_sandbox, status="open")
    auth = finance_sandbox.auth()
    found = requests.get(f"{finance_sandbox.api_url}/vouchers/{fresh['voucherNumber']}", headers=auth, timeout=10)
    assert found.status_code == 200 and found.json()["supplierOrgNo"] == fresh["supplierOrgNo"]
    assert _upload(finance_sandbox, fresh["voucherNumber"]).status_code == 201


def test_rpa_sandbox_commands_include_the_finance_system(tmp_path):
    from config.settings import PathSettings, SandboxSettings, Settings
    from sandbox.cli import seed_all, start_sandbox
    from sandbox.server import free_port

    settings = Settings(paths=PathSettings(data_dir=tmp_path),
                        sandbox=SandboxSettings(finance_port=free_port()))
    written = seed_all(settings, systems=("finance",))
    assert written["finance.ground_truth"] == tmp_path / "ground_truth" / "invoice-attachment-upload.csv"
    assert written["finance.inbox"] == tmp_path / "input" / "invoice-attachment-upload" / "inbox"
    (server,) = start_sandbox(settings, systems=("finance",))
    try:
        health = requests.get(f"{server.url}/healthz", timeout=10).json()
        assert health["status"] == "ok" and health["vouchers"] > 100
    finally:
        server.stop()
