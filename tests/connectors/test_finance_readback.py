"""Reading uploads back, shared by worker threads (connectors.finance.readback), against the
finance stand-in over real HTTP.

Which uploads share a read depends on timing; the tests make it certain by holding the first
reader until the others wait behind it (a count-bounded wait, not a clock).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import Counter

import pytest

from connectors.finance import Attachment, FinanceClient, FinanceUnavailable, RetryPolicy, Upload
from connectors.finance.readback import ReadBack
from sandbox.finance import documents as docs

FAST = RetryPolicy(max_attempts=3, backoff_seconds=0.0, max_backoff_seconds=0.0)


class CountingClient(FinanceClient):
    """Counts its reads (shared Counter); the first read of a held client waits for `release`."""

    def __init__(self, settings, reads: Counter, hold: threading.Event | None = None):
        super().__init__(settings, retry=FAST, sleep=lambda s: None)
        self.reads, self.hold = reads, hold

    def _wait(self, kind: str) -> None:
        self.reads[kind] += 1
        if self.hold is not None:
            assert self.hold.wait(300), "hang guard"
            self.hold = None

    def list_attachments(self, voucher_number):
        self._wait("voucher list")
        return super().list_attachments(voucher_number)

    def attachments_uploaded(self, first_day, last_day):
        self._wait("day list")
        return super().attachments_uploaded(first_day, last_day)


def _open_vouchers(sandbox, n: int) -> list[str]:
    closed = sandbox.closed_periods()
    found = [v["voucherNumber"] for v in sandbox.vouchers() if v["status"] == "open" and v["period"] not in closed]
    assert len(found) >= n
    return found[:n]


def _upload(client: FinanceClient, voucher: str, n: int) -> tuple[Attachment, str]:
    content = docs.pdf([f"Lesetest {n}", voucher])
    attachment, created = client.upload_attachment(voucher, Upload(f"lesetest-{n}.pdf", content, "application/pdf",
                                                                    "Kvittering"), idempotency_key=f"lese-{n}")
    assert created
    return attachment, hashlib.sha256(content).hexdigest()


def _behind_a_held_reader(read_back: ReadBack, first, others) -> tuple[dict[int, object], list[threading.Thread]]:
    """Start `first()` (its client's read is held), then `others`, and return once all of them
    wait behind it: (each callable's result or exception by position, first is 0; the threads)."""
    results: dict[int, object] = {}

    def run(i, fn):
        try:
            results[i] = fn()
        except Exception as exc:  # noqa: BLE001 - the test looks at it
            results[i] = exc

    threads = [threading.Thread(target=run, args=(0, first))]
    threads[0].start()
    for _ in range(3000):  # hang guard: until the first thread is reading
        if read_back._reading:
            break
        time.sleep(0.01)
    threads += [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(others, start=1)]
    for t in threads[1:]:
        t.start()
    for _ in range(3000):
        if len(read_back._waiting) == len(others):
            break
        time.sleep(0.01)
    assert len(read_back._waiting) == len(others)
    return results, threads


def test_uploads_that_wait_together_are_read_back_with_one_request(finance_sandbox):
    vouchers = _open_vouchers(finance_sandbox, 4)
    reads: Counter = Counter()
    hold = threading.Event()
    clients = [CountingClient(finance_sandbox.finance, reads, hold if i == 0 else None) for i in range(4)]
    uploads = [_upload(c, v, i) for i, (c, v) in enumerate(zip(clients, vouchers, strict=True))]
    read_back = ReadBack(threads=8)
    calls = [lambda i=i: read_back.listed(clients[i], vouchers[i], uploads[i][0]) for i in range(4)]
    results, threads = _behind_a_held_reader(read_back, calls[0], calls[1:])
    hold.set()
    for t in threads:
        t.join(300)
    # The first read its voucher's list alone; the three behind it shared one read of the day.
    assert reads == Counter({"voucher list": 1, "day list": 1})
    for i, (attachment, sha) in enumerate(uploads):
        listed = results[i]
        assert [a.id for a in listed if a.sha256 == sha] == [attachment.id]
        assert {a.voucher_number for a in listed} == {vouchers[i]}
    record = finance_sandbox.attachments()
    assert sorted(a["id"] for a in record if a["fileName"].startswith("lesetest-")) == sorted(a.id for a, _ in uploads)
    for c in clients:
        c.close()


def test_an_upload_the_record_does_not_show_is_not_confirmed(finance_sandbox):
    """Read with the others or alone, an attachment the system does not hold is not in what
    comes back: the flow's check (the document's SHA-256 on the voucher) fails as before."""
    vouchers = _open_vouchers(finance_sandbox, 3)
    reads: Counter = Counter()
    hold = threading.Event()
    clients = [CountingClient(finance_sandbox.finance, reads, hold if i == 0 else None) for i in range(3)]
    real = [_upload(c, v, 10 + i) for i, (c, v) in enumerate(zip(clients, vouchers, strict=True))]
    ghost = Attachment(id="finnes-ikke", file_name="borte.pdf", size=1, sha256="0" * 64,
                       uploaded_at=real[2][0].uploaded_at, voucher_number=vouchers[2])
    read_back = ReadBack(threads=8)
    results, threads = _behind_a_held_reader(read_back, lambda: read_back.listed(clients[0], vouchers[0], real[0][0]), [
        lambda: read_back.listed(clients[1], vouchers[1], real[1][0]),
        lambda: read_back.listed(clients[2], vouchers[2], ghost)])
    hold.set()
    for t in threads:
        t.join(300)
    assert reads["day list"] == 1
    assert [a.sha256 for a in results[1]] == [real[1][1]]
    assert "0" * 64 not in {a.sha256 for a in results[2]}
    alone = read_back.listed(clients[2], vouchers[2], ghost)
    assert "0" * 64 not in {a.sha256 for a in alone}
    for c in clients:
        c.close()


def test_a_failed_read_fails_every_upload_that_waited_for_it(finance_sandbox):
    vouchers = _open_vouchers(finance_sandbox, 3)
    reads: Counter = Counter()
    hold = threading.Event()
    clients = [CountingClient(finance_sandbox.finance, reads, hold if i == 0 else None) for i in range(3)]
    uploads = [_upload(c, v, 20 + i) for i, (c, v) in enumerate(zip(clients, vouchers, strict=True))]
    read_back = ReadBack(threads=8)
    calls = [lambda i=i: read_back.listed(clients[i], vouchers[i], uploads[i][0]) for i in range(3)]
    results, threads = _behind_a_held_reader(read_back, calls[0], calls[1:])
    finance_sandbox.set_faults(error_rate=1.0)
    hold.set()
    for t in threads:
        t.join(300)
    assert all(isinstance(results[i], FinanceUnavailable) for i in range(3)), results
    assert results[1] is not results[2]  # each thread raises its own
    finance_sandbox.set_faults(error_rate=0.0)
    assert uploads[1][0].id in {a.id for a in read_back.listed(clients[1], vouchers[1], uploads[1][0])}
    for c in clients:
        c.close()


@pytest.mark.parametrize("uploaded_at", ["02.12.2026 10:15", ""])
def test_a_day_the_system_cannot_be_asked_for_reads_the_voucher_list(finance_sandbox, uploaded_at):
    voucher = _open_vouchers(finance_sandbox, 1)[0]
    reads: Counter = Counter()
    client = CountingClient(finance_sandbox.finance, reads)
    attachment, sha = _upload(client, voucher, 30)
    odd = Attachment(**{**attachment.to_dict(), "uploaded_at": uploaded_at})
    listed = ReadBack(threads=8).listed(client, voucher, odd)
    assert reads == Counter({"voucher list": 1})
    assert attachment.id in {a.id for a in listed if a.sha256 == sha}
    client.close()
