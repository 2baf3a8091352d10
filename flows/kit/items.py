"""The item loop every per-item process shares: add by unique reference, recover this process's
abandoned items, claim, hand each item to the process's handler, turn its outcome into done /
business case / system retry, count.

A handler is `handler(ctx, item) -> Outcome`: one of Done, BusinessCase or SystemFailure (or it
raises: an unexpected exception counts as a system failure, retried per the definition).

With `workers=N` the handler runs in N threads (each may hold its own session to the system, see
`on_thread_exit`); the calling thread alone claims and writes to the store, completions in
batches. `stop_after=N`: N system failures in a row mean the system is down: the run stops and
gives back what it has not started (a `SystemFailure(stop=True)` stops it at once, e.g. a
refused login). `wait_for_retries`: items in retry backoff due within that many seconds are waited
for inside the run.
"""

from __future__ import annotations

import os
import queue
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from flows.kit.context import RunContext, get_logger
from workqueue.models import ItemStatus, WorkItem
from workqueue.store import LeaseLost, NewCase, NewItem

__all__ = ["Done", "BusinessCase", "SystemFailure", "GiveBack", "Outcome", "Handler", "LoopCounts", "add_items",
           "items_by_reference", "recover_abandoned", "release_dead_local_claims", "run_items"]


@dataclass(frozen=True)
class Done:
    """The item is finished; `result` is stored on the item (ids and figures, no personal data)."""

    result: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class BusinessCase:
    """The data is wrong or ambiguous: a human decides; never retried. `answered=False`: decided
    without asking the system (it says nothing about whether the system is up)."""

    case: NewCase
    answered: bool = True


@dataclass(frozen=True)
class SystemFailure:
    """A timeout, a 5xx, a changed page: retried with the definition's backoff, then escalated."""

    error: str
    evidence: dict[str, Any] = field(default_factory=dict)
    attachments: list[tuple[str, str, bytes]] = field(default_factory=list)  # (name, media type, bytes)
    stop: bool = False  # the system refused us as a whole (a login refused): the run stops


@dataclass(frozen=True)
class GiveBack:
    """Not handled: the run is stopping or waiting (a quota spent, a refused key). The kit neither
    completes nor fails it; it is listed in `LoopCounts.given_back` for the process to release or
    defer (no attempt counted)."""


Outcome = Done | BusinessCase | SystemFailure | GiveBack
Handler = Callable[[RunContext, WorkItem], Outcome]


@dataclass
class LoopCounts:
    added: int = 0
    recovered: int = 0
    claimed: int = 0
    done: int = 0
    business: int = 0
    system_retry: int = 0
    escalated: int = 0
    handled: int = 0           # outcomes recorded (claimed items given back when the run stops are not)
    stopped: str = ""          # why the loop stopped early (a system down, a refused login)
    released: int = 0          # claimed but not started when it stopped: back in the queue, untouched
    categories: Counter = field(default_factory=Counter)
    given_back: list[WorkItem] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        return {"items_added": self.added, "items_recovered": self.recovered, "items_claimed": self.claimed,
                "items_done": self.done, "items_business": self.business,
                "items_system_retry": self.system_retry, "items_escalated": self.escalated}


def add_items(ctx: RunContext, items: Iterable[NewItem]) -> int:
    """Add items by their unique reference (one per process): a reference already known is skipped."""
    return ctx.store.add_many(ctx.process_id, list(items))


def items_by_reference(ctx: RunContext, references: Iterable[str], chunk: int = 500) -> dict[str, WorkItem]:
    """This process's items of these references, a few queries instead of one per reference."""
    from sqlalchemy import select

    found: dict[str, WorkItem] = {}
    unique = sorted(set(references))
    for start in range(0, len(unique), chunk):
        with ctx.store.session() as s:
            found.update({item.reference: item for item in s.scalars(select(WorkItem).where(
                WorkItem.process_id == ctx.process_id, WorkItem.reference.in_(unique[start:start + chunk])))})
    return found


