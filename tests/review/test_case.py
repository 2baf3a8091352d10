"""The case page: evidence in the process's words, decisions that fit the category (each with a
required comment, stored structured for the next run), reassign, reopen, attachments, history."""

from __future__ import annotations

import re

from sqlalchemy import select

from tests.fixtures.review import ATTACHMENTS, FNR_A, NAV, csrf_of
from workqueue.models import ItemStatus, WorkItem
from workqueue.store import NewCase, NewItem


def _decide(client, case_id: int, **form):
    page = client.get(f"/saker/{case_id}").text
    return client.post(f"/saker/{case_id}/beslutning", data={"csrf_token": csrf_of(page), **form})


def _refused(client, r):
    """A refused decision: POST-redirect-GET to the case page, whose error summary says why."""
    assert r.status_code == 303 and r.headers["location"].endswith("#feil"), r.status_code
    page = client.get(r.headers["location"].split("#")[0])
    assert page.status_code == 200 and 'class="error-summary"' in page.text
    return page


def test_case_page_shows_the_evidence_side_by_side_in_the_words_of_the_process(review_env):
    env = review_env
    case = env.nav_case(nav_amount=25388.0, claim_amount=50776.0)
    html = env.client("kari").get(f"/saker/{case.id}").text
    assert "<h1>Gradert sykmelding eller søknad: NAV har betalt en annen grad enn kravet</h1>" in html
    assert "Automatisk utligning av sykepengerefusjon fra NAV" in html
    # The side-by-side table with its headers, the explanation, the amount in Norwegian format.
    table = html[html.index("Rapportlinjen og kravet side om side"):]
    assert '<th scope="col">NAVs oppgjørsrapport (K27)</th>' in table
    # Money in the one currency style (fmt_kr), whatever the flow wrote: «25 388,00 kr», right-aligned.
    assert ('<th scope="row">Beløp</th><td class="num">25\u00a0388,00\u00a0kr</td>'
            '<td class="num">50\u00a0776,00\u00a0kr</td>') in table
    assert "NAV har betalt 50 % av kravet (gradert sykmelding)." in html
    assert FNR_A[:6] + "*****" in html and FNR_A not in html
    # Actions from the definition's category, labelled for staff; the NAV amount prefilled.
    for label in ("Godkjenn NAVs beløp og utlign", "Avskriv differansen", "Behandlet manuelt", "Avvis"):
        assert label in html
    assert "Send tilbake for ny kjøring" not in html and "Velg riktig bilag" not in html
    assert re.search(r'id="f-approve_nav_amount-amount"[^>]*\s+value="25 388,00"', html)
    assert "(5 dager)" in html and "HR / lønn" in html  # the SLA, 120 hours, in days
    # Every form control has a label.
    controls = re.findall(r'<(?:input|select|textarea)\b[^>]*>', html)
    assert len(controls) > 5
    for tag in controls:
        if 'type="hidden"' in tag:
            continue
        control_id = re.search(r'\sid="([^"]+)"', tag)
        assert "aria-label=" in tag or (control_id and f'for="{control_id.group(1)}"' in html), tag
    # Dates as dd.mm.åååå.
    assert re.search(r"Opprettet</dt><dd>\d{2}\.\d{2}\.\d{4} kl\. \d{2}:\d{2}", html)


def test_a_decision_needs_a_comment_and_is_stored_structured(review_env):
    env = review_env
    case = env.nav_case()
    kari = env.client("kari")
    r = _refused(kari, _decide(kari, case.id, action="approve_nav_amount", amount="25 000,50", comment="  "))
    assert "Skriv en kommentar" in r.text and 'aria-invalid="true"' in r.text
    assert 'value="25 000,50"' in r.text  # what was typed is kept
    assert env.store.get_case(case.id).status == "open"
    r = _refused(kari, _decide(kari, case.id, action="approve_nav_amount", amount="tjuefem", comment="ok"))
    assert "er ikke et beløp" in r.text
    r = _refused(kari, _decide(kari, case.id, comment="ok"))
    assert "Velg hva du vil gjøre" in r.text
    r = _refused(kari, _decide(kari, case.id, action="retry", comment="ok"))  # not an action of this category
    assert "passer ikke" in r.text
    r = _decide(kari, case.id, action="approve_nav_amount", amount="25 388,00", comment="Sjekket mot NAV-vedtak",
                bekreft="ja")  # confirmed after the preview (tests/review/test_decision_control.py)
    assert r.status_code == 303
    fresh = env.store.get_case(case.id)
    assert fresh.status == "resolved" and fresh.decided_by == "kari"
    assert fresh.decision == {"action": "approve_nav_amount", "comment": "Sjekket mot NAV-vedtak", "amount": 25388.0}
    assert [c.id for c in env.store.pending_decisions(NAV)] == [case.id]  # the next run picks it up
    page = kari.get(r.headers["location"]).text
    assert f"Sak {case.id} er lagret" in page
    closed = kari.get(f"/saker/{case.id}").text
    assert "Venter på neste kjøring" in closed and "25\u00a0388,00\u00a0kr" in closed and "Lagre beslutning" not in closed
    # A second decision on a closed case is refused.
    r = _decide(kari, case.id, action="dismiss", comment="igjen")
    assert r.status_code == 303 and env.store.get_case(case.id).decision["action"] == "approve_nav_amount"
    # History shows who decided what.
    assert "Beslutning" in closed and "Godkjenn NAVs beløp og utlign · beløp 25\u00a0388,00\u00a0kr" in closed


