"""Norwegian identifiers: fnr (national identity number) and orgnr, with mod-11 check digits."""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Mapping
from contextlib import suppress
from datetime import date

_FNR_W1 = (3, 7, 6, 1, 8, 9, 4, 5, 2)
_FNR_W2 = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)
_ORG_W = (3, 2, 7, 6, 5, 4, 3, 2)
FNR_PATTERN = re.compile(r"(?<!\d)(\d{6})(\d{5})(?!\d)")
# A checksum (SHA-256, MD5: 32+ hex characters as one token) is matched first and kept whole, so
# an 11-digit stretch inside it is not mistaken for an fnr. Anything else that is a run of digits,
# possibly separated by single spaces or NULs (UTF-16 read as bytes), is a candidate: see
# mask_fnrs_in_text.
_RUN_SEPARATORS = " \x00\u00a0\u202f"
_HEX_TOKEN_OR_RUN = re.compile(r"(?P<hex>(?<![0-9A-Za-z])(?=[0-9]*[A-Fa-f])[0-9A-Fa-f]{32,}(?![0-9A-Za-z]))|"
                               r"(?P<run>\d(?:[" + _RUN_SEPARATORS + r"]?\d)*)")


def mod11(digits: str, weights: tuple[int, ...]) -> int | None:
    """The check digit for `digits`, or None where none exists (remainder 1)."""
    rest = 11 - sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11
    return 0 if rest == 11 else None if rest == 10 else rest


def fnr_check_digits(first9: str) -> str | None:
    k1 = mod11(first9, _FNR_W1)
    if k1 is None:
        return None
    k2 = mod11(first9 + str(k1), _FNR_W2)
    return None if k2 is None else f"{k1}{k2}"


def valid_fnr(value: str) -> bool:
    """11 digits with both mod-11 check digits right (synthetic month+40/+80 accepted)."""
    return bool(re.fullmatch(r"\d{11}", value or "")) and fnr_check_digits(value[:9]) == value[9:]


def normalise_fnr(raw: object) -> str:
    """An fnr as 11 digits from an export: separators dropped, and the leading zero put back that
    Excel drops when it stores the number as a number (10 digits)."""
    digits = "".join(ch for ch in str(raw) if ch.isdigit())
    return digits.zfill(11) if len(digits) == 10 else digits


def fnr_birth_date(value: str) -> date | None:
    """Birth date of an fnr, a D-number (day + 40) or a synthetic number (month + 40 NAV, + 80
    Skatteetaten's Tenor); the century follows from the individual number (Skatteetaten's rule).
    None where the digits name no real date or century."""
    if not re.fullmatch(r"\d{11}", value or ""):
        return None
    day, month, yy, individ = int(value[0:2]), int(value[2:4]), int(value[4:6]), int(value[6:9])
    if day > 40:  # D-number
        day -= 40
    if month > 80:
        month -= 80
    elif month > 40:
        month -= 40
    century = _century(individ, yy)
    if century is None:
        return None
    try:
        return date(century + yy, month, day)
    except ValueError:
        return None


def _century(individ: int, yy: int) -> int | None:
    if individ <= 499:
        return 1900
    if individ >= 900 and yy >= 40:
        return 1900
    if yy <= 39:
        return 2000
    if individ <= 749 and yy >= 54:
        return 1800
    return None


def valid_orgnr(value: str) -> bool:
    return bool(re.fullmatch(r"\d{9}", value or "")) and mod11(value[:8], _ORG_W) == int(value[8])


def orgnr_check_digit(first8: str) -> int | None:
    return mod11(first8, _ORG_W)


def mask_fnr(value: str | None) -> str:
    """010190***** : birth date visible, personal number hidden."""
    if not value:
        return ""
    return value[:6] + "*" * (len(value) - 6) if len(value) > 6 else "*" * len(value)


def mask_fnr_column(fnr):
    """mask_fnr for a whole int64 fnr column at once (a table of a million lines): a numpy array of
    010190***** texts."""
    import numpy as np
    import pandas as pd

    return (pd.Series(np.asarray(fnr, dtype=np.int64) // 100_000).astype(str).str.zfill(6) + "*****").to_numpy()


def _mask_run(run: str) -> str:
    """A run of digits (with single separators): every 11 consecutive digits that form a valid
    fnr, and every separator-free stretch of exactly 11 digits, lose their last five digits."""
    positions = [i for i, ch in enumerate(run) if ch.isdigit()]
    if len(positions) < 11:
        return run
    digits = "".join(run[i] for i in positions)
    hide: set[int] = set()
    # a stand-alone 11-digit number (no separators inside): masked whether its check digits are right or not
    start = 0
    for part in re.split("[" + _RUN_SEPARATORS + "]", run):
        if len(part) == 11:
            hide.update(range(start + 6, start + 11))
        start += len(part) + 1
    for k in range(len(digits) - 10):
        if valid_fnr(digits[k:k + 11]):
            hide.update(positions[k + 6:k + 11])
    if not hide:
        return run
    return "".join("*" if i in hide else ch for i, ch in enumerate(run))


def find_fnrs(text: str) -> list[str]:
    """Every valid fnr inside the text's digit runs (glued, spaced, NUL-separated), in order:
    what `mask_fnrs_in_text` hides, for the evidence behind the audited reveal."""
    found: list[str] = []
    for m in _HEX_TOKEN_OR_RUN.finditer(text or ""):
        if m.group("hex"):
            continue
        digits = "".join(ch for ch in m.group(0) if ch.isdigit())
        found += [digits[k:k + 11] for k in range(len(digits) - 10) if valid_fnr(digits[k:k + 11])]
    return list(dict.fromkeys(found))


def mask_fnrs_in_text(text: str) -> str:
    """Mask every fnr in free text (logs, messages, evidence, file names), birth date kept.

    Caught whatever surrounds it: glued to letters or to other digits (a 12-digit field), with
    spaces ('010170 12345'), NUL-separated (UTF-16 read as bytes), inside a longer digit run;
    every stand-alone 11-digit number is masked too. Checksums (32+ hex characters as one token)
    are left whole: a person needs them to find the document."""
    if not text:
        return text
    return _HEX_TOKEN_OR_RUN.sub(lambda m: m.group(0) if m.group("hex") else _mask_run(m.group(0)), text)


class FnrScrubFilter(logging.Filter):
    """A logging filter that masks anything shaped like an fnr in a record: its message, its
    arguments and its traceback. The arguments keep their shape (a tuple stays a tuple, a dict a
    dict) because formatters unpack them: uvicorn's access log reads client, method, path with
    query, version and status from the tuple. Lives here (not in flows/) so that the review app
    and the flows share the one filter."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = mask_fnrs_in_text(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(mask_fnrs_in_text(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, Mapping):
            record.args = {k: mask_fnrs_in_text(v) if isinstance(v, str) else v for k, v in record.args.items()}
        with suppress(TypeError, ValueError):  # a message that does not format is the formatter's to report
            message = record.getMessage()
            if mask_fnrs_in_text(message) != message:  # an fnr inside a number or an object's str()
                record.msg, record.args = mask_fnrs_in_text(message), ()
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = "".join(traceback.format_exception(*record.exc_info))
            record.exc_info = None
        if record.exc_text:
            record.exc_text = mask_fnrs_in_text(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_fnrs_in_text(record.stack_info)
        return True
