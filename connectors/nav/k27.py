"""NAV's settlement report "Oppgjørsrapport arbeidsgiver – refusjoner fra Nav" (formerly K27), CSV.

Layout (no header row, ISO-8859-1, CRLF, fields separated by ';' and padded to fixed widths):

    # field            width  format
    1 NAV unit           4    digits (8020)
    2 orgnr              9    digits, mod-11
    3 bedriftsnummer     9    digits, mod-11
    4 benefit code       1    see BENEFIT_CODES
    5 fnr               11    digits, two mod-11 check digits
    6 from date          8    YYYYMMDD or 00000000
    7 bank account      11    digits
    8 name              25    padded / truncated
    9 to date            8    YYYYMMDD or 00000000
   10 amount            11    øre, 10 digits, then ' ' (positive) or '-' (negative)
   11 fixed             11    0000000000 + space
   12 maksdato           8    YYYYMMDD or 00000000

Parsing is vectorized (numpy over the raw bytes): a standard line is exactly 127 bytes, so the
lines of a file are gathered into one byte matrix and every field is checked column-wise.
Lines of another length (a short name, a truncated last line, a UTF-8 name) take a per-line
path with the same checks. A bad line never stops the file: it becomes an InvalidLine naming
the file, the line number, the field and the reason (Norwegian: HR reads these).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from connectors.identifiers import find_fnrs, mask_fnrs_in_text, valid_fnr, valid_orgnr
from connectors.textfile import whole_file_problem

BENEFIT_CODES: dict[str, str] = {
    "1": "Foreldrepenger ved adopsjon",
    "2": "Foreldrepenger ved fødsel",
    "3": "Svangerskapspenger",
    "4": "Sykepenger",
    "5": "Forsikret i arbeidsgiverperioden",
    "6": "Stort sykefravær (kronisk sykdom)",
    "7": "Gravide",
    "8": "Reisetilskudd",
    "9": "Pleiepenger",
    "A": "Trekk/tilbakebetaling",
    "F": "Foreldrepenger feriepenger",
    "H": "Sykepenger feriepenger",
    "I": "Forsikret AGP feriepenger",
    "J": "Stort sykefravær feriepenger",
    "K": "Gravide feriepenger",
    "M": "Pleie-/omsorg-/opplæringspenger feriepenger",
    "Y": "Opplæringspenger",
    "Z": "Omsorgspenger",
}
CODE_LIST: list[str] = list(BENEFIT_CODES)
HOLIDAY_PAY_CODES = frozenset("FHIJKM")


@dataclass(frozen=True)
class K27Field:
    name: str
    width: int
    label: str  # Norwegian, used in error messages


FIELDS: tuple[K27Field, ...] = (
    K27Field("nav_unit", 4, "NAV-enhet"),
    K27Field("orgnr", 9, "orgnr"),
    K27Field("bnr", 9, "bedriftsnummer"),
    K27Field("code", 1, "ytelse"),
    K27Field("fnr", 11, "fnr"),
    K27Field("fra", 8, "fra-dato"),
    K27Field("konto", 11, "bankkonto"),
    K27Field("navn", 25, "navn"),
    K27Field("til", 8, "til-dato"),
    K27Field("belop", 11, "beløp"),
    K27Field("fast", 11, "fast felt"),
    K27Field("maksdato", 8, "maksdato"),
)
LINE_WIDTH = sum(f.width for f in FIELDS) + len(FIELDS) - 1  # 127
_START: dict[str, int] = {}
_pos = 0
for _f in FIELDS:
    _START[_f.name] = _pos
    _pos += _f.width + 1
_SEPARATORS = np.array([_START[f.name] + f.width for f in FIELDS[:-1]])
_FIELD_NO = {f.name: n for n, f in enumerate(FIELDS, start=1)}
_LABEL = {f.name: f.label for f in FIELDS}

LINES_COLUMNS = ["line_no", "nav_unit", "orgnr", "bnr", "code", "fnr", "fra", "konto", "navn", "til",
                 "amount_ore", "maksdato"]


class K27FormatError(ValueError):
    """The file as a whole cannot be trusted as a settlement report: empty, another encoding or
    line-ending style, truncated, another file type or mostly invalid. Nothing from it is used:
    a report that cannot prove it is whole must not settle (or age) any claim."""

    def __init__(self, file: str, reason: str):
        self.file, self.reason = file, reason
        super().__init__(f"{file}: {reason}")


@dataclass
class InvalidLine:
    """A line that cannot be used; `reason` is Norwegian and never holds an fnr in clear."""

    file: str
    line_no: int
    field: str      # e.g. "felt 5 (fnr)"
    reason: str
    raw: str        # the line as read (personal data: evidence only, never a message)
    amount_ore: int | None = None  # when the amount field itself was readable
    fnr: str | None = None
    bnr: str | None = None

    @property
    def message(self) -> str:
        where = f"{self.file}, linje {self.line_no}"
        text = f"{where}: {self.reason}" if ";" in self.field else f"{where}, {self.field}: {self.reason}"
        return mask_fnrs_in_text(text)


@dataclass
class K27Report:
    report_id: str
    file_name: str
    sha256: str
    encoding: str
    lines: pd.DataFrame                  # the valid lines, LINES_COLUMNS, ascending line_no
    invalid: list[InvalidLine] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    line_count: int = 0                  # non-empty lines in the file, valid or not

    @property
    def total_ore(self) -> int:
        """Sum of every line whose amount could be read (what the bank credit should equal)."""
        return int(self.lines["amount_ore"].sum()) + sum(i.amount_ore or 0 for i in self.invalid)

    @property
    def total_complete(self) -> bool:
        """False when an invalid line's amount could not be read (the total is then a lower bound)."""
        return all(i.amount_ore is not None for i in self.invalid)


