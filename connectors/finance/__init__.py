"""The finance system (ERP): REST connector, shared models and errors.

The web UI door (for installations without the API) is the Playwright bot in
``bots.finance_web``; it returns the same models and raises the same errors.
"""

from connectors.finance.client import FinanceClient, RetryPolicy, TokenProvider
from connectors.finance.errors import (
    FileTooLarge,
    FileTypeNotAllowed,
    FinanceAuthError,
    FinanceBusinessError,
    FinanceError,
    FinanceUnavailable,
    SessionExpired,
    VoucherLocked,
    VoucherNotFound,
)
from connectors.finance.models import Attachment, Upload, Voucher

__all__ = [
    "Attachment",
    "FileTooLarge",
    "FileTypeNotAllowed",
    "FinanceAuthError",
    "FinanceBusinessError",
    "FinanceClient",
    "FinanceError",
    "FinanceUnavailable",
    "RetryPolicy",
    "SessionExpired",
    "TokenProvider",
    "Upload",
    "Voucher",
    "VoucherLocked",
    "VoucherNotFound",
]
