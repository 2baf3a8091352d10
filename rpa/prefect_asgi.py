"""The local Prefect server with its UI behind the same log-in as its API.

Prefect 3.8.8 checks `server.api.auth_string` on the API only: the UI's pages and scripts are
served to anyone (the page then asks for the string). `python -m rpa.prefect_asgi --host H --port P`
runs what `prefect server start` runs in the foreground (Prefect's own app with its background
services, under uvicorn), wrapped so that every HTTP request outside the API wants the same
`user:password` as HTTP basic auth: the browser asks for the user name and the password (the two
halves of the string) before it shows anything. The API keeps Prefect's own check (health and
ready probes stay open); websockets go to Prefect unchanged.
"""

from __future__ import annotations

import argparse
import base64
import hmac
import os
from typing import Any

REALM = "Prefect (rpa)"


class UiLogin:
    """ASGI middleware: HTTP requests outside `api_prefix` need `Authorization: Basic <auth_string>`."""

    def __init__(self, app: Any, auth_string: str, api_prefix: str = "/api"):
        self.app = app
        self.api_prefix = api_prefix.rstrip("/")
        self._expected = auth_string.encode()

    def _is_api(self, path: str) -> bool:
        return path == self.api_prefix or path.startswith(self.api_prefix + "/")

    def _authorised(self, headers: list[tuple[bytes, bytes]]) -> bool:
        for name, value in headers:
            if name.lower() == b"authorization":
                scheme, _, creds = value.decode("latin-1").partition(" ")
                if scheme.lower() != "basic":
                    return False
                try:
                    decoded = base64.b64decode(creds.strip(), validate=True)
                except ValueError:
                    return False
                return hmac.compare_digest(decoded, self._expected)
        return False

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or self._is_api(scope["path"]) or self._authorised(scope.get("headers") or []):
            await self.app(scope, receive, send)
            return
        body = b"Prefect: logg inn (bruker og passord fra auth_string)."
        await send({"type": "http.response.start", "status": 401, "headers": [
            (b"www-authenticate", f'Basic realm="{REALM}", charset="UTF-8"'.encode()),
            (b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode()),
            (b"cache-control", b"no-store")]})
        await send({"type": "http.response.body", "body": body})


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4200)
    args = parser.parse_args(argv)
    auth = os.environ.get("PREFECT_SERVER_API_AUTH_STRING")
    if not auth:
        raise SystemExit("PREFECT_SERVER_API_AUTH_STRING is not set: the server would be open")

    import prefect
    import uvicorn
    from prefect.server.api.server import create_app
    from prefect.settings import PREFECT_SERVER_API_BASE_PATH, PREFECT_SERVER_API_KEEPALIVE_TIMEOUT

    app = create_app(final=True)
    uvicorn.run(UiLogin(app, auth, PREFECT_SERVER_API_BASE_PATH.value() or "/api"),
                app_dir=str(prefect.__module_path__.parent), host=args.host, port=args.port,
                timeout_keep_alive=PREFECT_SERVER_API_KEEPALIVE_TIMEOUT.value(),
                log_level=os.environ.get("PREFECT_SERVER_LOGGING_LEVEL", "info").lower())


if __name__ == "__main__":
    main()
