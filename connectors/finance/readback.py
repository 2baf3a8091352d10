"""Reading uploads back from the finance system's record, shared by the worker threads.

An upload counts only when the record shows it: the attachment on its voucher, with the
document's SHA-256. Read back one at a time, that is one request per upload (the voucher's
list). Here the threads share the reading, as a database shares a commit: one thread reads
while the uploads that finish meanwhile wait; the next read serves them all with one request,
the day's uploads (GET /attachments?uploadedFrom=D&uploadedTo=D, D the day the system gave the
upload). The day's list grows with the day, so it is read only while it is shorter than the
voucher lists it replaces would cost; else every upload reads its voucher's list, as before.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

from connectors.finance.client import FinanceClient
from connectors.finance.errors import FinanceError, FinanceUnavailable
from connectors.finance.models import Attachment

# A request costs the finance stand-in about as much as 200 listed attachments (1.1 ms against
# 5.5 µs each, benchmarks/RESULTS.md session 6); the client's parsing halves that.
ATTACHMENTS_PER_REQUEST = 100
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}$")  # else the system's dates cannot be asked for: one list each


@dataclass
class _Upload:
    voucher_number: str
    day: str
    listed: list[Attachment] | None = None
    error: Exception | None = None

    def result(self) -> list[Attachment]:
        if self.error is not None:  # each waiting thread raises its own copy
            if isinstance(self.error, FinanceError):
                raise type(self.error)(self.error.message, code=self.error.code, status=self.error.status)
            raise FinanceUnavailable(f"reading the uploads back failed: {self.error!r}")
        return self.listed or []


class ReadBack:
    """One per door; `listed()` from any number of threads, each with its own client."""

    def __init__(self, threads: int):
        self.threads = threads
        self._cond = threading.Condition()
        self._waiting: list[_Upload] = []
        self._reading = False
        self._day_size: dict[str, int] = {}  # attachments of the day at its last read, plus uploads since

    def listed(self, client: FinanceClient, voucher_number: str, uploaded: Attachment) -> list[Attachment]:
        """The voucher's attachments as the record shows them after `uploaded` came back from
        the upload: all of them, or those uploaded the same day (where `uploaded` must be)."""
        day = uploaded.uploaded_at[:10]
        with self._cond:
            size = self._day_size[day] = self._day_size.get(day, 0) + 1
            if not ISO_DAY.match(day) or size > (self.threads - 1) * ATTACHMENTS_PER_REQUEST:
                group = None
            else:
                mine = _Upload(voucher_number, day)
                self._waiting.append(mine)
                while self._reading and mine.listed is None and mine.error is None:
                    self._cond.wait()
                if mine.listed is not None or mine.error is not None:
                    return mine.result()
                group, self._waiting, self._reading = self._waiting, [], True
        if group is None:
            return client.list_attachments(voucher_number)
        try:
            self._read(client, group)
        finally:
            with self._cond:
                for u in group:  # interrupted (the run is stopping): nobody waits for nothing
                    if u.listed is None and u.error is None:
                        u.error = FinanceUnavailable("reading the uploads back was interrupted")
                self._reading = False
                self._cond.notify_all()
        return mine.result()

    def _read(self, client: FinanceClient, group: list[_Upload]) -> None:
        for day in sorted({u.day for u in group}):
            on_day = [u for u in group if u.day == day]
            try:
                if len(on_day) > 1 and self._day_size[day] <= (len(on_day) - 1) * ATTACHMENTS_PER_REQUEST:
                    everything = client.attachments_uploaded(day, day)
                    with self._cond:
                        self._day_size[day] = len(everything)
                    for u in on_day:
                        u.listed = [a for a in everything if a.voucher_number == u.voucher_number]
                else:
                    for u in on_day:
                        u.listed = client.list_attachments(u.voucher_number)
            except Exception as exc:  # noqa: BLE001 - every upload of the group gets the failure
                for u in on_day:
                    if u.listed is None:
                        u.error = exc
