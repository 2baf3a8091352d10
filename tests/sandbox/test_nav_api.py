"""NAV settlement-report API stand-in, over real HTTP: auth, search, polling, content, archive, faults."""

from __future__ import annotations

import io
import json
import time
from datetime import UTC, date, datetime

import pytest
import requests

from config.settings import FaultSettings
from sandbox.nav.app import create_app
from sandbox.server import start_in_thread
from tests.fixtures.nav_sandbox import k27_bytes, k27_line, start_nav_sandbox

FIELDS = {"id", "orgnr", "orgNavn", "type", "datoValutert", "bankkonto", "opprettet", "arkivert"}


def search(sb, body, **kwargs) -> requests.Response:
    return requests.post(sb.api_url, json=body, headers=sb.auth, timeout=10, **kwargs)


def content(sb, report_id, accept="text/csv") -> requests.Response:
    return requests.get(f"{sb.api_url}/{report_id}/innhold", headers={**sb.auth, "Accept": accept}, timeout=10)


def new_report(report_id: str, dato: date, orgnr: str = "974600013") -> tuple[dict, bytes]:
    line = k27_line(orgnr=orgnr, bedriftsnummer="933001547", ytelse="4", fnr="01418010181",
                    fra=date(2026, 10, 1), til=date(2026, 10, 31), konto="02470305404",
                    navn="ØSTBØ ÅSMUND", ore=5_077_60, maksdato=date(2027, 3, 15))
    meta = {"id": report_id, "orgnr": orgnr, "orgNavn": "Sandvik kommune", "type": "ref-arbg",
            "datoValutert": dato.isoformat(), "bankkonto": "02470305404",
            "opprettet": datetime.now(UTC).isoformat(timespec="seconds"), "arkivert": False}
    return meta, k27_bytes([line])


# -- authentication --------------------------------------------------------------------------------
def test_every_endpoint_demands_the_bearer_token(nav_sandbox):
    calls = [("POST", ""), ("GET", "/1001"), ("GET", "/1001/innhold"), ("PUT", "/1001/arkiver")]
    for method, path in calls:
        missing = requests.request(method, nav_sandbox.api_url + path, json={}, timeout=10)
        assert missing.status_code == 401, (method, path)
        assert missing.headers["WWW-Authenticate"] == 'Bearer realm="oppgjorsrapporter"'
        assert missing.json()["feilmelding"] == "Mangler Bearer-token"

        wrong = requests.request(method, nav_sandbox.api_url + path, json={}, timeout=10,
                                 headers={"Authorization": "Bearer not-the-token"})
        assert wrong.status_code == 401
        assert 'error="invalid_token"' in wrong.headers["WWW-Authenticate"]

    basic = requests.post(nav_sandbox.api_url, json={}, auth=("hr-robot", nav_sandbox.token), timeout=10)
    assert basic.status_code == 401  # the token in the wrong scheme is not accepted
    # archiving without a token changed nothing
    assert search(nav_sandbox, {"aar": 2025}).json()[0]["arkivert"] is None


# -- search ----------------------------------------------------------------------------------------
def test_search_by_year_returns_nav_metadata_ascending(nav_sandbox):
    reply = search(nav_sandbox, {"orgnr": None, "aar": 2025, "rapportTyper": ["ref-arbg"]})
    assert reply.status_code == 200
    assert reply.headers["Content-Type"] == "application/json"
    reports = reply.json()
    expected = [m for m in nav_sandbox.reports if m["datoValutert"].startswith("2025")]
    assert [r["id"] for r in reports] == [int(m["id"]) for m in expected]
    assert len(reports) == 22
    first = reports[0]
    assert set(first) == FIELDS
    assert first == {"id": 1001, "orgnr": "974600013", "orgNavn": "Sandvik kommune", "type": "ref-arbg",
                     "datoValutert": "2025-02-03", "bankkonto": "02470305404",
                     "opprettet": "2025-02-04T06:00:00Z", "arkivert": None}
    assert reports[1]["orgNavn"] == "Øvre Ærøy helse og omsorg KF"  # æøå intact through JSON


