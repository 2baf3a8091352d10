"""The owners' page for a process in shadow mode (docs/shadow.md): the agreement between what the
robot would have done and what the people did, per category and overall, and every disagreement
with both sides. Read from the store (workqueue.shadow: the same computation as
`rpa shadow report`); the people's export is imported by that command.

    GET /skygge                  processes in scope with a shadow record
    GET /skygge/{process_id}     the agreement report (?periode=2026-06)
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from workqueue.shadow import SIGN_OFF_WORDS, VERDICT_WORDS, agreement

PERIOD = re.compile(r"^\d{4}(-\d{2})?$")
MAX_ROWS = 1000


def register(app: FastAPI, st: Any) -> None:
    from review.app import _principal, render

    def _owner_scope(request: Request) -> list[str]:
        p = _principal(request)
        if not p.may_read_benefits:  # owners and admins
            raise HTTPException(403)
        allowed = st.scope(p).processes  # None: every process
        return [pid for pid in (st.catalogue if allowed is None else allowed)
                if st.catalogue.get(pid) and st.catalogue[pid].compared_system]

    @app.get("/skygge", response_class=HTMLResponse)
    async def shadow_list(request: Request):
        pids = _owner_scope(request)

        def figures() -> list[tuple[str, Any, Any]]:
            out = []
            for pid in pids:
                d = st.catalogue[pid]
                out.append((pid, d, agreement(st.store, pid, d.compared_system).total))
            return out

        return render(request, "shadow.html", {"active_nav": "skygge", "listing": await run_in_threadpool(figures),
                                               "result": None})

    @app.get("/skygge/{process_id}", response_class=HTMLResponse)
    async def shadow_report(request: Request, process_id: str, periode: str = ""):
        if process_id not in _owner_scope(request):
            raise HTTPException(404)
        period = periode if PERIOD.match(periode or "") else ""
        d = st.catalogue[process_id]
        result = await run_in_threadpool(agreement, st.store, process_id, d.compared_system, period or None)
        return render(request, "shadow.html", {
            "active_nav": "skygge", "listing": None, "result": result, "definition": d, "period": period,
            "disagreements": result.disagreements[:MAX_ROWS], "verdict_words": VERDICT_WORDS,
            "sign_off_words": SIGN_OFF_WORDS, "max_rows": MAX_ROWS})
