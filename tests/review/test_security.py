"""Security of the review app: sessions on every route, scope on every case access, CSRF on
every form, lock-out, no fnr in clear text anywhere unless a permitted role reveals it."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from io import BytesIO

from fastapi.routing import APIRoute
from sqlalchemy import select, update
from starlette.routing import Mount

from tests.fixtures.review import ATTACHMENTS, FNR_A, NAV, PASSWORD, csrf_of, synthetic_fnr
from workqueue.models import AuditEvent, ExceptionCase, ReviewSession, User
from workqueue.store import NewCase, utcnow

PUBLIC = {"/login", "/helse"}
FNR_SHAPE = re.compile(r"(?<!\d)\d{11}(?!\d)")


def _walk(routes):
    for route in routes:
        included = getattr(route, "original_router", None)  # FastAPI >= 0.150 wraps included routers
        if included is not None:
            yield from _walk(included.routes)
        else:
            yield route


def _routes(app):
    """Every (method, path template) the app serves, plus mounts."""
    out, mounts = [], []
    for route in _walk(app.routes):
        if isinstance(route, APIRoute):
            for method in sorted(route.methods):
                out.append((method, route.path))
        elif isinstance(route, Mount):
            mounts.append(route.path)
    return out, mounts


def _fill(path: str, case_id: int, attachment_id: int) -> str:
    return (path.replace("{case_id:int}", str(case_id)).replace("{case_id}", str(case_id))
            .replace("{attachment_id:int}", str(attachment_id)).replace("{username}", "kari"))


def test_every_route_redirects_to_login_without_a_session(review_env_any):
    env = review_env_any
    case = env.nav_case(attachments=[("a.png", "image/png", b"\x89PNG")])
    att = env.store.case_attachments(case.id)[0]
    routes, mounts = _routes(env.app)
    assert len(routes) >= 18, routes  # the enumeration must see the app's routes
    assert mounts == ["/static"]  # the style sheet and script: no data, needed by the login page
    c = env.client()
    checked = 0
    for method, template in routes:
        path = _fill(template, case.id, att.id)
        r = c.request(method, path, data={"csrf_token": "x"} if method == "POST" else None)
        if template in PUBLIC:
            assert r.status_code in (200, 303), (method, path, r.status_code)
            assert r.status_code == 200 or r.headers["location"] == "/login", (method, path)  # refused: PRG
            continue
        assert r.status_code == 303, (method, path, r.status_code)
        assert r.headers["location"].startswith("/login"), (method, path, r.headers["location"])
        checked += 1
    assert checked >= 16
    # Paths the app does not know are no way around it either.
    for path in ("/finnes-ikke", "/saker/999999", "/docs", "/openapi.json"):
        r = c.get(path)
        assert r.status_code == 303 and r.headers["location"].startswith("/login"), path
    # Nothing changed: the case is still open, unassigned.
    fresh = env.store.get_case(case.id)
    assert (fresh.status, fresh.assignee) == ("open", None)
    assert c.get("/helse").json() == {"status": "ok"}


def test_reviewer_of_unit_a_gets_404_for_a_case_of_unit_b(review_env_any):
    env = review_env_any
    own = env.nav_case(org_unit="Bydel Alna")
    other = env.nav_case(org_unit="Bydel Frogner", attachments=[("x.png", "image/png", b"\x89PNG")],
                         reference="K27-FROGNER-1")
    att = env.store.case_attachments(other.id)[0]
    kari = env.client("kari")  # Bydel Alna
    token = env.csrf(kari)
    assert kari.get(f"/saker/{own.id}").status_code == 200
    assert kari.get(f"/saker/{other.id}").status_code == 404
    assert "Fant ikke siden" in kari.get(f"/saker/{other.id}").text
    assert kari.get(f"/saker/{other.id}/vedlegg/{att.id}").status_code == 404
    assert kari.get(f"/saker/{own.id}/vedlegg/{att.id}").status_code == 404  # someone else's file via own case
    for action, data in [("ta", {}), ("legg-tilbake", {}), ("vis-fnr", {}), ("gjenapne", {"comment": "x"}),
                         ("tildel", {"assignee": "kari", "comment": "x"}),
                         ("beslutning", {"action": "dismiss", "comment": "x"})]:
        r = kari.post(f"/saker/{other.id}/{action}", data={"csrf_token": token, **data})
        assert r.status_code == 404, (action, r.status_code)
    # Not in the list, not in a search, not in the export, and a bulk action skips it.
    listing = kari.get("/saker", params={"status": "alle"}).text
    assert f"/saker/{other.id}" not in listing and "K27-FROGNER-1" not in listing
    assert "K27-FROGNER-1" not in kari.get("/saker", params={"sok": "FROGNER"}).text
    from openpyxl import load_workbook

    wb = load_workbook(BytesIO(kari.get("/saker/eksport.xlsx", params={"status": "alle"}).content))
    assert [r[0] for r in wb["Avvik"].iter_rows(min_row=2, values_only=True)] == [own.id]
    r = kari.post("/saker/handling", data={"csrf_token": token, "ids": [other.id], "action": "dismiss",
                                           "comment": "prøver"})
    assert r.status_code == 303
    fresh = env.store.get_case(other.id)
    assert (fresh.status, fresh.assignee, fresh.decision) == ("open", None, None)
    # The reviewer of unit B does see it; a NAV-only reviewer does not see other processes in her unit.
    assert env.client("ola").get(f"/saker/{other.id}").status_code == 200
    vehicle = env.store.open_case("vehicle-data-collection", "EL12345",
                                  NewCase("NOT_FOUND", "EL 12345 finnes ikke", org_unit="Bydel Alna"))
    assert kari.get(f"/saker/{vehicle.id}").status_code == 404


def test_form_post_without_a_valid_csrf_token_is_refused(review_env_any):
    env = review_env_any
    case = env.nav_case()
    admin = env.client("admin")
    good = env.csrf(admin)
    other_session_token = env.csrf(env.client("kari"))
    routes, _ = _routes(env.app)
    posts = [p for m, p in routes if m == "POST" and p != "/login"]
    assert {"/logout", "/saker/handling", "/saker/{case_id:int}/beslutning", "/saker/{case_id:int}/vis-fnr",
            "/brukere"} <= set(posts)
    for template in posts:
        path = _fill(template, case.id, 1)
        form = {"action": "dismiss", "comment": "CSRF", "ids": [case.id], "assignee": "admin",
                "username": "mallory", "role": "admin", "password": "x" * 20}
        for token in (None, "", "forfalsket", other_session_token):
            data = dict(form) if token is None else {**form, "csrf_token": token}
            r = admin.post(path, data=data)
            assert r.status_code == 403, (template, token, r.status_code)
            assert "Skjemaet ble avvist" in r.text
    fresh = env.store.get_case(case.id)
    assert (fresh.status, fresh.assignee) == ("open", None)
    with env.store.session() as s:
        assert s.scalar(select(User).where(User.username == "mallory")) is None
    assert admin.get("/").status_code == 200  # the refused logout did not log out
    # The same request with the session's token goes through.
    r = admin.post(f"/saker/{case.id}/ta", data={"csrf_token": good})
    assert r.status_code == 303 and env.store.get_case(case.id).assignee == "admin"


def _refused(c, r, message: str) -> bool:
    """A refused log-in redirects to the log-in page (a GET: Back never re-posts the password),
    which shows the message once and keeps the user name."""
    assert r.status_code == 303 and r.headers["location"] == "/login", r.status_code
    page = c.get("/login").text
    assert message in page and 'value="' in page
    return message not in c.get("/login").text  # once: a reload is a clean log-in page


def test_login_form_needs_its_token(review_env):
    c = review_env.client()
    r = c.post("/login", data={"username": "kari", "password": PASSWORD, "csrf_token": "nope"})
    assert r.status_code == 303 and r.headers["location"] == "/login"  # POST-redirect-GET
    assert "utløpt" in c.get("/login").text and "rpa_session" not in c.cookies
    assert review_env.settings.review.max_failed_logins == 5


def test_five_wrong_passwords_lock_the_account(review_env_any):
    env = review_env_any
    logged_in = env.client("kari")
    assert logged_in.get("/").status_code == 200
    c = env.client()
    for i in range(4):
        r = env.login(c, "kari", "feil-passord")
        assert _refused(c, r, "Feil brukernavn eller passord"), i
    r = env.login(c, "kari", "feil-passord")  # the fifth
    assert _refused(c, r, "Kontoen er låst")
    r = env.login(c, "kari", PASSWORD)  # right password, still locked
    assert _refused(c, r, "Kontoen er låst")
    assert "rpa_session" not in c.cookies
    # The lock ends sessions already open.
    r = logged_in.get("/")
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    with env.store.session() as s:
        user = s.scalar(select(User).where(User.username == "kari"))
        assert user.locked_at is not None and user.failed_logins == 5
        actions = list(s.scalars(select(AuditEvent.action).where(AuditEvent.actor == "kari")))
    assert actions.count("user.login_failed") >= 5 and "user.locked" in actions
    # An admin unlocks on the Brukere page; then the right password works again.
    admin = env.client("admin")
    page = admin.get("/brukere")
    assert "Låst" in page.text
    r = admin.post("/brukere/kari/las-opp", data={"csrf_token": csrf_of(page.text)})
    assert r.status_code == 303
    assert env.login(env.client(), "kari", PASSWORD).status_code == 303


def test_wrong_passwords_that_do_not_reach_the_limit_are_forgotten_after_a_good_login(review_env):
    c = review_env.client()
    for _ in range(4):
        review_env.login(c, "ola", "feil-passord")
    assert review_env.login(c, "ola", PASSWORD).status_code == 303
    for _ in range(4):
        review_env.login(review_env.client(), "ola", "feil-passord")
    assert review_env.login(review_env.client(), "ola", PASSWORD).status_code == 303
    c = review_env.client()
    assert _refused(c, review_env.login(c, "ukjent", PASSWORD), "Feil brukernavn eller passord")


def test_session_cookie_logout_and_idle_expiry(review_env):
    env = review_env
    c = env.client("kari")
    cookie = c.cookies.get("rpa_session")
    raw = env.client()
    r = env.login(raw, "kari")
    header = r.headers["set-cookie"]
    assert "HttpOnly" in header and "samesite=lax" in header.lower() and "Path=/" in header
    assert raw.cookies.get("rpa_session") != cookie  # a fresh token per log-in (no fixation)
    # Logging out ends the session on the server: replaying the old cookie does not work.
    r = c.post("/logout", data={"csrf_token": env.csrf(c)})
    assert r.status_code == 303 and r.headers["location"] == "/login"
    replay = env.client()
    replay.cookies.set("rpa_session", cookie)
    assert replay.get("/").status_code == 303
    # Idle longer than session_minutes: expired.
    with env.store.session() as s:
        s.execute(update(ReviewSession).values(last_seen_at=utcnow() - timedelta(hours=9)))
    assert raw.get("/").status_code == 303


def test_secure_cookie_setting_uses_host_prefixed_secure_cookie(tmp_path, fast_password_hashing):
    from config.settings import DatabaseSettings, PathSettings, ReviewSettings, Settings
    from review.app import create_app
    from review.auth import add_user
    from tests.fixtures.review import starlette_test_client
    from workqueue.store import WorkQueueStore

    url = f"sqlite:///{tmp_path / 'w.db'}"
    store = WorkQueueStore(url)
    add_user(store, "kari", "reviewer", PASSWORD, org_units=["Bydel Alna"])
    app = create_app(Settings(database=DatabaseSettings(url=url), paths=PathSettings(data_dir=tmp_path),
                              review=ReviewSettings(secure_cookies=True)), store)
    with starlette_test_client()(app, base_url="https://testserver", follow_redirects=False) as c:
        page = c.get("/login")
        r = c.post("/login", data={"username": "kari", "password": PASSWORD, "csrf_token": csrf_of(page.text)})
        assert r.status_code == 303
        header = r.headers["set-cookie"]
        assert header.startswith("__Host-rpa_session=") and "Secure" in header and "HttpOnly" in header
        assert r.headers["strict-transport-security"].startswith("max-age=")
    app.state.review.reader.close()
    store.close()


def test_security_headers_and_no_open_redirect(review_env):
    c = review_env.client()
    page = c.get("/login")
    r = c.post("/login", data={"username": "kari", "password": PASSWORD, "csrf_token": csrf_of(page.text),
                               "neste": "//evil.example/phish"})
    assert r.headers["location"] == "/"
    r = c.get("/saker")
    assert r.headers["cache-control"] == "no-store"
    csp = r.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert r.headers["x-frame-options"] == "DENY" and r.headers["x-content-type-options"] == "nosniff"
    # A login link keeps where the user was going, masked if it held an fnr.
    anon = review_env.client()
    r = anon.get(f"/saker?sok={FNR_A}")
    assert FNR_A not in r.headers["location"] and r.headers["location"].startswith("/login?neste=")


def test_role_pages(review_env):
    kari, eier, admin = review_env.client("kari"), review_env.client("eier"), review_env.client("admin")
    for path in ("/logg", "/gevinst", "/brukere"):
        assert kari.get(path).status_code == 403, path
    assert eier.get("/logg").status_code == 200 and eier.get("/gevinst").status_code == 200
    assert eier.get("/brukere").status_code == 403
    for path in ("/logg", "/gevinst", "/brukere"):
        assert admin.get(path).status_code == 200, path
    r = kari.post("/brukere", data={"csrf_token": review_env.csrf(kari), "username": "ny", "role": "admin",
                                    "password": "x" * 20})
    assert r.status_code == 403


# ---------------------------------------------------------------------------- personal data

def _fnr_free(text: str, where: str, fnrs: list[str]) -> None:
    for f in fnrs:
        assert f not in text, f"clear fnr in {where}"


def test_no_fnr_in_clear_text_in_any_page_export_or_log(review_env, caplog):
    env = review_env
    caplog.set_level(logging.DEBUG)
    second = synthetic_fnr(3)
    # Defence in depth: a flow that forgot to mask still must not leak through the app.
    leaky = env.nav_case(message=f"Linje for {FNR_A} avviker", reference=f"REF-{second}",
                         attachments=[(f"brev-{FNR_A}.txt", "text/plain", f"Gjelder {FNR_A}\n".encode())])
    with env.store.session() as s:
        case = s.get(ExceptionCase, leaky.id)
        case.search_text = f"Kari Hansen {FNR_A}"
        ev = dict(case.evidence)
        ev["sections"] = ev["sections"] + [{"title": f"Rå linje {FNR_A}", "columns": ["Felt", "Verdi"],
                                            "rows": [["fnr", FNR_A], ["annen", second]]}]
        ev["data"] = {**ev["data"], "raw_fnr": FNR_A}
        case.evidence = ev
    sys_case = env.store.open_case(ATTACHMENTS, "f.pdf", NewCase("SYSTEM_ERROR", f"Feil for {second}",
                                                                  org_unit="Økonomiseksjonen"), kind="system")
    kari = env.client("kari")
    token = env.csrf(kari)
    r = kari.post(f"/saker/{leaky.id}/beslutning", data={
        "csrf_token": token, "action": "handled_manually", "comment": f"Ringte om {FNR_A}"})
    assert r.status_code == 303
    decided = env.store.get_case(leaky.id)
    assert FNR_A not in str(decided.decision)  # masked before it was stored
    other = env.nav_case()
    fnrs = [FNR_A, second]
    for username in ("kari", "eier", "admin", "okonomi"):
        c = env.client(username)
        pages = ["/", "/saker", "/saker?status=alle", f"/saker?sok={FNR_A}", "/saker?status=alle&sok=Hansen",
                 f"/saker/{leaky.id}", f"/saker/{other.id}", f"/saker/{sys_case.id}", "/logg", "/gevinst",
                 "/brukere", f"/logg?sak={leaky.id}"]
        for path in pages:
            r = c.get(path)
            if r.status_code == 303:  # a full fnr in the search: on to its keyed hash, the fnr masked
                _fnr_free(r.headers["location"], f"{username} {path} -> redirect", fnrs)
                r = c.get(r.headers["location"])
            assert r.status_code in (200, 403, 404), (username, path, r.status_code)
            _fnr_free(r.text, f"{username} {path}", fnrs)
        att = env.store.case_attachments(leaky.id)[0]
        r = c.get(f"/saker/{leaky.id}/vedlegg/{att.id}")
        if r.status_code == 200:
            _fnr_free(r.headers["content-disposition"], "attachment header", fnrs)
        export = c.get("/saker/eksport.xlsx", params={"status": "alle"})
        assert export.status_code == 200
        from openpyxl import load_workbook

        wb = load_workbook(BytesIO(export.content))
        for ws in wb.worksheets:
            for row in ws.iter_rows(values_only=True):
                _fnr_free(" ".join("" if v is None else str(v) for v in row), f"{username} export", fnrs)
    # Everything the app and the libraries under it logged (the test's own HTTP client, httpx, logs
    # the URLs it requests, search included: that is the browser side, not the server).
    server_side = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("httpx"))
    assert server_side, "nothing was logged: the check would be empty"
    _fnr_free(server_side, "logs", fnrs)
    # The audit trail itself holds no clear fnr either.
    for e in env.store.audit_trail():
        _fnr_free(str(e.details), f"audit {e.action}", fnrs)


def test_revealing_an_fnr_is_a_deliberate_audited_action_for_permitted_roles(review_env):
    env = review_env
    case = env.nav_case()
    kari = env.client("kari")
    page = kari.get(f"/saker/{case.id}")
    assert FNR_A not in page.text and FNR_A[:6] + "*****" in page.text
    assert "Vis fødselsnummer" in page.text
    assert kari.get(f"/saker/{case.id}/vis-fnr").status_code == 405  # never by a link (GET)
    r = kari.post(f"/saker/{case.id}/vis-fnr", data={"csrf_token": csrf_of(page.text)})
    assert r.status_code == 200 and FNR_A in r.text and "Visningen er logget" in r.text
    assert r.headers["cache-control"] == "no-store"
    assert FNR_A not in kari.get(f"/saker/{case.id}").text  # masked again on the next view
    events = [e for e in env.store.audit_trail(case_id=case.id) if e.action == "fnr.revealed"]
    assert [(e.actor, e.process_id) for e in events] == [("kari", NAV)]
    # The owner oversees the process and may not reveal (no button; a forged post is refused and logged).
    eier = env.client("eier")
    page = eier.get(f"/saker/{case.id}")
    assert page.status_code == 200 and "Vis fødselsnummer" not in page.text
    r = eier.post(f"/saker/{case.id}/vis-fnr", data={"csrf_token": csrf_of(page.text)})
    assert r.status_code == 403 and FNR_A not in r.text
    assert any(e.action == "fnr.reveal_refused" and e.actor == "eier" for e in env.store.audit_trail(case_id=case.id))
    # An admin may; and the owner reads in the audit trail who saw it.
    admin = env.client("admin")
    r = admin.post(f"/saker/{case.id}/vis-fnr", data={"csrf_token": env.csrf(admin)})
    assert r.status_code == 200 and FNR_A in r.text
    trail = eier.get("/logg", params={"hendelse": "fnr.revealed"}).text
    assert "Fødselsnummer vist" in trail and "Kari Nordmann" in trail and "Ada Admin" in trail and FNR_A not in trail


def test_access_log_lines_are_scrubbed():
    from uvicorn.logging import AccessFormatter

    from connectors.identifiers import FnrScrubFilter
    from review.app import uvicorn_log_config

    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:5000", "GET", f"/saker?sok={FNR_A}", "1.1", 200), None)
    assert FnrScrubFilter().filter(record)
    line = AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s').format(record)
    assert FNR_A not in line and FNR_A[:6] + "*****" in line
    config = uvicorn_log_config()
    assert all("scrub_fnr" in h["filters"] for h in config["handlers"].values())
