"""Receiving an attachment: one path for both doors (REST multipart and the web form).

The request body is parsed as it streams in (python-multipart's push parser): the file part is
written straight to a temporary file and hashed on the way, so a 200 KB upload costs one pass
over its bytes and no copy in memory. Checks, in order: voucher exists (404), Idempotency-Key
seen before (200, the earlier attachment), voucher locked or period closed (409), file present
and name safe (400), size (413), type by content (415). A refused request body is still read to
its end, so the client always gets the answer instead of a reset connection.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

from python_multipart import MultipartParser
from python_multipart.multipart import parse_options_header
from starlette.requests import ClientDisconnect, Request

from sandbox.finance import filetypes
from sandbox.finance.store import Attachment, FinanceStore

MAX_FIELD_BYTES = 64 * 1024
MAX_NAME_CHARS = 255
ALLOWED_TEXT = "PDF, PNG, JPEG, CSV/tekst, XLSX og ODS"


class UploadError(Exception):
    """A refused upload: HTTP status, machine code, Norwegian message for people."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass
class Received:
    fields: dict[str, str] = field(default_factory=dict)
    file_field: str | None = None
    file_name: str | None = None
    temp: Path | None = None
    size: int = 0
    sha256: str = ""
    head: bytes = b""
    too_large: bool = False


def _decode_name(params: dict[bytes, bytes]) -> str | None:
    if b"filename*" in params:  # RFC 5987: UTF-8''percent-encoded
        raw = params[b"filename*"].decode("latin-1")
        charset, _, rest = raw.partition("'")
        _, _, encoded = rest.partition("'")
        try:
            return unquote(encoded, encoding=charset or "utf-8", errors="strict")
        except (LookupError, UnicodeDecodeError):
            return unquote(encoded, encoding="latin-1")
    if b"filename" not in params:
        return None
    raw = params[b"filename"]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def unsafe_name_reason(name: str) -> str | None:
    """Why a file name is refused (Norwegian), or None. Path parts and control characters are out."""
    if not name or not name.strip():
        return "Filen mangler navn."
    if "/" in name or "\\" in name or name in (".", "..") or re.match(r"^[A-Za-z]:", name):
        return f"Filnavnet inneholder en sti: {name!r}."
    if any(unicodedata.category(c) in ("Cc", "Cf") for c in name):
        return f"Filnavnet inneholder kontrolltegn: {name!r}."
    if len(name) > MAX_NAME_CHARS:
        return f"Filnavnet er lengre enn {MAX_NAME_CHARS} tegn."
    return None


BODY_DONE = "finance.body_done"  # scope flag: the request body has been read to its end


async def drain(request: Request) -> None:
    """Read and drop the rest of the body, so the refusal reaches the client on a healthy connection.

    Safe to call more than once, and from an exception handler (which gets a new Request object):
    the scope flag prevents waiting on a body that has already ended."""
    if request.scope.get(BODY_DONE) or request.method in ("GET", "HEAD", "OPTIONS"):
        return
    try:
        async for _ in request.stream():
            pass
    except (RuntimeError, ClientDisconnect):  # consumed by this Request object, or the client left
        pass
    request.scope[BODY_DONE] = True


async def receive(request: Request, store: FinanceStore, max_bytes: int) -> Received:
    """Parse a multipart/form-data body; the first part with a filename is the file."""
    ctype, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if ctype != b"multipart/form-data" or not boundary:
        await drain(request)
        raise UploadError(400, "INVALID_REQUEST", "Forespørselen må være multipart/form-data med en fil.")

    got = Received()
    state: dict = {"headers": {}, "field": b"", "value": b"", "target": None, "buf": None, "out": None}
    digest = hashlib.sha256()
    head = bytearray()

    def on_part_begin() -> None:
        state["headers"] = {}
        state["target"] = None

    def on_header_field(data: bytes, start: int, end: int) -> None:
        state["field"] += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        state["value"] += data[start:end]

    def on_header_end() -> None:
        state["headers"][state["field"].lower()] = state["value"]
        state["field"], state["value"] = b"", b""

    def on_headers_finished() -> None:
        _, disp = parse_options_header(state["headers"].get(b"content-disposition", b""))
        name = disp.get(b"name", b"").decode("utf-8", errors="replace")
        file_name = _decode_name(disp)
        if file_name is not None and got.file_field is None:
            got.file_field, got.file_name = name, file_name
            got.temp, state["out"] = store.attachments.open_temp()  # closed in on_part_end / on error
            state["target"] = "file"
        elif file_name is not None:
            state["target"] = None  # further files are ignored
        else:
            state["target"] = name
            state["buf"] = bytearray()

    def on_part_data(data: bytes, start: int, end: int) -> None:
        target = state["target"]
        if target == "file":
            chunk = data[start:end]
            got.size += len(chunk)
            if got.too_large:
                return
            if got.size > max_bytes:
                got.too_large = True
                state["out"].close()
                state["out"] = None
                return
            digest.update(chunk)
            if len(head) < filetypes.HEAD_BYTES:
                head.extend(chunk[: filetypes.HEAD_BYTES - len(head)])
            state["out"].write(chunk)
        elif target is not None and len(state["buf"]) < MAX_FIELD_BYTES:
            state["buf"].extend(data[start:end])

    def on_part_end() -> None:
        target = state["target"]
        if target == "file":
            if state["out"] is not None:
                state["out"].close()
                state["out"] = None
        elif target is not None:
            got.fields[target] = state["buf"].decode("utf-8", errors="replace")
        state["target"] = None

    parser = MultipartParser(boundary, {
        "on_part_begin": on_part_begin, "on_header_field": on_header_field, "on_header_value": on_header_value,
        "on_header_end": on_header_end, "on_headers_finished": on_headers_finished, "on_part_data": on_part_data,
        "on_part_end": on_part_end,
    })
    try:
        async for chunk in request.stream():
            parser.write(chunk)
        request.scope[BODY_DONE] = True
        parser.finalize()
    except BaseException as exc:  # also cancellation: never leave a part file behind
        if state["out"] is not None:
            state["out"].close()
        discard(got)
        if isinstance(exc, (UploadError, ClientDisconnect)) or not isinstance(exc, Exception):
            raise  # a client that went away mid-upload leaves nothing behind
        await drain(request)
        raise UploadError(400, "INVALID_REQUEST", f"Ugyldig multipart-innhold: {exc}") from None
    if state["out"] is not None:  # body ended inside the file part
        state["out"].close()
        discard(got)
        raise UploadError(400, "INVALID_REQUEST", "Multipart-innholdet sluttet midt i filen.")
    got.sha256 = digest.hexdigest()
    got.head = bytes(head)
    return got


