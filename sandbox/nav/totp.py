"""RFC 6238 time-based one-time codes, as the Altinn log-in's authenticator app shows them
(pyotp: HMAC-SHA1 over the 30-second step counter, 6 digits, a base32 secret)."""

from __future__ import annotations

import time

import pyotp
from pyotp.utils import strings_equal

STEP_SECONDS = 30
DIGITS = 6


class _IssuedSecret(pyotp.TOTP):
    # the secret is whatever Altinn issued; the sandbox's default is the classic 80-bit example
    min_secret_length_bits = 0


def _generator(secret_b32: str, digits: int = DIGITS) -> pyotp.TOTP:
    return _IssuedSecret(secret_b32.replace(" ", ""), digits=digits, interval=STEP_SECONDS)


def totp(secret_b32: str, at: float | None = None, digits: int = DIGITS) -> str:
    return _generator(secret_b32, digits).at(time.time() if at is None else at)


def verify(secret_b32: str, code: str, at: float | None = None) -> bool:
    """The current step's code or the previous one (the user may type it as the step turns)."""
    code = (code or "").strip().replace(" ", "")
    if len(code) != DIGITS or not code.isdigit():
        return False
    generator = _generator(secret_b32)
    now = time.time() if at is None else at
    return any(strings_equal(generator.at(now, counter_offset=offset), code) for offset in (0, -1))
