"""RFC 6238 time-based one-time codes, as the Altinn log-in's authenticator app shows them.

HMAC-SHA1 over the 30-second step counter, dynamic truncation (RFC 4226 §5.3), 6 digits.
The secret is base32 (what an authenticator app is given as a QR code).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
import time

STEP_SECONDS = 30
DIGITS = 6


def _key(secret_b32: str) -> bytes:
    cleaned = secret_b32.replace(" ", "").upper()
    return base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))


def hotp(key: bytes, counter: int, digits: int = DIGITS) -> str:
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    code = struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF
    return str(code % 10**digits).zfill(digits)


def totp(secret_b32: str, at: float | None = None, digits: int = DIGITS) -> str:
    now = time.time() if at is None else at
    return hotp(_key(secret_b32), int(now // STEP_SECONDS), digits)


def verify(secret_b32: str, code: str, at: float | None = None) -> bool:
    """The current step's code or the previous one (the user may type it as the step turns)."""
    code = (code or "").strip().replace(" ", "")
    if len(code) != DIGITS or not code.isdigit():
        return False
    now = time.time() if at is None else at
    key = _key(secret_b32)
    step = int(now // STEP_SECONDS)
    return any(hmac.compare_digest(hotp(key, s), code) for s in (step, step - 1))
