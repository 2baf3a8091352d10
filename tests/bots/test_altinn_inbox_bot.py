"""The Altinn inbox bot end to end in real Chromium against the NAV/Altinn stand-in."""

from __future__ import annotations

import zipfile
from datetime import date

import pytest
from pydantic import SecretStr

from bots.altinn_inbox import AltinnBotError, AltinnInbox, fetch_new_reports
from connectors.identifiers import FNR_PATTERN, valid_fnr
from sandbox.nav.altinn import Sessions

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("bots_share_chromium")]  # one Chromium per module


def bot_settings(sb, timeout_ms: int = 10_000, **nav_changes):
    settings = sb.settings()
    settings.browser = settings.browser.model_copy(update={"timeout_ms": timeout_ms})
    if nav_changes:
        settings.nav = settings.nav.model_copy(update=nav_changes)
    return settings


def unread_in_inbox(sb) -> str:
    page = sb.login_http().get(f"{sb.altinn_url}/innboks", timeout=10).text
    return next(line.strip() for line in page.splitlines() if "uleste" in line)


def test_fetch_new_reports_walks_every_page_and_downloads_exact_bytes(nav_sandbox, tmp_path):
    target = tmp_path / "rapporter"
    fetched = fetch_new_reports(bot_settings(nav_sandbox), target, {"1001", "1002", "1015"},
                                evidence_dir=tmp_path / "evidence")

    expected = [str(i) for i in range(1003, 1024) if i != 1015]  # all three pages, ascending
    assert [report_id for report_id, _ in fetched] == expected
    for report_id, path in fetched:
        assert path.parent == target
        assert path.read_bytes() == nav_sandbox.csv_bytes(report_id)
    assert fetched[0][1].name == "1003_974600013_ref-arbg_2025-03-03.csv"
    assert sorted(p.name for p in target.iterdir()) == sorted(p.name for _, p in fetched)
    assert not (tmp_path / "evidence").exists()  # nothing failed, nothing kept
    # what the inbox now shows a person: the opened messages are read
    assert unread_in_inbox(nav_sandbox).startswith("<p id=\"antall\">23 meldinger, 3 uleste.")


def test_nothing_new_downloads_nothing(nav_sandbox, tmp_path):
    everything = {m["id"] for m in nav_sandbox.reports}
    assert fetch_new_reports(bot_settings(nav_sandbox), tmp_path / "out", everything) == []


def test_list_reports_reads_date_orgnr_and_status_in_the_alternate_layout(nav_sandbox, tmp_path):
    nav_sandbox.set_faults(alternate_layout=True)
    with AltinnInbox(bot_settings(nav_sandbox), evidence_dir=tmp_path / "ev") as inbox:
        messages = inbox.list_reports()
        assert len(messages) == 23
        by_id = {m.report_id: m for m in messages}
        assert by_id["1002"].orgnr == "987654325"  # shown as "987 654 325" in this layout
        assert by_id["1002"].received == date(2025, 2, 4)
        assert by_id["1023"].received == date(2026, 1, 2)
        assert all(m.unread for m in messages)
        assert by_id["1001"].title == "Oppgjørsrapport arbeidsgiver – refusjoner fra Nav"

        path = inbox.download(by_id["1002"], tmp_path / "dl")
        assert path.name == "1002_987654325_ref-arbg_2025-02-03.csv"
        assert path.read_bytes() == nav_sandbox.csv_bytes("1002")
        # the list now knows it was read
        again = {m.report_id: m for m in inbox.list_reports({"1001"})}
        assert "1001" not in again and not again["1002"].unread and again["1003"].unread


def test_reports_added_while_the_bot_is_logged_in_are_found(nav_sandbox, tmp_path):
    from tests.fixtures.nav_sandbox import sample_reports

    extra = sample_reports(count=2, first_id=1024)
    with AltinnInbox(bot_settings(nav_sandbox), evidence_dir=tmp_path / "ev") as inbox:
        assert len(inbox.list_reports()) == 23
        nav_sandbox.add_reports(extra)
        new = inbox.list_reports({m["id"] for m in nav_sandbox.reports[:23]})
        assert sorted(m.report_id for m in new) == ["1024", "1025"]


