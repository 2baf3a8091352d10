"""Settings: one root built from a group per external system and concern.

Every field is read from the environment with the prefix ``RPA_`` and ``__`` between the group
and the field (``RPA_NAV__API_TOKEN``), or from a ``.env`` file in the working directory.
Defaults give the embedded set-up: everything under one data folder, SQLite, the local sandbox
systems on 127.0.0.1. Pointing a connector or bot at a real system is configuration only.
Credentials are ``SecretStr`` so they never print; ``rpa config show`` hides them.
"""

from __future__ import annotations

import shutil
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PACKAGE_DIR = Path(__file__).resolve().parent
DEFAULT_PROCESSES_DIR = PACKAGE_DIR / "processes"

SANDBOX_HOST = "127.0.0.1"
SANDBOX_PORTS = {"nav": 8701, "vegvesen": 8702, "finance": 8703, "maskinporten": 8704}
# The demo client the Maskinporten stand-in registers (`rpa sandbox seed` writes its key).
SANDBOX_MASKINPORTEN_CLIENT_ID = "0f5a6c1e-3b0d-4f4e-9a53-6b7d2c9e1a01"
SANDBOX_MASKINPORTEN_KEY_ID = "rpa-sandbox-key-1"
SANDBOX_MASKINPORTEN_KEY_FILE = Path("sandbox") / "maskinporten" / "demo-client-key.pem"  # under data_dir
NAV_SCOPE = "nav:utbetaling/oppgjorsrapporter"


def _sandbox_url(system: str, path: str = "") -> str:
    return f"http://{SANDBOX_HOST}:{SANDBOX_PORTS[system]}{path}"


class PathSettings(BaseModel):
    data_dir: Path = Field(
        Path("data"),
        description="Folder for everything the runner writes: SQLite files, Prefect home, "
        "sandbox data, inputs, reports, archive and quarantine.",
    )
    processes_dir: Path = Field(
        DEFAULT_PROCESSES_DIR,
        description="Folder with the process definitions (*.yaml) that make up the catalogue.",
    )

    def resolve(self, relative: str | Path) -> Path:
        """A path from a process definition: relative paths are taken under the data folder."""
        p = Path(relative)
        return p if p.is_absolute() else self.data_dir / p


class DatabaseSettings(BaseModel):
    url: str | None = Field(
        None,
        description="SQLAlchemy URL of the work-item store. Default: SQLite (WAL) at "
        "<data_dir>/workqueue.db. PostgreSQL: postgresql+psycopg://user@host:5432/db",
    )
    echo: bool = Field(False, description="Log every SQL statement (debugging only).")
    fnr_hash_key: SecretStr = Field(
        SecretStr("change-me-fnr-search-key-0123456789abcdef"),
        description="Key of the keyed hash (HMAC-SHA256) stored with each case so staff can search by a "
        "full fnr without the fnr being stored in clear. Set a long random value; changing it makes older "
        "cases unfindable by fnr.",
    )


