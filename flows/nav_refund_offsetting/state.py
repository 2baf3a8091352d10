"""What earlier runs left behind, read from the work-item store, and HR's decisions applied.

A work item per report (reference `rapport:<id>:<first 16 hex of sha256>`) makes a report
idempotent by id and content: the same report again is "already offset"; the same content
under another id is a duplicate (NAV's parallel Altinn channels). A processed report's item
result keeps the fingerprints of the lines it offset, the claims it settled and the latest
maksdato per person (keyed by a hash of the fnr), so a later run never offsets anything twice.
Cases keep what a decision needs in evidence["data"].
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from flows.nav_refund_offsetting.outcomes import CLAIM_CATEGORIES
from workqueue.models import CaseStatus, ExceptionCase, ItemStatus, WorkItem
from workqueue.store import WorkQueueStore

ITEM_PREFIX = "rapport:"
SETTLE_ACTIONS = {"approve_nav_amount", "write_off", "handled_manually"}


def item_reference(report_id: str, sha256: str) -> str:
    return f"{ITEM_PREFIX}{report_id}:{sha256[:16]}"


def report_id(item: WorkItem) -> str:
    return str((item.payload or {}).get("report_id", ""))


def fp_hex(values: np.ndarray) -> list[str]:
    return [f"{int(v):016x}" for v in np.asarray(values, dtype=np.uint64)]


def fp_from_hex(values: list[str]) -> np.ndarray:
    return np.array([int(v, 16) for v in values], dtype=np.uint64)


@dataclass
class State:
    reports: dict[str, WorkItem] = field(default_factory=dict)              # reference -> report item
    by_sha: dict[str, str] = field(default_factory=dict)                    # sha256 -> first report id
    known_fps: np.ndarray = field(default_factory=lambda: np.array([], dtype=np.uint64))
    settled_claims: set[str] = field(default_factory=set)
    case_claims: set[str] = field(default_factory=set)
    claim_cases: dict[str, list[ExceptionCase]] = field(default_factory=dict)  # krav_id -> unpaid-claim cases
    maksdato: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        {"fnr_hash": np.array([], np.uint64), "maksdato": np.array([], "datetime64[D]")}))
    last_api_id: int = 0
    last_value_date: date | None = None
    bank_released: set[str] = field(default_factory=set)                    # item references
    offsets: list[dict] = field(default_factory=list)   # per report: the lines it offset (matching.HISTORY_COLUMNS)


def load_state(store: WorkQueueStore, process_id: str) -> State:
    state = State()
    fps: list[np.ndarray] = []
    maks_parts: list[pd.DataFrame] = []
    for item in store.items(process_id):
        if not item.reference.startswith(ITEM_PREFIX):
            continue
        p = item.payload or {}
        state.reports[item.reference] = item
        state.by_sha.setdefault(str(p.get("sha256", "")), report_id(item))
        if p.get("source") == "api" and report_id(item).isdigit():
            state.last_api_id = max(state.last_api_id, int(report_id(item)))
        if item.status in (ItemStatus.done, ItemStatus.business_exception) and p.get("value_date"):
            value = date.fromisoformat(p["value_date"])
            state.last_value_date = max(state.last_value_date or value, value)
        result = item.result or {}
        if item.status == ItemStatus.done:
            if result.get("offset_fps"):
                fps.append(fp_from_hex(result["offset_fps"]))
            state.settled_claims.update(result.get("settled_claims", []))
            if result.get("offsets"):
                state.offsets.append(result["offsets"])
            if result.get("maksdato"):
                rows = result["maksdato"]
                maks_parts.append(pd.DataFrame({
                    "fnr_hash": np.array([int(h, 16) for h, _ in rows], dtype=np.uint64),
                    "maksdato": np.array([d for _, d in rows], dtype="datetime64[D]")}))
    for case in store.cases(process_id):
        data = (case.evidence or {}).get("data", {}) or {}
        claim_ids = list(data.get("claim_ids", []))
        if case.category not in CLAIM_CATEGORIES:  # claims a line case took up are not 'unpaid'
            state.case_claims.update(claim_ids)
        decision = case.decision or {}
        # A decision on a line or claim settles its claims; on a held report it only releases it.
        if case.decision_applied_at is not None and decision.get("action") in SETTLE_ACTIONS and \
                case.category not in ("BANK_TOTAL_MISMATCH", "SYSTEM_ERROR"):
            state.settled_claims.update(claim_ids)
            if data.get("fps"):
                fps.append(fp_from_hex(data["fps"]))
        if case.category in CLAIM_CATEGORIES and claim_ids:
            state.claim_cases.setdefault(claim_ids[0], []).append(case)
        if case.category == "BANK_TOTAL_MISMATCH" and case.decision_applied_at is not None and data.get("report_ref"):
            state.bank_released.add(data["report_ref"])
    if fps:
        state.known_fps = np.unique(np.concatenate(fps))
    if maks_parts:
        maks = pd.concat(maks_parts, ignore_index=True)
        state.maksdato = maks.drop_duplicates("fnr_hash", keep="last").reset_index(drop=True)
    return state


def open_claim_case(state: State, krav_id: str) -> ExceptionCase | None:
    for case in reversed(state.claim_cases.get(krav_id, [])):
        if case.status in (CaseStatus.open, CaseStatus.in_review):
            return case
    return None
