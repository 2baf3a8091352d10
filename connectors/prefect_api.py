"""How to reach the local Prefect server: its API log-in and the tag every deployment carries.

Light on purpose (no Prefect import, no store, no flows): the kit (flows/kit/prefect_api.py),
`rpa` and the review app's deployment client (connectors/prefect_deployments.py) all read the
API log-in here, so there is one place that knows where it is kept.
"""

from __future__ import annotations

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