def recover_abandoned(ctx: RunContext) -> int:
    """Items of THIS process whose worker died go back to the queue: at once when the worker ran on
    this machine and its process is gone (`release_dead_local_claims`), else when the lease ran out
    (then they fail after the definition's last attempt). Another process's items are left for
    that process's own run and policy."""
    return release_dead_local_claims(ctx) + ctx.store.requeue_abandoned(ctx.backoff, process_id=ctx.process_id)


def release_dead_local_claims(ctx: RunContext) -> int:
    """Items held by a worker on this machine (claimed as "host:pid") whose process is gone (killed,
    crashed) go back to the queue now instead of after the lease: a re-run after a crash continues
    at once. The attempt is not counted: the crash was not the item's fault."""
    host = socket.gethostname()
    dead = []
    for item in ctx.store.items(ctx.process_id, status=ItemStatus.in_progress):
        owner_host, _, pid = (item.claimed_by or "").rpartition(":")
        if owner_host == host and pid.isdigit() and not _pid_alive(int(pid)):
            dead.append(item.id)
    return ctx.store.release(dead, reason="worker process died") if dead else 0


# Item loops running in this process now. Claims carry only "host:pid", so a claim under our own pid
# is live when another run's loop in this process (a thread: the test harness, an in-process
# deployment) may hold it, and a dead namesake (a loop that ended without completing) otherwise.
_loops_lock = threading.Lock()
_loops_running = 0


def _loop_started(delta: int) -> None:
    global _loops_running
    with _loops_lock:
        _loops_running += delta


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        with _loops_lock:
            return _loops_running > 0  # another run in this process may hold it: its lease decides
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (killed, not yet reaped) is dead for our purposes
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            return fh.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return True


def run_items(ctx: RunContext, handler: Handler, *, batch: int = 100, lease_seconds: float = 600,
              worker: str | None = None, max_items: int | None = None, stop: Callable[[], bool] | None = None,
              workers: int = 1, stop_after: int | None = None, system_name: str = "systemet",
              wait_for_retries: float = 0.0, on_done: Callable[[list[tuple[WorkItem, dict]]], None] | None = None,
              on_thread_exit: Callable[[], None] | None = None, progress: Any = None, total_hint: int = 0,
              counts: LoopCounts | None = None, on_stop: Callable[[], None] | None = None,
              window: int | None = None, pool: bool | None = None) -> LoopCounts:
    """Claim waiting items in batches and hand each to `handler` until none wait (or `stop()` says
    so, or the system is down). `on_done(batch)` runs after each batch of completions is stored;
    `on_stop()` once when the loop decides to stop (e.g. to cancel lookups under way). `pool=True`
    runs the handler in worker threads even for one worker; `window`: items in flight at most."""
    log = get_logger(f"rpa.{ctx.process_id}")
    counts = counts or LoopCounts()
    counts.recovered = recover_abandoned(ctx)
    if counts.recovered:
        log.info("%d avbrutte elementer lagt tilbake i køen", counts.recovered)
    pool = workers > 1 if pool is None else pool
    rec = _Recorder(ctx, counts, worker, stop_after, system_name, on_done, progress, total_hint,
                    flush_every=batch if pool else 1, on_stop=on_stop)
    claim = lambda limit: ctx.store.claim(ctx.process_id, worker=worker, limit=limit,  # noqa: E731
                                          lease_seconds=lease_seconds, run_id=ctx.run_id)
    _loop_started(+1)
    try:
        if pool:
            _pooled(ctx, handler, counts, rec, claim, workers, batch, max_items, stop, wait_for_retries,
                    on_thread_exit, window or max(4 * workers, 8))
        else:
            _inline(ctx, handler, counts, rec, claim, batch, max_items, stop, wait_for_retries)
    finally:
        try:
            rec.flush()  # before the loop counts as ended: its held items are not yet completed
            if on_thread_exit and not pool:
                on_thread_exit()
        finally:
            _loop_started(-1)
    log.info("%d elementer behandlet: %d ferdige, %d avvik, %d til nytt forsøk, %d til drift",
             counts.handled, counts.done, counts.business, counts.system_retry, counts.escalated)
    if counts.stopped:
        log.error("kjøringen stoppet: %s", counts.stopped)
    return counts


