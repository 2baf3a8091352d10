"""The work-item store: durable items and exception cases with the semantics every trusted
RPA platform shares (unique reference, lease, business vs system exception, abandoned items).

Concurrency: on PostgreSQL a claim is ``SELECT … FOR UPDATE SKIP LOCKED``; on SQLite every
write transaction starts with ``BEGIN IMMEDIATE`` (one writer at a time, WAL for readers), which
gives the same guarantee: no item is claimed by two workers.
"""

from __future__ import annotations

import json
import os
import select as io_select  # `select` is SQLAlchemy's below
import socket
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    Engine,
    and_,
    any_,
    bindparam,
    event,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy import case as sql_case
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, configure_mappers, sessionmaker

from connectors.http_retry import RetryPolicy
from workqueue.fnr_hash import fnr_hash
from workqueue.models import (
    AuditEvent,
    CaseAttachment,
    CaseKind,
    CaseStatus,
    ExceptionCase,
    ItemStatus,
    ProcessActions,
    ProcessRun,
    UTCDateTime,
    WorkItem,
)

SYSTEM = "system"


def utcnow() -> datetime:
    return datetime.now(UTC)


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _process_start_ticks(pid: int) -> str | None:
    """When process `pid` started (Linux clock ticks since boot), or None if it is not running.
    With the pid alone a reused pid would look alive; the start time tells them apart."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read().decode(errors="replace")
    except OSError:
        return None
    return stat.rsplit(")", 1)[-1].split()[19]  # field 22 of the line, counted after "(comm)"


def run_owner() -> dict[str, Any]:
    """Who is running a run: recorded at its start so a later run can tell a killed one."""
    return {"host": socket.gethostname(), "pid": os.getpid(), "pid_started": _process_start_ticks(os.getpid())}


def owner_gone(owner: dict[str, Any]) -> bool:
    """True only when we can see the owner is dead: same host, and its process is not running
    (or the pid now belongs to a later process). A run on another host is never judged."""
    if not owner or owner.get("host") != socket.gethostname() or not owner.get("pid"):
        return False
    started = _process_start_ticks(int(owner["pid"]))
    return started is None or (owner.get("pid_started") is not None and started != owner["pid_started"])


@dataclass(frozen=True)
class Backoff(RetryPolicy):
    """Retry policy for system exceptions (a process definition's `retry` block maps onto it): the
    HTTP connectors' backoff arithmetic (connectors.http_retry), in the definition's larger steps."""

    max_attempts: int = 3
    backoff_seconds: float = 30
    max_backoff_seconds: float = 3600
    jitter: float = 0.1  # +-10 %, so workers that failed together do not retry together

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        return super().delay(max(attempt, 1), retry_after)  # attempt 0: an item retried before any try


@dataclass
class NewItem:
    reference: str
    payload: dict[str, Any] = field(default_factory=dict)
    priority: int = 0
    deadline: datetime | None = None
    not_before: datetime | None = None


@dataclass
class NewCase:
    """What a flow knows about a case a human must look at."""

    category: str
    message: str  # Norwegian, for staff; no fnr in clear
    evidence: dict[str, Any] = field(default_factory=dict)
    org_unit: str | None = None
    amount: float | None = None
    search_text: str = ""
    sla_hours: float | None = None
    attachments: list[tuple[str, str, bytes]] = field(default_factory=list)  # (filename, media type, bytes)


class StoreError(Exception):
    pass


class NotFound(StoreError):
    pass


class InvalidTransition(StoreError):
    pass


class LeaseLost(StoreError):
    """The item is no longer held by this worker (lease expired and someone else took it)."""


def create_engine_for(url: str, echo: bool = False) -> Engine:
    from sqlalchemy import create_engine

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(parsed.database)), exist_ok=True)
        engine = create_engine(url, echo=echo, connect_args={"timeout": 60, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_conn, _record):  # pragma: no cover - driver plumbing
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=60000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):  # pragma: no cover - driver plumbing
            # IMMEDIATE takes the write lock up front: two claimers never read the same rows
            # as free, and no deadlock arises from a read lock upgrading to a write lock.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    engine = create_engine(url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=10)
    _ping_only_when_the_socket_speaks(engine.dialect)
    event.listen(engine, "connect", _utc_by_its_short_name)
    event.listen(engine, "connect", _json_from_utf8_text)
    return engine


_decode_json = json.JSONDecoder().decode


def _json_from_utf8_text(dbapi_conn: Any, _record: Any) -> None:
    """JSON columns (a claimed item's payload) parsed from their UTF-8 text directly: the same
    parser as psycopg's default `json.loads(bytes)`, without its guess of the encoding per value."""
    from psycopg.types.json import set_json_loads

    set_json_loads(lambda data: _decode_json(data.decode("utf-8")), dbapi_conn)


# Names PostgreSQL reports for a server time zone that is UTC (Debian's default is `Etc/UTC`).
_UTC_ALIASES = frozenset({"Etc/UTC", "Etc/UCT", "Etc/Universal", "Etc/Zulu", "UCT", "Universal", "Zulu"})


def _utc_by_its_short_name(dbapi_conn: Any, _record: Any) -> None:
    """A server whose time zone is UTC under another name (`Etc/UTC`) gets it as `UTC`: the same
    zone, so every timestamp reads the same, but psycopg then loads timestamps with Python's
    built-in `timezone.utc` instead of a `ZoneInfo` (whose conversions cost ~15 µs per claimed item,
    six timestamps each, in psycopg's loader and UTCDateTime). Another zone is left alone."""
    info = getattr(dbapi_conn, "info", None)
    if info is None or info.parameter_status("TimeZone") not in _UTC_ALIASES:
        return
    autocommit = dbapi_conn.autocommit
    dbapi_conn.autocommit = True
    try:
        dbapi_conn.execute("SET TIME ZONE 'UTC'")
    finally:
        dbapi_conn.autocommit = autocommit


def _ping_only_when_the_socket_speaks(dialect: Any) -> None:
    """Pool pre-ping without a round trip for a healthy idle connection.

    An idle connection has nothing to read: a server that closed it (restart, terminated
    backend, idle timeout) leaves an error message and end-of-file on the socket, which makes it
    readable. So: socket silent -> alive; anything readable (or no socket to look at) -> the
    dialect's real ping (`SELECT 1`), which invalidates the connection if the server is gone.
    The work-item hot path (claim, complete) checks out a connection per call; a `SELECT 1`
    round trip each time cost as much as the statement's own round trip."""
    full_ping = dialect.do_ping

    def do_ping(dbapi_connection: Any) -> bool:
        try:
            poller = io_select.poll()
            poller.register(dbapi_connection.pgconn.socket, io_select.POLLIN | io_select.POLLPRI)
            if not poller.poll(0):
                return True
        except (AttributeError, OSError, ValueError):  # no socket to look at: ask the server
            pass
        return full_ping(dbapi_connection)

    dialect.do_ping = do_ping


class WorkQueueStore:
    """All reads and writes of items, cases and the audit trail go through here."""

    def __init__(self, url: str, echo: bool = False, migrate: bool = True, fnr_key: str | None = None):
        self.url = url
        self._fnr_key = fnr_key  # None: settings.database.fnr_hash_key, read when first needed
        self.engine = create_engine_for(url, echo=echo)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self._session = sessionmaker(self.engine, expire_on_commit=False)
        # One statement, one transaction (PostgreSQL): no BEGIN/COMMIT round trips around it.
        self._autocommit = None if self.is_sqlite else self.engine.execution_options(isolation_level="AUTOCOMMIT")
        if migrate:
            from workqueue.migrate import upgrade

            upgrade(self.engine)

    @classmethod
    def from_settings(cls, settings=None) -> WorkQueueStore:
        from config.settings import get_settings

        s = settings or get_settings()
        return cls(s.database_url, echo=s.database.echo, fnr_key=s.database.fnr_hash_key.get_secret_value())

    def fnr_hash(self, fnr: str | None) -> str | None:
        """The keyed hash a case's fnr is found by (never the fnr itself)."""
        if self._fnr_key is None:
            from config.settings import get_settings

            self._fnr_key = get_settings().database.fnr_hash_key.get_secret_value()
        return fnr_hash(fnr, self._fnr_key)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._session() as session, session.begin():
            yield session

    @contextmanager
    def _one_statement(self) -> Iterator[Session]:
        """A session for exactly one statement that is its own transaction (PostgreSQL only):
        the connection is in autocommit, so the statement commits by itself (a single statement
        is atomic, data-modifying CTEs included) and no BEGIN or COMMIT travels to the server.
        Only for methods that issue a single statement."""
        with self._autocommit.connect() as conn, Session(bind=conn, expire_on_commit=False) as session:
            yield session

    # ------------------------------------------------------------------ items

    def add(self, process_id: str, item: NewItem) -> tuple[WorkItem, bool]:
        """Add one item; the same reference twice returns the existing item. -> (item, created).
        The unique constraint decides, so two workers adding the same reference at once (on
        PostgreSQL, where they do not serialize) both get the one row instead of an error."""
        with self.session() as s:
            new_id = s.scalar(self._insert_ignore().values(**_new_item_row(process_id, item, utcnow()))
                              .returning(WorkItem.__table__.c.id))
            row = s.scalar(select(WorkItem).where(WorkItem.process_id == process_id,
                                                  WorkItem.reference == item.reference))
            return row, new_id is not None

    def add_many(self, process_id: str, items: Sequence[NewItem], chunk: int = 5000) -> int:
        """Bulk add; references already present (or repeated in `items`) are skipped.
        Returns how many were new: the rows the insert returned, exact under concurrency."""
        added = 0
        stmt = self._insert_ignore().returning(WorkItem.__table__.c.id)
        for start in range(0, len(items), chunk):
            now = utcnow()
            rows = [_new_item_row(process_id, i, now) for i in items[start:start + chunk]]
            with self.session() as s:
                added += len(s.execute(stmt, rows).all())
        return added

    def _insert_ignore(self):
        if self.is_sqlite:
            from sqlalchemy.dialects.sqlite import insert as dialect_insert
        else:
            from sqlalchemy.dialects.postgresql import insert as dialect_insert
        return dialect_insert(WorkItem.__table__).on_conflict_do_nothing(index_elements=["process_id", "reference"])

    def claim(self, process_id: str, worker: str | None = None, limit: int = 100,
              lease_seconds: float = 600, run_id: str | None = None) -> list[WorkItem]:
        """Take up to `limit` waiting items and lease them to `worker` for `lease_seconds`.

        Order: highest priority first; within a priority the earliest deadline, items without a
        deadline after those with one; then first in, first out. Deferred items (`not_before` in
        the future) wait. Each claim counts an attempt and writes an `item.claimed` audit event.

        The candidates come from two index-ordered reads (items with a deadline, items without),
        merged here: one ORDER BY with "deadline NULLS LAST" cannot be served by a SQLite index
        and would sort every waiting item on every claim (quadratic in the backlog).

        PostgreSQL: the candidates are locked with FOR UPDATE SKIP LOCKED, then updated by id, so
        concurrent workers skip each other's rows instead of waiting. SQLite: the transaction
        holds the database's write lock from its first statement (BEGIN IMMEDIATE), so no other
        writer can interleave between the read and the update: the single-writer equivalent.
        """
        worker = worker or default_worker_id()
        now = utcnow()
        if not self.is_sqlite:
            return self._claim_pg(process_id, worker, limit, lease_seconds, run_id, now)
        t = WorkItem.__table__
        waiting = (select(t.c.id, t.c.priority, t.c.deadline)
                   .where(t.c.process_id == process_id, t.c.status == ItemStatus.new.value,
                          or_(t.c.not_before.is_(None), t.c.not_before <= now))
                   .limit(limit))
        reads = [waiting.where(t.c.deadline.isnot(None)).order_by(t.c.priority.desc(), t.c.deadline, t.c.id),
                 waiting.where(t.c.deadline.is_(None)).order_by(t.c.priority.desc(), t.c.id)]
        with self.session() as s:
            found = [s.execute(read).all() for read in reads]
            rows = sorted(found[0] + found[1], key=_claim_order) if found[0] and found[1] else found[0] or found[1]
            if not rows:
                return []
            position = {row.id: n for n, row in enumerate(rows[:limit])}
            # The status guard is belt and braces: the lock (or SQLite's write lock) already
            # guarantees these rows are still waiting.
            target = and_(self._ids_in(t.c.id, list(position)), t.c.status == ItemStatus.new.value)
            items = list(s.scalars(
                update(WorkItem).where(target).values(
                    status=ItemStatus.in_progress.value, claimed_by=worker,
                    claimed_until=now + timedelta(seconds=lease_seconds),
                    attempts=WorkItem.attempts + 1, updated_at=now, run_id=run_id)
                .returning(WorkItem),
                execution_options={"synchronize_session": False}))
            self._audit_items(s, [i.id for i in items], worker, "item.claimed", now, ItemStatus.new,
                              ItemStatus.in_progress, run_id=run_id)
        items.sort(key=lambda i: position[i.id])  # RETURNING gives rows in no particular order
        return items

    def _claim_pg(self, process_id: str, worker: str, limit: int, lease_seconds: float, run_id: str | None,
                  now: datetime) -> list[WorkItem]:
        """claim on PostgreSQL in one statement, its own transaction (one round trip): the same
        two index-ordered reads (locked, SKIP LOCKED), merged in claim order, the update, one
        audit event per claimed item, and the claimed rows back in claim order: the columns the
        claim did not set itself (what it set, e.g. the lease, is filled in here without the server
        formatting and this process parsing it 500 times).

        The update reaches the picked rows through the primary key (`id = ANY(ARRAY(…))`) and
        nothing else: joined to `picked`, it was planned (at a backlog of 15 000–20 000) as a hash
        join over a scan of every waiting item, a third of the claim's time (benchmarks/RESULTS.md,
        session 6), and a status condition beside the ids let a planner without statistics pick
        the waiting items' index, read once per id. No status check is needed there: the rows were locked by this statement after
        their status was re-checked on their newest version, and stay locked until it commits."""
        details = "jsonb_build_object('attempt', attempts" + (", 'run_id', CAST(:run_id AS TEXT))" if run_id else ")")
        # The status as a literal, not a parameter: only then does a generic plan (psycopg prepares a
        # statement run five times) see that the partial index of waiting items applies.
        waiting = ("SELECT id, priority, deadline FROM work_items WHERE process_id = :process_id "
                   f"AND status = '{ItemStatus.new.value}' AND (not_before IS NULL OR not_before <= :now) "
                   "AND deadline IS {} NULL "
                   "ORDER BY priority DESC, {}id LIMIT :limit FOR UPDATE SKIP LOCKED")
        sql = text(f"""
            WITH with_deadline AS ({waiting.format("NOT", "deadline, ")}),
            without_deadline AS ({waiting.format("", "")}),
            picked AS (
                SELECT id FROM (SELECT * FROM with_deadline UNION ALL SELECT * FROM without_deadline) AS c
                ORDER BY priority DESC, deadline NULLS LAST, id LIMIT :limit),
            claimed AS (
                UPDATE work_items AS w
                SET status = :in_progress, claimed_by = :worker, claimed_until = :until,
                    attempts = w.attempts + 1, updated_at = :now, run_id = :run_id
                WHERE w.id = ANY(ARRAY(SELECT id FROM picked))
                RETURNING w.process_id, {", ".join(f"w.{c}" for c in _CLAIM_READS)}),
            audited AS (
                INSERT INTO audit_events (at, actor, action, process_id, item_id, from_status, to_status, details)
                SELECT :now, :worker, 'item.claimed', process_id, id, :new, :in_progress, {details}
                FROM claimed ORDER BY id)
            SELECT {", ".join(_CLAIM_READS)} FROM claimed ORDER BY priority DESC, deadline NULLS LAST, id""").bindparams(
            bindparam("now", type_=WorkItem.__table__.c.updated_at.type),
            bindparam("until", type_=WorkItem.__table__.c.updated_at.type))
        params = {"process_id": process_id, "new": ItemStatus.new.value, "in_progress": ItemStatus.in_progress.value,
                  "now": now, "until": now + timedelta(seconds=lease_seconds), "limit": limit, "worker": worker,
                  "run_id": run_id}
        with self._one_statement() as s:
            rows = s.execute(sql, params).all()
        claim = {"process_id": process_id, "status": ItemStatus.in_progress.value, "claimed_by": worker,
                 "claimed_until": params["until"], "updated_at": now, "run_id": run_id}
        return _detached_work_items(_CLAIM_READS, rows, claim)

    def extend_lease(self, item_ids: Iterable[int], worker: str, lease_seconds: float) -> int:
        """Hold items longer (a slow batch). Returns how many `worker` still held."""
        now = utcnow()
        with self.session() as s:
            res = s.execute(update(WorkItem).where(self._ids_in(WorkItem.id, list(item_ids)), WorkItem.claimed_by == worker,
                                                   WorkItem.status == ItemStatus.in_progress)
                            .values(claimed_until=now + timedelta(seconds=lease_seconds), updated_at=now))
            return res.rowcount or 0

    def complete(self, item_id: int, result: dict[str, Any] | None = None, worker: str | None = None) -> bool:
        """Mark one claimed item done. False when it was no longer held (see complete_many)."""
        return self.complete_many([(item_id, result)], worker=worker) == 1

    def complete_many(self, results: Sequence[tuple[int, dict[str, Any] | None]], worker: str | None = None) -> int:
        """Mark claimed items done, each with its result, and audit each completion.

        Only items still in progress (and, given `worker`, still claimed by that worker) are
        completed: an item whose lease expired and went to another worker is left alone, so
        its new holder's outcome is not overwritten. Returns how many were completed: exact,
        because the held rows are found (and locked on PostgreSQL) before the update."""
        if not results:
            return 0
        now = utcnow()
        t = WorkItem.__table__
        wanted = dict(results)
        actor = worker or SYSTEM
        if not self.is_sqlite:
            return self._complete_many_pg(wanted, worker, actor, now)
        with self.session() as s:
            held = self._held(s, list(wanted), worker)
            if not held:
                return 0
            s.connection().execute(  # in-process SQLite: executemany is one C loop
                update(t).where(t.c.id == bindparam("b_id"))
                .values(status=ItemStatus.done.value, result=bindparam("b_result"), finished_at=now,
                        updated_at=now, claimed_until=None),
                [{"b_id": item_id, "b_result": wanted[item_id]} for item_id, _ in held])
            self._audit_items(s, [item_id for item_id, _ in held], actor, "item.completed", now,
                              ItemStatus.in_progress, ItemStatus.done)
        return len(held)

    def _complete_many_pg(self, wanted: dict[int, Any], worker: str | None, actor: str, now: datetime) -> int:
        """complete_many on PostgreSQL in one statement, its own transaction (one round trip):
        update the held rows with their results and write one audit event per completed row,
        exactly as the SQLite path does in three statements.

        The UPDATE's own conditions decide which rows are held (in progress, claimed by `worker`),
        and it locks what it updates: a row another worker took over after this worker's lease
        expired fails them (PostgreSQL re-checks the conditions on the newest version of a row it
        had to wait for), so the count is exact without locking the rows first (a separate
        `FOR UPDATE` pass cost a second write to every row). It only ever waits for a row this
        worker held: claims skip locked rows, and two completers meet on a row only after a lease
        expired and the item was claimed again. The ids and
        results travel as one JSON array of [id, result] pairs (one json.dumps for the batch);
        the rows are reached through the primary key (`id = ANY(ARRAY(…))`: a bare join to the
        given ids was planned as a scan of the whole table)."""
        sql = text(f"""
            WITH given AS (
                SELECT CAST(pair->>0 AS BIGINT) AS id, pair->1 AS result
                FROM jsonb_array_elements(CAST(:given AS JSONB)) AS pair),
            done AS (
                UPDATE work_items AS w
                SET status = :done, result = given.result, finished_at = :now,
                    updated_at = :now, claimed_until = NULL
                FROM given
                WHERE w.id = given.id AND w.id = ANY(ARRAY(SELECT id FROM given)) AND w.status = :in_progress
                      {"AND w.claimed_by = :worker" if worker else ""}
                RETURNING w.id, w.process_id, w.attempts),
            audited AS (
                INSERT INTO audit_events (at, actor, action, process_id, item_id, from_status, to_status, details)
                SELECT :now, :actor, 'item.completed', process_id, id, :in_progress, :done,
                       jsonb_build_object('attempt', attempts)
                FROM done ORDER BY id)
            SELECT count(*) FROM done""").bindparams(bindparam("now", type_=WorkItem.__table__.c.updated_at.type))
        params = {"given": json.dumps([[i, r] for i, r in wanted.items()]), "now": now, "actor": actor,
                  "in_progress": ItemStatus.in_progress.value, "done": ItemStatus.done.value}
        if worker:
            params["worker"] = worker
        with self._one_statement() as s:
            return s.execute(sql, params).scalar_one()

    def _held(self, s: Session, item_ids: list[int], worker: str | None) -> list[tuple[int, str]]:
        """(id, process_id) of the given items that are in progress (claimed by `worker` if given),
        locked on PostgreSQL until the transaction ends; SQLite already holds the write lock."""
        t = WorkItem.__table__
        held: list[tuple[int, str]] = []
        for start in range(0, len(item_ids), _IN_CHUNK):
            q = select(t.c.id, t.c.process_id).where(self._ids_in(t.c.id, item_ids[start:start + _IN_CHUNK]),
                                                     t.c.status == ItemStatus.in_progress.value)
            if worker:
                q = q.where(t.c.claimed_by == worker)
            if not self.is_sqlite:  # in id order, so two lockers never wait on each other in a cycle
                q = q.order_by(t.c.id).with_for_update()
            held += [(row.id, row.process_id) for row in s.execute(q)]
        return sorted(held)

    def _ids_in(self, column: Any, ids: list[int]) -> Any:
        """`column IN (ids)`. On PostgreSQL written `column = ANY(:ids)` with one array parameter:
        the statement text stays the same whatever the batch size, so neither SQLAlchemy nor
        psycopg has to render and parse 500 placeholders per statement (psycopg caches only
        short statements: a 500-id IN list cost ~1 ms of CPU per statement to convert)."""
        if self.is_sqlite:
            return column.in_(ids)
        return column == any_(bindparam("ids_array", list(ids), type_=ARRAY(BigInteger)))

    def business_exception(self, item_id: int, case: NewCase, actor: str = SYSTEM,
                           worker: str | None = None) -> ExceptionCase:
        """The data is wrong or ambiguous: never retried; opens a case for a human.
        Given `worker`, raises LeaseLost if the item is no longer claimed by that worker."""
        with self.session() as s:
            item = self._item(s, item_id, lock=True)
            if item.status not in (ItemStatus.in_progress, ItemStatus.new):
                raise InvalidTransition(f"item {item_id} is {item.status}; cannot raise a business exception")
            _check_holder(item, worker)
            now = utcnow()
            self._audit(s, actor, "item.business_exception", item.process_id, item_id=item.id,
                        from_status=item.status, to_status=ItemStatus.business_exception,
                        details={"category": case.category})
            item.status = ItemStatus.business_exception
            item.last_error = f"{case.category}: {case.message}"[:2000]
            item.finished_at = now
            item.updated_at = now
            item.claimed_until = None
            return self._open_case(s, item.process_id, item.reference, item.id, CaseKind.business, case, actor)

    def system_exception(self, item_id: int, error: str, backoff: Backoff = Backoff(),
                         actor: str = SYSTEM, escalate_category: str = "SYSTEM_ERROR",
                         evidence: dict[str, Any] | None = None,
                         attachments: list[tuple[str, str, bytes]] | None = None,
                         worker: str | None = None) -> ExceptionCase | None:
        """A timeout, a 5xx, a changed page: retry with backoff; after the last attempt
        the item fails and an operator case opens. Returns the case when escalated.
        Given `worker`, raises LeaseLost if the item is no longer claimed by that worker."""
        with self.session() as s:
            item = self._item(s, item_id, lock=True)
            if item.status != ItemStatus.in_progress:
                raise InvalidTransition(f"item {item_id} is {item.status}; only claimed items can fail")
            _check_holder(item, worker)
            now = utcnow()
            item.last_error = error[:2000]
            item.updated_at = now
            item.claimed_until = None
            if item.attempts < backoff.max_attempts:
                item.status = ItemStatus.new
                item.not_before = now + timedelta(seconds=backoff.delay(item.attempts))
                self._audit(s, actor, "item.retry_scheduled", item.process_id, item_id=item.id,
                            from_status=ItemStatus.in_progress, to_status=ItemStatus.new,
                            details={"attempt": item.attempts, "not_before": item.not_before.isoformat(),
                                     "error": error[:500]})
                return None
            item.status = ItemStatus.failed
            item.finished_at = now
            self._audit(s, actor, "item.failed", item.process_id, item_id=item.id,
                        from_status=ItemStatus.in_progress, to_status=ItemStatus.failed,
                        details={"attempts": item.attempts, "error": error[:500]})
            case = NewCase(category=escalate_category,
                           message=f"Systemfeil etter {item.attempts} forsøk: {error[:500]}",
                           evidence=evidence or {}, attachments=attachments or [])
            return self._open_case(s, item.process_id, item.reference, item.id, CaseKind.system, case, actor)

    def release(self, item_ids: Iterable[int], actor: str = SYSTEM, reason: str = "released",
                worker: str | None = None) -> int:
        """Give claimed items back to the queue without counting the attempt (the run stops
        early: a quota, a shutdown). Only items still in progress (claimed by `worker`, when
        given) are released. Returns how many."""
        return self._release(list(item_ids), actor, reason, worker, until=None)

    def defer(self, item_ids: Iterable[int], until: datetime, reason: str = "", actor: str = SYSTEM,
              worker: str | None = None) -> int:
        """Release claimed items and keep them waiting until `until` (quota spent: resume after
        midnight), in one transaction so no other worker takes them in between."""
        return self._release(list(item_ids), actor, reason, worker, until=until)

    def _release(self, ids: list[int], actor: str, reason: str, worker: str | None,
                 until: datetime | None) -> int:
        now = utcnow()
        t = WorkItem.__table__
        values: dict[str, Any] = dict(status=ItemStatus.new.value, claimed_by=None, claimed_until=None,
                                      attempts=sql_case((t.c.attempts > 0, t.c.attempts - 1), else_=0),
                                      updated_at=now)
        action = "item.released"
        details: dict[str, Any] = {"reason": reason} if reason else {}
        if until is not None:
            values.update(not_before=until, last_error=reason or None)
            action = "item.deferred"
            details["not_before"] = until.isoformat()
        with self.session() as s:
            held = self._held(s, ids, worker)
            held_ids = [item_id for item_id, _ in held]
            for start in range(0, len(held_ids), _IN_CHUNK):
                s.execute(update(t).where(self._ids_in(t.c.id, held_ids[start:start + _IN_CHUNK])).values(**values))
            self._audit_items(s, held_ids, actor, action, now, ItemStatus.in_progress, ItemStatus.new,
                              details=details)
        return len(held)

    def requeue_abandoned(self, backoff: Backoff | None = None, actor: str = SYSTEM,
                          process_id: str | None = None, escalate_category: str = "SYSTEM_ERROR") -> int:
        """Items whose lease expired (their worker died) go back to the queue; those out of
        attempts (per `backoff`, i.e. the definition's retry policy) fail and open an operator
        case of `escalate_category`. Without `backoff` they are always re-queued; pass
        `process_id` so that one process's retry policy is not applied to another's items.
        Returns how many were re-queued or failed."""
        now = utcnow()
        max_attempts = backoff.max_attempts if backoff else None
        with self.session() as s:
            q = select(WorkItem).where(WorkItem.status == ItemStatus.in_progress, WorkItem.claimed_until < now)
            if process_id:
                q = q.where(WorkItem.process_id == process_id)
            stale = list(s.scalars(q.order_by(WorkItem.id).with_for_update(skip_locked=True)))
            for item in stale:
                exhausted = max_attempts is not None and item.attempts >= max_attempts
                to_status = ItemStatus.failed if exhausted else ItemStatus.new
                claimed_by = item.claimed_by
                self._audit(s, actor, "item.abandoned", item.process_id, item_id=item.id,
                            from_status=ItemStatus.in_progress, to_status=to_status,
                            details={"claimed_by": claimed_by, "attempts": item.attempts})
                item.status = to_status
                item.last_error = f"abandoned by {claimed_by} (lease expired)"
                item.claimed_by = None
                item.claimed_until = None
                item.updated_at = now
                if exhausted:
                    item.finished_at = now
                    self._open_case(s, item.process_id, item.reference, item.id, CaseKind.system,
                                    NewCase(escalate_category,
                                            f"Behandlingen ble avbrutt {item.attempts} ganger (roboten stoppet "
                                            "eller mistet kontakten): driftsansvarlig følger opp",
                                            evidence={"claimed_by": claimed_by}),
                                    actor)
            return len(stale)

    def get_item(self, item_id: int) -> WorkItem:
        with self.session() as s:
            return self._item(s, item_id)

    def find_item(self, process_id: str, reference: str) -> WorkItem | None:
        with self.session() as s:
            return s.scalar(select(WorkItem).where(WorkItem.process_id == process_id,
                                                   WorkItem.reference == reference))

    def items(self, process_id: str, status: str | None = None, limit: int | None = None) -> list[WorkItem]:
        with self.session() as s:
            q = select(WorkItem).where(WorkItem.process_id == process_id).order_by(WorkItem.id)
            if status:
                q = q.where(WorkItem.status == status)
            if limit:
                q = q.limit(limit)
            return list(s.scalars(q))

    def counts(self, process_id: str) -> dict[str, int]:
        with self.session() as s:
            rows = s.execute(select(WorkItem.status, func.count()).where(WorkItem.process_id == process_id)
                             .group_by(WorkItem.status))
            return {status: n for status, n in rows}

    # ------------------------------------------------------------------ cases

    def open_case(self, process_id: str, reference: str, case: NewCase, kind: CaseKind = CaseKind.business,
                  item_id: int | None = None, actor: str = SYSTEM) -> ExceptionCase:
        """A case not tied to a claimed item (e.g. a report-level problem such as a bank total mismatch)."""
        with self.session() as s:
            return self._open_case(s, process_id, reference, item_id, kind, case, actor)

    def open_cases_many(self, process_id: str, cases: Sequence[tuple[str, NewCase]],
                        actor: str = SYSTEM) -> int:
        """Bulk version of open_case for flows that classify thousands of lines at once."""
        now = utcnow()
        with self.session() as s:
            for reference, case in cases:
                self._open_case(s, process_id, reference, None, CaseKind.business, case, actor, now=now)
        return len(cases)

    def _open_case(self, s: Session, process_id: str, reference: str, item_id: int | None, kind: CaseKind,
                   case: NewCase, actor: str, now: datetime | None = None) -> ExceptionCase:
        now = now or utcnow()
        row = ExceptionCase(
            item_id=item_id, process_id=process_id, reference=reference, kind=kind, category=case.category,
            message=case.message, evidence=case.evidence, search_text=case.search_text, amount=case.amount,
            fnr_hash=self.fnr_hash((case.evidence or {}).get("fnr")),
            org_unit=case.org_unit, status=CaseStatus.open, created_at=now, updated_at=now,
            due_at=now + timedelta(hours=case.sla_hours) if case.sla_hours else None)
        s.add(row)
        s.flush()
        for filename, media_type, content in case.attachments:
            s.add(CaseAttachment(case_id=row.id, filename=filename, media_type=media_type, size=len(content),
                                 content=content, created_at=now))
        self._audit(s, actor, "case.opened", process_id, case_id=row.id, item_id=item_id,
                    to_status=CaseStatus.open, details={"category": case.category, "kind": str(kind)}, now=now)
        return row

    def get_case(self, case_id: int) -> ExceptionCase:
        with self.session() as s:
            case = s.get(ExceptionCase, case_id)
            if case is None:
                raise NotFound(f"case {case_id} not found")
            return case

    def case_attachments(self, case_id: int) -> list[CaseAttachment]:
        with self.session() as s:
            return list(s.scalars(select(CaseAttachment).where(CaseAttachment.case_id == case_id)
                                  .order_by(CaseAttachment.id)))

    def cases(self, process_id: str | None = None, status: str | Sequence[str] | None = None,
              category: str | None = None, limit: int | None = None) -> list[ExceptionCase]:
        with self.session() as s:
            q = select(ExceptionCase).order_by(ExceptionCase.id)
            if process_id:
                q = q.where(ExceptionCase.process_id == process_id)
            if isinstance(status, str):
                q = q.where(ExceptionCase.status == status)
            elif status:
                q = q.where(ExceptionCase.status.in_(list(status)))
            if category:
                q = q.where(ExceptionCase.category == category)
            if limit:
                q = q.limit(limit)
            return list(s.scalars(q))

    def assign(self, case_id: int, assignee: str | None, actor: str) -> ExceptionCase:
        """Claim ('I'm taking this') or reassign; an open case moves to in_review."""
        with self.session() as s:
            case = self._case(s, case_id)
            self._require_open(case)
            before = case.status
            case.assignee = assignee
            case.status = CaseStatus.in_review if assignee else CaseStatus.open
            case.updated_at = utcnow()
            self._audit(s, actor, "case.assigned", case.process_id, case_id=case.id, from_status=before,
                        to_status=case.status, details={"assignee": assignee})
            return case

    def decide(self, case_id: int, actor: str, action: str, comment: str,
               decision: dict[str, Any] | None = None, needs_approval: bool = False) -> ExceptionCase:
        """Record a reviewer's decision. `dismiss` closes as dismissed; every other action resolves,
        or waits for an attestant (`pending_approval`) when `needs_approval`. The case's fingerprint
        is kept with it: the applying run refuses the decision if the case has changed since.
        The flow's next run reads resolved cases with decisions not yet applied."""
        from workqueue.actions import fingerprint

        if not comment or not comment.strip():
            raise InvalidTransition("a decision needs a comment")
        with self.session() as s:
            case = self._case(s, case_id)
            self._require_open(case)
            before = case.status
            now = utcnow()
            case.status = (CaseStatus.pending_approval if needs_approval else
                           CaseStatus.dismissed if action == "dismiss" else CaseStatus.resolved)
            case.decision = {**(decision or {}), "action": action, "comment": comment.strip()}
            case.decided_by = actor
            case.decided_at = now
            case.decision_basis = fingerprint(case)
            case.approved_by = case.approved_at = None
            case.updated_at = now
            self._audit(s, actor, "case.decided", case.process_id, case_id=case.id, from_status=before,
                        to_status=case.status, details=case.decision)
            return case

    def approve_decision(self, case_id: int, actor: str, comment: str) -> ExceptionCase:
        """An attestant approves a decision waiting for approval; never the one who took it."""
        if not comment or not comment.strip():
            raise InvalidTransition("an approval needs a comment")
        with self.session() as s:
            case = self._case(s, case_id)
            if case.status != CaseStatus.pending_approval:
                raise InvalidTransition(f"case {case_id} is {case.status}: nothing waits for approval")
            if case.decided_by == actor:
                raise InvalidTransition(f"case {case_id}: {actor} took the decision and cannot approve it")
            now = utcnow()
            action = (case.decision or {}).get("action")
            case.status = CaseStatus.dismissed if action == "dismiss" else CaseStatus.resolved
            case.approved_by, case.approved_at, case.updated_at = actor, now, now
            self._audit(s, actor, "case.approved", case.process_id, case_id=case.id,
                        from_status=CaseStatus.pending_approval, to_status=case.status,
                        details={"comment": comment.strip(), "action": action,
                                 "amount": (case.decision or {}).get("amount"), "decided_by": case.decided_by})
            return case

    def reject_decision(self, case_id: int, actor: str, comment: str) -> ExceptionCase:
        """An attestant rejects a decision waiting for approval: the case is open again."""
        if not comment or not comment.strip():
            raise InvalidTransition("a rejection needs a comment")
        with self.session() as s:
            case = self._case(s, case_id)
            if case.status != CaseStatus.pending_approval:
                raise InvalidTransition(f"case {case_id} is {case.status}: nothing waits for approval")
            if case.decided_by == actor:
                raise InvalidTransition(f"case {case_id}: {actor} took the decision and cannot judge it")
            rejected = dict(case.decision or {})
            self._clear_decision(case, CaseStatus.open)
            self._audit(s, actor, "case.rejected", case.process_id, case_id=case.id,
                        from_status=CaseStatus.pending_approval, to_status=CaseStatus.open,
                        details={"comment": comment.strip(), "rejected": rejected})
            return case

    def refuse_decision(self, case_id: int, actor: str, reasons: list[str], run_id: str | None = None) -> ExceptionCase:
        """The applying run refused a decision (out of bounds, unapproved, stale): nothing is applied,
        the case is open again for a new decision, the refusal is in the audit trail."""
        with self.session() as s:
            case = self._case(s, case_id)
            if case.decision_applied_at is not None:
                raise InvalidTransition(f"case {case_id}: the decision was already applied by a run")
            before = case.status
            refused = dict(case.decision or {})
            self._clear_decision(case, CaseStatus.open)
            self._audit(s, actor, "case.decision_refused", case.process_id, case_id=case.id, from_status=before,
                        to_status=CaseStatus.open, details={"reasons": reasons, "refused": refused, "run_id": run_id})
            return case

    @staticmethod
    def _clear_decision(case: ExceptionCase, status: str) -> None:
        case.status = status
        case.decision = None
        case.decided_by = case.decided_at = case.decision_basis = None
        case.approved_by = case.approved_at = None
        case.updated_at = utcnow()

    # ------------------------------------------------------------------ declared actions

    def publish_actions(self, process_id: str, actions: list[dict[str, Any]]) -> None:
        """Upsert the actions a process declares (workqueue.actions.to_json) for the review app."""
        with self.session() as s:
            row = s.get(ProcessActions, process_id)
            if row is None:
                s.add(ProcessActions(process_id=process_id, actions=actions, updated_at=utcnow()))
            elif row.actions != actions:
                row.actions, row.updated_at = actions, utcnow()

    def declared_actions(self) -> dict[str, list[dict[str, Any]]]:
        """process id -> its published action declarations."""
        with self.session() as s:
            return {r.process_id: list(r.actions or []) for r in s.scalars(select(ProcessActions))}

    def reopen(self, case_id: int, actor: str, comment: str) -> ExceptionCase:
        with self.session() as s:
            case = self._case(s, case_id)
            if case.status not in (CaseStatus.resolved, CaseStatus.dismissed, CaseStatus.pending_approval):
                raise InvalidTransition(f"case {case_id} is {case.status}: only a decided case can be reopened")
            if case.decision_applied_at:
                raise InvalidTransition(f"case {case_id}: the decision was already applied by a run")
            before = case.status
            self._clear_decision(case, CaseStatus.open)
            self._audit(s, actor, "case.reopened", case.process_id, case_id=case.id, from_status=before,
                        to_status=CaseStatus.open, details={"comment": comment})
            return case

    def pending_decisions(self, process_id: str) -> list[ExceptionCase]:
        """Decided cases whose decision no run has applied yet."""
        with self.session() as s:
            return list(s.scalars(select(ExceptionCase).where(
                ExceptionCase.process_id == process_id,
                ExceptionCase.status.in_([CaseStatus.resolved, CaseStatus.dismissed]),
                ExceptionCase.decision_applied_at.is_(None)).order_by(ExceptionCase.id)))

    def mark_decision_applied(self, case_id: int, actor: str, details: dict[str, Any] | None = None) -> None:
        """Idempotent: a run that crashed after applying may mark the same case again."""
        with self.session() as s:
            case = self._case(s, case_id)
            if case.status not in (CaseStatus.resolved, CaseStatus.dismissed):
                raise InvalidTransition(f"case {case_id} is {case.status}: it has no decision to apply")
            if case.decision_applied_at is not None:
                return
            case.decision_applied_at = utcnow()
            self._audit(s, actor, "case.decision_applied", case.process_id, case_id=case.id,
                        details=details or {})

    def retry_item_of_case(self, case_id: int, actor: str, comment: str) -> WorkItem:
        """'Send back for retry': the case's item goes back to the queue with fresh attempts."""
        with self.session() as s:
            case = self._case(s, case_id)
            if case.item_id is None:
                raise InvalidTransition(f"case {case_id} has no work item to retry")
            item = self._item(s, case.item_id, lock=True)
            if item.status not in (ItemStatus.failed, ItemStatus.business_exception):
                raise InvalidTransition(f"item {item.id} is {item.status}: only a failed item or one with a "
                                        "business exception can be sent back for retry")
            before = item.status
            now = utcnow()
            item.status, item.attempts, item.not_before = ItemStatus.new, 0, None
            item.claimed_by, item.claimed_until = None, None
            item.finished_at, item.updated_at = None, now
            self._audit(s, actor, "item.requeued", case.process_id, case_id=case.id, item_id=item.id,
                        from_status=before, to_status=ItemStatus.new, details={"comment": comment})
            return item

    # ------------------------------------------------------------------ audit

    def audit(self, actor: str, action: str, process_id: str | None = None, case_id: int | None = None,
              item_id: int | None = None, details: dict[str, Any] | None = None) -> None:
        """Record an event that is not a state change (e.g. an fnr revealed, a case viewed)."""
        with self.session() as s:
            self._audit(s, actor, action, process_id, case_id=case_id, item_id=item_id, details=details or {})

    def audit_trail(self, case_id: int | None = None, item_id: int | None = None,
                    limit: int | None = None) -> list[AuditEvent]:
        with self.session() as s:
            q = select(AuditEvent).order_by(AuditEvent.id)
            conds = []
            if case_id is not None:
                conds.append(AuditEvent.case_id == case_id)
            if item_id is not None:
                conds.append(AuditEvent.item_id == item_id)
            if conds:
                q = q.where(or_(*conds))
            if limit:
                q = q.limit(limit)
            return list(s.scalars(q))

    def _audit_items(self, s: Session, item_ids: list[int], actor: str, action: str, now: datetime,
                     from_status: str, to_status: str, details: dict[str, Any] | None = None,
                     run_id: str | None = None) -> None:
        """One audit event per item of a bulk change (claim, complete, release), written by the
        database itself (INSERT … SELECT): no per-row Python, so auditing every item stays cheap.
        Each event's details carry the item's attempt number (and the run, if any)."""
        a, w = AuditEvent.__table__, WorkItem.__table__
        build = func.json_object if self.is_sqlite else func.jsonb_build_object
        args: list[Any] = ["attempt", w.c.attempts]
        for key, value in {**(details or {}), **({"run_id": run_id} if run_id else {})}.items():
            args += [key, str(value)]
        json_details = build(*args).cast(a.c.details.type) if not self.is_sqlite else build(*args)
        for start in range(0, len(item_ids), _IN_CHUNK):
            rows = select(bindparam("at", now, type_=a.c.at.type), bindparam("actor", actor, type_=a.c.actor.type),
                          bindparam("action", action, type_=a.c.action.type), w.c.process_id, w.c.id,
                          bindparam("from_status", str(from_status), type_=a.c.from_status.type),
                          bindparam("to_status", str(to_status), type_=a.c.to_status.type),
                          json_details).where(self._ids_in(w.c.id, item_ids[start:start + _IN_CHUNK])).order_by(w.c.id)
            s.execute(insert(a).from_select(["at", "actor", "action", "process_id", "item_id", "from_status",
                                             "to_status", "details"], rows))

    def _audit(self, s: Session, actor: str, action: str, process_id: str | None, *, case_id: int | None = None,
               item_id: int | None = None, from_status: str | None = None, to_status: str | None = None,
               details: dict[str, Any] | None = None, now: datetime | None = None) -> None:
        s.execute(insert(AuditEvent).values(
            at=now or utcnow(), actor=actor, action=action, process_id=process_id, case_id=case_id,
            item_id=item_id, from_status=str(from_status) if from_status else None,
            to_status=str(to_status) if to_status else None, details=details or {}))

    # ------------------------------------------------------------------ runs

    def start_run(self, process_id: str, run_id: str, flow_run_id: str | None = None) -> list[str]:
        """Record a run's start (with its owner: host, pid). Earlier runs of the process still
        marked running whose process is gone (killed, the machine rebooted) are closed first as
        `abandoned`; their ids are returned so the caller can say so."""
        now = utcnow()
        with self.session() as s:
            abandoned = []
            for run in s.scalars(select(ProcessRun).where(ProcessRun.process_id == process_id,
                                                          ProcessRun.status == "running")):
                if owner_gone((run.summary or {}).get("owner") or {}):
                    run.status, run.finished_at = "abandoned", now
                    run.summary = {**(run.summary or {}), "abandoned": "the run's process ended without finishing"}
                    abandoned.append(run.run_id)
            s.add(ProcessRun(process_id=process_id, run_id=run_id, flow_run_id=flow_run_id,
                             started_at=now, status="running", summary={"owner": run_owner()}))
        return abandoned

    def finish_run(self, run_id: str, status: str, cases_total: int, cases_automated: int,
                   exceptions: dict[str, int], summary: dict[str, Any] | None = None) -> None:
        with self.session() as s:
            run = s.scalar(select(ProcessRun).where(ProcessRun.run_id == run_id))
            if run is None:
                raise NotFound(f"run {run_id} not found")
            run.finished_at = utcnow()
            run.status = status
            run.cases_total = cases_total
            run.cases_automated = cases_automated
            run.exceptions = exceptions
            kept = {k: v for k, v in (run.summary or {}).items() if k in ("owner", "definition")}
            run.summary = {**kept, **(summary or {})}

    def runs(self, process_id: str | None = None, since: datetime | None = None) -> list[ProcessRun]:
        with self.session() as s:
            q = select(ProcessRun).order_by(ProcessRun.started_at)
            if process_id:
                q = q.where(ProcessRun.process_id == process_id)
            if since:
                q = q.where(ProcessRun.started_at >= since)
            return list(s.scalars(q))

    # ------------------------------------------------------------------ helpers

    @staticmethod
    def _item(s: Session, item_id: int, lock: bool = False) -> WorkItem:
        """`lock`: FOR UPDATE on PostgreSQL, so a check-then-change is not raced by a claim
        (SQLite's transaction already holds the write lock)."""
        item = s.get(WorkItem, item_id, with_for_update=lock or None)
        if item is None:
            raise NotFound(f"work item {item_id} not found")
        return item

    @staticmethod
    def _case(s: Session, case_id: int, lock: bool = True) -> ExceptionCase:
        """Locked by default: two reviewers deciding the same case at once must not both win."""
        case = s.get(ExceptionCase, case_id, with_for_update=lock or None)
        if case is None:
            raise NotFound(f"case {case_id} not found")
        return case

    @staticmethod
    def _require_open(case: ExceptionCase) -> None:
        if case.status not in (CaseStatus.open, CaseStatus.in_review):
            raise InvalidTransition(f"case {case.id} is {case.status}; final states are final")


# Ids per `IN (…)` list: well under SQLite's 32 766 bound parameters per statement.
_IN_CHUNK = 5000


def _new_item_row(process_id: str, item: NewItem, now: datetime) -> dict[str, Any]:
    return dict(process_id=process_id, reference=item.reference, payload=item.payload, priority=item.priority,
                deadline=item.deadline, not_before=item.not_before, status=ItemStatus.new.value, attempts=0,
                created_at=now, updated_at=now)


_WORK_ITEM_TIMES = frozenset(c.key for c in WorkItem.__table__.c if isinstance(c.type, UTCDateTime))


# What a claim reads back: every column but those the claim sets to values it knows (`claim` below).
_CLAIM_READS = ("id", "reference", "payload", "priority", "attempts", "not_before", "deadline", "result",
                "last_error", "created_at", "finished_at")


def _detached_work_items(columns: Sequence[str], rows: Sequence[Sequence[Any]],
                         same_for_all: dict[str, Any]) -> list[WorkItem]:
    """WorkItem objects from `work_items` rows (`columns`, plus `same_for_all`: the values every
    row was just given, in UTC), as the ORM hands them out once the session that loaded them has
    closed: detached, their identity set, every column loaded, timestamps aware in UTC
    (UTCDateTime's reading). The ORM's own loading (identity map, per-column
    processors, load events: the model has none) cost about as much client CPU per claimed item
    as everything else in a claim; this is a plain loop over the rows.

    Uses SQLAlchemy's instrumentation (`ClassManager.new_instance`, `InstanceState.key`): checked
    against the ORM's result by tests/workqueue (the same attributes, state and identity)."""
    configure_mappers()  # the attributes' loaders exist once the mappers are configured (a no-op after that)
    manager = WorkItem._sa_class_manager
    times = [n for n, c in enumerate(columns) if c in _WORK_ITEM_TIMES]
    pk = columns.index("id")
    items = []
    for row in rows:
        values = list(row)
        for n in times:
            at = values[n]
            if at is not None and at.tzinfo is not UTC:  # a server zone other than UTC
                values[n] = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
        item = manager.new_instance()
        item.__dict__.update(same_for_all)
        item.__dict__.update(zip(columns, values, strict=True))
        item._sa_instance_state.key = (WorkItem, (values[pk],), None)
        items.append(item)
    return items


def _check_holder(item: WorkItem, worker: str | None) -> None:
    if worker and item.status == ItemStatus.in_progress and item.claimed_by != worker:
        raise LeaseLost(f"item {item.id} is now claimed by {item.claimed_by}, not {worker}")


def _claim_order(item: Any) -> tuple:
    """The claim order (a WorkItem or a row with id, priority, deadline)."""
    return (-item.priority, item.deadline is None, item.deadline or datetime.min.replace(tzinfo=UTC), item.id)




__all__ = ["Backoff", "NewItem", "NewCase", "WorkQueueStore", "StoreError", "NotFound", "InvalidTransition",
           "LeaseLost", "ItemStatus", "CaseStatus", "CaseKind", "and_"]
