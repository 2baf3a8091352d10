"""What a text file is before anyone parses it: its encoding family and its line endings.

Every reader of a municipal or NAV text file asks this first, so a file saved as UTF-16 by
Notepad, or with the CR-only line endings of an old Mac export, is named for what it is instead
of being read as one long broken line. Pure functions of the bytes; messages in Norwegian.
"""

from __future__ import annotations

from dataclasses import dataclass

_BOMS: tuple[tuple[bytes, str], ...] = (
    (b"\x00\x00\xfe\xff", "UTF-32 (big-endian)"),
    (b"\xff\xfe\x00\x00", "UTF-32 (little-endian)"),
    (b"\xfe\xff", "UTF-16 (big-endian)"),
    (b"\xff\xfe", "UTF-16 (little-endian)"),
)


@dataclass(frozen=True)
class TextShape:
    """What the first bytes say: `wide` is "UTF-16 (…)"/"UTF-32 (…)" or None; `line_endings` is
    crlf | lf | cr | mixed | none; `binary` when NUL bytes appear without a wide encoding."""

    size: int
    blank: bool
    wide: str | None
    line_endings: str
    binary: bool


def wide_encoding(data: bytes) -> str | None:
    """UTF-16/32 by its byte-order mark, or by the NUL pattern of ASCII text written two or four
    bytes per character (no BOM); None for byte encodings (ASCII, ISO-8859-1, UTF-8)."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name
    head = data[:4096]
    if len(head) < 8:
        return None

    def zeros(lane: bytes) -> float:
        return lane.count(0) / max(1, len(lane))

    lanes = [zeros(head[i::4]) for i in range(4)]
    if min(lanes[1:]) > 0.9 and lanes[0] < 0.1:
        return "UTF-32 (little-endian)"
    if min(lanes[:3]) > 0.9 and lanes[3] < 0.1:
        return "UTF-32 (big-endian)"
    even, odd = zeros(head[0::2]), zeros(head[1::2])
    if odd > 0.4 and even < 0.1:
        return "UTF-16 (little-endian)"
    if even > 0.4 and odd < 0.1:
        return "UTF-16 (big-endian)"
    return None


def line_endings(data: bytes) -> str:
    """crlf | lf | cr | mixed | none (no line break at all)."""
    crlf = data.count(b"\r\n")
    lf = data.count(b"\n") - crlf
    cr = data.count(b"\r") - crlf
    kinds = [k for k, n in (("crlf", crlf), ("lf", lf), ("cr", cr)) if n]
    if not kinds:
        return "none"
    if len(kinds) == 1:
        return kinds[0]
    return "mixed"


def shape(data: bytes) -> TextShape:
    wide = wide_encoding(data)
    return TextShape(size=len(data), blank=not data.strip(b" \t\r\n\x00\xef\xbb\xbf"), wide=wide,
                     line_endings=line_endings(data) if wide is None else "none",
                     binary=wide is None and b"\x00" in data[:65536])


def whole_file_problem(data: bytes, what: str, expected_encoding: str = "ISO-8859-1") -> str | None:
    """Why a text file cannot be read as a whole (Norwegian, names what to do), or None.

    `what` names the file for the user ("rapporten", "refusjonskravfilen")."""
    s = shape(data)
    if s.size == 0:
        return f"{what} er tom (0 byte)"
    if s.blank:
        return f"{what} inneholder bare blanke tegn og ingen linjer"
    if s.wide:
        return (f"{what} er lagret som {s.wide}, ikke {expected_encoding}; hent originalfilen på nytt "
                "(ikke lagre den om i Notisblokk eller Excel)")
    if s.binary:
        return f"{what} inneholder binære data (NUL-tegn), ikke tekstlinjer"
    if s.line_endings == "cr":
        return (f"{what} har bare CR som linjeskift (gammelt Mac-format), så linjene kan ikke skilles; "
                "hent originalfilen på nytt")
    return None


__all__ = ["TextShape", "shape", "wide_encoding", "line_endings", "whole_file_problem"]
