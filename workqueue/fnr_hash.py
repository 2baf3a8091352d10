"""A keyed hash of an fnr (HMAC-SHA256), stored with a case so staff can find it by the full
number without the number being stored in clear. Without the key a hash cannot be tested
against the ~3 million possible birth numbers of a year."""

from __future__ import annotations

import hashlib
import hmac
import re

_DIGITS = re.compile(r"\D")


def fnr_hash(fnr: str | None, key: str) -> str | None:
    """hex HMAC-SHA256 of the 11 digits (spaces and dots ignored); None when it is not 11 digits."""
    digits = _DIGITS.sub("", str(fnr or ""))
    if len(digits) != 11:
        return None
    return hmac.new(key.encode(), digits.encode(), hashlib.sha256).hexdigest()