def test_undo_before_the_run_applies_it_and_not_after(review_env):
    env = review_env
    case = env.nav_case(nav_amount=1000.0, claim_amount=3000.0)  # 2 000 kr written off: no attestant needed
    kari = env.client("kari")
    _decide(kari, case.id, action="write_off", comment="Avskrives", bekreft="ja")
    page = kari.get(f"/saker/{case.id}").text
    r = kari.post(f"/saker/{case.id}/gjenapne", data={"csrf_token": csrf_of(page), "comment": "Feil knapp"})
    assert r.status_code == 303 and env.store.get_case(case.id).status == "open"
    _decide(kari, case.id, action="write_off", comment="Avskrives likevel", bekreft="ja")
    env.store.mark_decision_applied(case.id, "robot", {"ledger": "ok"})
    page = kari.get(f"/saker/{case.id}").text
    assert "Utført av roboten" in page and "Åpne saken igjen" not in page
    r = kari.post(f"/saker/{case.id}/gjenapne", data={"csrf_token": csrf_of(page), "comment": "prøver"},
                  follow_redirects=True)
    assert "kan ikke angres" in r.text and env.store.get_case(case.id).status == "resolved"


def test_send_back_for_retry_is_stored_and_left_to_the_next_run(review_env):
    env = review_env
    item, _ = env.store.add(ATTACHMENTS, NewItem("faktura-1.pdf"))
    env.store.claim(ATTACHMENTS, limit=1)
    from workqueue.store import Backoff

    case = env.store.system_exception(item.id, "503 fra økonomisystemet", Backoff(max_attempts=1))
    with env.store.session() as s:
        s.get(type(case), case.id).org_unit = "Økonomiseksjonen"
    okonomi = env.client("okonomi")
    html = okonomi.get(f"/saker/{case.id}").text
    assert "Send tilbake for ny kjøring" in html and "Teknisk feil" in html
    # The history tells the case's story, not the robot's routine claims of the item.
    assert "Teknisk feil (alle forsøk brukt)" in html and "item.claimed" not in html
    r = _decide(okonomi, case.id, action="retry", comment="Økonomisystemet er oppe igjen")
    assert r.status_code == 303
    with env.store.session() as s:  # re-queued once, by the next run (flows/kit/decisions.py), not here
        assert s.get(WorkItem, item.id).status == ItemStatus.failed
    assert env.store.get_case(case.id).decision["action"] == "retry"
    assert [c.id for c in env.store.pending_decisions(ATTACHMENTS)] == [case.id]
    # A system case without a work item cannot be retried: clear message.
    lonely = env.store.open_case(ATTACHMENTS, "x.pdf", NewCase("SYSTEM_ERROR", "feil", org_unit="Økonomiseksjonen"),
                                 kind="system")
    r = _decide(okonomi, lonely.id, action="retry", comment="prøv")
    assert "ikke noe arbeidselement" in _refused(okonomi, r).text


def test_choose_voucher_offers_the_candidates_and_stores_the_choice(review_env):
    env = review_env
    case = env.store.open_case(ATTACHMENTS, "faktura-4471.pdf", NewCase(
        "SEVERAL_CANDIDATES", "To bilag passer faktura 4471", org_unit="Økonomiseksjonen",
        evidence={"sections": [{"title": "Bilag som passer", "columns": ["Bilag", "Leverandør"],
                                "rows": [["410001", "Kontorrekvisita AS"], ["410002", "Kontorrekvisita AS"]]}],
                  "data": {"candidates": [
                      {"voucher_number": "410001", "supplier_name": "Kontorrekvisita AS", "invoice_number": "4471",
                       "amount": 1250.0, "voucher_date": "2026-11-02"},
                      {"voucher_number": "410002", "supplier_name": "Kontorrekvisita AS", "invoice_number": "4471",
                       "amount": 1250.0, "voucher_date": "2026-11-09"}]}},
        attachments=[("faktura-4471.pdf", "application/pdf", b"%PDF-1.4\n%%EOF\n")]))
    okonomi = env.client("okonomi")
    html = okonomi.get(f"/saker/{case.id}").text
    assert "Bilag 410001 · Kontorrekvisita AS · faktura 4471 · 02.11.2026 · 1\u00a0250,00\u00a0kr" in html
    r = _decide(okonomi, case.id, action="choose_voucher", voucher_number="999999", comment="denne")
    assert "Velg et av alternativene i listen" in _refused(okonomi, r).text
    r = _decide(okonomi, case.id, action="choose_voucher", voucher_number="410002", comment="Riktig dato")
    assert r.status_code == 303
    assert env.store.get_case(case.id).decision == {"action": "choose_voucher", "comment": "Riktig dato",
                                                    "voucher_number": "410002"}


