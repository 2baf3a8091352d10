"""Errors of the finance-system connector (and its web bot): what the caller must do differs.

- FinanceBusinessError: the system said no for a reason in the data (voucher not found, locked,
  file refused). Permanent: retrying gives the same answer; a person must decide.
- FinanceUnavailable: 5xx, 429, timeouts, connection errors after the client's own retries.
  Transient: the work item is retried later (a system exception).
- FinanceAuthError: the credentials are refused. Permanent and not the data's fault: operators
  must fix the configuration; the run stops.
"""

from __future__ import annotations


class FinanceError(Exception):
    """Base class: `code` is the system's error code (e.g. VOUCHER_LOCKED), `status` the HTTP status."""

    def __init__(self, message: str, *, code: str = "", status: int | None = None):
        super().__init__(message)
        self.code = code
        self.status = status
        self.message = message


class FinanceBusinessError(FinanceError):
    """A permanent refusal about the data (4xx other than 401/408/429)."""


class VoucherNotFound(FinanceBusinessError):
    pass


class VoucherLocked(FinanceBusinessError):
    pass


class FileTooLarge(FinanceBusinessError):
    pass


class FileTypeNotAllowed(FinanceBusinessError):
    pass


class FinanceUnavailable(FinanceError):
    """Transient: the system did not answer usefully after the client's retries."""


class FinanceAuthError(FinanceError):
    """The client credentials or the web login were refused (configuration, not data)."""


class SessionExpired(FinanceUnavailable):
    """The web UI logged us out (idle expiry) and logging in again did not help."""


BUSINESS_ERRORS_BY_CODE: dict[str, type[FinanceBusinessError]] = {
    "VOUCHER_NOT_FOUND": VoucherNotFound,
    "VOUCHER_LOCKED": VoucherLocked,
    "FILE_TOO_LARGE": FileTooLarge,
    "FILE_TYPE_NOT_ALLOWED": FileTypeNotAllowed,
}