def test_search_filters_by_orgnr_dates_and_type(nav_sandbox):
    by_org = search(nav_sandbox, {"orgnr": "987654325", "aar": 2025}).json()
    assert by_org and {r["orgnr"] for r in by_org} == {"987654325"}

    spring = search(nav_sandbox, {"fraDato": "2025-03-01", "tilDato": "2025-04-30"}).json()
    assert [r["datoValutert"] for r in spring] == ["2025-03-03", "2025-03-03", "2025-04-01", "2025-04-01"]

    from_only = search(nav_sandbox, {"fraDato": "2025-12-01"}).json()  # to the end of that year, like NAV
    assert [r["id"] for r in from_only] == [1021, 1022]

    assert search(nav_sandbox, {"aar": 2025, "rapportTyper": ["trekk-kred"]}).json() == []
    assert len(search(nav_sandbox, {"aar": 2025, "rapportTyper": ["K27"]}).json()) == 22  # NAV's alias
    assert search(nav_sandbox, {"aar": 2024}).json() == []


def test_search_without_period_covers_the_current_year(nav_sandbox):
    today = date.today()
    nav_sandbox.add_reports([new_report("1024", today)])
    ids = [r["id"] for r in search(nav_sandbox, {}).json()]
    expected = [int(m["id"]) for m in nav_sandbox.reports
                if date.fromisoformat(m["datoValutert"]).year == today.year
                and date.fromisoformat(m["datoValutert"]) <= today]
    assert ids == expected and 1024 in ids
    # an empty body is the same search
    empty = requests.post(nav_sandbox.api_url, data=b"", headers=nav_sandbox.auth, timeout=10)
    assert [r["id"] for r in empty.json()] == ids


def test_etter_id_polls_incrementally_and_sees_reports_added_while_running(nav_sandbox):
    everything = search(nav_sandbox, {"etterId": 0}).json()
    assert [r["id"] for r in everything] == list(range(1001, 1024))  # no date limit with etterId

    assert [r["id"] for r in search(nav_sandbox, {"etterId": 1020}).json()] == [1021, 1022, 1023]
    assert search(nav_sandbox, {"etterId": 1023}).json() == []

    nav_sandbox.add_reports([new_report("1024", date(2026, 11, 2)), new_report("1025", date(2026, 11, 2))])
    polled = search(nav_sandbox, {"etterId": "1023"}).json()  # a numeric string is accepted too
    assert [r["id"] for r in polled] == [1024, 1025]
    # etterId combined with a year narrows further
    assert search(nav_sandbox, {"etterId": 1010, "aar": 2025, "orgnr": "974600013"}).json()[0]["id"] == 1011


@pytest.mark.parametrize(("body", "message"), [
    ({"orgnr": "12345"}, "orgnr må være 9 siffer"),
    ({"fraDato": "01.02.2025"}, "fraDato må være en dato"),
    ({"fraDato": "2025-05-01", "tilDato": "2025-04-01"}, "er etter tilDato"),
    ({"rapportTyper": ["ref-ukjent"]}, "Ukjent rapporttype 'ref-ukjent'"),
    ({"etterId": "tusen"}, "etterId må være et heltall"),
    ({"aar": 2025, "inkluderArkiverte": "ja"}, "inkluderArkiverte må være true eller false"),
    ([1, 2], "JSON-objekt"),
])
def test_bad_search_is_400_naming_the_field(nav_sandbox, body, message):
    reply = search(nav_sandbox, body)
    assert reply.status_code == 400
    assert message in reply.json()["feilmelding"]


def test_invalid_json_is_400(nav_sandbox):
    reply = requests.post(nav_sandbox.api_url, data=b"{not json", timeout=10,
                          headers={**nav_sandbox.auth, "Content-Type": "application/json"})
    assert reply.status_code == 400
    assert reply.json()["feilmelding"] == "Forespørselen er ikke gyldig JSON"


