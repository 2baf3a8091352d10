"""The review app's reads (and its few conditional writes) against the work-item store.

Reads go through a read engine: on SQLite a second engine without the store's
`BEGIN IMMEDIATE`, so browsing the queue never waits for a flow that is writing (WAL lets
readers and one writer work side by side); on PostgreSQL the store's own engine. Queue reads
select only the columns a list shows (never the evidence JSON) and let the database filter,
sort, count and page.

Every case read takes the principal's Scope, so a case outside it is simply not found (404),
whether it is reached from the list, by URL, by a bulk action or through an attachment link.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, create_engine, event, false, func, insert, or_, select, true, update
from sqlalchemy import case as sa_case
from sqlalchemy.orm import Session, sessionmaker

from config.process_definition import ProcessDefinition
from connectors.identifiers import FNR_PATTERN, mask_fnr, mask_fnrs_in_text
from review.auth import Principal, Scope, scope_for
from review.formatting import parse_amount
from workqueue.models import OPEN_CASE_STATUSES, AuditEvent, CaseAttachment, ExceptionCase, ProcessRun, User
from workqueue.store import WorkQueueStore, utcnow

EC = ExceptionCase
ACTIVE = OPEN_CASE_STATUSES
MAX_EXPORT_ROWS = 100_000
MAX_BULK = 500


# ---------------------------------------------------------------------------- engine

def _casefold(value: str | None) -> str | None:
    return None if value is None else value.casefold()


def make_read_engine(store: WorkQueueStore) -> Engine:
    if not store.is_sqlite:
        return store.engine
    engine = create_engine(store.url, connect_args={"timeout": 30, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn, _record):  # pragma: no cover - driver plumbing
        dbapi_conn.create_function("casefold", 1, _casefold, deterministic=True)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA query_only=ON")  # this engine never writes
        # Searches scan the cases table (the evidence JSON makes its rows wide): read it through
        # a memory map and a larger page cache rather than copying pages on every scan.
        cur.execute("PRAGMA mmap_size=536870912")
        cur.execute("PRAGMA cache_size=-65536")
        cur.close()

    return engine


class Reader:
    def __init__(self, store: WorkQueueStore, engine: Engine | None = None):
        self.store = store
        self.engine = engine or make_read_engine(store)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self._session = sessionmaker(self.engine, expire_on_commit=False)

    def session(self) -> Session:
        return self._session()

    def close(self) -> None:
        if self.engine is not self.store.engine:
            self.engine.dispose()

    def fold(self, column):
        """Case-insensitive matching that knows æ/ø/å (SQLite's lower() is ASCII only)."""
        return func.casefold(column) if self.is_sqlite else func.lower(column)


# ---------------------------------------------------------------------------- scope

def scope_clause(scope: Scope):
    conds = []
    if scope.processes is not None:
        conds.append(EC.process_id.in_(sorted(scope.processes)) if scope.processes else false())
    if scope.org_units is not None:
        unit = EC.org_unit.in_(sorted(scope.org_units)) if scope.org_units else false()
        if scope.unitless_processes:
            unit = or_(unit, and_(EC.org_unit.is_(None), EC.process_id.in_(sorted(scope.unitless_processes))))
        conds.append(unit)
    return and_(true(), *conds)


# ---------------------------------------------------------------------------- queue filter

STATUS_FILTERS: dict[str, tuple[str, tuple[str, ...] | None]] = {
    "aktive": ("Åpne og under behandling", ACTIVE),
    "apne": ("Åpne", ("open",)),
    "under-behandling": ("Under behandling", ("in_review",)),
    "loste": ("Løste", ("resolved",)),
    "avviste": ("Avviste", ("dismissed",)),
    "venter-godkjenning": ("Venter på godkjenning", ("pending_approval",)),
    "alle": ("Alle", None),
}

SORTS: dict[str, tuple[str, Any]] = {
    "frist": ("Frist", EC.due_at),
    "opprettet": ("Opprettet", EC.created_at),
    "belop": ("Beløp", EC.amount),
    "sak": ("Saksnr.", EC.id),
    "referanse": ("Referanse", EC.reference),
    "prosess": ("Prosess", EC.process_id),
    "kategori": ("Kategori", EC.category),
    "enhet": ("Org.enhet", EC.org_unit),
    "status": ("Status", EC.status),
    "saksbehandler": ("Saksbehandler", EC.assignee),
}

AGE_CHOICES = {"": "Alle", "1": "Eldre enn 1 dag", "3": "Eldre enn 3 dager", "7": "Eldre enn 7 dager",
               "14": "Eldre enn 14 dager", "30": "Eldre enn 30 dager"}
SLA_CHOICES = {"": "Alle", "brudd": "Fristen er passert", "snart": "Fristen går ut innen 24 timer",
               "ok": "Innenfor fristen"}
PER_PAGE_CHOICES = (25, 50, 100, 200)


def _int(value: Any, default: int, lo: int, hi: int) -> int:
    try:
        return min(max(int(str(value)), lo), hi)
    except (TypeError, ValueError):
        return default


@dataclass(frozen=True)
class QueueFilter:
    process: str = ""
    category: str = ""
    status: str = "aktive"
    org_unit: str = ""
    age: str = ""
    sla: str = ""
    assignee: str = ""  # "" | "meg" | "ingen" | a user name
    q: str = ""
    sort: str = "frist"
    direction: str = "asc"
    page: int = 1
    per_page: int = 50
    fnr_in_search: bool = False  # an fnr-shaped number was typed and masked
    fnr_hash: str = ""  # keyed hash of a full fnr searched for (workqueue.fnr_hash): the fnr never in a URL

    PARAMS = {"process": "prosess", "category": "kategori", "status": "status", "org_unit": "enhet",
              "age": "alder", "sla": "frist", "assignee": "saksbehandler", "q": "sok", "sort": "sorter",
              "direction": "retning", "page": "side", "per_page": "per_side", "fnr_hash": "fnrsok"}

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> QueueFilter:
        g = lambda key: (params.get(cls.PARAMS[key]) or "").strip()[:200]  # noqa: E731
        q = g("q")
        masked = mask_fnrs_in_text(q)
        fnr_hash = g("fnr_hash").lower()
        if not re.fullmatch(r"[0-9a-f]{64}", fnr_hash):
            fnr_hash = ""
        status = g("status") or "aktive"
        sort = g("sort") or "frist"
        return cls(
            process=g("process"), category=g("category"),
            status=status if status in STATUS_FILTERS else "aktive",
            org_unit=g("org_unit"), age=g("age") if g("age") in AGE_CHOICES else "",
            sla=g("sla") if g("sla") in SLA_CHOICES else "", assignee=g("assignee"),
            q=masked, fnr_in_search=masked != q or bool(fnr_hash), fnr_hash=fnr_hash,
            sort=sort if sort in SORTS else "frist",
            direction="desc" if g("direction") == "desc" else "asc",
            page=_int(g("page"), 1, 1, 100_000),
            per_page=_int(g("per_page"), 50, 10, 200))

    def params(self, **changes: Any) -> dict[str, str]:
        """Query parameters that differ from the defaults (for links that keep the filter)."""
        f = replace(self, **changes)
        d = QueueFilter()
        out = {}
        for attr, name in self.PARAMS.items():
            value = getattr(f, attr)
            if value != getattr(d, attr):
                out[name] = str(value)
        return out

    @property
    def filtered(self) -> bool:
        return any([self.process, self.category, self.org_unit, self.age, self.sla, self.assignee, self.q,
                    self.fnr_hash, self.status != "aktive"])

    @property
    def case_number(self) -> int | None:
        """The case number the search text names or is (for 'best match first')."""
        m = re.fullmatch(r"(?:sak\s*|#)?(\d{1,11})", self.q.strip(), re.IGNORECASE)
        return int(m.group(1)) if m and not self.fnr_hash else None


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def filter_clauses(reader: Reader, scope: Scope, f: QueueFilter, me: str, now: datetime) -> list:
    conds = [scope_clause(scope)]
    statuses = STATUS_FILTERS[f.status][1]
    if statuses:
        conds.append(EC.status.in_(statuses) if len(statuses) > 1 else EC.status == statuses[0])
    if f.process:
        conds.append(EC.process_id == f.process)
    if f.category:
        conds.append(EC.category == f.category)
    if f.org_unit:
        conds.append(EC.org_unit.is_(None) if f.org_unit == "-" else EC.org_unit == f.org_unit)
    if f.age:
        conds.append(EC.created_at <= now - timedelta(days=int(f.age)))
    if f.sla == "brudd":
        conds.append(EC.due_at < now)
    elif f.sla == "snart":
        conds.append(and_(EC.due_at >= now, EC.due_at < now + timedelta(hours=24)))
    elif f.sla == "ok":
        conds.append(or_(EC.due_at.is_(None), EC.due_at >= now))
    if f.assignee == "meg":
        conds.append(EC.assignee == me)
    elif f.assignee == "ingen":
        conds.append(EC.assignee.is_(None))
    elif f.assignee:
        conds.append(EC.assignee == f.assignee)
    if f.fnr_hash:  # a full fnr was searched for: its keyed hash, never the number
        conds.append(EC.fnr_hash == f.fnr_hash)
    elif f.q:
        conds.append(search_clause(reader, f.q))
    return conds


def _word_match(reader: Reader, column, word: str):
    pattern = f"%{_escape_like(word)}%"
    if not reader.is_sqlite:
        return func.lower(column).like(pattern, escape="\\")
    if word.isascii():  # SQLite's LIKE ignores case for ASCII letters: no function call per row
        return column.like(pattern, escape="\\")
    # æøå: a cheap LIKE with '_' for the non-ASCII letters first, the exact Unicode-aware match
    # (a Python function per row) only on the rows that pass it.
    loose = "".join(c if c.isascii() else "_" for c in _escape_like(word))
    return and_(column.like(f"%{loose}%", escape="\\"), reader.fold(column).like(pattern, escape="\\"))


def search_clause(reader: Reader, q: str):
    """Every word must occur in the name/search words or the reference; or the text is an amount
    (`1 234,50`, `1234.5`) or a case number. `sak 123` or `#123` finds exactly case 123."""
    exact = re.fullmatch(r"(?:sak\s*|#)(\d{1,11})", q.strip(), re.IGNORECASE)
    if exact:
        return EC.id == int(exact.group(1))
    amount = parse_amount(q)
    if amount is not None and re.search(r"\d[ ,.]\d", q.strip()):
        # Typed like money ("1 234,50", "1234.5"): the amount column only, which the covering
        # index answers without reading the rows; the sign does not matter (trekk are negative).
        return and_(EC.amount.is_not(None), or_(func.abs(EC.amount - float(amount)) < 0.005,
                                                func.abs(EC.amount + float(amount)) < 0.005))
    words = [w for w in q.casefold().split() if w]
    text = and_(*[or_(_word_match(reader, EC.search_text, w), _word_match(reader, EC.reference, w))
                  for w in words]) if words else true()
    alternatives = [text]
    if amount is not None:
        alternatives.append(and_(EC.amount.is_not(None), func.abs(EC.amount - float(amount)) < 0.005))
        alternatives.append(and_(EC.amount.is_not(None), func.abs(EC.amount + float(amount)) < 0.005))
    if q.strip().isdigit() and len(q.strip()) < 12:
        alternatives.append(EC.id == int(q.strip()))
    return or_(*alternatives)


def _order(f: QueueFilter):
    column = SORTS[f.sort][1]
    primary = column.desc() if f.direction == "desc" else column.asc()
    order = [primary.nulls_last(), EC.id.desc() if f.direction == "desc" else EC.id.asc()]
    number = f.case_number
    if number is not None:  # best match first: «41» puts Sak 41 at the top, then the other hits
        order.insert(0, sa_case((EC.id == number, 0), else_=1))
    return order


QUEUE_COLUMNS = (EC.id, EC.process_id, EC.reference, EC.kind, EC.category, EC.message, EC.amount, EC.org_unit,
                 EC.assignee, EC.status, EC.due_at, EC.created_at, EC.decided_at, EC.decided_by)


@dataclass
class Subject:
    """Who and what a case is about, for the queue and the export (read from the evidence)."""
    name: str = ""
    fnr_masked: str = ""
    period: str = ""
    plate: str = ""
    filename: str = ""

    def parts(self) -> list[str]:
        return [p for p in (self.name, self.fnr_masked, self.plate, self.filename, self.period) if p]


_NAME_LABELS = ("navn", "ansatt", "name")
_PERIOD_LABELS = ("periode",)


def _section_value(evidence: dict, labels: tuple[str, ...]) -> str:
    for sec in evidence.get("sections") or []:
        if not isinstance(sec, dict):
            continue
        for row in sec.get("rows") or []:
            if isinstance(row, list | tuple) and len(row) > 1 and str(row[0]).strip().casefold() in labels:
                for value in row[1:]:
                    if value not in (None, ""):
                        return str(value)
    return ""


def subject_of(evidence: Any) -> Subject:
    """Name, masked fnr, period, plate or file name from a case's evidence (the flows' shape:
    `data` with machine-readable facts, `sections` with labelled rows, the clear fnr in `fnr`)."""
    if not isinstance(evidence, dict):
        return Subject()
    data = evidence.get("data") if isinstance(evidence.get("data"), dict) else {}
    fnr = evidence.get("fnr") if isinstance(evidence.get("fnr"), str) else ""
    name = str(data.get("name") or data.get("navn") or _section_value(evidence, _NAME_LABELS))
    period = str(data.get("period") or data.get("periode") or "")
    if not period and data.get("fra") and data.get("til"):
        period = f"{data['fra']}–{data['til']}"
    period = period or _section_value(evidence, _PERIOD_LABELS)
    plate = str(data.get("plate") or "")
    filename = str(data.get("filename") or data.get("file_name") or "")
    return Subject(name=mask_fnrs_in_text(name)[:120], fnr_masked=mask_fnr(fnr) if len(fnr) == 11 else "",
                   period=mask_fnrs_in_text(period)[:60], plate=plate[:20], filename=mask_fnrs_in_text(filename)[:200])


def subjects(reader: Reader, ids: list[int]) -> dict[int, Subject]:
    """Subjects of some cases (a page of the queue, a chunk of an export): reads their evidence."""
    out: dict[int, Subject] = {}
    with reader.engine.connect() as conn:
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            for r in conn.execute(select(EC.id, EC.evidence).where(EC.id.in_(chunk))):
                out[r.id] = subject_of(r.evidence)
    return out


@dataclass
class QueuePage:
    rows: list[Any]
    total: int
    page: int
    pages: int
    per_page: int
    subjects: dict[int, Subject] = field(default_factory=dict)


def queue(reader: Reader, scope: Scope, f: QueueFilter, me: str, now: datetime | None = None) -> QueuePage:
    """One page of the queue in two cheap steps: the ids of the page and the total in one query
    that the covering index ix_cases_list answers without reading the (wide) rows, then just
    those rows by id."""
    now = now or utcnow()
    conds = filter_clauses(reader, scope, f, me, now)
    ids_q = select(EC.id, func.count().over().label("total")).where(*conds).order_by(*_order(f))
    with reader.engine.connect() as conn:
        hits = conn.execute(ids_q.limit(f.per_page).offset((f.page - 1) * f.per_page)).all()
        if hits:
            total = int(hits[0].total)
            page = f.page
        else:  # past the last page (or nothing at all): count, then show the last page
            total = conn.execute(select(func.count()).select_from(EC).where(*conds)).scalar_one()
            page = max(math.ceil(total / f.per_page), 1)
            hits = conn.execute(ids_q.limit(f.per_page).offset((page - 1) * f.per_page)).all() if total else []
        ids = [h.id for h in hits]
        by_id = {r.id: r for r in conn.execute(select(*QUEUE_COLUMNS).where(EC.id.in_(ids)))} if ids else {}
    rows = [by_id[i] for i in ids if i in by_id]
    return QueuePage(rows, total, page, max(math.ceil(total / f.per_page), 1), f.per_page, subjects(reader, ids))


def export_rows(reader: Reader, scope: Scope, f: QueueFilter, me: str, now: datetime | None = None,
                limit: int = MAX_EXPORT_ROWS) -> list[Any]:
    now = now or utcnow()
    conds = filter_clauses(reader, scope, f, me, now)
    with reader.engine.connect() as conn:
        return conn.execute(select(*QUEUE_COLUMNS, EC.decision).where(*conds).order_by(*_order(f))
                            .limit(limit)).all()


ATTEST_EVENTS = ("case.attested", "case.approved", "decision.attested", "decision.approved")


def attestations(reader: Reader, ids: list[int]) -> dict[int, dict[str, Any]]:
    """The latest attestation (four-eyes approval) event per case, if the trail has one."""
    out: dict[int, dict[str, Any]] = {}
    with reader.engine.connect() as conn:
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            for r in conn.execute(select(AuditEvent.case_id, AuditEvent.actor, AuditEvent.at)
                                  .where(AuditEvent.action.in_(ATTEST_EVENTS), AuditEvent.case_id.in_(chunk))
                                  .order_by(AuditEvent.id)):
                out[r.case_id] = {"actor": r.actor, "at": r.at}
    return out


def org_unit_choices(reader: Reader, scope: Scope) -> list[str]:
    if scope.org_units is not None:
        return sorted(scope.org_units)
    with reader.engine.connect() as conn:
        units = conn.execute(select(EC.org_unit).where(scope_clause(scope), EC.org_unit.is_not(None))
                             .distinct()).scalars().all()
    return sorted(units)


def usernames(reader: Reader) -> list[tuple[str, str]]:
    with reader.engine.connect() as conn:
        return [(r.username, r.full_name or r.username)
                for r in conn.execute(select(User.username, User.full_name).order_by(User.username))]


# ---------------------------------------------------------------------------- overview

@dataclass
class OverviewRow:
    process_id: str
    category: str
    kind: str
    open: int
    in_review: int
    unassigned: int
    breached: int
    oldest: datetime | None

    @property
    def total(self) -> int:
        return self.open + self.in_review


def _kind(catalogue: dict[str, ProcessDefinition] | None, process_id: str, category: str) -> str:
    d = (catalogue or {}).get(process_id)
    for c in d.exception_categories if d else ():
        if c.code == category:
            return c.kind.value
    return "system" if category in ("SYSTEM_ERROR", "ABANDONED") else "business"


def overview(reader: Reader, scope: Scope, now: datetime | None = None,
             catalogue: dict[str, ProcessDefinition] | None = None) -> list[OverviewRow]:
    """Open cases per process and category; read from the covering index (never the rows)."""
    now = now or utcnow()
    q = (select(EC.process_id, EC.category,
                func.sum(sa_case((EC.status == "open", 1), else_=0)),
                func.sum(sa_case((EC.status == "in_review", 1), else_=0)),
                func.sum(sa_case((EC.assignee.is_(None), 1), else_=0)),
                func.sum(sa_case((EC.due_at < now, 1), else_=0)),
                func.min(EC.created_at))
         .where(scope_clause(scope), EC.status.in_(ACTIVE))
         .group_by(EC.process_id, EC.category))
    with reader.engine.connect() as conn:
        rows = conn.execute(q).all()
    out = [OverviewRow(p, c, _kind(catalogue, p, c), int(o or 0), int(r or 0), int(u or 0), int(b or 0), _dt(m))
           for p, c, o, r, u, b, m in rows]
    return sorted(out, key=lambda r: (r.process_id, -r.breached, -r.total, r.category))


def _dt(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))  # SQLite's min() hands back the stored text


