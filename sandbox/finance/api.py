"""The finance system's REST door: OAuth2 token, voucher search, attachment list and upload.

  POST /oauth/token                                  client credentials -> bearer token
  GET  /api/vouchers?voucherNumber=N                 {"items": [voucher]}
  GET  /api/vouchers?supplierOrgNo=O&invoiceNumber=I {"items": [voucher, ...]} (several: ambiguous)
  GET  /api/vouchers/{nr}                            voucher | 404 VOUCHER_NOT_FOUND
  GET  /api/vouchers/{nr}/attachments                {"items": [attachment, ...]}
  POST /api/vouchers/{nr}/attachments                multipart: file, documentType, comment
                                                     (+ Idempotency-Key) -> 201 | 200 replay
  GET  /api/attachments?sha256=H                     where a document is attached
  GET  /api/attachments?uploadedFrom=D&uploadedTo=D  attachments uploaded in a period (ISO dates,
                                                     both included; by people or clients)
  GET  /api/attachments/{id}                         one attachment
  GET  /api/attachments/{id}/content                 the bytes
Errors are {"error": CODE, "message": Norwegian text}. Every /api route needs a bearer token.
"""

from __future__ import annotations

import base64
import re

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, JSONResponse

from sandbox.finance.auth import NO_STORE, ApiError, basic_credentials, oauth_error
from sandbox.finance.store import FinanceStore
from sandbox.finance.upload import UploadError, handle_upload

SHA256_HEX = re.compile(r"^[0-9a-fA-F]{64}$")
ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _store(request: Request) -> FinanceStore:
    return request.app.state.store


async def bearer(request: Request) -> str:
    """The OAuth client behind the request's token (async: no worker-thread hop per request)."""
    return request.app.state.tokens.subject(request)


oauth = APIRouter(include_in_schema=False)
router = APIRouter(prefix="/api", dependencies=[Depends(bearer)])


@oauth.post("/oauth/token")
async def token(request: Request) -> JSONResponse:
    issuer = request.app.state.tokens
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/x-www-form-urlencoded":
        return oauth_error(400, "invalid_request", "Use application/x-www-form-urlencoded (RFC 6749).")
    form = await request.form()
    grant_type = str(form.get("grant_type") or "")
    if not grant_type:
        return oauth_error(400, "invalid_request", "grant_type is missing.")
    if grant_type != "client_credentials":
        return oauth_error(400, "unsupported_grant_type", f"grant_type {grant_type!r} is not supported.")
    basic = basic_credentials(request)
    client_id, secret = basic or (str(form.get("client_id") or ""), str(form.get("client_secret") or ""))
    if not client_id or not issuer.credentials_ok(client_id, secret):
        return oauth_error(401, "invalid_client", "Client authentication failed.", basic_challenge=True)
    return JSONResponse(issuer.issue(), headers=NO_STORE)


@router.get("/vouchers")
def search_vouchers(request: Request, voucherNumber: str | None = None, supplierOrgNo: str | None = None,
                    invoiceNumber: str | None = None) -> dict:
    if not voucherNumber and not (supplierOrgNo and invoiceNumber):
        raise ApiError(400, "INVALID_REQUEST",
                       "Søk med voucherNumber, eller med supplierOrgNo og invoiceNumber sammen.")
    found = _store(request).search(voucherNumber, supplierOrgNo, invoiceNumber)
    return {"items": [v.to_json() for v in found]}


def _voucher(request: Request, voucher_number: str):
    voucher = _store(request).vouchers.get(voucher_number)
    if voucher is None:
        raise ApiError(404, "VOUCHER_NOT_FOUND", f"Fant ikke bilag {voucher_number}.")
    return voucher


@router.get("/vouchers/{voucher_number}")
def get_voucher(request: Request, voucher_number: str) -> dict:
    return _voucher(request, voucher_number).to_json()


@router.get("/vouchers/{voucher_number}/attachments")
def list_attachments(request: Request, voucher_number: str) -> dict:
    voucher = _voucher(request, voucher_number)
    return {"items": [a.to_json() for a in _store(request).attachments.for_voucher(voucher.voucher_number)]}


@router.post("/vouchers/{voucher_number}/attachments")
async def upload_attachment(request: Request, voucher_number: str, client: str = Depends(bearer)) -> JSONResponse:
    key = request.headers.get("idempotency-key")
    if key is not None and not (0 < len(key.strip()) <= 255):
        raise ApiError(400, "INVALID_REQUEST", "Idempotency-Key må være 1–255 tegn.")
    try:
        attachment, created = await handle_upload(
            request, _store(request), voucher_number, max_bytes=request.app.state.config.max_upload_bytes,
            uploaded_by=client, channel="api", file_field="file",
            document_type_field="documentType", comment_field="comment",
            idempotency_key=key.strip() if key else None)
    except UploadError as exc:
        raise ApiError(exc.status, exc.code, exc.message) from None
    location = f"/api/attachments/{attachment.id}"
    headers = {"Location": location}
    if not created:
        headers["Idempotent-Replayed"] = "true"
    return JSONResponse(attachment.to_json(), status_code=201 if created else 200, headers=headers)


@router.get("/attachments")
def find_attachments(request: Request, sha256: str | None = None, uploadedFrom: str | None = None,
                     uploadedTo: str | None = None) -> dict:
    if sha256 is None and (uploadedFrom or uploadedTo):
        days = [uploadedFrom or "", uploadedTo or ""]
        if not all(ISO_DAY.match(d) for d in days):
            raise ApiError(400, "INVALID_REQUEST", "Parameterne uploadedFrom og uploadedTo må begge være datoer "
                                                   "(ÅÅÅÅ-MM-DD).")
        return {"items": [a.to_json() for a in _store(request).attachments.uploaded_between(*days)]}
    if not sha256 or not SHA256_HEX.match(sha256):
        raise ApiError(400, "INVALID_REQUEST", "Parameteren sha256 må være 64 heksadesimale tegn.")
    return {"items": [a.to_json() for a in _store(request).attachments.by_sha256(sha256)]}


def _attachment(request: Request, attachment_id: str):
    attachment = _store(request).attachments.get(attachment_id)
    if attachment is None:
        raise ApiError(404, "ATTACHMENT_NOT_FOUND", f"Fant ikke vedlegg {attachment_id}.")
    return attachment


@router.get("/attachments/{attachment_id}")
def get_attachment(request: Request, attachment_id: str) -> dict:
    return _attachment(request, attachment_id).to_json()


def content_response(store: FinanceStore, attachment) -> FileResponse:
    digest = base64.b64encode(bytes.fromhex(attachment.sha256)).decode()
    response = FileResponse(store.attachments.content_path(attachment.id), media_type=attachment.media_type,
                            filename=attachment.file_name, content_disposition_type="attachment")
    response.headers["ETag"] = f'"{attachment.sha256}"'
    response.headers["Repr-Digest"] = f"sha-256=:{digest}:"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@router.get("/attachments/{attachment_id}/content")
def attachment_content(request: Request, attachment_id: str) -> FileResponse:
    return content_response(_store(request), _attachment(request, attachment_id))
