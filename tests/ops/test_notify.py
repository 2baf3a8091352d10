"""connectors.notify against a real local SMTP server and a real HTTP receiver."""

from __future__ import annotations

import pytest

from config.settings import AlertSettings
from connectors.notify import Alert, DeliveryError, NotConfigured, Notifier, SmtpSender, WebhookClient


def _alert(**kw) -> Alert:
    data = dict(kind="case_sla", process_id="nav-refund-offsetting",
                subject="[RPA] 2 avvikssaker over fristen: Refusjon æøå",
                body="Hei,\n\nSak 1 og sak 2 har passert fristen. Fnr 01018012345 skal aldri vises.",
                recipients=["refusjon@kommune.example"], key="cases:nav:1-2:2")
    data.update(kw)
    return Alert(**data)


def test_email_reaches_the_smtp_server_in_utf8_without_fnr(smtp_server):
    sender = SmtpSender(AlertSettings(smtp_host=smtp_server.host, smtp_port=smtp_server.port,
                                      mail_from="robot@kommune.example"))
    sender.send(_alert())
    [msg] = smtp_server.wait_for(1)
    assert msg["Subject"] == "[RPA] 2 avvikssaker over fristen: Refusjon æøå"
    assert msg["From"] == "robot@kommune.example"
    assert msg["To"] == "refusjon@kommune.example"
    assert msg["X-RPA-Alert-Key"] == "cases:nav:1-2:2"
    body = msg.get_content()
    assert "Sak 1 og sak 2 har passert fristen" in body
    assert "01018012345" not in body and "010180*****" in body
    assert smtp_server.envelopes == [("robot@kommune.example", ["refusjon@kommune.example"])]


def test_refused_recipient_is_permanent(smtp_server):
    smtp_server.refuse.add("nobody@kommune.example")
    sleeps = []
    sender = SmtpSender(AlertSettings(smtp_host=smtp_server.host, smtp_port=smtp_server.port), sleep=sleeps.append)
    with pytest.raises(DeliveryError) as err:
        sender.send(_alert(recipients=["nobody@kommune.example"]))
    assert err.value.permanent and err.value.channel == "email"
    assert sleeps == []  # no retry for a permanent error
    assert smtp_server.messages == []


def test_unreachable_smtp_is_transient_and_retried():
    from sandbox.server import free_port

    sleeps = []
    sender = SmtpSender(AlertSettings(smtp_host="127.0.0.1", smtp_port=free_port()), max_attempts=3,
                        backoff_seconds=0.5, sleep=sleeps.append, timeout=2)
    with pytest.raises(DeliveryError) as err:
        sender.send(_alert())
    assert not err.value.permanent
    assert sleeps == [0.5, 1.0]


def test_webhook_posts_json(webhook_receiver):
    WebhookClient(webhook_receiver.url).send(_alert())
    [payload] = webhook_receiver.received
    assert payload["kind"] == "case_sla"
    assert payload["process_id"] == "nav-refund-offsetting"
    assert payload["key"] == "cases:nav:1-2:2"
    assert payload["text"].startswith("[RPA] 2 avvikssaker over fristen: Refusjon æøå")
    assert "01018012345" not in str(payload)


def test_webhook_retries_503_honouring_retry_after(webhook_receiver):
    webhook_receiver.script = [503, 429]
    webhook_receiver.retry_after = "2"
    sleeps = []
    WebhookClient(webhook_receiver.url, sleep=sleeps.append, max_attempts=3).send(_alert())
    assert sleeps == [2.0, 2.0]
    assert webhook_receiver.hits == 3 and len(webhook_receiver.received) == 1


def test_webhook_4xx_is_permanent(webhook_receiver):
    webhook_receiver.script = [400]
    sleeps = []
    with pytest.raises(DeliveryError) as err:
        WebhookClient(webhook_receiver.url, sleep=sleeps.append).send(_alert())
    assert err.value.permanent and "HTTP 400" in str(err.value)
    assert webhook_receiver.hits == 1 and sleeps == []


def test_notifier_uses_every_channel_and_reports_failures(smtp_server, webhook_receiver):
    from config.settings import Settings

    settings = Settings(alerts=AlertSettings(smtp_host=smtp_server.host, smtp_port=smtp_server.port,
                                             webhook_url=webhook_receiver.url))
    notifier = Notifier.from_settings(settings, sleep=lambda _s: None)
    assert notifier.channels == ["email", "webhook"]
    webhook_receiver.script = [500, 500, 500]
    report = notifier.send(_alert())
    assert report.delivered == ["email"]
    assert "HTTP 500" in report.failed["webhook"]
    assert not report.ok
    assert len(smtp_server.wait_for(1)) == 1


def test_no_channel_configured():
    from config.settings import Settings

    with pytest.raises(NotConfigured):
        Notifier.from_settings(Settings(alerts=AlertSettings())).send(_alert())