def resolved_recently(reader: Reader, scope: Scope, since: datetime) -> dict[str, int]:
    with reader.engine.connect() as conn:
        rows = conn.execute(select(EC.process_id, func.count()).where(
            scope_clause(scope), EC.status.in_(("resolved", "dismissed")), EC.decided_at >= since)
            .group_by(EC.process_id)).all()
    return {p: n for p, n in rows}


# ---------------------------------------------------------------------------- one case

def get_case(reader: Reader, scope: Scope, case_id: int) -> ExceptionCase | None:
    with reader.session() as s:
        return s.scalar(select(EC).where(EC.id == case_id, scope_clause(scope)))


def visible_cases(reader: Reader, scope: Scope, ids: Iterable[int]) -> list[ExceptionCase]:
    ids = sorted(set(ids))[:MAX_BULK]
    if not ids:
        return []
    with reader.session() as s:
        return list(s.scalars(select(EC).where(EC.id.in_(ids), scope_clause(scope)).order_by(EC.id)))


def attachments_meta(reader: Reader, case_id: int) -> list[Any]:
    with reader.engine.connect() as conn:
        return conn.execute(select(CaseAttachment.id, CaseAttachment.filename, CaseAttachment.media_type,
                                   CaseAttachment.size, CaseAttachment.created_at)
                            .where(CaseAttachment.case_id == case_id).order_by(CaseAttachment.id)).all()


