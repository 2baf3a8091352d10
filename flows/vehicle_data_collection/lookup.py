"""The lookups: the kit's item loop (flows.kit.run_items) runs the handler below in the source's
threads (connectors.vegvesen.sources: the definition's `concurrency` for the API, one for the web
page), every request paced by one shared pacer at the definition's `requests_per_second` times a
safety margin; the kit claims, records and opens cases.

What stops or pauses the loop, for every thread at once:
- 422/429 with a short Retry-After: all threads pause and the same item is tried again (the source).
- 422/429 with a long Retry-After (quota spent for the day): the loop stops claiming and every
  unfinished item is deferred to the Retry-After time (flows.kit.giveback); the run ends paused.
- 401/403: the key is wrong; the loop stops and releases its items untouched (not 3 000 failures).
- N system errors in a row (the definition's stop_after_consecutive_system_errors): the registry
  looks down; the loop stops and releases the rest.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from connectors.norwegian import fmt_datetime
from connectors.vegvesen.cache import LookupCache
from connectors.vegvesen.errors import AuthenticationFailed, InvalidIdentifier, QuotaExceeded, VehicleNotFound
from connectors.vegvesen.parser import Vehicle
from connectors.vegvesen.plates import Identifier
from connectors.vegvesen.sources import Cancelled, open_source
from flows.kit import Progress, RunContext, get_logger
from flows.kit.giveback import give_back
from flows.kit.heap import frozen_heap
from flows.kit.items import BusinessCase, Done, GiveBack, LoopCounts, Outcome, SystemFailure, run_items
from flows.vehicle_data_collection import outcomes as oc
from workqueue.models import WorkItem
from workqueue.store import default_worker_id

DEREGISTERED_STATUSES = {"AVREGISTRERT", "UREGISTRERT", "UTFORT", "VRAKET"}
STOPPED_BECAUSE = {"auth": "API-nøkkelen ble avvist", "system_down": "Statens vegvesen svarer ikke"}


@dataclass
class LoopStats:
    counts: LoopCounts
    requests: int = 0          # lookups that reached the registry (cache hits excluded)
    cache_hits: int = 0
    short_waits: int = 0       # 422 pauses waited out in the run
    rate_limited: int = 0      # 429 answers (each pauses every thread and slows the pace)
    stopped: str | None = None  # quota | auth | system_down
    error: Exception | None = None
    resume_at: datetime | None = None
    deferred: int = 0
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


class Lookups:
    """The handler (in the source's threads), and the EU-control flags it leaves for after the
    batch is stored."""

    def __init__(self, ctx: RunContext, source, today: date):
        self.ctx, self.source, self.today, self.rules = ctx, source, today, ctx.rules
        self.error: Exception | None = None  # the last system error
        self.down = False                    # the kit stopped the loop: N system errors in a row
        self._lock = threading.Lock()
        self._flags: dict[int, Vehicle] = {}  # done vehicles whose EU control is overdue: a case beside

    def __call__(self, ctx: RunContext, item: WorkItem) -> Outcome:
        p = item.payload
        if p.get("kind") != "lookup":  # malformed or duplicate rows are settled by prepare(); belt and braces
            return BusinessCase(oc.settled_case(ctx, p), answered=False)
        try:
            vehicle, cached = self.source.fetch(Identifier(p["by"], p["value"]))
        except (Cancelled, QuotaExceeded, AuthenticationFailed):  # the source is shut: given back at the end
            return GiveBack()
        except VehicleNotFound as exc:
            return BusinessCase(oc.not_found_case(ctx, p, exc.form, exc.detail))
        except InvalidIdentifier as exc:
            return BusinessCase(oc.malformed_case(ctx, p, exc.message_no))
        except Exception as exc:  # noqa: BLE001 - one bad answer never crashes the run
            text = f"{exc.message_no} ({exc})" if getattr(exc, "message_no", None) else f"{type(exc).__name__}: {exc}"
            self.error = exc
            return SystemFailure(text, oc.system_evidence(p, text), getattr(exc, "attachments", list)())
        if vehicle.registration_status in DEREGISTERED_STATUSES:
            return BusinessCase(oc.deregistered_case(ctx, p, vehicle))
        if vehicle.eu_control_overdue(self.today - timedelta(days=self.rules.eu_control_grace_days)):
            with self._lock:
                self._flags[item.id] = vehicle
        return Done({"vehicle": vehicle.to_dict(), "cached": cached, "source": self.source.name,
                     "looked_up_at": datetime.now(UTC).isoformat(timespec="seconds")})

    def open_flagged_cases(self, batch: list[tuple[WorkItem, dict]]) -> None:
        """After a batch of completions is stored: the EU-control cases beside the done vehicles."""
        for item, _ in batch:
            if (v := self._flags.pop(item.id, None)) is not None:
                self.ctx.store.open_case(self.ctx.process_id, item.reference,
                                         oc.eu_overdue_case(self.ctx, item.payload, v), item_id=item.id)

    def system_down(self) -> None:
        self.down = True
        self.source.stop.set()


def look_up(ctx: RunContext, source_kind: str, total_hint: int) -> LoopStats:
    """Every waiting vehicle of the process looked up; what the run could not finish is given back."""
    rules, limit = ctx.rules, ctx.definition.rate_limit("vegvesen")
    cache = LookupCache.from_settings(ctx.settings)
    source = open_source(source_kind, ctx.settings, cache, rules.cache_max_age_hours * 3600,
                         requests_per_second=limit.requests_per_second if limit else 5.0,
                         workers=limit.concurrency if limit else 4, safety_margin=rules.rate_safety_margin,
                         web_interval_seconds=rules.web_min_interval_seconds, evidence_dir=ctx.out_dir / "bevis",
                         max_wait=rules.quota_max_wait_seconds, max_waits=rules.max_short_waits,
                         log=get_logger("rpa.vehicles"))
    lookups, counts = Lookups(ctx, source, date.today()), LoopCounts()
    worker = f"{default_worker_id()}:{ctx.run_id}"
    lease = ctx.definition.retry.lease_seconds
    batch = max(1, min(rules.claim_batch, int(source.limiter.rate * lease / 4) or 1))
    started = time.monotonic()
    try:
        with frozen_heap():
            run_items(ctx, lookups, batch=batch, lease_seconds=lease, worker=worker, workers=source.workers, pool=True,
                      window=batch + max(source.workers * 2, batch // 2), stop=source.stop.is_set,
                      stop_after=ctx.definition.retry.stop_after_consecutive_system_errors,
                      system_name="Statens vegvesen", on_stop=lookups.system_down,
                      wait_for_retries=rules.max_retry_wait_seconds, on_done=lookups.open_flagged_cases,
                      on_thread_exit=source.close if source.name == "web" else None,
                      progress=Progress("Oppslag i kjøretøyregisteret"), total_hint=total_hint, counts=counts)
    finally:
        if source.name != "web":
            source.close()
        cache.close()
    q = source.refusal
    stopped = ("auth" if isinstance(q, AuthenticationFailed) else "system_down" if lookups.down
               else "quota" if q is not None else None)
    s = LoopStats(counts, source.requests, source.cache_hits, source.limiter.waits, source.limiter.too_fast, stopped,
                  q if stopped in ("auth", "quota") else lookups.error, seconds=time.monotonic() - started)
    if isinstance(q, QuotaExceeded) and stopped == "quota":
        s.resume_at = q.resume_at
        s.deferred = give_back(ctx, counts.given_back, worker, f"Kvoten hos Statens vegvesen er brukt opp "
                               f"(HTTP {q.status}); venter til {fmt_datetime(q.resume_at)}", until=q.resume_at)
    else:
        counts.released += give_back(ctx, counts.given_back, worker,
                                     STOPPED_BECAUSE.get(stopped or "", "kjøringen stoppet"))
    return s