def _call(handler: Handler, ctx: RunContext, item: WorkItem) -> Outcome:
    try:
        return handler(ctx, item)
    except Exception as exc:  # an unexpected error is a system error: retried, then escalated
        return SystemFailure(f"{type(exc).__name__}: {exc}")


def _more(counts: LoopCounts, max_items: int | None, stop: Callable[[], bool] | None) -> bool:
    return not counts.stopped and (max_items is None or counts.claimed < max_items) and not (stop and stop())


def _limit(counts: LoopCounts, max_items: int | None, wanted: int) -> int:
    return wanted if max_items is None else min(wanted, max_items - counts.claimed)


def _retry_pause(ctx: RunContext, limit: float) -> float | None:
    """Seconds to wait for the earliest item in retry backoff (None: none due within `limit`)."""
    if limit <= 0:
        return None
    now, waits = datetime.now(UTC), []
    for item in ctx.store.items(ctx.process_id, status=ItemStatus.new):
        nb = item.not_before
        if nb is None:
            return 0.0
        waits.append(max(((nb if nb.tzinfo else nb.replace(tzinfo=UTC)) - now).total_seconds(), 0.0))
    pause = min(waits, default=None)
    return None if pause is None or pause > limit else min(pause, 5.0) + 0.05


def _inline(ctx, handler, counts, rec, claim, batch, max_items, stop, wait_for_retries) -> None:
    while _more(counts, max_items, stop):
        items = claim(_limit(counts, max_items, batch))
        if not items:
            pause = _retry_pause(ctx, wait_for_retries)
            if pause is None:
                break
            time.sleep(pause)
            continue
        counts.claimed += len(items)
        for n, item in enumerate(items):
            if counts.stopped:  # the system is down: what was not started goes back untouched
                counts.released += ctx.store.release([i.id for i in items[n:]], reason="run stopped")
                break
            rec.record(item, _call(handler, ctx, item))


def _drain(q: queue.Queue) -> list[Any]:
    out = []
    while True:
        try:
            entry = q.get_nowait()
        except queue.Empty:
            return out
        if entry is not None:
            out.append(entry)


def _pooled(ctx, handler, counts, rec, claim, workers, batch, max_items, stop, wait_for_retries,
            on_thread_exit, window) -> None:
    tasks: queue.Queue[WorkItem | None] = queue.Queue()
    results: queue.Queue[tuple[WorkItem, Outcome]] = queue.Queue()

    def work() -> None:
        try:
            while (item := tasks.get()) is not None:
                results.put((item, _call(handler, ctx, item)))
        finally:
            if on_thread_exit:
                on_thread_exit()

    threads = [threading.Thread(target=work, name=f"{ctx.process_id}-{i}", daemon=True) for i in range(workers)]
    for t in threads:
        t.start()
    # Enough in flight to keep every worker busy while this thread writes to the store; a claim
    # (a write with an audit row per item) happens when half the window is free.
    inflight: dict[int, WorkItem] = {}
    try:
        while True:
            if _more(counts, max_items, stop) and len(inflight) <= window // 2:
                rec.flush()
                claimed = claim(_limit(counts, max_items, min(batch, window - len(inflight))))
                counts.claimed += len(claimed)
                for item in claimed:
                    inflight[item.id] = item
                    tasks.put(item)
                if not claimed and not inflight:
                    rec.flush()
                    pause = _retry_pause(ctx, wait_for_retries)
                    if pause is None:
                        break
                    time.sleep(pause)
                    continue
            if not inflight:
                break
            try:
                item, outcome = results.get(timeout=0.5 if rec.pending else None)
            except queue.Empty:
                rec.flush()
                continue
            inflight.pop(item.id, None)
            rec.record(item, outcome)
            if counts.stopped:  # stop handing out work: what was not started goes back now
                unstarted = [i.id for i in _drain(tasks)]
                for item_id in unstarted:
                    inflight.pop(item_id, None)
                if unstarted:
                    counts.released += ctx.store.release(unstarted, reason="run stopped")
    finally:
        rec.flush()
        leftover = [i.id for i in _drain(tasks)]  # handed out but not started: back without an attempt
        for _ in threads:
            tasks.put(None)
        for t in threads:
            t.join(timeout=60)
        leftover += [i.id for i, _ in _drain(results)]  # finished while stopping: a re-run checks again
        if leftover:
            counts.released += ctx.store.release(leftover, reason="run stopped")