# ------------------------------------------------------------------------------ writing

@dataclass
class K27Line:
    orgnr: str
    bnr: str
    code: str
    fnr: str
    fra: date | None
    konto: str
    navn: str
    til: date | None
    amount_ore: int
    maksdato: date | None = None
    nav_unit: str = "8020"


def _d(value: date | None) -> str:
    return value.strftime("%Y%m%d") if value else "00000000"


def format_line(line: K27Line) -> str:
    sign = "-" if line.amount_ore < 0 else " "
    name = line.navn[:25].ljust(25)
    return ";".join([line.nav_unit, line.orgnr, line.bnr, line.code, line.fnr, _d(line.fra), line.konto, name,
                     _d(line.til), f"{abs(line.amount_ore):010d}{sign}", "0000000000 ", _d(line.maksdato)])


def to_bytes(lines: Iterable[K27Line | str], encoding: str = "iso-8859-1") -> bytes:
    """A report file as NAV sends it: ISO-8859-1, CRLF after every line."""
    text = "".join((ln if isinstance(ln, str) else format_line(ln)) + "\r\n" for ln in lines)
    return text.encode(encoding, errors="replace")


# ------------------------------------------------------------------------------ reading

def decode_report_bytes(data: bytes) -> tuple[bytes, str, list[str]]:
    """The bytes as ISO-8859-1 (what the parser reads), the encoding found and warnings.

    NAV sends ISO-8859-1. A file that is valid UTF-8 with non-ASCII characters was re-saved
    by someone; read as ISO-8859-1 its names would come out as 'Ã¸', so it is read as UTF-8."""
    warnings: list[str] = []
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
        warnings.append("Filen starter med UTF-8-BOM; den er fjernet.")
    if data.isascii():
        return data, "ascii", warnings
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return data, "iso-8859-1", warnings
    warnings.append("Filen er lagret som UTF-8, ikke ISO-8859-1 som NAV sender; den er lest som UTF-8.")
    return text.encode("iso-8859-1", errors="replace"), "utf-8", warnings


