"""Checks for a file received from outside, before any process uses it (invoice attachments
today; any process that takes files in).

Type is decided from the content (magic numbers), never from the extension: a renamed .exe is
refused however it is called. PDFs must open, have pages and not be encrypted; images and
spreadsheets must be whole; zip-based files must not unpack to more than a limit (a
decompression bomb). File names with path parts or control characters are refused (they could
escape a folder on the way, or hide what a person reads). Every reason is Norwegian, for staff.
"""

from __future__ import annotations

import io
import unicodedata
import warnings
import zipfile
from collections.abc import Collection
from dataclasses import dataclass

from connectors.norwegian import fmt_byte_count

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ODS = "application/vnd.oasis.opendocument.spreadsheet"
ODT = "application/vnd.oasis.opendocument.text"
OCTET = "application/octet-stream"

# (prefix, media type): checked in order against the first bytes.
_MAGIC: list[tuple[bytes, str]] = [
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
    (b"MZ", "application/x-msdownload"),
    (b"\x7fELF", "application/x-executable"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "application/x-ole-storage"),  # old .doc/.xls/.msg
    (b"Rar!\x1a\x07", "application/vnd.rar"),
    (b"7z\xbc\xaf\x27\x1c", "application/x-7z-compressed"),
    (b"\x1f\x8b", "application/gzip"),
    (b"{\\rtf", "application/rtf"),
]

# What staff read (reason files, cases): Norwegian names of common types.
MEDIA_TYPE_NAMES = {
    "application/pdf": "PDF",
    "image/png": "PNG-bilde",
    "image/jpeg": "JPEG-bilde",
    "image/gif": "GIF-bilde",
    "image/tiff": "TIFF-bilde",
    "text/csv": "CSV-fil",
    "text/plain": "tekstfil",
    XLSX: "Excel-regneark (xlsx)",
    ODS: "OpenDocument-regneark (ods)",
    DOCX: "Word-dokument (docx)",
    ODT: "OpenDocument-tekst (odt)",
    "application/zip": "ZIP-arkiv",
    "application/x-msdownload": "Windows-program (exe)",
    "application/x-executable": "program",
    "application/x-ole-storage": "eldre Office-fil",
    "application/xml": "XML-fil",
    "text/html": "HTML-side",
    OCTET: "ukjent filtype",
}


def media_type_name(media_type: str) -> str:
    return MEDIA_TYPE_NAMES.get(media_type, media_type)


def sniff_media_type(data: bytes, file_name: str = "") -> str:
    """The content type decided from the bytes: magic numbers at offset 0 (a `%PDF-` further in
    is how a program or web page disguises itself as a PDF), and for zip-based formats the
    container's own structure."""
    head = data[:1024]
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    for prefix, media_type in _MAGIC:
        if data.startswith(prefix):
            return media_type
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06"):
        return _zip_type(data)
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if stripped.startswith((b"<!doctype html", b"<html")):
        return "text/html"
    if stripped.startswith(b"<?xml") or stripped.startswith(b"<"):
        return "application/xml"
    if _is_text(data):
        return "text/csv" if _looks_like_csv(data, file_name) else "text/plain"
    return OCTET


def _zip_type(data: bytes) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            names = set(z.namelist())
            if "mimetype" in names:
                declared = z.read("mimetype").decode("ascii", errors="replace").strip()
                if declared in (ODS, ODT):
                    return declared
            if "[Content_Types].xml" in names:  # Office Open XML: the main part must be there too
                if "xl/workbook.xml" in names:
                    return XLSX
                if "word/document.xml" in names:
                    return DOCX
    except (zipfile.BadZipFile, OSError, KeyError, ValueError):
        pass
    return "application/zip"


def _is_text(data: bytes) -> bool:
    if b"\x00" in data[:65536]:
        return False
    try:
        text = data[:65536].decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < 65536 - 4:  # a multibyte sequence cut by our slice is fine
            try:
                text = data[:65536].decode("cp1252")
            except UnicodeDecodeError:
                return False
        else:
            text = data[:exc.start].decode("utf-8")
    controls = sum(1 for ch in text if unicodedata.category(ch) == "Cc" and ch not in "\r\n\t\f")
    return controls == 0


def _looks_like_csv(data: bytes, file_name: str) -> bool:
    if file_name.lower().endswith(".csv"):
        return True
    lines = [ln for ln in data[:65536].decode("utf-8", errors="replace").splitlines() if ln.strip()][:20]
    if len(lines) < 2:
        return False
    for sep in (";", ",", "\t"):
        counts = {ln.count(sep) for ln in lines[:-1]}
        if len(counts) == 1 and counts.pop() > 0:
            return True
    return False


def unsafe_name_reason(name: str) -> str | None:
    """Why a file name is unsafe, in Norwegian; None when it is fine."""
    if not name or not name.strip():
        return "filnavnet er tomt"
    if name in (".", "..") or "/" in name or "\\" in name:
        return "filnavnet inneholder en sti (/, \\ eller ..)"
    if any(unicodedata.category(ch) == "Cc" for ch in name):
        return "filnavnet inneholder kontrolltegn (usynlige tegn som linjeskift)"
    if any(unicodedata.category(ch) in ("Cf", "Zl", "Zp") for ch in name):
        return "filnavnet inneholder usynlige formateringstegn (kan skjule den egentlige filtypen)"
    if ":" in name:
        return "filnavnet inneholder kolon (stasjonsbokstav eller alternativ datastrøm)"
    if len(name.encode("utf-8")) > 200:
        return "filnavnet er for langt (over 200 byte)"
    if name != name.strip() or name.endswith("."):
        return "filnavnet begynner eller slutter med mellomrom eller punktum"
    return None


