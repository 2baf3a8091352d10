"""Overview, queue (filter, search, sort, page), claiming, bulk actions and the Excel export."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from io import BytesIO

from openpyxl import load_workbook
from sqlalchemy import update

from review.formatting import fmt_amount, parse_amount
from tests.fixtures.review import ATTACHMENTS, NAV, csrf_of
from workqueue.models import ExceptionCase
from workqueue.store import NewCase, utcnow

CASE_LINK = re.compile(r'href="/saker/(\d+)\?')


def _ids(html: str) -> list[int]:
    return [int(x) for x in CASE_LINK.findall(html)]


def _age(env, case_id: int, days: float, due_hours: float | None = None) -> None:
    created = utcnow() - timedelta(days=days)
    values = {"created_at": created}
    if due_hours is not None:
        values["due_at"] = created + timedelta(hours=due_hours)
    with env.store.session() as s:
        s.execute(update(ExceptionCase).where(ExceptionCase.id == case_id).values(**values))


def test_norwegian_formats():
    assert fmt_amount(1234.5) == "1 234,50"
    assert fmt_amount(-1234567.891) == "\u22121 234 567,89"  # the minus sign
    assert fmt_amount(0) == "0,00"
    for text, value in [("1 234,50", "1234.50"), ("1234.50", "1234.50"), ("1.234,50", "1234.50"),
                        ("kr 1 234", "1234"), ("-50", "-50"), ("1\u00a0234,5", "1234.5")]:
        assert str(parse_amount(text)) == value, text
    for bad in ("", "abc", "1,2,3", "12-3"):
        assert parse_amount(bad) is None, bad


def test_overview_counts_oldest_age_and_sla_breaches(review_env):
    env = review_env
    a = env.nav_case(category="GRADE")
    env.nav_case(category="GRADE")
    c = env.nav_case(category="AMOUNT_DIFFERENCE")
    env.nav_case(org_unit="Bydel Frogner", category="GRADE")  # not kari's unit
    _age(env, a.id, days=9, due_hours=120)  # 5-day SLA: breached
    _age(env, c.id, days=2, due_hours=120)
    html = env.client("kari").get("/").text
    assert "Automatisk utligning av sykepengerefusjon fra NAV" in html
    grade_row = html[html.index("Gradert sykmelding"):].split("</tr>")[0]
    cells = re.findall(r'<td class="num">\s*(.*?)\s*</td>', grade_row, re.S)
    assert cells[:3] == ["2", "0", "2"]  # open, in review, unassigned (Frogner's case not counted)
    assert "1 passert" in grade_row and "9 dager" in grade_row and "row-breach" in html
    assert re.search(r'card-number">3<', html)  # open cases in kari's scope
    assert re.search(r'card-alert"[^>]*>\s*<span class="card-number">1<', html)
    assert "<td>5 dager</td>" in grade_row  # the SLA (120 hours) from the process definition, in days
    # The owner sees the whole process: both units.
    owner_html = env.client("eier").get("/").text
    assert re.search(r'card-number">4<', owner_html)


def test_queue_filters_search_sort_and_pages(review_env):
    env = review_env
    ids = {}
    ids["grade"] = env.nav_case(category="GRADE", nav_amount=1234.5, reference="K27-A-1").id
    ids["diff"] = env.nav_case(category="AMOUNT_DIFFERENCE", nav_amount=99.0, reference="K27-A-2",
                               message="Ødegård Åse: NAV har betalt 99,00 kr").id
    ids["old"] = env.nav_case(category="GRADE", nav_amount=5000.0, reference="K27-A-3").id
    with env.store.session() as s:
        s.execute(update(ExceptionCase).where(ExceptionCase.id == ids["diff"])
                  .values(search_text="Åse Ødegård RK-2026-00002"))
    _age(env, ids["old"], days=10, due_hours=120)
    kari = env.client("kari")
    get = lambda **p: _ids(kari.get("/saker", params=p).text)  # noqa: E731
    assert sorted(get()) == sorted(ids.values())
    assert sorted(get(kategori="GRADE")) == sorted([ids["grade"], ids["old"]])
    assert get(frist="brudd") == [ids["old"]]
    assert get(alder="7") == [ids["old"]]
    # Search: name with æøå in any case, reference, amount typed the Norwegian way, case number.
    assert get(sok="ødegård") == [ids["diff"]]
    assert get(sok="ØDEGÅRD åse") == [ids["diff"]]
    assert get(sok="K27-A-3") == [ids["old"]]
    assert get(sok="1 234,50") == [ids["grade"]]
    assert get(sok="1234.5") == [ids["grade"]]
    assert get(sok=f"sak {ids['diff']}") == [ids["diff"]] == get(sok=f"#{ids['diff']}")
    assert ids["diff"] in get(sok=str(ids["diff"]))  # bare digits: case number, amount or text
    assert get(sok="finnes-ikke") == []
    assert get(sok="100%_") == []  # LIKE wildcards are literal
    # Sort by amount both ways; by due date (default) the breached one first.
    assert get(sorter="belop") == [ids["diff"], ids["grade"], ids["old"]]
    assert get(sorter="belop", retning="desc") == [ids["old"], ids["grade"], ids["diff"]]
    assert get()[0] == ids["old"]
    page = kari.get("/saker", params={"sorter": "belop"}).text
    assert 'aria-sort="ascending"' in page
    # Claim one: "Mine saker" and "Ingen" filters; status filter.
    token = csrf_of(page)
    kari.post(f"/saker/{ids['grade']}/ta", data={"csrf_token": token})
    assert get(saksbehandler="meg") == [ids["grade"]]
    assert sorted(get(saksbehandler="ingen")) == sorted([ids["diff"], ids["old"]])
    assert get(status="under-behandling") == [ids["grade"]]
    assert get(status="loste") == []
    # Paging: 10 per page.
    for n in range(25):
        env.nav_case(reference=f"K27-P-{n:02d}")
    first = kari.get("/saker", params={"per_side": "10"}).text
    assert "28</strong> saker, side 1 av 3" in first
    third = _ids(kari.get("/saker", params={"per_side": "10", "side": "3"}).text)
    assert len(third) == 8
    assert len(set(_ids(first)) | set(third)) == 18
    assert _ids(kari.get("/saker", params={"per_side": "10", "side": "99"}).text) == third  # clamped


def test_claim_so_two_people_do_not_work_the_same_case(review_env):
    env = review_env
    case = env.nav_case()
    kari, admin = env.client("kari"), env.client("admin")
    r = kari.post(f"/saker/{case.id}/ta", data={"csrf_token": env.csrf(kari)})
    assert r.status_code == 303
    fresh = env.store.get_case(case.id)
    assert (fresh.assignee, fresh.status) == ("kari", "in_review")
    # The second person is told who has it, and cannot decide it.
    r = admin.post(f"/saker/{case.id}/ta", data={"csrf_token": env.csrf(admin)}, follow_redirects=True)
    assert "allerede tatt av Kari Nordmann" in r.text
    page = admin.get(f"/saker/{case.id}").text
    assert "Saken er tatt av <strong>Kari Nordmann</strong>" in page and "Lagre beslutning" not in page
    r = admin.post(f"/saker/{case.id}/beslutning", data={"csrf_token": csrf_of(page), "action": "dismiss",
                                                          "comment": "feil"})
    assert r.status_code == 303 and r.headers["location"].endswith("#feil")
    assert "tatt av Kari Nordmann" in admin.get(r.headers["location"]).text
    assert env.store.get_case(case.id).status == "in_review"
    # Kari gives it back; now anyone can take it.
    r = kari.post(f"/saker/{case.id}/legg-tilbake", data={"csrf_token": env.csrf(kari)})
    assert env.store.get_case(case.id).assignee is None
    actions = [e.action for e in env.store.audit_trail(case_id=case.id)]
    assert actions.count("case.claimed") == 1 and "case.released" in actions


def _kontroll(html: str) -> str:
    import re as _re

    m = _re.search(r'name="kontroll" value="([^"]+)"', html)
    assert m, "no kontroll in the preview"
    return m.group(1)


def test_bulk_actions_on_a_selection(review_env):
    env = review_env
    a = env.nav_case(reference="B-1")
    b = env.nav_case(reference="B-2", nav_amount=777.0)
    taken = env.nav_case(reference="B-3")
    dup = env.nav_case(reference="B-4", category="DUPLICATE")  # approve_nav_amount not allowed here
    env.store.assign(taken.id, "ola", "ola")
    kari = env.client("kari")
    token = env.csrf(kari, "/saker")
    # Without a comment nothing happens.
    r = kari.post("/saker/handling", data={"csrf_token": token, "ids": [a.id, b.id], "action": "write_off",
                                           "comment": " "}, follow_redirects=True)
    assert "Skriv en kommentar" in r.text and env.store.get_case(a.id).status == "open"
    # All or nothing: the action must fit every selected case. A refusal comes back (PRG) on the
    # selection's own page, with the reasons in the error summary.
    r = kari.post("/saker/handling", data={"csrf_token": token, "ids": [a.id, b.id, taken.id, dup.id],
                                           "action": "approve_nav_amount", "comment": "Kontrollert mot NAV",
                                           "tilbake": "/saker?kategori=GRADE"})
    assert r.status_code == 303 and r.headers["location"].startswith("/saker/valgte?")
    page = kari.get(r.headers["location"]).text
    assert "Ingen saker er lagret" in page
    assert f"tatt av Ola Nordmann: sak {taken.id}" in page and f"handlingen passer ikke for saken: sak {dup.id}" in page
    assert env.store.get_case(a.id).status == "open"
    # A posting action is previewed (count, total) on a GET page, and stored on confirm.
    r = kari.post("/saker/handling", data={"csrf_token": token, "ids": [a.id, b.id], "action": "approve_nav_amount",
                                           "comment": "Kontrollert mot NAV", "tilbake": "/saker?kategori=GRADE"})
    assert r.status_code == 303 and r.headers["location"] == "/saker/valgte/forhandsvisning"
    preview = kari.get(r.headers["location"])
    assert preview.status_code == 200 and "på 2 saker, til sammen 26\u00a0165,00\u00a0kr" in preview.text
    r = kari.post("/saker/handling", data={"csrf_token": token, "ids": f"{a.id},{b.id}", "action": "approve_nav_amount",
                                           "comment": "Kontrollert mot NAV", "tilbake": "/saker?kategori=GRADE",
                                           "bekreft": "ja", "kontroll": _kontroll(preview.text)})
    assert r.status_code == 303 and r.headers["location"] == "/saker?kategori=GRADE"
    assert "2 saker er lagret" in kari.get(r.headers["location"]).text
    for case, amount in ((a, 25388.0), (b, 777.0)):
        fresh = env.store.get_case(case.id)
        assert fresh.status == "resolved" and fresh.decided_by == "kari"
        assert fresh.decision == {"action": "approve_nav_amount", "comment": "Kontrollert mot NAV", "amount": amount}
    assert env.store.get_case(taken.id).status == "in_review" and env.store.get_case(dup.id).status == "open"
    assert {c.id for c in env.store.pending_decisions(NAV)} == {a.id, b.id}
    # Bulk claim.
    kari.post("/saker/handling", data={"csrf_token": token, "ids": [dup.id], "action": "claim"})
    assert env.store.get_case(dup.id).assignee == "kari"
    # The open-redirect guard also covers the bulk form's return address.
    r = kari.post("/saker/handling", data={"csrf_token": token, "ids": [dup.id], "action": "release",
                                           "tilbake": "https://evil.example/"})
    assert r.headers["location"] == "/saker"


def test_export_has_norwegian_headers_formats_and_neutralized_formulas(review_env):
    env = review_env
    plain = env.nav_case(nav_amount=1234.5, reference="EXP-1")
    evil = env.nav_case(nav_amount=-50.0, reference="=HYPERLINK(\"http://x\")",
                        message="+SUM(A1:A9) fra rapporten")
    env.store.open_case(ATTACHMENTS, "@faktura.pdf", NewCase("VOUCHER_NOT_FOUND", "-1+2 finnes ikke",
                                                             org_unit="Bydel Alna", sla_hours=48))
    _age(env, plain.id, days=10, due_hours=120)
    admin = env.client("admin")
    r = admin.get("/saker/eksport.xlsx", params={"sorter": "sak"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    assert re.match(r'attachment; filename="avvik-\d{4}-\d{2}-\d{2}\.xlsx"', r.headers["content-disposition"])
    wb = load_workbook(BytesIO(r.content))
    ws = wb["Avvik"]
    headers = [c.value for c in ws[1]]
    assert headers[:10] == ["Saksnr.", "Prosess", "Kategori", "Type", "Navn", "Fødselsnummer (maskert)", "Gjelder",
                            "Referanse", "Melding", "Beløp"]
    assert {"Org.enhet", "Saksbehandler", "Status", "Opprettet", "Frist", "Fristbrudd"} <= set(headers)
    rows = {r[0].value: r for r in ws.iter_rows(min_row=2)}
    col = {h: i for i, h in enumerate(headers)}
    row = rows[plain.id]
    assert row[col["Prosess"]].value == "Automatisk utligning av sykepengerefusjon fra NAV"
    assert row[col["Kategori"]].value.startswith("Gradert sykmelding") and row[col["Kategorikode"]].value == "GRADE"
    assert row[col["Beløp"]].value == 1234.5 and row[col["Beløp"]].number_format == "#,##0.00"
    opened = row[col["Opprettet"]]
    assert isinstance(opened.value, datetime) and opened.number_format == "dd.mm.yyyy"
    assert row[col["Fristbrudd"]].value == "Ja" and row[col["Status"]].value == "Åpen"
    assert row[col["Alder (dager)"]].value == 10
    bad = rows[evil.id]
    assert bad[col["Referanse"]].value == "'=HYPERLINK(\"http://x\")" and bad[col["Referanse"]].data_type == "s"
    assert bad[col["Melding"]].value.startswith("'+SUM")
    assert bad[col["Beløp"]].value == -50.0  # a negative number stays a number
    third = [r for r in rows.values() if r[col["Kategorikode"]].value == "VOUCHER_NOT_FOUND"][0]
    assert third[col["Referanse"]].value == "'@faktura.pdf" and third[col["Melding"]].value.startswith("'-1+2")
    for r in ws.iter_rows(min_row=2):
        for cell in r:
            assert cell.data_type != "f", cell.coordinate  # no formula anywhere
    info = dict(wb["Utvalg"].iter_rows(min_row=2, values_only=True))
    assert info["Antall saker"] == "3" and info["Eksportert av"] == "Ada Admin"
    assert any(e.action == "cases.exported" and e.actor == "admin" for e in env.store.audit_trail())
    # The export is the filtered list.
    r = admin.get("/saker/eksport.xlsx", params={"prosess": NAV, "sok": "EXP-1"})
    ws = load_workbook(BytesIO(r.content))["Avvik"]
    assert [c.value for c in next(ws.iter_rows(min_row=2, max_row=2))][0] == plain.id and ws.max_row == 2
