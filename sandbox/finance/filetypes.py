"""What the finance system accepts as an attachment, decided by content (magic bytes), not by name.

Allowed, as in PEPPOL BIS Billing 3.0: PDF, PNG, JPEG, CSV/plain text, XLSX, ODS. Everything else
(programs, other zip files, XML/HTML, Word files) is refused with 415. The system does not look
inside a PDF: a corrupt or encrypted PDF is still a PDF here (validating it is the robot's job).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
CSV = "text/csv"
TEXT = "text/plain"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ODS = "application/vnd.oasis.opendocument.spreadsheet"
ALLOWED = (PDF, PNG, JPEG, CSV, TEXT, XLSX, ODS)

HEAD_BYTES = 8192  # enough for every signature below and for the text check


def _is_text(head: bytes) -> bool:
    """UTF-8 (or Latin-1) text without control characters other than tab/CR/LF/FF; not markup."""
    if not head or b"\x00" in head:
        return False
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:  # Latin-1 text, or a multi-byte character cut at the sample's end
        text = head.decode("latin-1") if exc.start < len(head) - 3 else head[: exc.start].decode("utf-8")
    if any(ord(c) < 32 and c not in "\t\r\n\f" for c in text):
        return False
    return not text.lstrip("\ufeff \t\r\n").startswith("<")  # XML, HTML: not an allowed type


def _zip_kind(path: Path) -> str | None:
    try:
        with zipfile.ZipFile(path) as z:
            names = set(z.namelist())
            if "mimetype" in names and z.read("mimetype").strip() == ODS.encode():
                return ODS
            if "[Content_Types].xml" in names and any(n.startswith("xl/") for n in names):
                return XLSX
    except (zipfile.BadZipFile, OSError, KeyError, ValueError):
        return None
    return None


def sniff(head: bytes, path: Path | None = None, file_name: str = "") -> str | None:
    """The media type of an allowed file, or None when the content is not an allowed type.

    `head` is the first bytes of the file; `path` (the whole file) is needed to tell an XLSX or
    ODS from any other zip. `file_name` only chooses between text/csv and text/plain."""
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"PK\x03\x04"):
        return _zip_kind(path) if path is not None else None
    if _is_text(head):
        return CSV if file_name.lower().endswith(".csv") else TEXT
    return None