# -- one report ------------------------------------------------------------------------------------
def test_metadata_and_404_for_unknown_ids(nav_sandbox):
    one = requests.get(f"{nav_sandbox.api_url}/1002", headers=nav_sandbox.auth, timeout=10)
    assert one.status_code == 200
    assert one.json()["orgNavn"] == "Øvre Ærøy helse og omsorg KF"
    assert set(one.json()) == FIELDS

    for method, path in [("GET", "/9999"), ("GET", "/abc"), ("GET", "/9999/innhold"), ("PUT", "/9999/arkiver")]:
        reply = requests.request(method, nav_sandbox.api_url + path, timeout=10,
                                 headers={**nav_sandbox.auth, "Accept": "text/csv"})
        assert reply.status_code == 404, (method, path)
        assert "Fant ingen rapport" in reply.json()["feilmelding"]


def test_csv_content_is_the_k27_file_byte_for_byte(nav_sandbox):
    reply = content(nav_sandbox, 1001)
    assert reply.status_code == 200
    assert reply.headers["Content-Type"] == "text/csv; charset=ISO-8859-1"
    assert reply.headers["Content-Disposition"] == 'attachment; filename="974600013_ref-arbg_2025-02-03.csv"'
    assert reply.content == nav_sandbox.csv_bytes("1001")

    raw = reply.content
    assert raw.endswith(b"\r\n") and raw.count(b"\n") == raw.count(b"\r\n")  # CRLF only, no bare LF
    text = raw.decode("iso-8859-1")
    lines = text.split("\r\n")[:-1]
    assert all(len(line.split(";")) == 12 for line in lines)
    assert not lines[0].startswith("8020;orgnr")  # no header row
    names = [line.split(";")[7] for line in lines]
    assert "ÆRLIGHET SØLVI ÅSE       " in names and all(len(n) == 25 for n in names)
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")  # really Latin-1, not UTF-8
    negative = next(line.split(";") for line in lines if line.split(";")[3] == "A")
    assert negative[5] == negative[8] == "00000000"
    assert negative[9] == "0000115400-"
    assert any(line.split(";")[3] == "H" for line in lines)


def test_content_negotiation_pdf_and_406(nav_sandbox):
    from pypdf import PdfReader

    pdf = content(nav_sandbox, 1002, accept="application/pdf")
    assert pdf.status_code == 200
    assert pdf.headers["Content-Type"] == "application/pdf"
    assert pdf.headers["Content-Disposition"].endswith('987654325_ref-arbg_2025-02-03.pdf"')
    text = PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    assert "Øvre Ærøy helse og omsorg KF" in text and "Sum utbetalt" in text

    preferred = content(nav_sandbox, 1001, accept="text/csv;q=0, application/pdf;q=0.5")
    assert preferred.headers["Content-Type"] == "application/pdf"
    for accept in ("*/*", "application/json", "text/*", ""):
        refused = content(nav_sandbox, 1001, accept=accept)
        assert refused.status_code == 406, accept
        assert "text/csv" in refused.json()["feilmelding"]


# -- archive ---------------------------------------------------------------------------------------
def test_archive_hides_from_search_and_survives_a_restart(nav_sandbox):
    reply = requests.put(f"{nav_sandbox.api_url}/1003/arkiver", headers=nav_sandbox.auth, timeout=10)
    assert reply.status_code == 200
    stamp = reply.json()["arkivert"]
    assert datetime.fromisoformat(stamp).date() == datetime.now(UTC).date()

    ids = [r["id"] for r in search(nav_sandbox, {"aar": 2025}).json()]
    assert 1003 not in ids and len(ids) == 21
    included = search(nav_sandbox, {"aar": 2025, "inkluderArkiverte": True}).json()
    assert next(r for r in included if r["id"] == 1003)["arkivert"] == stamp
    # content stays available after archiving
    assert content(nav_sandbox, 1003).content == nav_sandbox.csv_bytes("1003")

    # a fresh app on the same data folder (a restarted sandbox) still knows it
    again = start_in_thread(create_app(nav_sandbox.data_dir, nav=nav_sandbox.nav), name="nav2")
    try:
        meta = requests.get(f"{again.url}/api/rapport/v1/1003", headers=nav_sandbox.auth, timeout=10).json()
        assert meta["arkivert"] == stamp
    finally:
        again.stop()

    undo = requests.put(f"{nav_sandbox.api_url}/1003/arkiver?arkivert=false", headers=nav_sandbox.auth, timeout=10)
    assert undo.json()["arkivert"] is None
    assert 1003 in [r["id"] for r in search(nav_sandbox, {"aar": 2025}).json()]


