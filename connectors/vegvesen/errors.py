"""The connector's own errors, by what the caller must do about them.

business (this vehicle):   VehicleNotFound, InvalidIdentifier
fatal (the whole run):     AuthenticationFailed
pause (the whole loop):    QuotaExceeded (422 over quota, 429 too many requests)
system (retry later):      TransientError (5xx, timeouts after the client's own retries), UnexpectedResponse
"""

from __future__ import annotations

from datetime import datetime


class VegvesenError(Exception):
    """Base class; `message_no` is the Norwegian text staff may read."""

    message_no: str = "Feil fra Statens vegvesen"

    def __init__(self, message: str, *, status: int | None = None, message_no: str | None = None):
        super().__init__(message)
        self.status = status
        if message_no:
            self.message_no = message_no


class VehicleNotFound(VegvesenError):
    """204, 404, an empty kjoretoydataListe or a feilmelding: the registry has no such vehicle."""

    def __init__(self, identifier: str, form: str, detail: str | None = None, status: int | None = None):
        self.identifier = identifier
        self.form = form  # "204", "404", "tom liste", "feilmelding"
        self.detail = detail
        super().__init__(f"vehicle {identifier} not found ({form}{': ' + detail if detail else ''})",
                         status=status,
                         message_no=f"Statens vegvesen fant ikke kjøretøyet {identifier} (svar: {form}"
                                    f"{': ' + detail if detail else ''})")


class InvalidIdentifier(VegvesenError):
    """400, or refused before sending: the plate or VIN is malformed."""


class AuthenticationFailed(VegvesenError):
    """401/403: the API key is missing or invalid. Fatal for the run, never per vehicle."""

    def __init__(self, status: int, detail: str = ""):
        super().__init__(
            f"Statens vegvesen rejected the API key (HTTP {status}){': ' + detail if detail else ''}. "
            "Check RPA_VEGVESEN__API_KEY.",
            status=status,
            message_no=f"Statens vegvesen avviste API-nøkkelen (HTTP {status}). Kontroller "
                       "RPA_VEGVESEN__API_KEY; kjøringen er stoppet uten å markere kjøretøy som feilet.")


class QuotaExceeded(VegvesenError):
    """422 (daily quota spent) or 429 (too many requests): wait `retry_after` seconds, then retry."""

    def __init__(self, status: int, retry_after: float, resume_at: datetime, detail: str = ""):
        self.retry_after = retry_after
        self.resume_at = resume_at
        kind = "daily quota spent" if status == 422 else "rate limited"
        super().__init__(f"Statens vegvesen: {kind} (HTTP {status}), retry after {retry_after:.0f} s"
                         f"{': ' + detail if detail else ''}", status=status,
                         message_no=f"Kvoten hos Statens vegvesen er brukt opp (HTTP {status}); "
                                    f"nytt forsøk etter {resume_at:%d.%m.%Y kl. %H:%M}")


class TransientError(VegvesenError):
    """5xx, timeouts, connection errors after the client's own retries: a system exception."""


class UnexpectedResponse(VegvesenError):
    """An answer we do not understand (other 4xx, not JSON): a system exception."""