def test_reassign_only_to_someone_who_may_see_the_case(review_env):
    env = review_env
    case = env.nav_case(org_unit="Bydel Alna")
    kari = env.client("kari")
    html = kari.get(f"/saker/{case.id}").text
    select = html[html.index('<select id="assignee"'):].split("</select>")[0]
    options = re.findall(r'<option value="([^"]+)"', select)
    assert set(options) == {"admin", "eier", "kari"}  # ola (Frogner) and okonomi cannot see it
    token = csrf_of(html)
    r = kari.post(f"/saker/{case.id}/tildel", data={"csrf_token": token, "assignee": "ola", "comment": "Ta den"},
                  follow_redirects=True)
    assert "har tilgang til saken" in r.text and env.store.get_case(case.id).assignee is None
    r = kari.post(f"/saker/{case.id}/tildel", data={"csrf_token": token, "assignee": "eier", "comment": ""},
                  follow_redirects=True)
    assert "Skriv en kommentar" in r.text
    r = kari.post(f"/saker/{case.id}/tildel", data={"csrf_token": token, "assignee": "eier",
                                                     "comment": "Prosesseier må vurdere"})
    fresh = env.store.get_case(case.id)
    assert (fresh.assignee, fresh.status) == ("eier", "in_review")
    event = [e for e in env.store.audit_trail(case_id=case.id) if e.action == "case.assigned"][-1]
    assert event.actor == "kari" and event.details["comment"] == "Prosesseier må vurdere"


def test_attachments_preview_and_download(review_env):
    env = review_env
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 20
    case = env.nav_case(attachments=[("skjermbilde.png", "image/png", png),
                                     ("trace.zip", "application/zip", b"PK\x05\x06" + b"\x00" * 18),
                                     ("brev æøå.html", "text/html", b"<script>alert(1)</script>")])
    atts = {a.filename: a for a in env.store.case_attachments(case.id)}
    kari = env.client("kari")
    html = kari.get(f"/saker/{case.id}").text
    shot = atts["skjermbilde.png"]
    assert f'<img src="/saker/{case.id}/vedlegg/{shot.id}?vis=1" alt="Skjermbilde: skjermbilde.png">' in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # text preview, escaped
    r = kari.get(f"/saker/{case.id}/vedlegg/{shot.id}?vis=1")
    assert r.status_code == 200 and r.content == png and r.headers["content-type"] == "image/png"
    assert r.headers["content-disposition"].startswith("inline")
    r = kari.get(f"/saker/{case.id}/vedlegg/{atts['brev æøå.html'].id}?vis=1")  # never inline
    assert r.headers["content-disposition"].startswith("attachment")
    assert "sandbox" in r.headers["content-security-policy"]
    assert "filename*=UTF-8''brev%20%C3%A6%C3%B8%C3%A5.html" in r.headers["content-disposition"]
    r = kari.get(f"/saker/{case.id}/vedlegg/{atts['trace.zip'].id}")
    assert r.content.startswith(b"PK") and r.headers["content-disposition"].startswith("attachment")
    downloaded = [e for e in env.store.audit_trail(case_id=case.id) if e.action == "attachment.downloaded"]
    assert len(downloaded) == 2 and all(e.actor == "kari" for e in downloaded)


def test_case_views_are_in_the_audit_trail_for_owner_and_admin(review_env):
    env = review_env
    case = env.nav_case()
    env.client("kari").get(f"/saker/{case.id}")
    html = env.client("eier").get("/logg", params={"sak": str(case.id)}).text
    assert "Sak vist" in html and "Kari Nordmann" in html and "Sak opprettet" in html
    # An owner does not read events of processes that are not theirs.
    other = env.store.open_case(ATTACHMENTS, "y.pdf", NewCase("VOUCHER_NOT_FOUND", "m", org_unit="Økonomiseksjonen"))
    env.client("okonomi").get(f"/saker/{other.id}")
    owner_trail = env.client("eier").get("/logg").text
    assert f"/saker/{other.id}" not in owner_trail
    admin_trail = env.client("admin").get("/logg").text
    assert f"/saker/{other.id}" in admin_trail and "Innlogget" in admin_trail
    with env.store.session() as s:
        assert s.scalar(select(WorkItem).limit(1)) is None  # views never touch the work items