class _Recorder:
    """Turns outcomes into store writes and counts (the calling thread only)."""

    def __init__(self, ctx: RunContext, counts: LoopCounts, worker: str | None, stop_after: int | None,
                 system_name: str, on_done, progress, total_hint: int, flush_every: int, on_stop=None):
        self.ctx, self.counts, self.worker, self.stop_after, self.system_name = ctx, counts, worker, stop_after, system_name
        self.on_done, self.progress, self.total_hint, self.flush_every = on_done, progress, total_hint, flush_every
        self.on_stop = on_stop
        self.pending: list[tuple[WorkItem, dict]] = []
        self.in_a_row = 0
        self.percent = -1
        self.log = get_logger(f"rpa.{ctx.process_id}")

    def flush(self) -> None:
        if not self.pending:
            return
        batch, self.pending = self.pending, []
        self.counts.done += self.ctx.store.complete_many([(i.id, r) for i, r in batch], worker=self.worker)
        if self.on_done:
            self.on_done(batch)

    def record(self, item: WorkItem, outcome: Outcome) -> None:
        ctx, counts = self.ctx, self.counts
        counts.handled += 1
        try:
            if isinstance(outcome, Done):
                self.in_a_row = 0
                self.pending.append((item, outcome.result))
                if len(self.pending) >= self.flush_every:
                    self.flush()
            elif isinstance(outcome, BusinessCase):
                ctx.store.business_exception(item.id, outcome.case, worker=self.worker)
                counts.business += 1
                counts.categories[outcome.case.category] += 1
                if outcome.answered:  # an answer from the system: it is up
                    self.in_a_row = 0
            elif isinstance(outcome, SystemFailure):
                self._system(item, outcome)
                if counts.stopped and self.on_stop:
                    self.on_stop()
            elif isinstance(outcome, GiveBack):
                counts.handled -= 1
                counts.given_back.append(item)
            else:  # pragma: no cover - a handler bug
                raise TypeError(f"handler returned {outcome!r}: use Done, BusinessCase or SystemFailure")
        except LeaseLost:
            self.log.warning("mistet leiekontrakten på %s (tok for lang tid); en annen arbeider har den",
                             item.reference)
        if self.progress is not None and self.total_hint:
            percent = int(100 * counts.handled / self.total_hint)
            if percent != self.percent:  # a Prefect API call: once per percent, not once per item
                self.percent = percent
                self.progress.update(counts.handled / self.total_hint)

    def _system(self, item: WorkItem, outcome: SystemFailure) -> None:
        counts = self.counts
        case = self.ctx.store.system_exception(item.id, outcome.error, self.ctx.backoff, evidence=outcome.evidence,
                                               attachments=outcome.attachments or None, worker=self.worker)
        if case is None:
            counts.system_retry += 1
        else:
            counts.escalated += 1
            counts.categories[case.category] += 1
        self.log.warning("systemfeil på %s: %s", item.reference, outcome.error[:300])
        self.in_a_row += 1
        if outcome.stop:
            counts.stopped = outcome.error
        elif self.stop_after and self.in_a_row >= self.stop_after:
            counts.stopped = (f"{self.in_a_row} systemfeil på rad: {self.system_name} ser ut til å være nede; "
                              "kjøringen stopper")
