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