def attachment(reader: Reader, case_id: int, attachment_id: int) -> CaseAttachment | None:
    with reader.session() as s:
        return s.scalar(select(CaseAttachment).where(CaseAttachment.id == attachment_id,
                                                     CaseAttachment.case_id == case_id))


# Not part of a case's story for staff: reads (kept in the audit trail) and the robot's routine
# item mechanics (each run claims and completes items; "decision applied" says what matters).
HISTORY_HIDDEN = ("case.viewed", "attachment.downloaded", "fnr.revealed",
                  "item.claimed", "item.completed", "item.released", "item.deferred")


def case_history(reader: Reader, case: ExceptionCase) -> list[AuditEvent]:
    conds = [AuditEvent.case_id == case.id]
    if case.item_id is not None:
        conds.append(AuditEvent.item_id == case.item_id)
    with reader.session() as s:
        return list(s.scalars(select(AuditEvent).where(or_(*conds), AuditEvent.action.not_in(HISTORY_HIDDEN))
                              .order_by(AuditEvent.id).limit(500)))


def assignable_users(reader: Reader, case: ExceptionCase, catalogue: dict[str, ProcessDefinition]) -> list[User]:
    """Users who would see the case: the only ones it may be handed to."""
    with reader.session() as s:
        users = list(s.scalars(select(User).where(User.locked_at.is_(None)).order_by(User.username)))
    out = []
    for u in users:
        p = Principal(u.id, u.username, u.full_name, u.role, tuple(u.org_units or ()), tuple(u.processes or ()),
                      "", "")
        if scope_for(p, catalogue).allows(case.process_id, case.org_unit):
            out.append(u)
    return out


