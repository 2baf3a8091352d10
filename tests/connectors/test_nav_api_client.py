"""The NAV report API client against the stand-in over real HTTP: polling, content, archive,
and the retry policy (4xx permanent, 429/5xx/timeouts transient, Retry-After honoured)."""

from __future__ import annotations

import contextlib

import pytest
import requests

from connectors.nav.api import (
    NavApiUnavailable,
    NavAuthError,
    NavReportClient,
    NavReportNotFound,
)


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def client(sb, **kw) -> NavReportClient:
    kw.setdefault("sleep", Sleeps())
    return NavReportClient(sb.nav.api_base_url, sb.token_source(), timeout=5, **kw)


def test_polling_with_etter_id_finds_every_report_once(nav_sandbox):
    c = client(nav_sandbox)
    first = c.poll_new("974600013", etter_id=0)
    ids = [m.id for m in first]
    assert ids == sorted(ids, key=int) and len(ids) == 12  # every report of this orgnr, ascending
    assert first[0].dato_valutert is not None and first[0].bankkonto == "02470305404"
    assert first[0].orgnr == "974600013" and first[0].arkivert is False
    assert c.poll_new("974600013", etter_id=ids[-1]) == []  # nothing new since the last id
    later = c.poll_new("974600013", etter_id=ids[5])
    assert [m.id for m in later] == ids[6:]


def test_fetch_csv_returns_the_bytes_nav_sends_and_archive_marks_it(nav_sandbox):
    c = client(nav_sandbox)
    data = c.fetch_csv("1001")
    assert data == nav_sandbox.csv_bytes("1001")
    assert b"\r\n" in data and "Å".encode("iso-8859-1") in data  # ISO-8859-1 bytes, untouched
    c.archive("1001")
    visible = [m.id for m in c.search("974600013", aar=2025)]
    assert "1001" not in visible  # archived reports drop out of the default search
    again = c.search("974600013", aar=2025, inkluder_arkiverte=True)
    assert next(m for m in again if m.id == "1001").arkivert is True


def test_a_wrong_token_is_a_permanent_auth_error_without_retries(nav_sandbox):
    sleeps = Sleeps()
    c = NavReportClient(nav_sandbox.nav.api_base_url, "feil-token", sleep=sleeps, max_attempts=4)
    with pytest.raises(NavAuthError) as err:
        c.search("974600013", etter_id=0)
    assert err.value.status == 401 and c.attempts_made == 1 and sleeps == []
    assert "feil-token" not in str(err.value)


def test_an_unknown_report_is_not_found(nav_sandbox):
    c = client(nav_sandbox)
    with pytest.raises(NavReportNotFound) as err:
        c.fetch_csv("999999")
    assert "Fant ingen rapport med id 999999" in str(err.value)
    assert c.attempts_made == 1


def test_server_errors_are_retried_with_backoff_then_give_up(nav_sandbox):
    nav_sandbox.set_faults(error_rate=1.0)
    sleeps = Sleeps()
    c = client(nav_sandbox, sleep=sleeps, max_attempts=3, backoff_seconds=0.5, backoff_factor=2)
    with pytest.raises(NavApiUnavailable) as err:
        c.fetch_csv("1001")
    assert c.attempts_made == 3 and len(sleeps) == 2
    assert 0.45 <= sleeps[0] <= 0.55 and 0.9 <= sleeps[1] <= 1.1  # exponential, +-10 % jitter
    assert "HTTP 503" in str(err.value) and "etter 3 forsøk" in str(err.value)
    nav_sandbox.set_faults(error_rate=0.0)
    assert c.fetch_csv("1001") == nav_sandbox.csv_bytes("1001")


def test_rate_limit_429_honours_retry_after(nav_sandbox):
    nav_sandbox.set_faults(rate_limit_per_second=1)
    sleeps = Sleeps()
    c = client(nav_sandbox, sleep=sleeps, max_attempts=2)
    requests.post(nav_sandbox.api_url, json={}, headers=nav_sandbox.auth, timeout=5)  # spend this second's quota
    with contextlib.suppress(NavApiUnavailable):  # the fake sleep does not wait: attempt 2 may be limited too
        c.fetch_csv("1001")
    assert sleeps and sleeps[0] == 1.0  # the server's Retry-After: 1, not our own backoff


def test_timeouts_are_transient(nav_sandbox):
    nav_sandbox.set_faults(latency_ms=400)
    sleeps = Sleeps()
    c = NavReportClient(nav_sandbox.nav.api_base_url, nav_sandbox.token_source(), timeout=0.1, max_attempts=2,
                        sleep=sleeps)
    with pytest.raises(NavApiUnavailable, match="ReadTimeout"):
        c.fetch_csv("1001")
    assert c.attempts_made == 2 and len(sleeps) == 1


def test_an_injected_session_is_used(nav_sandbox):
    session = requests.Session()
    seen = []
    session.hooks["response"].append(lambda r, *a, **k: seen.append(r.request.method))
    c = NavReportClient(nav_sandbox.nav.api_base_url, nav_sandbox.token_source(), session=session)
    c.search("974600013", aar=2025)
    assert seen == ["POST"]
