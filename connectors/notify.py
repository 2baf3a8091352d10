"""Alerts to people: e-mail over SMTP and a JSON webhook (chat, ticketing, on-call tools).

Both channels come from ``settings.alerts``; an unset channel is simply not used. The retry
policy lives here like in every connector: a refused recipient or a 4xx answer is permanent
(retrying cannot help), a dropped connection, a 4xx SMTP reply, 429 or 5xx is transient and is
retried with backoff (honouring Retry-After). Alert text is written for process owners
(Norwegian) and must never carry personal data: callers pass ids, counts and links.
"""

from __future__ import annotations

import json
import math
import smtplib
import ssl
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

import requests

from config.settings import AlertSettings, Settings, get_settings
from connectors.http_retry import RetryPolicy, parse_retry_after
from connectors.identifiers import mask_fnrs_in_text


@dataclass
class Alert:
    """One thing an owner or operator must act on."""

    kind: str  # case_sla | run_failed | run_late | run_missing | test
    process_id: str
    subject: str
    body: str  # plain text, Norwegian, no personal data
    recipients: list[str] = field(default_factory=list)
    key: str = ""  # stable identity of the problem: the same key is not alerted twice
    details: dict[str, Any] = field(default_factory=dict)
    severity: str = "warning"

    def payload(self) -> dict[str, Any]:
        """The webhook's JSON body; `text` is what Slack/Mattermost/Teams-style receivers show."""
        data = asdict(self)
        data["text"] = f"{self.subject}\n\n{self.body}"
        data["sent_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        return data


class NotifyError(Exception):
    """Base class of this connector's errors."""


class NotConfigured(NotifyError):
    """Neither SMTP nor a webhook is configured (settings.alerts)."""


class DeliveryError(NotifyError):
    def __init__(self, channel: str, message: str, permanent: bool):
        self.channel = channel
        self.permanent = permanent
        super().__init__(f"{channel}: {message}")


@dataclass
class DeliveryReport:
    key: str
    delivered: list[str] = field(default_factory=list)  # channel names
    failed: dict[str, str] = field(default_factory=dict)  # channel -> error

    @property
    def ok(self) -> bool:
        return bool(self.delivered) and not self.failed


class SmtpSender:
    """Sends alerts as UTF-8 plain-text mail. `smtp_factory` is injectable for tests."""

    channel = "email"

    def __init__(self, settings: AlertSettings, *, timeout: float = 30.0, max_attempts: int = 3,
                 backoff_seconds: float = 1.0, smtp_factory: Callable[..., smtplib.SMTP] = smtplib.SMTP,
                 sleep: Callable[[float], None] = time.sleep):
        if not settings.smtp_host:
            raise NotConfigured("settings.alerts.smtp_host is not set")
        self.settings = settings
        self.timeout = timeout
        self.retry = RetryPolicy(max_attempts=max_attempts, backoff_seconds=backoff_seconds,
                                 max_backoff_seconds=math.inf)
        self.smtp_factory = smtp_factory
        self.sleep = sleep

    def message(self, alert: Alert, recipients: list[str]) -> EmailMessage:
        msg = EmailMessage()
        msg["From"] = self.settings.mail_from
        msg["To"] = ", ".join(recipients)
        msg["Subject"] = mask_fnrs_in_text(alert.subject)
        msg["Date"] = formatdate(localtime=True)
        msg["Message-ID"] = make_msgid(domain=self.settings.mail_from.split("@")[-1])
        msg["X-RPA-Alert-Key"] = alert.key or "-"
        msg["X-RPA-Process"] = alert.process_id
        msg.set_content(mask_fnrs_in_text(alert.body), charset="utf-8")
        return msg

    def send(self, alert: Alert, recipients: list[str] | None = None) -> None:
        to = recipients or alert.recipients
        if not to:
            raise DeliveryError(self.channel, "no recipient address", permanent=True)
        msg = self.message(alert, to)
        for attempt in range(1, self.retry.max_attempts + 1):
            try:
                self._deliver(msg, to)
                return
            except smtplib.SMTPRecipientsRefused as exc:
                raise DeliveryError(self.channel, f"recipient(s) refused: {', '.join(exc.recipients)}",
                                    permanent=True) from None
            except smtplib.SMTPAuthenticationError as exc:
                raise DeliveryError(self.channel, f"authentication failed ({exc.smtp_code})", permanent=True) from None
            except smtplib.SMTPResponseException as exc:
                permanent = 500 <= exc.smtp_code < 600
                error = DeliveryError(self.channel, f"server answered {exc.smtp_code}", permanent=permanent)
            except (smtplib.SMTPException, OSError) as exc:  # connection refused/dropped, timeout
                error = DeliveryError(self.channel, f"{exc.__class__.__name__}: {exc}", permanent=False)
            if error.permanent or attempt == self.retry.max_attempts:
                raise error
            self.sleep(self.retry.delay(attempt))

    def _deliver(self, msg: EmailMessage, to: list[str]) -> None:
        s = self.settings
        with self.smtp_factory(s.smtp_host, s.smtp_port, timeout=self.timeout) as smtp:
            if s.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if s.smtp_username:
                password = s.smtp_password.get_secret_value() if s.smtp_password else ""
                smtp.login(s.smtp_username, password)
            smtp.send_message(msg, to_addrs=to)


class WebhookClient:
    """POSTs alerts as JSON. 4xx is permanent; 429/5xx/timeouts are retried (Retry-After honoured)."""

    channel = "webhook"

    def __init__(self, url: str, *, session: requests.Session | None = None, timeout: float = 10.0,
                 max_attempts: int = 3, backoff_seconds: float = 1.0, max_retry_after: float = 30.0,
                 sleep: Callable[[float], None] = time.sleep):
        self.url = url
        self.session = session or requests.Session()
        self.timeout = timeout
        self.retry = RetryPolicy(max_attempts=max_attempts, backoff_seconds=backoff_seconds,
                                 max_backoff_seconds=math.inf, max_retry_after_seconds=max_retry_after)
        self.sleep = sleep

    def send(self, alert: Alert) -> None:
        body = json.dumps(alert.payload(), ensure_ascii=False, default=str)
        body = mask_fnrs_in_text(body).encode("utf-8")
        headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "municipal-rpa-alerts"}
        for attempt in range(1, self.retry.max_attempts + 1):
            retry_after = None
            try:
                response = self.session.post(self.url, data=body, headers=headers, timeout=self.timeout)
            except (requests.ConnectionError, requests.Timeout, TimeoutError) as exc:
                error = DeliveryError(self.channel, f"{exc.__class__.__name__}: {exc}", permanent=False)
            else:
                if response.status_code < 300:
                    return
                transient = response.status_code == 429 or response.status_code >= 500
                error = DeliveryError(self.channel, f"HTTP {response.status_code} from {self.url}",
                                      permanent=not transient)
                retry_after = parse_retry_after(response.headers.get("Retry-After"), None)
            if error.permanent or attempt == self.retry.max_attempts:
                raise error
            self.sleep(self.retry.delay(attempt, retry_after))


class Notifier:
    """Every configured channel; one failing channel does not stop the others."""

    def __init__(self, email: SmtpSender | None = None, webhook: WebhookClient | None = None):
        self.email = email
        self.webhook = webhook

    @classmethod
    def from_settings(cls, settings: Settings | None = None, session: requests.Session | None = None,
                      **retry: Any) -> Notifier:
        a = (settings or get_settings()).alerts
        email = SmtpSender(a, **retry) if a.smtp_host else None
        webhook = WebhookClient(a.webhook_url, session=session, **retry) if a.webhook_url else None
        return cls(email, webhook)

    @property
    def channels(self) -> list[str]:
        return [c.channel for c in (self.email, self.webhook) if c is not None]

    def send(self, alert: Alert) -> DeliveryReport:
        if not self.channels:
            raise NotConfigured("no alert channel configured: set RPA_ALERTS__SMTP_HOST and/or "
                                "RPA_ALERTS__WEBHOOK_URL")
        report = DeliveryReport(alert.key)
        for channel in (self.email, self.webhook):
            if channel is None:
                continue
            try:
                channel.send(alert)
                report.delivered.append(channel.channel)
            except DeliveryError as exc:
                report.failed[channel.channel] = str(exc)
        return report