# ---------------------------------------------------------------------------- claims

def _audit_row(s: Session, actor: str, action: str, case: Any, details: dict, from_status: str | None,
               to_status: str | None) -> None:
    s.execute(insert(AuditEvent).values(at=utcnow(), actor=actor, action=action, process_id=case.process_id,
                                        case_id=case.id, item_id=case.item_id, from_status=from_status,
                                        to_status=to_status, details=details))


def claim(store: WorkQueueStore, case_id: int, username: str) -> tuple[bool, str | None]:
    """'Jeg tar denne': atomically, only if nobody else holds it. -> (ok, current assignee)."""
    now = utcnow()
    with store.session() as s:
        res = s.execute(update(EC).where(EC.id == case_id, EC.status.in_(ACTIVE),
                                         or_(EC.assignee.is_(None), EC.assignee == username))
                        .values(assignee=username, status="in_review", updated_at=now)
                        .execution_options(synchronize_session=False))
        row = s.execute(select(EC.id, EC.process_id, EC.item_id, EC.assignee, EC.status)
                        .where(EC.id == case_id)).first()
        if not res.rowcount:
            return False, row.assignee if row else None
        _audit_row(s, username, "case.claimed", row, {"assignee": username}, None, "in_review")
        return True, username


def release(store: WorkQueueStore, case_id: int, username: str, force: bool = False) -> bool:
    now = utcnow()
    with store.session() as s:
        cond = [EC.id == case_id, EC.status == "in_review"]
        if not force:
            cond.append(EC.assignee == username)
        res = s.execute(update(EC).where(*cond).values(assignee=None, status="open", updated_at=now)
                        .execution_options(synchronize_session=False))
        if not res.rowcount:
            return False
        row = s.execute(select(EC.id, EC.process_id, EC.item_id).where(EC.id == case_id)).first()
        _audit_row(s, username, "case.released", row, {}, "in_review", "open")
        return True


