"""A minimal but valid PDF writer for the stand-ins (no PDF library needed; pypdf opens the result)."""

from __future__ import annotations

import random


def pdf_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def pdf(lines: list[str], *, title: str = "Underbilag", padding: int = 0, seed: int = 0,
        blob: bytes | None = None) -> bytes:
    """A valid one-page A4 PDF with `lines` in Helvetica (WinAnsi: æøå print correctly).

    `padding` adds an unreferenced binary stream of that many pseudo-random bytes (a scanned
    image stand-in; or `blob` itself): the file stays a valid PDF of the wanted size.
    """
    ops = ["BT", "/F1 11 Tf", "14 TL", "56 790 Td"]
    for i, line in enumerate(lines):
        ops.append(("" if i == 0 else "T* ") + f"({pdf_escape(line)}) Tj")
    ops.append("ET")
    stream = "\n".join(ops).encode("cp1252", errors="replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> "
        b"/Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Title (" + pdf_escape(title).encode("cp1252", errors="replace") + b") /Producer (Skanner 3000) >>",
    ]
    if blob is None and padding > 0:
        blob = random.Random(seed).randbytes(padding)
    if blob:
        objects.append(b"<< /Length " + str(len(blob)).encode() + b" >>\nstream\n" + blob + b"\nendstream")
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info 6 0 R >>\n"
            f"startxref\n{xref}\n%%EOF\n").encode()
    return bytes(out)
