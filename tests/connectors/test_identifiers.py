"""Masking fnr in free text (logs, messages, exports): every 11-digit run is masked, except inside a
checksum, which a person needs whole to find the document."""

from __future__ import annotations

import hashlib
import logging

from connectors.identifiers import mask_fnrs_in_text
from flows.runtime import FnrScrubFilter


def test_an_fnr_in_a_sentence_keeps_the_birth_date_only():
    assert mask_fnrs_in_text("Refusjon for 01017012345 (linje 4)") == "Refusjon for 010170***** (linje 4)"
    assert mask_fnrs_in_text("fnr=01017012345;neste") == "fnr=010170*****;neste"
    assert mask_fnrs_in_text("12345678901abc") == "123456*****abc"  # glued to a word: still masked


def test_a_checksum_with_eleven_digits_in_a_row_is_left_whole():
    sha = hashlib.sha256(b"17").hexdigest()
    sha = sha[:10] + "12345678901" + sha[21:]  # a hex string holding an 11-digit stretch
    text = f"Samme dokument ligger på bilag 2026-0042 (sha256 {sha}), fnr 01017012345"
    assert mask_fnrs_in_text(text) == f"Samme dokument ligger på bilag 2026-0042 (sha256 {sha}), fnr 010170*****"
    assert mask_fnrs_in_text(sha.upper()) == sha.upper()


def test_eleven_digits_after_a_short_hex_word_are_still_masked():
    assert mask_fnrs_in_text("cafe 01017012345") == "cafe 010170*****"
    assert mask_fnrs_in_text("a" * 20 + "12345678901") == "a" * 20 + "123456*****"  # too short to be a checksum


def test_the_log_filter_masks_the_message_and_its_arguments():
    record = logging.LogRecord("rpa", logging.INFO, __file__, 1, "krav %s for %s", ("01017012345", "x"), None)
    assert FnrScrubFilter().filter(record)
    assert record.getMessage() == "krav 010170***** for x"
    assert record.args == ("010170*****", "x")  # a tuple still: formatters unpack it


def test_the_log_filter_masks_dict_arguments_numbers_objects_and_tracebacks():
    record = logging.LogRecord("rpa", logging.INFO, __file__, 1, "%(fnr)s i %(fil)s", ({"fnr": "01017012345",
                               "fil": "rapport.csv"},), None)
    FnrScrubFilter().filter(record)
    assert record.args == {"fnr": "010170*****", "fil": "rapport.csv"}
    record = logging.LogRecord("rpa", logging.INFO, __file__, 1, "krav %d, sak %s", (31017012345, 7), None)
    FnrScrubFilter().filter(record)
    assert record.getMessage() == "krav 310170*****, sak 7"
    try:
        raise ValueError("ugyldig fnr 01017012345")
    except ValueError:
        import sys

        record = logging.LogRecord("rpa", logging.ERROR, __file__, 1, "feil: %s", (KeyError("01017012345"),),
                                   sys.exc_info())
    FnrScrubFilter().filter(record)
    text = logging.Formatter().format(record)
    assert "01017012345" not in text and "ugyldig fnr 010170*****" in text and "feil: '010170*****'" in text



def _valid_fnr() -> str:
    from connectors.identifiers import fnr_check_digits

    return next(f"0141701{i:02d}" + fnr_check_digits(f"0141701{i:02d}") for i in range(100)
                if fnr_check_digits(f"0141701{i:02d}"))


def test_an_fnr_is_masked_whatever_surrounds_it():
    """The raw K27 line of a broken layout holds the fnr glued, padded, spaced or as UTF-16: all masked."""
    f = _valid_fnr()
    masked = f[:6] + "*****"
    assert mask_fnrs_in_text(f"8020;974600013;{f}20260401;") == f"8020;974600013;{masked}20260401;"  # glued digits
    assert mask_fnrs_in_text(f"{f}7") == f"{masked}7"                      # a 12-digit field
    assert mask_fnrs_in_text(f"9{f}") == f"9{masked}"                      # a digit in front
    assert mask_fnrs_in_text(f"{f[:6]} {f[6:]}") == f"{f[:6]} *****"       # the way people write it
    assert mask_fnrs_in_text("\x00".join(f)) == "\x00".join(f[:6] + "*****")  # UTF-16 read as bytes
    assert mask_fnrs_in_text(f"/data/{f}-rapport.csv") == f"/data/{masked}-rapport.csv"  # a path
    assert mask_fnrs_in_text(f"x{f}y") == f"x{masked}y"


def test_numbers_that_hold_no_fnr_are_left_alone():
    assert mask_fnrs_in_text("2026-01-31 2026-02-28, 1 234 567,50 kr") == "2026-01-31 2026-02-28, 1 234 567,50 kr"
    assert mask_fnrs_in_text("bilag 26000101, linje 12 av 314") == "bilag 26000101, linje 12 av 314"


def test_find_fnrs_finds_what_the_mask_hides():
    from connectors.identifiers import find_fnrs

    f = _valid_fnr()
    assert find_fnrs(f"8020;974600013;{f}20260401;") == [f]
    assert find_fnrs("\x00".join(f)) == [f]
    assert find_fnrs("2026-01-31 og 12345") == []