def reassign(store: WorkQueueStore, case_id: int, assignee: str, actor: str, comment: str) -> bool:
    now = utcnow()
    with store.session() as s:
        before = s.execute(select(EC.id, EC.process_id, EC.item_id, EC.status, EC.assignee)
                           .where(EC.id == case_id)).first()
        if before is None or before.status not in ACTIVE:
            return False
        s.execute(update(EC).where(EC.id == case_id).values(assignee=assignee, status="in_review", updated_at=now)
                  .execution_options(synchronize_session=False))
        _audit_row(s, actor, "case.assigned", before, {"assignee": assignee, "previous": before.assignee,
                                                        "comment": comment}, before.status, "in_review")
        return True


# ---------------------------------------------------------------------------- audit trail

AUDIT_PAGE = 100


@dataclass(frozen=True)
class AuditFilter:
    actor: str = ""
    action: str = ""
    case_id: int | None = None
    process: str = ""
    page: int = 1

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> AuditFilter:
        case_text = (params.get("sak") or "").strip()
        return cls(actor=(params.get("bruker") or "").strip().lower()[:64],
                   action=(params.get("hendelse") or "").strip()[:64],
                   case_id=int(case_text) if case_text.isdigit() and len(case_text) < 12 else None,
                   process=(params.get("prosess") or "").strip()[:64],
                   page=_int(params.get("side"), 1, 1, 1_000_000))

    def params(self, **changes: Any) -> dict[str, str]:
        f = replace(self, **changes)
        out = {"bruker": f.actor, "hendelse": f.action, "sak": "" if f.case_id is None else str(f.case_id),
               "prosess": f.process, "side": "" if f.page == 1 else str(f.page)}
        return {k: v for k, v in out.items() if v}