def test_bot_logs_in_again_when_the_session_is_lost(nav_sandbox, tmp_path):
    with AltinnInbox(bot_settings(nav_sandbox), evidence_dir=tmp_path / "ev") as inbox:
        messages = inbox.list_reports()
        nav_sandbox.app.state.altinn_sessions = Sessions()  # the server forgot every session
        path = inbox.download(messages[-1], tmp_path / "dl")
        assert path.read_bytes() == nav_sandbox.csv_bytes(messages[-1].report_id)


def test_wrong_password_fails_with_screenshot_and_trace(nav_sandbox, tmp_path):
    evidence = tmp_path / "evidence"
    settings = bot_settings(nav_sandbox, altinn_password=SecretStr("feil-passord"))
    with pytest.raises(AltinnBotError) as caught, AltinnInbox(settings, evidence_dir=evidence):
        pytest.fail("should not get past the log-in")
    error = caught.value
    assert error.step == "innlogging"
    assert "Innlogging i Altinn ble avvist: Feil brukernavn eller passord" in str(error)
    assert "feil-passord" not in str(error)
    assert error.screenshot.parent == evidence and error.screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with zipfile.ZipFile(error.trace) as trace:
        assert any(name.endswith(".trace") for name in trace.namelist())
    assert str(error.screenshot) in str(error) and str(error.trace) in str(error)


def test_wrong_one_time_code_secret_is_a_clear_error(nav_sandbox, tmp_path):
    settings = bot_settings(nav_sandbox, altinn_otp_secret=SecretStr("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"))
    with pytest.raises(AltinnBotError, match="Engangskoden ble avvist: Feil engangskode"), \
            AltinnInbox(settings, evidence_dir=tmp_path / "ev"):
        pass


def test_server_errors_mid_run_leave_evidence_and_name_the_step(nav_sandbox, tmp_path):
    evidence = tmp_path / "evidence"
    with pytest.raises(AltinnBotError) as caught, \
            AltinnInbox(bot_settings(nav_sandbox, timeout_ms=3000), evidence_dir=evidence) as inbox:
        nav_sandbox.set_faults(error_rate=1.0)
        inbox.list_reports()
    error = caught.value
    assert error.step == "innboks"
    assert "Kunne ikke lese innboksen i Altinn: Altinn svarte HTTP 503" in str(error)
    assert error.screenshot.exists() and error.trace.exists()
    assert sorted(p.suffix for p in evidence.iterdir()) == [".png", ".zip"]


def test_download_failure_keeps_evidence(nav_sandbox, tmp_path):
    evidence = tmp_path / "evidence"
    with AltinnInbox(bot_settings(nav_sandbox, timeout_ms=3000), evidence_dir=evidence) as inbox:
        message = inbox.list_reports()[0]
        (nav_sandbox.data_dir / "sandbox" / "nav" / "reports" / f"{message.report_id}.csv").unlink()
        with pytest.raises(AltinnBotError) as caught:
            inbox.download(message, tmp_path / "dl")
    assert caught.value.step == "nedlasting"
    assert f"Kunne ikke laste ned rapport {message.report_id}" in str(caught.value)
    assert caught.value.screenshot.exists() and caught.value.trace.exists()


def test_failure_evidence_after_a_download_holds_no_fnr(nav_sandbox, tmp_path):
    # A failing session's trace covers the report it downloaded earlier (a CSV full of fnr). The
    # evidence is attached to a case staff open, so it must not carry the report: Playwright keeps
    # downloads out of traces; this guards that (and the pages themselves show no fnr).
    evidence = tmp_path / "evidence"
    with pytest.raises(AltinnBotError) as caught, \
            AltinnInbox(bot_settings(nav_sandbox, timeout_ms=3000), evidence_dir=evidence) as inbox:
        message = inbox.list_reports()[0]
        downloaded = inbox.download(message, tmp_path / "dl").read_bytes().decode("iso-8859-1")
        fnrs = {m.group(0) for m in FNR_PATTERN.finditer(downloaded) if valid_fnr(m.group(0))}
        assert fnrs, "the report should hold fnr for this test to mean anything"
        nav_sandbox.set_faults(error_rate=1.0)
        inbox.list_reports()
    with zipfile.ZipFile(caught.value.trace) as trace:
        assert trace.testzip() is None
        names = trace.namelist()
        assert any(name.endswith(".trace") for name in names)
        contents = b"".join(trace.read(name) for name in names).decode("latin-1")
    assert [f for f in fnrs if f in contents] == []
    assert [m.group(0) for m in FNR_PATTERN.finditer(contents) if valid_fnr(m.group(0))] == []