def test_reports_archived_in_the_index_are_archived(tmp_path):
    meta, data = new_report("2001", date(2025, 6, 2))
    sb = start_nav_sandbox(tmp_path / "d", reports=[({**meta, "arkivert": True}, data)])
    try:
        assert search(sb, {"aar": 2025}).json() == []
        assert search(sb, {"aar": 2025, "inkluderArkiverte": True}).json()[0]["arkivert"]
    finally:
        sb.server.stop()


def test_half_written_index_keeps_the_last_good_one(nav_sandbox):
    assert len(search(nav_sandbox, {"etterId": 0}).json()) == 23
    index = nav_sandbox.data_dir / "sandbox" / "nav" / "reports" / "index.json"
    good = index.read_text(encoding="utf-8")
    index.write_text(good[: len(good) // 2], encoding="utf-8")  # a seed caught mid-write
    assert len(search(nav_sandbox, {"etterId": 0}).json()) == 23
    index.write_text(json.dumps(json.loads(good)[:5]), encoding="utf-8")
    assert len(search(nav_sandbox, {"etterId": 0}).json()) == 5


# -- fault knobs -----------------------------------------------------------------------------------
def test_injected_503_and_recovery(nav_sandbox):
    state = nav_sandbox.set_faults(error_rate=1.0)
    assert state["settings"]["error_rate"] == 1.0
    failed = search(nav_sandbox, {"aar": 2025})
    assert failed.status_code == 503
    assert content(nav_sandbox, 1001).status_code == 503
    assert requests.get(f"{nav_sandbox.altinn_url}/logg-inn", timeout=10).status_code == 503
    counters = requests.get(f"{nav_sandbox.url}/_admin/faults", timeout=10).json()
    assert counters["injected_errors"] == 3

    nav_sandbox.set_faults(error_rate=0)
    assert search(nav_sandbox, {"aar": 2025}).status_code == 200


def test_rate_limit_answers_429_with_retry_after(nav_sandbox):
    nav_sandbox.set_faults(rate_limit_per_second=2)
    codes = [search(nav_sandbox, {"etterId": 0}).status_code for _ in range(4)]
    assert codes[:2] == [200, 200] and 429 in codes[2:]
    limited = search(nav_sandbox, {"etterId": 0})
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "1"


def test_latency_knob_delays_api_answers(nav_sandbox):
    nav_sandbox.set_faults(latency_ms=400)
    started = time.monotonic()
    assert search(nav_sandbox, {"etterId": 1022}).status_code == 200
    assert time.monotonic() - started >= 0.4


def test_faults_from_settings_at_start(tmp_path):
    sb = start_nav_sandbox(tmp_path / "d", faults=FaultSettings(error_rate=1.0))
    try:
        assert search(sb, {}).status_code == 503
        # the admin endpoint is never faulted, so a test can always turn the knob back
        assert requests.get(f"{sb.url}/_admin/faults", timeout=10).status_code == 200
    finally:
        sb.server.stop()


def test_an_unseeded_data_folder_serves_nothing_until_the_seed_runs(tmp_path):
    sb = start_nav_sandbox(tmp_path / "d", reports=[])
    index = tmp_path / "d" / "sandbox" / "nav" / "reports" / "index.json"
    index.unlink()  # as before `rpa sandbox seed`
    try:
        assert search(sb, {"etterId": 0}).json() == []
        assert "Du har ingen meldinger." in sb.login_http().get(f"{sb.altinn_url}/innboks", timeout=10).text
        sb.add_reports([new_report("1", date(2026, 1, 2))])  # the seed runs while the app is up
        assert [r["id"] for r in search(sb, {"etterId": 0}).json()] == [1]
    finally:
        sb.server.stop()
