"""How to reach the Prefect API, and the tag every deployment carries (light: no store, no flows)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

BASE_TAG = "rpa"  # every deployment of the catalogue carries it; automations and the SLA monitor select by it


def api_healthy(api_url: str, timeout: float = 2.0) -> bool:
    import httpx

    try:
        return httpx.get(f"{api_url.rstrip('/')}/health", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


@contextlib.contextmanager
def client_settings(api_url: str, ui_url: str | None = None) -> Iterator[None]:
    """Point this process's Prefect client at `api_url` (Prefect reads its settings once at
    import, so setting os.environ afterwards is not enough)."""
    from prefect.settings import PREFECT_API_URL, PREFECT_UI_URL, temporary_settings

    updates = {PREFECT_API_URL: api_url}
    if ui_url:
        updates[PREFECT_UI_URL] = ui_url
    with temporary_settings(updates=updates):
        yield