def discard(got: Received) -> None:
    if got.temp is not None:
        got.temp.unlink(missing_ok=True)
        got.temp = None


def _size_text(n: int) -> str:
    return f"{n / (1024 * 1024):.1f}".replace(".", ",") + " MB"


async def handle_upload(request: Request, store: FinanceStore, voucher_number: str, *, max_bytes: int,
                        uploaded_by: str, channel: str, file_field: str, document_type_field: str,
                        comment_field: str, idempotency_key: str | None = None,
                        default_document_type: str = "Underbilag",
                        check_fields=None) -> tuple[Attachment, bool]:
    """Receive, check and record one attachment; (attachment, created) or UploadError.

    `check_fields(fields)` may raise UploadError (the web form's CSRF token) before anything is kept."""
    store.attachments.log_write("upload", voucher_number=voucher_number, channel=channel, by=uploaded_by)
    voucher = store.vouchers.get(voucher_number)
    if voucher is None:
        await drain(request)
        raise UploadError(404, "VOUCHER_NOT_FOUND", f"Fant ikke bilag {voucher_number}.")
    if idempotency_key:
        earlier = store.attachments.replayed(voucher.voucher_number, idempotency_key)
        if earlier is not None:
            await drain(request)
            return earlier, False
    reason = voucher.locked_reason
    if reason:
        await drain(request)
        raise UploadError(409, "VOUCHER_LOCKED", f"{reason} Vedlegg kan ikke legges til.")

    got = await receive(request, store, max_bytes)
    try:
        if check_fields is not None:
            check_fields(got.fields)
        if got.file_field is None or (got.file_field != file_field and file_field not in ("", "*")):
            raise UploadError(400, "INVALID_REQUEST", f"Feltet «{file_field}» med en fil mangler.")
        bad_name = unsafe_name_reason(got.file_name or "")
        if bad_name:
            raise UploadError(400, "INVALID_FILE_NAME", bad_name)
        if got.too_large:
            raise UploadError(413, "FILE_TOO_LARGE",
                              f"Filen er for stor ({_size_text(got.size)}); største tillatte er {_size_text(max_bytes)}.")
        media_type = filetypes.sniff(got.head, got.temp, got.file_name or "")
        if media_type is None:
            raise UploadError(415, "FILE_TYPE_NOT_ALLOWED",
                              f"Filtypen er ikke tillatt for «{got.file_name}». Tillatt: {ALLOWED_TEXT}.")
        document_type = (got.fields.get(document_type_field) or "").strip()[:100] or default_document_type
        comment = (got.fields.get(comment_field) or "").strip()[:1000]
        assert got.temp is not None
        attachment, created = store.attachments.commit(
            got.temp, voucher_number=voucher.voucher_number, file_name=got.file_name or "", size=got.size,
            sha256=got.sha256, media_type=media_type, document_type=document_type, comment=comment,
            uploaded_by=uploaded_by, channel=channel, idempotency_key=idempotency_key or None)
        got.temp = None  # moved into place (or discarded by commit on a replay)
        store.attachments.log_write("attached", voucher_number=voucher.voucher_number, sha256=attachment.sha256,
                                    created=created, channel=channel)
        return attachment, created
    finally:
        discard(got)