class BrowserSettings(BaseModel):
    executable_path: Path | None = Field(
        None,
        description="Chromium binary for Playwright. Default: /usr/bin/chromium if present, "
        "else Playwright's own browser.",
    )
    headless: bool = Field(True, description="Run the browser without a window.")
    args: list[str] = Field(
        default_factory=lambda: [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
        description="Chromium command-line flags (these work headless on this machine).",
    )
    timeout_ms: int = Field(15_000, description="Default Playwright timeout per action (ms).")
    trace_on_failure: bool = Field(
        True, description="Keep a Playwright trace and a screenshot as evidence when a bot fails."
    )

    @model_validator(mode="after")
    def _detect_chromium(self) -> BrowserSettings:
        if self.executable_path is None:
            found = Path("/usr/bin/chromium")
            if found.exists():
                self.executable_path = found
            elif which := shutil.which("chromium"):
                self.executable_path = Path(which)
        return self

    def launch_options(self) -> dict[str, Any]:
        """Keyword arguments for ``playwright.chromium.launch``."""
        options: dict[str, Any] = {"headless": self.headless, "args": list(self.args)}
        if self.executable_path:
            options["executable_path"] = str(self.executable_path)
        return options


class PrefectSettings(BaseModel):
    api_url: str = Field(
        "http://127.0.0.1:4200/api",
        description="Prefect server API. The demo starts a local server here.",
    )
    ui_url: str = Field("http://127.0.0.1:4200", description="Prefect UI, used in links.")
    home: Path | None = Field(
        None, description="PREFECT_HOME for the local server. Default: <data_dir>/prefect."
    )
    work_pool: str = Field("rpa-process", description="Process work pool for `prefect worker start`.")
    auth_string: SecretStr | None = Field(
        None,
        description="Log-in for the local Prefect server's API and UI, `user:password` (Prefect's basic auth; "
        "the browser asks for it on the UI: user name before the colon, password after). Default: generated at the first `rpa server`/`rpa demo`, printed "
        "once and kept in `<prefect home>/auth_string` (mode 0600); workers, `rpa deploy` and `rpa serve` read it there.",
    )
    flow_run_retention_days: int = Field(
        180, ge=0,
        description="The local Prefect server deletes flow runs (and their logs and artifacts) this many days "
                    "after they ended; 0 keeps them forever. The runner's own history (runs, cases, audit "
                    "trail, benefits) is in the work-item store and is not touched.",
    )


class NavSettings(BaseModel):
    api_base_url: str = Field(
        _sandbox_url("nav"), description="NAV settlement-report API (…/api/rapport/v1 below it)."
    )
    api_token: SecretStr = Field(
        SecretStr("sandbox-nav-token"),
        description="Static bearer token: only the sandbox's fallback when Maskinporten is off "
        "(RPA_MASKINPORTEN__ENABLED=false). Real NAV accepts only a Maskinporten system-user token.",
    )
    orgnr: str = Field("974600013", description="The municipality's organisation number (9 digits).")
    altinn_url: str = Field(
        _sandbox_url("nav", "/altinn"), description="Altinn inbox web UI (the bot path)."
    )
    altinn_username: str = Field("hr-robot", description="Altinn inbox user for the bot.")
    altinn_password: SecretStr = Field(SecretStr("sandbox-password"), description="Altinn password.")
    altinn_otp_secret: SecretStr = Field(
        SecretStr("JBSWY3DPEHPK3PXP"),
        description="Base32 TOTP secret that produces the one-time code at Altinn log-in.",
    )
    timeout_seconds: float = Field(30.0, description="HTTP timeout per request.")


class MaskinportenSettings(BaseModel):
    """Digdir's Maskinporten: system-user tokens for NAV's report API (docs/maskinporten.md)."""

    enabled: bool | None = Field(
        None,
        description="Use Maskinporten tokens for the NAV report API. Default: on when a client id is set; "
        "off sends RPA_NAV__API_TOKEN instead (the sandbox fallback only).",
    )
    issuer: str = Field(
        _sandbox_url("maskinporten", "/"),
        description="Maskinporten's issuer identifier, the grant's `aud`: test https://test.maskinporten.no/, "
        "production https://maskinporten.no/. Default: the sandbox stand-in.",
    )
    token_endpoint: str | None = Field(
        None, description="Token endpoint. Default: <issuer>token (https://test.maskinporten.no/token, "
        "https://maskinporten.no/token)."
    )
    client_id: str = Field(
        SANDBOX_MASKINPORTEN_CLIENT_ID,
        description="The integration's client id from Digdir's self-service (Samarbeidsportalen); "
        "the grant's `iss`. Default: the sandbox's demo client.",
    )
    key_id: str | None = Field(
        SANDBOX_MASKINPORTEN_KEY_ID,
        description="Key id (`kid`) the public key is registered with on the client. Not needed with "
        "a virksomhetssertifikat sent as x5c.",
    )
    key_file: Path | None = Field(
        None,
        description="Private RSA key (PEM) whose public half is registered on the client. Default: "
        "<data_dir>/sandbox/maskinporten/demo-client-key.pem, written by `rpa sandbox seed`.",
    )
    key_password: SecretStr | None = Field(None, description="Password of an encrypted PEM key, if any.")
    pkcs12_file: Path | None = Field(
        None, description="Virksomhetssertifikat as PKCS#12 (.p12/.pfx); used instead of key_file when set."
    )
    pkcs12_password: SecretStr | None = Field(None, description="Password of the PKCS#12 file.")
    use_x5c: bool = Field(
        True, description="With a PKCS#12 file: send its certificate chain (x5c) in the grant; false sends "
        "key_id (kid) for a certificate registered on the client."
    )
    nav_scope: str = Field(
        NAV_SCOPE, description="Scope for NAV's settlement-report API (sokos-oppgjorsrapporter)."
    )
    timeout_seconds: float = Field(10.0, description="HTTP timeout of a token request.")
    refresh_margin_seconds: float = Field(
        30.0, description="A cached token is replaced this many seconds before it expires."
    )

    @property
    def active(self) -> bool:
        return self.enabled if self.enabled is not None else bool(self.client_id)

    def resolved_key_file(self, data_dir: Path | None) -> Path | None:
        """The PEM key to use (none when a PKCS#12 file is configured)."""
        if self.pkcs12_file:
            return None
        if self.key_file:
            return self.key_file
        return (data_dir or Path("data")) / SANDBOX_MASKINPORTEN_KEY_FILE


class VegvesenSettings(BaseModel):
    api_base_url: str = Field(
        _sandbox_url("vegvesen"),
        description="Kjøretøyopplysninger API (…/enkeltoppslag/kjoretoydata below it).",
    )
    api_key: SecretStr = Field(
        SecretStr("sandbox-svv-key"), description="API key sent as `SVV-Authorization: Apikey …`."
    )
    web_base_url: str = Field(
        _sandbox_url("vegvesen", "/kjoretoy"),
        description="The human page 'sjekk kjøretøyopplysninger' (the bot path).",
    )
    timeout_seconds: float = Field(15.0, description="HTTP timeout per request.")


class FinanceSettings(BaseModel):
    api_base_url: str = Field(_sandbox_url("finance", "/api"), description="Finance system REST API.")
    token_url: str = Field(
        _sandbox_url("finance", "/oauth/token"), description="OAuth2 client-credentials token endpoint."
    )
    client_id: str = Field("rpa-robot", description="OAuth2 client id.")
    client_secret: SecretStr = Field(SecretStr("sandbox-client-secret"), description="OAuth2 client secret.")
    web_base_url: str = Field(_sandbox_url("finance"), description="Finance system web UI (the bot path).")
    web_username: str = Field("robot", description="Web UI user for the bot.")
    web_password: SecretStr = Field(SecretStr("sandbox-password"), description="Web UI password.")
    timeout_seconds: float = Field(60.0, description="HTTP timeout per request (uploads can be large).")


class ReviewSettings(BaseModel):
    host: str = Field("127.0.0.1", description="Interface the review app listens on.")
    port: int = Field(8700, description="Port of the review app.")
    session_secret: SecretStr = Field(
        SecretStr("change-me-in-production-0123456789abcdef"),
        description="Key that signs session cookies and CSRF tokens. Set a long random value.",
    )
    secure_cookies: bool = Field(
        False, description="Mark cookies Secure (set true behind HTTPS; false for the local http demo)."
    )
    session_minutes: int = Field(480, description="Idle minutes before a session expires.")
    max_failed_logins: int = Field(5, description="Wrong passwords in a row that lock an account.")
    public_url: str = Field("http://127.0.0.1:8700", description="Base URL used in links to the queue.")


class FaultSettings(BaseModel):
    """Fault knobs for one sandbox system (also settable at run time: PUT /_admin/faults)."""

    latency_ms: float = Field(0, description="Added latency per request (ms).")
    error_rate: float = Field(0, description="Share of requests answered 503 (0..1).")
    rate_limit_per_second: float | None = Field(None, description="Answer 429 above this rate.")
    daily_quota: int | None = Field(None, description="Answer 422 + Retry-After after this many lookups.")
    session_idle_seconds: float | None = Field(None, description="Web UI session expiry after idle time.")
    slow_page_ms: float = Field(0, description="Extra delay before web pages render (ms).")
    alternate_layout: bool = Field(False, description="Renamed buttons/moved elements, to prove robust locators.")


class SandboxSettings(BaseModel):
    host: str = Field(SANDBOX_HOST, description="Interface the sandbox servers listen on (loopback only).")
    nav_port: int = Field(SANDBOX_PORTS["nav"], description="Port of the NAV/Altinn stand-in.")
    vegvesen_port: int = Field(SANDBOX_PORTS["vegvesen"], description="Port of the Statens vegvesen stand-in.")
    finance_port: int = Field(SANDBOX_PORTS["finance"], description="Port of the finance-system stand-in.")
    maskinporten_port: int = Field(SANDBOX_PORTS["maskinporten"], description="Port of the Maskinporten stand-in.")
    seed: int = Field(42, description="Seed for the synthetic data sets.")
    scale: float = Field(1.0, description="Size factor for the synthetic data sets.")
    nav_faults: FaultSettings = Field(default_factory=FaultSettings, description="Faults of the NAV stand-in.")
    vegvesen_faults: FaultSettings = Field(default_factory=FaultSettings, description="Faults of the Vegvesen stand-in.")
    finance_faults: FaultSettings = Field(default_factory=FaultSettings, description="Faults of the finance stand-in.")
    maskinporten_faults: FaultSettings = Field(default_factory=FaultSettings,
                                               description="Faults of the Maskinporten stand-in.")


class AlertSettings(BaseModel):
    smtp_host: str | None = Field(None, description="SMTP server for alerts; none disables e-mail.")
    smtp_port: int = Field(25, description="SMTP port.")
    smtp_username: str | None = Field(None, description="SMTP user, if the server needs one.")
    smtp_password: SecretStr | None = Field(None, description="SMTP password.")
    smtp_starttls: bool = Field(False, description="Use STARTTLS.")
    mail_from: str = Field("rpa-robot@kommune.example", description="Sender address of alerts.")
    webhook_url: str | None = Field(None, description="URL that receives alerts as JSON (POST).")
    operator_email: str | None = Field(
        None, description="Operators' address, copied on alerts about failed, late or missed runs.")


class MunicipalitySettings(BaseModel):
    """Who this installation works for: the same for every process (a letter's letterhead and its
    place line). What a unit issues is the process's own (its definition's owner.org_unit)."""

    name: str = Field("Oslo kommune", min_length=2, description="The municipality's name, as letters write it.")
    place: str = Field("Oslo", min_length=2, description="Place written before the date in letters.")


class Settings(BaseSettings):
    """The root: one group per external system and concern."""

    model_config = SettingsConfigDict(
        env_prefix="RPA_",
        env_nested_delimiter="__",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    paths: PathSettings = Field(default_factory=PathSettings, description="Folders.")
    database: DatabaseSettings = Field(default_factory=DatabaseSettings, description="Work-item store.")
    browser: BrowserSettings = Field(default_factory=BrowserSettings, description="Chromium for bots.")
    prefect: PrefectSettings = Field(default_factory=PrefectSettings, description="Prefect server.")
    nav: NavSettings = Field(default_factory=NavSettings, description="NAV / Altinn.")
    maskinporten: MaskinportenSettings = Field(default_factory=MaskinportenSettings,
                                               description="Maskinporten (system-user tokens).")
    vegvesen: VegvesenSettings = Field(default_factory=VegvesenSettings, description="Statens vegvesen.")
    finance: FinanceSettings = Field(default_factory=FinanceSettings, description="Finance system (ERP).")
    review: ReviewSettings = Field(default_factory=ReviewSettings, description="Exception-queue web app.")
    sandbox: SandboxSettings = Field(default_factory=SandboxSettings, description="Local stand-in systems.")
    alerts: AlertSettings = Field(default_factory=AlertSettings, description="SLA and failure alerts.")
    municipality: MunicipalitySettings = Field(default_factory=MunicipalitySettings,
                                               description="The municipality this installation works for.")
    log_level: str = Field("INFO", description="Log level of the runner.")

    @property
    def database_url(self) -> str:
        if self.database.url:
            return self.database.url
        return f"sqlite:///{(self.paths.data_dir / 'workqueue.db').resolve()}"

    @property
    def prefect_home(self) -> Path:
        return (self.prefect.home or self.paths.data_dir / "prefect").resolve()

    def redacted(self) -> dict[str, Any]:
        """The effective settings as plain data, secrets shown as '**********'."""
        return _redact(self.model_dump(mode="python"))


def _redact(value: Any) -> Any:
    if isinstance(value, SecretStr):
        return "**********" if value.get_secret_value() else ""
    if isinstance(value, dict):
        return {k: _redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (tests call ``get_settings.cache_clear()`` after changing env)."""
    return Settings()
