"""Shared by benchmarks that run a stand-in in its own process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import requests


def wait_for_health(url: str, proc: subprocess.Popen, name: str, timeout: float = 60) -> None:
    """Return once `url`/healthz answers; RuntimeError if the process died or `timeout` passed."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            requests.get(f"{url}/healthz", timeout=1).raise_for_status()
            return
        except requests.RequestException:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not start") from None
            time.sleep(0.1)


class FinanceServer:
    """The finance stand-in in a uvicorn process of its own (stop() ends it)."""

    def __init__(self, data_dir: Path):
        from sandbox.server import free_port

        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        env = {**os.environ, "RPA_PATHS__DATA_DIR": str(data_dir)}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "sandbox.finance.app:app_from_settings",
             "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log"], env=env)
        try:
            wait_for_health(self.url, self.proc, "the finance stand-in", timeout=60)
        except RuntimeError:
            self.stop()
            raise

    def cpu_seconds(self) -> float:
        """User + system CPU of the server process so far (Linux /proc)."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def attachments(self) -> list[dict]:
        return requests.get(f"{self.url}/_admin/attachments", timeout=60).json()["items"]

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=15)
