"""Run sandbox apps with uvicorn: in a background thread (tests, demo) or in the foreground."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass

import uvicorn
from fastapi import FastAPI


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


@dataclass
class RunningServer:
    name: str
    url: str
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def start_in_thread(app: FastAPI, host: str = "127.0.0.1", port: int | None = None, name: str = "app",
                    timeout: float = 120.0) -> RunningServer:
    """Start `app` on host:port (a free port if None) and wait until it accepts connections
    (`timeout`: a hang guard only; a start takes well under a second on an idle machine).
    A free port found here can be taken by another process before uvicorn binds it (two test
    workers side by side): then the server stops at once and another free port is tried."""
    if port:
        return _start_in_thread(app, host, port, name, timeout)
    for attempt in range(3):
        try:
            return _start_in_thread(app, host, free_port(host), name, timeout)
        except _PortTaken:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


class _PortTaken(RuntimeError):
    pass


def _start_in_thread(app: FastAPI, host: str, port: int, name: str, timeout: float) -> RunningServer:
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False,
                            lifespan="on", timeout_keep_alive=30)
    server = uvicorn.Server(config)
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]  # not the main thread
    thread = threading.Thread(target=server.run, name=f"sandbox-{name}", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive():
            raise _PortTaken(f"sandbox {name} did not start on {host}:{port} (port taken?)")
        if time.monotonic() > deadline:
            raise RuntimeError(f"sandbox {name} did not start on {host}:{port} in {timeout:.0f} s")
        time.sleep(0.02)
    return RunningServer(name, f"http://{host}:{port}", server, thread)