def safe_display_name(name: str) -> str:
    """A name a person can read and we can store: control characters and path parts made visible."""
    out = []
    for ch in name:
        if ch in "/\\":
            out.append("_")
        elif unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp"):
            out.append(f"[U+{ord(ch):04X}]")
        else:
            out.append(ch)
    cleaned = "".join(out).strip().lstrip(".") or "fil"
    return cleaned[:150]


def check_pdf(data: bytes) -> str | None:
    """Why a PDF cannot be used (Norwegian), or None."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    if b"%%EOF" not in data.rstrip(b"\x00 \t\r\n")[-1024:]:  # some scanners pad with NULs
        return "PDF-filen er avkortet (mangler slutten)"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = PdfReader(io.BytesIO(data), strict=False)
            if reader.is_encrypted:
                return "PDF-filen er kryptert eller passordbeskyttet"
            pages = len(reader.pages)
            if pages == 0:
                return "PDF-filen har ingen sider"
            for page in reader.pages:
                _ = page.mediabox
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError,
            OSError, NotImplementedError) as exc:
        if "encrypt" in str(exc).lower() or "password" in str(exc).lower():
            return "PDF-filen er kryptert eller passordbeskyttet"
        return f"PDF-filen kan ikke leses ({type(exc).__name__})"
    return None


def _check_png(data: bytes) -> str | None:
    if len(data) < 33 or data[12:16] != b"IHDR":
        return "PNG-bildet mangler bildehodet (IHDR)"
    if b"IEND" not in data[-16:]:
        return "PNG-bildet er avkortet (mangler slutten)"
    return None


def _check_jpeg(data: bytes) -> str | None:
    if not data.rstrip(b"\x00").endswith(b"\xff\xd9"):
        return "JPEG-bildet er avkortet (mangler slutten)"
    return None


ZIP_BASED = frozenset({XLSX, DOCX, ODS, ODT, "application/zip"})


def zip_bomb_reason(data: bytes, max_total: int, max_ratio: float, max_entries: int = 10_000) -> str | None:
    """Why a zip-based file would be dangerous to unpack (Norwegian), or None. Read from the
    central directory only: nothing is decompressed to find out."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            infos = z.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return None  # not a readable zip: the content check names that
    if len(infos) > max_entries:
        return f"filen inneholder {len(infos)} delfiler (grensen er {max_entries})"
    total = sum(i.file_size for i in infos)
    packed = max(1, sum(i.compress_size for i in infos))
    if total > max_total:
        return (f"filen pakkes ut til {fmt_byte_count(total)} (grensen er {fmt_byte_count(max_total)}): "
                "mulig dekomprimeringsbombe")
    if total / packed > max_ratio:
        return (f"filen pakkes ut {total // packed} ganger større enn den er (grensen er {max_ratio:g}): "
                "mulig dekomprimeringsbombe")
    return None


def _check_zip(data: bytes) -> str | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            bad = z.testzip()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return "regnearket er skadet (kan ikke pakkes ut)"
    return f"regnearket er skadet ({bad})" if bad else None


def _check_text(data: bytes) -> str | None:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        try:
            data.decode("cp1252")
        except UnicodeDecodeError:
            return "CSV-filen har ugyldige tegn"
    return None


_CONTENT_CHECKS = {"application/pdf": check_pdf, "image/png": _check_png, "image/jpeg": _check_jpeg,
                   XLSX: _check_zip, ODS: _check_zip, "text/csv": _check_text}


@dataclass(frozen=True)
class FileProblem:
    """Why a file is refused: `kind` (name | empty | size | type | content), for the process to
    sort into its own categories, and a Norwegian sentence for staff."""

    kind: str
    message: str


def name_problem(name: str) -> FileProblem | None:
    """The file name's problem, as a sentence naming the file; None when the name is fine."""
    reason = unsafe_name_reason(name)
    return FileProblem("name", f"Filnavnet {safe_display_name(name)!r} er ugyldig: {reason}.") if reason else None


def check_file(name: str, data: bytes, *, max_bytes: int, allowed_media_types: Collection[str],
               max_uncompressed_bytes: int, max_compression_ratio: float) -> tuple[str, FileProblem | None]:
    """(media type by content, the first problem or None): name, empty, size, type, then the
    content (a zip bomb, or a file of its type that is not whole)."""
    media_type = sniff_media_type(data, name) if data else OCTET
    if problem := name_problem(name):
        return media_type, problem
    if not data:
        return media_type, FileProblem("empty", "Filen er tom (0 byte).")
    if len(data) > max_bytes:
        return media_type, FileProblem("size", f"Filen er {fmt_byte_count(len(data))}; største tillatte "
                                               f"størrelse er {fmt_byte_count(max_bytes)}.")
    if media_type not in allowed_media_types:
        allowed = ", ".join(media_type_name(t) for t in allowed_media_types)
        return media_type, FileProblem("type", f"Innholdet er {media_type_name(media_type)} ({media_type}), "
                                               f"uansett filendelse; tillatt er {allowed}.")
    reason = zip_bomb_reason(data, max_uncompressed_bytes, max_compression_ratio) if media_type in ZIP_BASED else None
    if reason is None and (check := _CONTENT_CHECKS.get(media_type)):
        reason = check(data)
    if reason:
        return media_type, FileProblem("content", reason[0].upper() + reason[1:] + ".")
    return media_type, None