@dataclass
class AuditPage:
    events: list[AuditEvent]
    page: int
    has_next: bool
    actions: list[str] = field(default_factory=list)


def audit_page(reader: Reader, principal: Principal, scope: Scope, f: AuditFilter) -> AuditPage:
    conds = []
    if not principal.is_admin:  # an owner reads the trail of their own processes only
        conds.append(AuditEvent.process_id.in_(sorted(scope.processes or ())))
    if f.actor:
        conds.append(AuditEvent.actor == f.actor)
    if f.action:
        conds.append(AuditEvent.action == f.action)
    if f.case_id is not None:
        conds.append(AuditEvent.case_id == f.case_id)
    if f.process:
        conds.append(AuditEvent.process_id == f.process)
    with reader.session() as s:
        events = list(s.scalars(select(AuditEvent).where(*conds).order_by(AuditEvent.id.desc())
                                .limit(AUDIT_PAGE + 1).offset((f.page - 1) * AUDIT_PAGE)))
    return AuditPage(events[:AUDIT_PAGE], f.page, len(events) > AUDIT_PAGE)


# ---------------------------------------------------------------------------- benefits

@dataclass
class BenefitRow:
    process_id: str
    month: str  # "11.2026"
    runs: int = 0
    failed_runs: int = 0
    cases_total: int = 0
    automated: int = 0
    exceptions: int = 0
    hours_saved: float = 0.0

    @property
    def share(self) -> float | None:
        return self.automated / self.cases_total if self.cases_total else None