def _line_bounds(arr: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
    """(starts, ends) of every physical line, CR/LF excluded; and whether the last line lacks a newline."""
    nl = np.flatnonzero(arr == 10)
    starts = np.concatenate(([0], nl + 1))
    ends = np.concatenate((nl, [len(arr)]))
    unterminated = bool(len(arr)) and arr[-1] != 10
    if not unterminated:  # the empty remainder after the final newline is not a line
        starts, ends = starts[:-1], ends[:-1]
    if len(ends):
        has_cr = np.zeros(len(ends), dtype=bool)
        nonempty = ends > starts
        has_cr[nonempty] = arr[ends[nonempty] - 1] == 13
        ends = ends - has_cr
    return starts, ends, unterminated


_POW10 = {w: (10 ** np.arange(w - 1, -1, -1)).astype(np.int64) for w in (1, 2, 4, 8, 9, 10, 11)}
_FNR_W1 = np.array([3, 7, 6, 1, 8, 9, 4, 5, 2], dtype=np.int64)
_FNR_W2 = np.array([5, 4, 3, 2, 7, 6, 5, 4, 3, 2], dtype=np.int64)
_ORG_W = np.array([3, 2, 7, 6, 5, 4, 3, 2], dtype=np.int64)
_CODE_LOOKUP = np.full(256, -1, dtype=np.int16)
for _i, _c in enumerate(CODE_LIST):
    _CODE_LOOKUP[ord(_c)] = _i


def _mod11(digits: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Vectorized mod-11 check digit; -1 where none exists (remainder 1)."""
    rest = 11 - (digits @ weights) % 11
    return np.where(rest == 11, 0, np.where(rest == 10, -1, rest))


def _dates(digits: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(datetime64[D] with NaT, is_zero, is_valid) from an (N, 8) digit matrix YYYYMMDD."""
    value = digits @ _POW10[8]
    zero = value == 0
    y, m, d = value // 10000, value // 100 % 100, value % 100
    ok = ~zero & (y >= 1900) & (y <= 2099) & (m >= 1) & (m <= 12) & (d >= 1)
    months = np.where(ok, (y - 1970) * 12 + (m - 1), 0).astype("datetime64[M]")
    first = months.astype("datetime64[D]")
    length = ((months + 1).astype("datetime64[D]") - first).astype(np.int64)
    ok &= d <= length
    out = np.where(ok, first + np.where(ok, d - 1, 0).astype("timedelta64[D]"), np.datetime64("NaT"))
    return out.astype("datetime64[D]"), zero, ok | zero


def _pa_mask(mask: np.ndarray):
    import pyarrow as pa

    return pa.array(mask)


def latin1_names(raw: np.ndarray):
    """Fixed-width ISO-8859-1 names (n, 25) -> an Arrow string array, right-trimmed.

    The whole block is transcoded to UTF-8 in one C call; a byte >= 0x80 becomes two bytes, so
    each row's offset is known from its count of such bytes: no Python string per line."""
    import pyarrow as pa
    import pyarrow.compute as pc

    n, width = raw.shape
    block = np.ascontiguousarray(raw)
    utf8 = block.tobytes().decode("iso-8859-1").encode("utf-8")
    row_bytes = width + (block >= 0x80).sum(axis=1, dtype=np.int64)
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(row_bytes, out=offsets[1:])
    arr = pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(utf8))
    return pc.utf8_rtrim(arr, characters=" ")


def _check(errors: list[np.ndarray], names: list[str], reasons: list[str], bad: np.ndarray,
           name: str, reason: str) -> None:
    errors.append(bad)
    names.append(name)
    reasons.append(reason)


def _parse_matrix(mat: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray, list[tuple[np.ndarray, str, str]]]:
    """Fields of standard-width lines, a validity mask and the failed checks (mask, field, reason)."""
    n = len(mat)
    cols: dict[str, np.ndarray] = {}
    checks: list[tuple[np.ndarray, str, str]] = []

    def digits(name: str, width: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(digit matrix as uint8, all-digits mask); checks run on bytes, values via one matmul."""
        start = _START[name]
        w = width or next(f.width for f in FIELDS if f.name == name)
        d8 = mat[:, start:start + w] - np.uint8(48)  # a non-digit wraps to > 9
        ok = (d8 <= 9).all(axis=1)
        if not ok.all():
            checks.append((~ok, name, "inneholder tegn som ikke er sifre"))
            d8 = np.where(ok[:, None], d8, np.uint8(0))
        return d8, ok

    def number(d8: np.ndarray) -> np.ndarray:
        return d8.astype(np.int64) @ _POW10[d8.shape[1]]

    sep_ok = (mat[:, _SEPARATORS] == 59).all(axis=1)
    if not sep_ok.all():
        checks.append((~sep_ok, "layout", "skilletegnene (;) står ikke der formatet sier"))

    dm, ok = digits("nav_unit")
    cols["nav_unit"] = number(dm)
    dm, ok = digits("orgnr")
    cols["orgnr"] = number(dm)
    dm = dm.astype(np.int64)
    bad = ok & (_mod11(dm[:, :8], _ORG_W) != dm[:, 8])
    if bad.any():
        checks.append((bad, "orgnr", "ugyldig kontrollsiffer"))
    dm, ok = digits("bnr")
    cols["bnr"] = number(dm)
    dm = dm.astype(np.int64)
    bad = ok & (_mod11(dm[:, :8], _ORG_W) != dm[:, 8])
    if bad.any():
        checks.append((bad, "bnr", "ugyldig kontrollsiffer"))

    code = _CODE_LOOKUP[mat[:, _START["code"]]]
    if (code < 0).any():
        checks.append((code < 0, "code", "ukjent ytelseskode"))
    cols["code"] = np.where(code < 0, 0, code).astype(np.int8)

    dm, ok = digits("fnr")
    cols["fnr"] = number(dm)
    dm = dm.astype(np.int64)
    k1 = _mod11(dm[:, :9], _FNR_W1)
    k2 = _mod11(np.concatenate([dm[:, :9], np.where(k1 < 0, 0, k1)[:, None]], axis=1), _FNR_W2)
    bad = ok & ((k1 < 0) | (k2 < 0) | (k1 != dm[:, 9]) | (k2 != dm[:, 10]))
    if bad.any():
        checks.append((bad, "fnr", "ugyldig fødselsnummer (kontrollsiffer stemmer ikke)"))

    for name in ("fra", "til", "maksdato"):
        dm, ok = digits(name)
        values, _zero, valid = _dates(dm.astype(np.int64))
        bad = ok & ~valid
        if bad.any():
            checks.append((bad, name, "ugyldig dato (ÅÅÅÅMMDD eller 00000000)"))
        cols[name] = values
    order = ~np.isnat(cols["fra"]) & ~np.isnat(cols["til"]) & (cols["fra"] > cols["til"])
    if order.any():
        checks.append((order, "til", "til-dato er før fra-dato"))

    dm, ok = digits("konto")
    cols["konto"] = number(dm)

    dm, ok = digits("belop", 10)
    sign = mat[:, _START["belop"] + 10]
    sign_ok = (sign == 32) | (sign == 45)
    bad = ok & ~sign_ok
    if bad.any():
        checks.append((bad, "belop", "fortegn må være mellomrom eller '-'"))
    amount = number(dm)
    cols["amount_ore"] = np.where(sign == 45, -amount, amount)
    cols["amount_ok"] = ok & sign_ok

    dm, ok = digits("fast", 10)

    start = _START["navn"]
    cols["navn"] = latin1_names(np.ascontiguousarray(mat[:, start:start + 25]))

    valid = np.ones(n, dtype=bool)
    for mask, _, _ in checks:
        valid &= ~mask
    return cols, valid, checks


def _field_label(name: str) -> str:
    if name == "layout":
        return "linjeoppsett"
    return f"felt {_FIELD_NO[name]} ({_LABEL[name]})"


def _parse_date(text: str) -> tuple[date | None, bool]:
    if text == "00000000":
        return None, True
    if not re.fullmatch(r"\d{8}", text):
        return None, False
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:])), True
    except ValueError:
        return None, False


_AMOUNT = re.compile(r"(\d{10})([ -]?)")


def _parse_odd_line(text: str) -> tuple[dict | None, list[tuple[str, str]], int | None]:
    """One line that is not 127 bytes: (fields or None, [(field, reason)], readable amount)."""
    parts = text.split(";")
    if len(parts) != len(FIELDS):
        amount = None
        if len(parts) > 9 and (m := _AMOUNT.fullmatch(parts[9])):
            amount = -int(m[1]) if m[2] == "-" else int(m[1])
        return None, [("layout", f"{len(parts)} av {len(FIELDS)} felt (avkortet eller feil formatert linje)")], amount
    f = dict(zip((x.name for x in FIELDS), parts, strict=True))
    problems: list[tuple[str, str]] = []
    out: dict = {}
    for name, width in (("nav_unit", 4), ("konto", 11)):
        if not re.fullmatch(rf"\d{{{width}}}", f[name]):
            problems.append((name, f"må være {width} sifre"))
        else:
            out[name] = int(f[name])
    for name in ("orgnr", "bnr"):
        if not re.fullmatch(r"\d{9}", f[name]):
            problems.append((name, "må være 9 sifre"))
        elif not valid_orgnr(f[name]):
            problems.append((name, "ugyldig kontrollsiffer"))
        else:
            out[name] = int(f[name])
    if f["code"] not in BENEFIT_CODES:
        problems.append(("code", "ukjent ytelseskode"))
    else:
        out["code"] = CODE_LIST.index(f["code"])
    if not re.fullmatch(r"\d{11}", f["fnr"]):
        problems.append(("fnr", "må være 11 sifre"))
    elif not valid_fnr(f["fnr"]):
        problems.append(("fnr", "ugyldig fødselsnummer (kontrollsiffer stemmer ikke)"))
    else:
        out["fnr"] = int(f["fnr"])
    for name in ("fra", "til", "maksdato"):
        value, ok = _parse_date(f[name])
        if not ok:
            problems.append((name, "ugyldig dato (ÅÅÅÅMMDD eller 00000000)"))
        out[name] = value
    if out.get("fra") and out.get("til") and out["fra"] > out["til"]:
        problems.append(("til", "til-dato er før fra-dato"))
    amount = None
    if m := _AMOUNT.fullmatch(f["belop"]):
        amount = -int(m[1]) if m[2] == "-" else int(m[1])
        out["amount_ore"] = amount
    else:
        problems.append(("belop", "må være 10 sifre i øre fulgt av mellomrom eller '-'"))
    if not _AMOUNT.fullmatch(f["fast"]):
        problems.append(("fast", "må være 10 sifre"))
    out["navn"] = f["navn"].rstrip()
    return (None if problems else out), problems, amount


def _empty_lines_frame() -> pd.DataFrame:
    return _frame({k: np.array([], dtype=t) for k, t in (
        ("line_no", np.int32), ("nav_unit", np.int64), ("orgnr", np.int64), ("bnr", np.int64),
        ("code", np.int8), ("fnr", np.int64), ("fra", "datetime64[D]"), ("konto", np.int64),
        ("navn", "<U1"), ("til", "datetime64[D]"), ("amount_ore", np.int64), ("maksdato", "datetime64[D]"))})


def _names_column(names) -> pd.Series | pd.api.extensions.ExtensionArray:
    import pyarrow as pa

    if isinstance(names, pa.Array):
        return names.to_pandas(types_mapper=lambda t: pd.StringDtype("pyarrow", na_value=np.nan)
                               if t == pa.string() else None)
    return pd.array(names, dtype="str")


def _frame(cols: dict[str, np.ndarray]) -> pd.DataFrame:
    df = pd.DataFrame({
        "line_no": cols["line_no"].astype(np.int32),
        "nav_unit": cols["nav_unit"].astype(np.int16),
        "orgnr": cols["orgnr"].astype(np.int64),
        "bnr": cols["bnr"].astype(np.int64),
        "code": pd.Categorical.from_codes(cols["code"].astype(np.int8), categories=CODE_LIST),
        "fnr": cols["fnr"].astype(np.int64),
        "fra": cols["fra"].astype("datetime64[s]"),
        "konto": cols["konto"].astype(np.int64),
        "navn": _names_column(cols["navn"]),
        "til": cols["til"].astype("datetime64[s]"),
        "amount_ore": cols["amount_ore"].astype(np.int64),
        "maksdato": cols["maksdato"].astype("datetime64[s]"),
    })
    return df


def parse_k27(data: bytes, file_name: str, report_id: str | None = None,
              max_invalid_share: float = 0.5) -> K27Report:
    """Parse a settlement report. Bad lines become InvalidLine; the rest goes on.

    Raises K27FormatError when the file as a whole cannot be trusted (see `whole_report_problem`
    and `complete_report_problem`), so one wrong file neither turns into hundreds of line cases nor
    passes for a settlement that paid nothing."""
    problem = whole_report_problem(data)
    if problem:
        raise K27FormatError(file_name, problem)
    sha = hashlib.sha256(data).hexdigest()
    report_id = report_id or Path(file_name).stem
    data, encoding, warnings = decode_report_bytes(data)
    arr = np.frombuffer(data, dtype=np.uint8)
    starts, ends, unterminated = _line_bounds(arr)
    lengths = ends - starts
    line_numbers = np.arange(1, len(starts) + 1)
    nonempty = lengths > 0
    if (~nonempty).any():
        blank = line_numbers[~nonempty]
        if len(blank) > 1 or blank[0] != len(starts):
            warnings.append(f"{len(blank)} tomme linjer er hoppet over.")
    standard = lengths == LINE_WIDTH
    odd = nonempty & ~standard
    if unterminated and len(starts) and lengths[-1] > 0:
        warnings.append(f"Siste linje ({len(starts)}) mangler linjeskift: filen kan være avkortet.")

    invalid: list[InvalidLine] = []
    parts: list[pd.DataFrame] = []

    std_idx = np.flatnonzero(standard)
    if len(std_idx):
        mat = _line_matrix(arr, starts[std_idx])
        cols, valid, checks = _parse_matrix(mat)
        cols["line_no"] = line_numbers[std_idx]
        if (~valid).any():
            bad_rows = np.flatnonzero(~valid)
            for row in bad_rows:
                problems = [(name, reason) for mask, name, reason in checks if mask[row]]
                raw = bytes(mat[row]).decode("iso-8859-1")
                invalid.append(_invalid(file_name, int(cols["line_no"][row]), problems, raw,
                                        int(cols["amount_ore"][row]) if cols["amount_ok"][row] else None))
        keep = {k: (v.filter(_pa_mask(valid)) if k == "navn" else v[valid]) for k, v in cols.items()
                if k != "amount_ok"}
        parts.append(_frame(keep))

    odd_rows: list[dict] = []
    for i in np.flatnonzero(odd):
        raw = bytes(arr[starts[i]:ends[i]]).decode("iso-8859-1")
        values, problems, amount = _parse_odd_line(raw)
        line_no = int(line_numbers[i])
        if values is None:
            invalid.append(_invalid(file_name, line_no, problems, raw, amount))
        else:
            values["line_no"] = line_no
            odd_rows.append(values)
    if odd_rows:
        cols = {k: np.array([r[k] for r in odd_rows]) for k in ("line_no", "nav_unit", "orgnr", "bnr", "code",
                                                                "fnr", "konto", "amount_ore")}
        for k in ("fra", "til", "maksdato"):
            cols[k] = np.array([np.datetime64(r[k], "D") if r[k] else np.datetime64("NaT") for r in odd_rows],
                               dtype="datetime64[D]")
        cols["navn"] = np.array([r["navn"] for r in odd_rows], dtype=str)
        parts.append(_frame(cols))

    lines = (pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]) if parts else _empty_lines_frame()
    if len(parts) > 1:
        lines = lines.sort_values("line_no", kind="stable", ignore_index=True)
    line_count = int(nonempty.sum())
    invalid.sort(key=lambda i: i.line_no)
    last_line_bad = bool(unterminated and invalid and invalid[-1].line_no == len(starts))
    problem = complete_report_problem(line_count, invalid, last_line_bad, max_invalid_share)
    if problem:
        raise K27FormatError(file_name, problem)
    return K27Report(report_id=str(report_id), file_name=file_name, sha256=sha, encoding=encoding, lines=lines,
                     invalid=invalid, warnings=warnings, line_count=line_count)


def whole_report_problem(data: bytes) -> str | None:
    """Why the bytes cannot be a K27 report before a line is read (Norwegian), or None: empty,
    UTF-16/32, binary, CR-only line endings."""
    problem = whole_file_problem(data, "Rapporten")
    if problem:
        return problem + ". En rapport som ikke kan leses hel, kan ikke bekrefte hva NAV har betalt"
    return None


def complete_report_problem(line_count: int, invalid: list[InvalidLine], last_line_bad: bool,
                            max_invalid_share: float) -> str | None:
    """Why a parsed report cannot be trusted as a whole (Norwegian), or None: no lines, lines
    without the K27 layout (another file), the last line cut off (truncated file) or more than
    `max_invalid_share` of the lines invalid."""
    if line_count == 0:
        return "Rapporten har ingen linjer"
    layout_bad = [i for i in invalid if i.field == _field_label("layout")]
    if line_count >= 5 and len(layout_bad) > max_invalid_share * line_count:
        first = layout_bad[0]
        return (f"{len(layout_bad)} av {line_count} linjer har ikke K27-oppsettet; filen ser ikke ut som en "
                f"oppgjørsrapport (K27). Første: linje {first.line_no}: {first.reason}")
    if last_line_bad:
        last = invalid[-1]
        return (f"Siste linje ({last.line_no}) er ufullstendig og mangler linjeskift: filen er avkortet "
                "(f.eks. avbrutt nedlasting). Hent hele rapporten på nytt")
    if line_count >= 10 and len(invalid) > max_invalid_share * line_count:
        first = invalid[0]
        share = f"{round(100 * max_invalid_share)} %"
        return (f"{len(invalid)} av {line_count} linjer er ugyldige (grensen er {share}); rapporten er ikke "
                f"pålitelig som helhet. Første: {first.message}")
    return None


def _line_matrix(arr: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """The standard-width lines as an (n, 127) byte matrix.

    A regular file is lines at a fixed stride (127 + CR LF), so runs of lines are strided
    views of the buffer, copied once; only irregular stretches are gathered byte by byte."""
    n = len(starts)
    if n == 1:
        return arr[starts[0]:starts[0] + LINE_WIDTH][None, :].copy()
    gaps = np.diff(starts)
    breaks = np.flatnonzero(gaps[1:] != gaps[:-1]) + 1  # a run: equal gaps between its starts
    bounds = np.concatenate(([0], breaks, [n - 1]))
    if len(bounds) > 256:  # very irregular: gather in chunks (bounded memory)
        out = np.empty((n, LINE_WIDTH), dtype=np.uint8)
        cols = np.arange(LINE_WIDTH)
        for a in range(0, n, 65_536):
            out[a:a + 65_536] = arr[starts[a:a + 65_536, None] + cols[None, :]]
        return out
    out = np.empty((n, LINE_WIDTH), dtype=np.uint8)
    done = 0
    for i in range(len(bounds) - 1):
        a, b = int(bounds[i]), int(bounds[i + 1])
        a = max(a, done)
        if b < a:
            continue
        count = b - a + 1
        stride = int(gaps[a]) if a < len(gaps) else LINE_WIDTH
        if stride < LINE_WIDTH:
            out[a] = arr[starts[a]:starts[a] + LINE_WIDTH]
            done = a + 1
            continue
        view = np.lib.stride_tricks.as_strided(arr[starts[a]:], shape=(count, LINE_WIDTH), strides=(stride, 1),
                                               writeable=False)
        out[a:b + 1] = view
        done = b + 1
    return out


def _invalid(file_name: str, line_no: int, problems: list[tuple[str, str]], raw: str,
             amount: int | None) -> InvalidLine:
    labels = "; ".join(_field_label(name) for name, _ in problems)
    reasons = "; ".join(f"{_field_label(name)}: {reason}" for name, reason in problems)
    if len(problems) == 1:
        reasons = problems[0][1]
    parts = raw.split(";")
    fnr = parts[4] if len(parts) > 4 and re.fullmatch(r"\d{11}", parts[4]) else None
    if fnr is None:  # a broken layout: the fnr glued or padded; kept for the audited reveal, never shown
        fnr = next(iter(find_fnrs(raw)), None)
    bnr = parts[2] if len(parts) > 2 and re.fullmatch(r"\d{9}", parts[2]) else None
    return InvalidLine(file=file_name, line_no=line_no, field=labels, reason=mask_fnrs_in_text(reasons), raw=raw,
                       amount_ore=amount, fnr=fnr, bnr=bnr)


def read_k27(path: Path, report_id: str | None = None) -> K27Report:
    """Read a report file; an unreadable file raises OSError/K27FormatError naming the file."""
    path = Path(path)
    return parse_k27(path.read_bytes(), path.name, report_id=report_id)


def code_of(index: int) -> str:
    return CODE_LIST[index]
