"""How to reach the Prefect API, and the tag every deployment carries (light: no store, no flows).
The log-in and the tag live in connectors/prefect_api.py (the review app reads them too)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from connectors.prefect_api import (  # noqa: F401  (re-exported: one place knows the log-in)
    AUTH_FILE,
    BASE_TAG,
    api_healthy,
    auth_file,
    read_auth_string,
)


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


def reach_api(settings):
    """How to reach the Prefect API from here: the run's own client inside a flow run, else the
    configured server if it answers; None when there is no server (a check that reads Prefect is
    skipped: never start Prefect's temporary server just to look)."""
    from flows.kit.context import in_prefect_run

    if in_prefect_run():
        return contextlib.nullcontext()
    from prefect.settings import PREFECT_API_URL

    url = PREFECT_API_URL.value() or settings.prefect.api_url
    return client_settings(url) if api_healthy(url) else None
