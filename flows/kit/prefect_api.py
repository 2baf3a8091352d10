"""How to reach the Prefect API, and the tag every deployment carries (light: no store, no flows)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from config.settings import Settings, get_settings

BASE_TAG = "rpa"  # every deployment of the catalogue carries it; automations and the SLA monitor select by it
AUTH_FILE = "auth_string"  # under the Prefect home: the API log-in the first server start generated (0600)


def api_healthy(api_url: str, timeout: float = 2.0) -> bool:
    import httpx

    try:
        return httpx.get(f"{api_url.rstrip('/')}/health", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


def auth_file(settings: Settings | None = None, home: Path | None = None) -> Path:
    return (home or (settings or get_settings()).prefect_home) / AUTH_FILE


def read_auth_string(settings: Settings | None = None, home: Path | None = None) -> str | None:
    """The API log-in (`user:password`) for the server of `settings`: the setting, else the
    file the first server start wrote under the Prefect home; None if neither (an open server)."""
    settings = settings or get_settings()
    if settings.prefect.auth_string is not None and settings.prefect.auth_string.get_secret_value():
        return settings.prefect.auth_string.get_secret_value()
    try:
        stored = auth_file(settings, home).read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return stored or None


@contextlib.contextmanager
def client_settings(api_url: str, ui_url: str | None = None, auth_string: str | None = None) -> Iterator[None]:
    """Point this process's Prefect client at `api_url` (Prefect reads its settings once at
    import, so setting os.environ afterwards is not enough), with the API log-in `auth_string`
    (default: `read_auth_string()` of the current settings; none found keeps Prefect's own)."""
    from prefect.settings import PREFECT_API_AUTH_STRING, PREFECT_API_URL, PREFECT_UI_URL, temporary_settings

    updates = {PREFECT_API_URL: api_url}
    if ui_url:
        updates[PREFECT_UI_URL] = ui_url
    auth = auth_string or read_auth_string()
    if auth:
        updates[PREFECT_API_AUTH_STRING] = auth
    with temporary_settings(updates=updates):
        yield
