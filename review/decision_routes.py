"""Decision routes: decide on one case (checked, previewed, four-eyes), bulk decisions with a
preview of count and total, and the attestant's approve / reject.

    POST /saker/{id}/beslutning         check -> (preview for a posting action) -> store
    POST /saker/{id}/godkjenning        an attestant (never the decider) approves or rejects
    bulk(...)                           called by POST /saker/handling for decision actions

Every check is workqueue.actions' (the one the applying run repeats); nothing here executes a
decision: the process's next run does, once.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from review import decisions
from workqueue import actions as wa
from workqueue.models import OPEN_CASE_STATUSES, ExceptionCase
from workqueue.store import InvalidTransition

log = logging.getLogger("rpa.review")

APPROVER_ROLES = frozenset({"attestant", "admin"})


def preview_lines(definition: Any, case: ExceptionCase, spec: wa.ActionSpec,
                  decision: dict[str, Any]) -> list[tuple[str, str]]:
    """The effect in plain Norwegian: claim, amount, remainder, account lines (from the evidence and
    the definition's ledger accounts when the process has them)."""
    from review.formatting import fmt_kr as fmt  # the one currency style: «1 234,50 kr»
    data = decisions.case_data(case)
    amount = wa.action_amount(spec, decision) or Decimal(0)
    claims = [c for c in data.get("claims") or [] if isinstance(c, dict)]
    claim_total = sum((Decimal(str(c.get("claim_ore") or 0)) for c in claims), Decimal(0)) / 100
    paid = Decimal(str(data.get("nav_ore") or 0)) / 100
    ledger = (getattr(definition, "rules", None) or {}).get("ledger") or {}
    acc = {k: ledger.get(k, "?") for k in ("claim_account", "bank_account", "write_off_account",
                                             "difference_account")}
    lines: list[tuple[str, str]] = [("Handling", spec.label)]
    if spec.preview:
        lines.append(("Hva skjer", spec.preview))
    if claims:
        ids = ", ".join(str(c.get("krav_id", "")) for c in claims)
        lines.append(("Krav", f"{ids} ({fmt(claim_total)})"))
    if spec.code == "write_off":
        lines += [("Avskrives", f"{fmt(amount)}"),
                  ("Restbeløp på kravet etterpå", f"{fmt(claim_total - paid - amount)}"),
                  ("Konteringslinjer", f"Debet {acc['write_off_account']} {fmt(amount)} · "
                                       f"Kredit {acc['claim_account']} {fmt(amount)}")]
    elif amount < 0 or spec.code == "confirm_reversal":
        size = abs(amount)
        lines += [("Beløp", f"{fmt(size)} trekkes / tilbakeføres"),
                  ("Konteringslinjer", f"Debet {acc['claim_account']} {fmt(size)} · "
                                       f"Kredit {acc['bank_account']} {fmt(size)}")]
    else:
        lines.append(("Beløp som utlignes", f"{fmt(amount)}"))
        if claims:
            lines.append(("Restbeløp på kravet etterpå", f"{fmt(claim_total - amount)}"))
        lines.append(("Konteringslinjer", f"Debet {acc['bank_account']} {fmt(amount)} · "
                                          f"Kredit {acc['claim_account']} {fmt(amount)}"))
    return lines


def register(r: APIRouter, st: Any, pages: Any = None) -> None:
    """The decision routes: POSTs on `r` (CSRF-checked), the preview page (a GET) on `pages`."""
    from review.app import _back, _principal, redirect, render
    from review.queries import get_case

    def _visible(request: Request, case_id: int):
        p = _principal(request)
        case = get_case(st.reader, st.scope(p), case_id)
        if case is None:
            raise HTTPException(404)
        return p, case

    def _case_url(case_id: int, back: str) -> str:
        from urllib.parse import urlencode

        return f"/saker/{case_id}?{urlencode({'tilbake': back})}" if back != "/saker" else f"/saker/{case_id}"

    @r.post("/saker/{case_id:int}/beslutning")
    async def decide(request: Request, case_id: int):
        form = {k: str(v) for k, v in (await request.form()).items()}
        return await run_in_threadpool(_decide, request, case_id, form)

    def _decide(request: Request, case_id: int, form: dict[str, str]):
        p, case = _visible(request, case_id)
        back = _back(request, form.get("tilbake", "/saker"))
        action = form.get("action", "")
        definition = st.catalogue.get(case.process_id)
        offered = decisions.offers(st.store, definition, case)
        try:
            if case.assignee and case.assignee != p.username:
                raise decisions.DecisionError(f"Saken er tatt av {st.full_name(case.assignee)}. Be om å få den "
                                              "tildelt først.")
            if not action:
                raise decisions.DecisionError("Velg hva du vil gjøre med saken.", field="action")
            clean = decisions.clean_comment(form.get("comment"))
            dec = decisions.build_decision(case, action, offered, form, definition=definition)
            spec = next(o.spec for o in offered if o.code == action)
            reasons = decisions.approval_needed(definition, case, action, dec, offered)
            if spec.posts_money and form.get("bekreft") != "ja":
                # POST-redirect-GET for the preview too: Back from the next page never re-posts.
                st.keep_draft(p.session_id, ("forhandsvisning", case.id), form, {})
                return RedirectResponse(f"/saker/{case.id}/forhandsvisning", status_code=303)
            decisions.apply(st.store, case, p.username, action, clean, dec, needs_approval=bool(reasons))
        except decisions.DecisionError as exc:
            # POST-redirect-GET: the refused form comes back on the case page's own address, with
            # the error summary on top and what was typed kept; Back never re-posts.
            st.keep_draft(p.session_id, case.id, form, {exc.field or "general": str(exc)})
            return RedirectResponse(_case_url(case.id, back) + "#feil", status_code=303)
        log.info("case %s (%s/%s) decided %s by %s", case.id, case.process_id, case.category, action, p.username)
        if reasons:
            return redirect(request, back, ("ok", f"Sak {case.id} venter på godkjenning av en attestant: "
                                                  + "; ".join(reasons) + "."))
        label = decisions.spec(action).label
        return redirect(request, back, ("ok", f"Sak {case.id} er lagret: «{label}». Roboten utfører "
                                              "beslutningen ved neste kjøring."))

    @(pages or r).get("/saker/{case_id:int}/forhandsvisning")
    def preview(request: Request, case_id: int):
        """The effect of a posting decision in plain Norwegian, from the form kept by the POST. Once
        used (or reached again by Back), the draft is gone and the case page is shown instead."""
        p, case = _visible(request, case_id)
        form, _ = st.take_draft(p.session_id, ("forhandsvisning", case.id))
        back = _back(request, (form or {}).get("tilbake", "/saker"))
        definition = st.catalogue.get(case.process_id)
        offered = decisions.offers(st.store, definition, case)
        try:
            if not form:
                raise decisions.DecisionError("")
            action = form.get("action", "")
            dec = decisions.build_decision(case, action, offered, form, definition=definition)
            spec = next(o.spec for o in offered if o.code == action)
            reasons = decisions.approval_needed(definition, case, action, dec, offered)
        except (decisions.DecisionError, StopIteration):
            return RedirectResponse(_case_url(case.id, back), status_code=303)
        return render(request, "decision_preview.html", {
            "active_nav": "saker", "case": case, "spec": spec, "form": form, "back": back,
            "category": decisions.category_of(definition, case.category),
            "lines": preview_lines(definition, case, spec, dec), "approval": reasons})

    @r.post("/saker/{case_id:int}/godkjenning")
    def approve(request: Request, case_id: int, svar: str = Form(""), comment: str = Form(""),
                tilbake: str = Form("/saker")):
        p, case = _visible(request, case_id)
        back = _back(request, tilbake)
        url = _case_url(case.id, back)
        if p.role not in APPROVER_ROLES:
            return redirect(request, url, ("error", "Bare en attestant kan godkjenne beslutninger."))
        if case.decided_by == p.username:
            return redirect(request, url, ("error", "Du tok beslutningen selv og kan ikke godkjenne den. "
                                                    "En annen attestant må gjøre det."))
        try:
            clean = decisions.clean_comment(comment)
        except decisions.DecisionError as exc:
            return redirect(request, url, ("error", str(exc)))
        try:
            if svar == "godkjenn":
                st.store.approve_decision(case.id, p.username, clean)
                msg = f"Beslutningen på sak {case.id} er godkjent. Roboten utfører den ved neste kjøring."
            elif svar == "avvis":
                st.store.reject_decision(case.id, p.username, clean)
                msg = f"Beslutningen på sak {case.id} er avvist. Saken er åpen igjen."
            else:
                return redirect(request, url, ("error", "Velg «Godkjenn» eller «Avvis»."))
        except InvalidTransition:
            return redirect(request, url, ("error", "Beslutningen venter ikke lenger på godkjenning. "
                                                    "Last siden på nytt."))
        log.info("case %s decision %s by attestant %s", case.id, svar, p.username)
        return redirect(request, url, ("ok", msg))

    if pages is not None:
        register_bulk(pages, st)


# ---------------------------------------------------------------------------- bulk (select -> decide -> preview -> confirm)
#
#   POST /saker/handling action=beslutning   the queue's selection -> 303 GET /saker/valgte?sak=..
#   GET  /saker/valgte                        only the actions that fit EVERY selected case
#   POST /saker/handling action=<code>        checked; a posting action -> 303 GET .../forhandsvisning
#   GET  /saker/valgte/forhandsvisning        count and total; confirm posts bekreft=ja + kontroll
#   POST /saker/handling bekreft=ja           every case checked again (precondition, bounds) and the
#                                             previewed figures compared before anything is stored

SELECTED_PATH = "/saker/valgte"
PREVIEW_PATH = "/saker/valgte/forhandsvisning"
_SELECT_DRAFT = "valgte"      # draft key: the refused bulk form (comment, action) and its errors
_PREVIEW_DRAFT = "valgte-forhandsvisning"


def parse_ids(values: Any, limit: int) -> list[int]:
    """Case numbers from a form or a query string: digits only, no duplicates, at most `limit`."""
    out: list[int] = []
    for v in values or []:
        for part in str(v).split(","):
            part = part.strip()
            if part.isdigit() and len(part) <= 12 and int(part) not in out:
                out.append(int(part))
    return sorted(out)[:limit]


def selected_url(ids: list[int], back: str) -> str:
    from urllib.parse import urlencode

    return f"{SELECTED_PATH}?" + urlencode([("sak", i) for i in ids] + [("tilbake", back)])


@dataclass
class BulkPlan:
    """What a decision would do on a selection: the cases it fits (with their decision and why an
    attestant must approve it) and the cases it does not fit (reason -> case numbers)."""

    planned: list[tuple[ExceptionCase, dict[str, Any], list[str]]] = field(default_factory=list)
    unfit: dict[str, list[int]] = field(default_factory=dict)

    def total(self, spec: wa.ActionSpec) -> Decimal:
        return sum((wa.action_amount(spec, d) or Decimal(0) for _c, d, _r in self.planned), Decimal(0))

    def digest(self) -> str:
        """The figures the handler saw in the preview: a change before confirming refuses it."""
        body = json.dumps([[c.id, wa.fingerprint(c), d, bool(r)] for c, d, r in self.planned], sort_keys=True,
                          default=str)
        return hashlib.sha256(body.encode()).hexdigest()[:32]


def _blocked(p: Any, c: ExceptionCase, st: Any) -> str:
    if c.status not in OPEN_CASE_STATUSES:
        return "saken er allerede avsluttet"
    if c.assignee and c.assignee != p.username:
        return f"tatt av {st.full_name(c.assignee)}"
    return ""


def plan(st: Any, p: Any, cases: list[ExceptionCase], action: str,
         declared: dict[str, dict[str, wa.ActionSpec]] | None = None) -> BulkPlan:
    """The one check of a bulk decision, used to offer actions, to preview and to confirm: for each
    case the same functions as the single-case page (offers: category + precondition;
    build_decision: bounds with the proposed amounts) and the four-eyes limits."""
    declared = decisions.registry(st.store) if declared is None else declared
    out = BulkPlan()
    for c in cases:
        why = _blocked(p, c, st)
        if why:
            out.unfit.setdefault(why, []).append(c.id)
            continue
        definition = st.catalogue.get(c.process_id)
        offered = decisions.offers(st.store, definition, c, declared)
        try:
            dec = decisions.build_decision(c, action, offered, {}, bulk=True, definition=definition)
        except decisions.DecisionError as exc:
            why = "handlingen passer ikke for saken" if exc.field == "action" else str(exc).rstrip(".")
            out.unfit.setdefault(why, []).append(c.id)
            continue
        out.planned.append((c, dec, decisions.approval_needed(definition, c, action, dec, offered)))
    return out


def common_actions(st: Any, p: Any, cases: list[ExceptionCase]) -> tuple[list[wa.ActionSpec], dict[int, str]]:
    """The decision actions that fit every selected case (in the first case's order), and the cases
    no decision can be taken on here (case number -> why)."""
    declared = decisions.registry(st.store)
    blocked = {c.id: why for c in cases if (why := _blocked(p, c, st))}
    open_cases = [c for c in cases if c.id not in blocked]
    if not open_cases:
        return [], blocked
    candidates: list[wa.ActionSpec] = []
    for c in open_cases[:1]:
        offered = decisions.offers(st.store, st.catalogue.get(c.process_id), c, declared)
        candidates = [o.spec for o in offered if o.spec.bulk]
    fitting = [s for s in candidates if not plan(st, p, open_cases, s.code, declared).unfit]
    return fitting, blocked


def _unfit_text(label: str, unfit: dict[str, list[int]]) -> str:
    detail = "; ".join(f"{why}: " + ", ".join(f"sak {i}" for i in ids if i) if any(ids) else why
                       for why, ids in unfit.items())
    return (f"Ingen saker er lagret: «{label}» passer ikke for alle valgte saker ({detail}). Velg saker som "
            "passer, eller en annen handling.")


def register_bulk(pages: Any, st: Any) -> None:
    """The GET pages of a bulk decision (the POSTs go through POST /saker/handling -> bulk())."""
    from review.app import _back, _principal, render
    from review.queries import MAX_BULK, visible_cases

    @pages.get(SELECTED_PATH)
    def selected(request: Request):
        p = _principal(request)
        ids = parse_ids(request.query_params.getlist("sak"), MAX_BULK)
        back = _back(request, request.query_params.get("tilbake"))
        if not ids:
            return RedirectResponse(back, status_code=303)
        cases = visible_cases(st.reader, st.scope(p), ids)
        actions, blocked = common_actions(st, p, cases)
        form, errors = st.take_draft(p.session_id, (_SELECT_DRAFT, 0))
        missing = [i for i in ids if i not in {c.id for c in cases}]
        fit = [c.id for c in cases if c.id not in blocked]
        return render(request, "bulk_select.html", {
            "active_nav": "saker", "cases": cases, "actions": actions, "blocked": blocked, "missing": missing,
            "back": back, "ids": ids, "form": form, "errors": errors,
            "without_blocked": selected_url(fit, back) if (blocked or missing) and fit else "",
            "subjects": _subjects(st, [c.id for c in cases])})

    @pages.get(PREVIEW_PATH)
    def bulk_preview(request: Request):
        """Count and total of a posting decision on a selection (kept by the POST: PRG, so Back and
        reload never post again). Computed afresh from the cases on every view."""
        p = _principal(request)
        form, _ = st.take_draft(p.session_id, (_PREVIEW_DRAFT, 0))
        if not form:
            return RedirectResponse("/saker", status_code=303)
        st.keep_draft(p.session_id, (_PREVIEW_DRAFT, 0), form, {})  # a reload shows it again
        back = _back(request, form.get("tilbake"))
        ids = parse_ids([form.get("ids", "")], MAX_BULK)
        cases = visible_cases(st.reader, st.scope(p), ids)
        action = form.get("action", "")
        spec = decisions.spec(action)
        result = plan(st, p, cases, action)
        if result.unfit or len(cases) != len(ids) or not result.planned:
            st.take_draft(p.session_id, (_PREVIEW_DRAFT, 0))
            st.keep_draft(p.session_id, (_SELECT_DRAFT, 0), form,
                          {"general": _unfit_text(spec.label, result.unfit or {"finnes ikke eller er ikke din": []})})
            return RedirectResponse(selected_url(ids, back) + "#feil", status_code=303)
        return render(request, "bulk_preview.html", {
            "active_nav": "saker", "spec": spec, "rows": result.planned, "count": len(result.planned),
            "total": result.total(spec), "comment": form.get("comment", ""), "back": back,
            "ids": ",".join(str(i) for i in ids), "kontroll": result.digest(),
            "selection_url": selected_url(ids, back), "subjects": _subjects(st, ids),
            "waiting": sum(1 for _c, _d, r in result.planned if r)})


def _subjects(st: Any, ids: list[int]) -> dict[int, Any]:
    from review.queries import subjects

    return subjects(st.reader, ids)


def bulk(request: Request, st: Any, p: Any, cases: list[ExceptionCase], ids: list[int], action: str,
         comment: str, back: str, confirmed: bool, kontroll: str = ""):
    """A decision on every selected case, or on none: the action must fit every one (declared,
    allowed, precondition, bounds). A posting action shows count and total (a GET page) before it is
    stored; the confirmation checks every case again where it acts."""
    from review.app import redirect

    form = {"action": action, "comment": comment, "tilbake": back, "ids": ",".join(str(i) for i in ids)}

    def refuse(errors: dict[str, str]):
        st.take_draft(p.session_id, (_PREVIEW_DRAFT, 0))
        st.keep_draft(p.session_id, (_SELECT_DRAFT, 0), form, errors)
        return RedirectResponse(selected_url(ids, back) + "#feil", status_code=303)

    if not action:
        return refuse({"action": "Velg hva du vil gjøre med sakene."})
    try:
        clean = decisions.clean_comment(comment)
    except decisions.DecisionError as exc:
        return refuse({"comment": str(exc)})
    result = plan(st, p, cases, action)
    missing = len(ids) - len(cases)
    if missing:
        result.unfit.setdefault("finnes ikke eller er ikke din", []).extend([0] * missing)
    spec = decisions.spec(action)
    if result.unfit:
        return refuse({"general": _unfit_text(spec.label, result.unfit)})
    if spec.posts_money and not confirmed:
        st.keep_draft(p.session_id, (_PREVIEW_DRAFT, 0), form, {})
        return RedirectResponse(PREVIEW_PATH, status_code=303)
    if spec.posts_money and kontroll != result.digest():
        # The cases (or their amounts) changed between the preview and the confirmation.
        st.keep_draft(p.session_id, (_PREVIEW_DRAFT, 0), form, {})
        return redirect(request, PREVIEW_PATH, ("error", "Sakene er endret siden forhåndsvisningen. Kontroller "
                                                         "beløpene på nytt før du bekrefter."))
    st.take_draft(p.session_id, (_PREVIEW_DRAFT, 0))
    done = waiting = 0
    skipped: list[int] = []
    for c, dec, reasons in result.planned:
        try:
            decisions.apply(st.store, c, p.username, action, clean, dec, needs_approval=bool(reasons))
            done += 1
            waiting += bool(reasons)
        except decisions.DecisionError:
            skipped.append(c.id)
    label = spec.label
    msgs = []
    if done:
        msgs.append(("ok", f"{done} {'sak' if done == 1 else 'saker'} er lagret med beslutningen «{label}»."
                     + (f" {waiting} venter på godkjenning av en attestant." if waiting else "")))
    if skipped:
        msgs.append(("error", f"{len(skipped)} saker ble avsluttet av andre i mellomtiden: "
                              + ", ".join(f"sak {i}" for i in skipped) + "."))
    return redirect(request, back, *msgs)