def benefits(reader: Reader, processes: Iterable[str] | None, catalogue: dict[str, ProcessDefinition],
             since: datetime | None = None) -> list[BenefitRow]:
    """Per process and month: runs, cases, share automated and hours saved, computed by
    workqueue.benefits.aggregate: the same computation as the benefits report."""
    from workqueue.benefits import aggregate, minutes_saved_per_case

    q = select(ProcessRun).order_by(ProcessRun.started_at)
    if processes is not None:
        q = q.where(ProcessRun.process_id.in_(sorted(processes)))
    if since is not None:
        q = q.where(ProcessRun.started_at >= since)
    with reader.session() as s:
        runs = list(s.scalars(q))
    minutes = {pid: minutes_saved_per_case(d.baseline.manual_minutes_per_case, d.baseline.robot_minutes_per_case)
               for pid, d in catalogue.items()}
    minutes.update({r.process_id: 0.0 for r in runs if r.process_id not in minutes})  # left the catalogue
    rows = [BenefitRow(pid, f"{month:%m.%Y}", f.runs, f.failed_runs, f.cases, f.automated, f.exceptions_total,
                       f.hours_saved)
            for (pid, month), f in aggregate(runs, minutes).items()]
    return sorted(rows, key=lambda r: (r.process_id, r.month[3:], r.month[:2]))


def benefit_totals(rows: list[BenefitRow]) -> dict[str, BenefitRow]:
    totals: dict[str, BenefitRow] = defaultdict(lambda: BenefitRow("", "Sum"))
    for r in rows:
        t = totals[r.process_id]
        t.process_id = r.process_id
        t.runs += r.runs
        t.failed_runs += r.failed_runs
        t.cases_total += r.cases_total
        t.automated += r.automated
        t.exceptions += r.exceptions
        t.hours_saved += r.hours_saved
    return dict(totals)


def contains_fnr(text: str) -> bool:
    return bool(FNR_PATTERN.search(text or ""))
