"""Decision routes: decide on one case (checked, previewed, four-eyes), bulk decisions with a
preview of count and total, and the attestant's approve / reject.

    POST /saker/{id}/beslutning         check -> (preview for a posting action) -> store
    POST /saker/{id}/godkjenning        an attestant (never the decider) approves or rejects
    bulk(...)                           called by POST /saker/handling for decision actions

Every check is workqueue.actions' (the one the applying run repeats); nothing here executes a
decision: the process's next run does, once.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from review import decisions
from workqueue import actions as wa
from workqueue.models import ExceptionCase
from workqueue.store import InvalidTransition

log = logging.getLogger("rpa.review")

APPROVER_ROLES = frozenset({"attestant", "admin"})


def preview_lines(definition: Any, case: ExceptionCase, spec: wa.ActionSpec,
                  decision: dict[str, Any]) -> list[tuple[str, str]]:
    """The effect in plain Norwegian: claim, amount, remainder, account lines (from the evidence and
    the definition's ledger accounts when the process has them)."""
    fmt = wa.kr
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
        lines.append(("Krav", f"{ids} ({fmt(claim_total)} kr)"))
    if spec.code == "write_off":
        lines += [("Avskrives", f"{fmt(amount)} kr"),
                  ("Restbeløp på kravet etterpå", f"{fmt(claim_total - paid - amount)} kr"),
                  ("Konteringslinjer", f"Debet {acc['write_off_account']} {fmt(amount)} kr · "
                                       f"Kredit {acc['claim_account']} {fmt(amount)} kr")]
    elif amount < 0 or spec.code == "confirm_reversal":
        size = abs(amount)
        lines += [("Beløp", f"{fmt(size)} kr trekkes / tilbakeføres"),
                  ("Konteringslinjer", f"Debet {acc['claim_account']} {fmt(size)} kr · "
                                       f"Kredit {acc['bank_account']} {fmt(size)} kr")]
    else:
        lines.append(("Beløp som utlignes", f"{fmt(amount)} kr"))
        if claims:
            lines.append(("Restbeløp på kravet etterpå", f"{fmt(claim_total - amount)} kr"))
        lines.append(("Konteringslinjer", f"Debet {acc['bank_account']} {fmt(amount)} kr · "
                                          f"Kredit {acc['claim_account']} {fmt(amount)} kr"))
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


def bulk_actions(st: Any, process_ids: list[str]) -> list[wa.ActionSpec]:
    """The decision actions a bulk selection may take (bulk-able, declared by a process in view)."""
    declared = decisions.registry(st.store)
    seen: dict[str, wa.ActionSpec] = {}
    for pid in process_ids:
        for code, s in declared.get(pid, wa.KIT_ACTIONS).items():
            if s.bulk and code not in seen:
                seen[code] = s
    for code, s in wa.KIT_ACTIONS.items():
        seen.setdefault(code, s)
    return list(seen.values())


def bulk(request: Request, st: Any, p: Any, cases: list[ExceptionCase], missing: int, action: str, comment: str,
         back: str, confirmed: bool):
    """A decision on every selected case, or on none: the action must fit every one (declared,
    allowed, precondition, bounds). A posting action shows count and total before it is stored."""
    from review.app import redirect, render

    try:
        clean = decisions.clean_comment(comment)
    except decisions.DecisionError as exc:
        return redirect(request, back, ("error", str(exc)))
    declared = decisions.registry(st.store)
    planned: list[tuple[ExceptionCase, dict[str, Any], list[str]]] = []
    unfit: dict[str, list[int]] = {}
    for c in cases:
        if c.assignee and c.assignee != p.username:
            unfit.setdefault("tatt av en annen saksbehandler", []).append(c.id)
            continue
        definition = st.catalogue.get(c.process_id)
        offered = decisions.offers(st.store, definition, c, declared)
        try:
            dec = decisions.build_decision(c, action, offered, {}, bulk=True, definition=definition)
        except decisions.DecisionError as exc:
            why = "handlingen passer ikke for saken" if exc.field == "action" else str(exc).rstrip(".")
            unfit.setdefault(why, []).append(c.id)
            continue
        planned.append((c, dec, decisions.approval_needed(definition, c, action, dec, offered)))
    if missing:
        unfit.setdefault("finnes ikke eller er ikke din", []).extend([0] * missing)
    label = decisions.spec(action).label
    if unfit:
        detail = "; ".join(f"{why}: " + ", ".join(f"sak {i}" for i in ids if i) if any(ids) else why
                           for why, ids in unfit.items())
        return redirect(request, back, ("error", f"Ingen saker er lagret: «{label}» passer ikke for alle valgte "
                                                 f"saker ({detail}). Velg saker som passer, eller en annen handling."))
    spec = decisions.spec(action)
    total = sum((wa.action_amount(spec, d) or Decimal(0) for _c, d, _r in planned), Decimal(0))
    if spec.posts_money and not confirmed:
        return render(request, "bulk_preview.html", {
            "active_nav": "saker", "spec": spec, "rows": planned, "count": len(planned), "total": wa.kr(total),
            "comment": comment, "back": back, "fmt": wa.kr,
            "waiting": sum(1 for _c, _d, r in planned if r)})
    done = waiting = 0
    skipped: list[int] = []
    for c, dec, reasons in planned:
        try:
            decisions.apply(st.store, c, p.username, action, clean, dec, needs_approval=bool(reasons))
            done += 1
            waiting += bool(reasons)
        except decisions.DecisionError:
            skipped.append(c.id)
    msgs = []
    if done:
        msgs.append(("ok", f"{done} {'sak' if done == 1 else 'saker'} er lagret med beslutningen «{label}»."
                     + (f" {waiting} venter på godkjenning av en attestant." if waiting else "")))
    if skipped:
        msgs.append(("error", f"{len(skipped)} saker ble avsluttet av andre i mellomtiden: "
                              + ", ".join(f"sak {i}" for i in skipped) + "."))
    return redirect(request, back, *msgs)
