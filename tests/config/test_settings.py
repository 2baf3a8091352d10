"""Settings come from the environment (RPA_ prefix, `__` between group and field) or a .env
file; `rpa config show` prints every group and never a secret."""

from __future__ import annotations

import json

import pytest
import yaml
from typer.testing import CliRunner

from config.settings import Settings, get_settings
from rpa.cli import app

GROUPS = ["paths", "database", "browser", "prefect", "nav", "maskinporten", "vegvesen", "finance", "review", "sandbox", "alerts"]
SECRETS = {
    "RPA_NAV__API_TOKEN": "nav-token-7f3a9c",
    "RPA_NAV__ALTINN_PASSWORD": "altinn-pass-4411",
    "RPA_NAV__ALTINN_OTP_SECRET": "OTPSECRETBASE32XX",
    "RPA_MASKINPORTEN__PKCS12_PASSWORD": "p12-pass-8c2e",
    "RPA_MASKINPORTEN__KEY_PASSWORD": "pem-pass-31d0",
    "RPA_VEGVESEN__API_KEY": "svv-key-98d1",
    "RPA_FINANCE__CLIENT_SECRET": "client-secret-55aa",
    "RPA_FINANCE__WEB_PASSWORD": "finance-web-pass-1",
    "RPA_REVIEW__SESSION_SECRET": "session-secret-0123456789abcdef",
    "RPA_ALERTS__SMTP_PASSWORD": "smtp-pass-xyz",
}


@pytest.fixture
def fresh_settings():
    """get_settings() reads the environment again in the test and after it."""
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_settings_load_from_the_environment(monkeypatch, fresh_settings):
    monkeypatch.setenv("RPA_NAV__API_TOKEN", "from-env-token")
    monkeypatch.setenv("RPA_NAV__ORGNR", "958935420")
    monkeypatch.setenv("RPA_DATABASE__URL", "postgresql+psycopg://rpa@db.kommune.example:5432/rpa")
    monkeypatch.setenv("RPA_SANDBOX__NAV_FAULTS__ERROR_RATE", "0.25")
    monkeypatch.setenv("RPA_BROWSER__HEADLESS", "false")
    s = get_settings()
    assert s.nav.api_token.get_secret_value() == "from-env-token"
    assert s.nav.orgnr == "958935420"
    assert s.database_url == "postgresql+psycopg://rpa@db.kommune.example:5432/rpa"
    assert s.sandbox.nav_faults.error_rate == 0.25
    assert s.browser.headless is False


def test_settings_load_from_a_dotenv_file_and_the_environment_wins(tmp_path, monkeypatch, fresh_settings):
    (tmp_path / ".env").write_text(
        "RPA_VEGVESEN__API_KEY=key-from-dotenv\nRPA_NAV__ORGNR=111111111\nRPA_REVIEW__PORT=8799\n"
        "RPA_ALERTS__MAIL_FROM=robot@bærum.example\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RPA_NAV__ORGNR", "222222222")
    s = Settings()
    assert s.vegvesen.api_key.get_secret_value() == "key-from-dotenv"
    assert s.review.port == 8799
    assert s.alerts.mail_from == "robot@bærum.example"
    assert s.nav.orgnr == "222222222"  # the environment overrides the file


def test_default_database_is_sqlite_under_the_data_folder(fresh_settings, tmp_path, monkeypatch):
    monkeypatch.setenv("RPA_PATHS__DATA_DIR", str(tmp_path / "data"))
    s = get_settings()
    assert s.database_url == f"sqlite:///{(tmp_path / 'data' / 'workqueue.db').resolve()}"


@pytest.mark.parametrize("as_json", [False, True], ids=["yaml", "json"])
def test_config_show_prints_every_group_and_no_secret(monkeypatch, fresh_settings, as_json):
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(app, ["config", "show", *(["--json"] if as_json else [])])
    assert result.exit_code == 0, result.output
    for value in SECRETS.values():
        assert value not in result.output
    data = json.loads(result.output) if as_json else yaml.safe_load(result.output)
    assert list(data)[:len(GROUPS)] == GROUPS
    assert data["nav"]["api_token"] == "**********"
    assert data["alerts"]["smtp_password"] == "**********"
    assert data["nav"]["orgnr"] == get_settings().nav.orgnr  # non-secrets are shown
    assert data["paths"]["data_dir"] == str(get_settings().paths.data_dir)
